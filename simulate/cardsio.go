package simulate

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/occsimore/occsimore"
)

// Event kinds the simulators produce.
const (
	KindCardTx    = "card.tx"
	KindAuthLogin = "auth.login"
)

// The handbook's square is laid over Belgium (the handbook is from ULB and
// Worldline, both in Brussels): 100 units span about 200 km each way, so the
// radius of 5 is about 10 km and location features see real distances.
const (
	mapLat0, mapLatPerUnit = 49.6, 0.018 // 1.8° of latitude ≈ 200 km
	mapLon0, mapLonPerUnit = 3.0, 0.0282 // 2.82° of longitude ≈ 200 km at 50.5° N
	cardsCountry           = "BE"
	cardsCurrency          = "EUR"
)

// LatLon maps a point of the handbook's square to degrees.
func LatLon(x, y float64) (lat, lon float64) {
	return mapLat0 + y*mapLatPerUnit, mapLon0 + x*mapLonPerUnit
}

// CardID is the id of customer (and card) i in events, as ingest's handbook
// mapping reads it from CUSTOMER_ID.
func CardID(i int) string { return strconv.Itoa(i) }

// TerminalID is the id of terminal i in events.
func TerminalID(i int) string { return strconv.Itoa(i) }

// Event fills ev with tx as a "card.tx" event. Card and Customer are both
// the customer's id (the handbook's customer is its card); the location is
// the terminal's, so that distances between a card's transactions are real.
// It sets no MemberID and no label.
func (w *CardWorld) Event(tx *Tx, ev *occsimore.Event) {
	t := &w.terminals[tx.Terminal]
	lat, lon := LatLon(t.X, t.Y)
	id := CardID(tx.Customer)
	*ev = occsimore.Event{
		ID:          strconv.FormatInt(tx.ID, 10),
		Kind:        KindCardTx,
		Time:        tx.Time,
		Card:        id,
		Customer:    id,
		Terminal:    TerminalID(tx.Terminal),
		Amount:      tx.Amount,
		Currency:    cardsCurrency,
		Country:     cardsCountry,
		Lat:         lat,
		Lon:         lon,
		HasLocation: true,
		MCC:         t.MCC,
	}
}

// CardsCSVHeader is the header of the handbook's raw transactions.
const CardsCSVHeader = "TRANSACTION_ID,TX_DATETIME,CUSTOMER_ID,TERMINAL_ID,TX_AMOUNT,TX_TIME_SECONDS,TX_TIME_DAYS,TX_FRAUD,TX_FRAUD_SCENARIO"

// flushAt is the buffer size at which writers hand bytes to their io.Writer.
const flushAt = 64 << 10

// CardsCSVWriter writes transactions in the handbook's raw CSV format
// (amounts with 2 decimals, times as "2006-01-02 15:04:05"). It buffers:
// call Flush at the end.
type CardsCSVWriter struct {
	w      io.Writer
	buf    []byte
	header bool
}

// NewCardsCSVWriter returns a writer to w.
func NewCardsCSVWriter(w io.Writer) *CardsCSVWriter {
	return &CardsCSVWriter{w: w, buf: make([]byte, 0, flushAt+512)}
}

// Write appends tx as one row, after the header on the first call.
func (c *CardsCSVWriter) Write(tx *Tx) error {
	if !c.header {
		c.buf = append(c.buf, CardsCSVHeader+"\n"...)
		c.header = true
	}
	b := c.buf
	b = strconv.AppendInt(b, tx.ID, 10)
	b = append(b, ',')
	b = appendDateTime(b, tx.Time)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(tx.Customer), 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(tx.Terminal), 10)
	b = append(b, ',')
	b = appendCents(b, tx.Amount)
	b = append(b, ',')
	b = strconv.AppendInt(b, tx.Seconds, 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(tx.Day), 10)
	b = append(b, ',')
	if tx.Fraud {
		b = append(b, '1')
	} else {
		b = append(b, '0')
	}
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(tx.Scenario), 10)
	b = append(b, '\n')
	c.buf = b
	if len(b) >= flushAt {
		return c.flush()
	}
	return nil
}

// Flush writes what is buffered, and the header if no row was written.
func (c *CardsCSVWriter) Flush() error {
	if !c.header {
		c.buf = append(c.buf, CardsCSVHeader+"\n"...)
		c.header = true
	}
	return c.flush()
}

func (c *CardsCSVWriter) flush() error {
	if len(c.buf) == 0 {
		return nil
	}
	_, err := c.w.Write(c.buf)
	c.buf = c.buf[:0]
	if err != nil {
		return fmt.Errorf("write transactions: %w", err)
	}
	return nil
}

// CardsNDJSONWriter writes transactions as events, one JSON object a line,
// in occsimore.Event's wire form. It buffers: call Flush at the end.
type CardsNDJSONWriter struct {
	world  *CardWorld
	w      io.Writer
	buf    []byte
	labels bool
}

// NewNDJSONWriter returns a writer of the world's transactions to w. With
// labels, each event carries attrs "fraud" ("0" or "1") and
// "fraud_scenario"; leave them out of events meant for scoring.
func (w *CardWorld) NewNDJSONWriter(out io.Writer, labels bool) *CardsNDJSONWriter {
	return &CardsNDJSONWriter{world: w, w: out, buf: make([]byte, 0, flushAt+1024), labels: labels}
}

// Write appends tx as one line. It writes what Event.MarshalJSON would for
// w.Event(tx), without building the event.
func (c *CardsNDJSONWriter) Write(tx *Tx) error {
	t := &c.world.terminals[tx.Terminal]
	lat, lon := LatLon(t.X, t.Y)
	b := c.buf
	b = append(b, `{"id":"`...)
	b = strconv.AppendInt(b, tx.ID, 10)
	b = append(b, `","kind":"`+KindCardTx+`","time":"`...)
	b = tx.Time.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","card":"`...)
	b = strconv.AppendInt(b, int64(tx.Customer), 10)
	b = append(b, `","customer":"`...)
	b = strconv.AppendInt(b, int64(tx.Customer), 10)
	b = append(b, `","terminal":"`...)
	b = strconv.AppendInt(b, int64(tx.Terminal), 10)
	b = append(b, '"')
	if tx.Amount != 0 {
		b = append(b, `,"amount":`...)
		b = strconv.AppendFloat(b, tx.Amount, 'f', -1, 64)
	}
	b = append(b, `,"currency":"`+cardsCurrency+`","country":"`+cardsCountry+`","lat":`...)
	b = strconv.AppendFloat(b, lat, 'f', -1, 64)
	b = append(b, `,"lon":`...)
	b = strconv.AppendFloat(b, lon, 'f', -1, 64)
	b = append(b, `,"mcc":"`...)
	b = append(b, t.MCC...)
	b = append(b, '"')
	if c.labels {
		b = append(b, `,"attrs":{"fraud":"`...)
		if tx.Fraud {
			b = append(b, '1')
		} else {
			b = append(b, '0')
		}
		b = append(b, `","fraud_scenario":"`...)
		b = strconv.AppendInt(b, int64(tx.Scenario), 10)
		b = append(b, `"}`...)
	}
	b = append(b, "}\n"...)
	c.buf = b
	if len(b) >= flushAt {
		return c.Flush()
	}
	return nil
}

// Flush writes what is buffered.
func (c *CardsNDJSONWriter) Flush() error {
	if len(c.buf) == 0 {
		return nil
	}
	_, err := c.w.Write(c.buf)
	c.buf = c.buf[:0]
	if err != nil {
		return fmt.Errorf("write events: %w", err)
	}
	return nil
}

// appendCents writes a whole-cent amount with exactly two decimals.
func appendCents(b []byte, a float64) []byte {
	cents := int64(math.Round(a * 100))
	if cents < 0 {
		b = append(b, '-')
		cents = -cents
	}
	b = strconv.AppendInt(b, cents/100, 10)
	return append(b, '.', byte('0'+cents%100/10), byte('0'+cents%10))
}

// appendDateTime writes t as "2006-01-02 15:04:05", faster than Format.
func appendDateTime(b []byte, t time.Time) []byte {
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	b = appendPad(b, y, 4)
	b = append(b, '-')
	b = appendPad(b, int(mo), 2)
	b = append(b, '-')
	b = appendPad(b, d, 2)
	b = append(b, ' ')
	b = appendPad(b, h, 2)
	b = append(b, ':')
	b = appendPad(b, mi, 2)
	b = append(b, ':')
	return appendPad(b, s, 2)
}

// appendPad writes a non-negative v with at least width digits.
func appendPad(b []byte, v, width int) []byte {
	var tmp [20]byte
	i := len(tmp)
	for v >= 10 || width > 1 {
		i--
		tmp[i] = byte('0' + v%10)
		v /= 10
		width--
	}
	i--
	tmp[i] = byte('0' + v)
	return append(b, tmp[i:]...)
}
