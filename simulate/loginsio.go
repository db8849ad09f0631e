package simulate

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/occsimore/occsimore"
)

// LoginsCSVHeader is the RBA dataset's header followed by two columns of
// ours: the device fingerprint and the attack scenario.
const LoginsCSVHeader = "index,Login Timestamp,User ID,Round-Trip Time [ms],IP Address,Country,Region,City,ASN," +
	"User Agent String,Browser Name and Version,OS Name and Version,Device Type," +
	"Login Successful,Is Attack IP,Is Account Takeover,Device ID,Attack Scenario"

// LoginsCSVWriter writes logins in the RBA dataset's CSV shape, times in
// UTC with milliseconds ("2020-02-03 12:43:30.000") and booleans as
// True/False. It buffers: call Flush at the end.
type LoginsCSVWriter struct {
	w      *csv.Writer
	row    []string
	header bool
}

// NewLoginsCSVWriter returns a writer to w.
func NewLoginsCSVWriter(w io.Writer) *LoginsCSVWriter {
	return &LoginsCSVWriter{w: csv.NewWriter(w), row: make([]string, strings.Count(LoginsCSVHeader, ",")+1)}
}

func pyBool(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

// Write appends l as one row, after the header on the first call.
func (c *LoginsCSVWriter) Write(l *Login) error {
	if !c.header {
		if err := c.w.Write(strings.Split(LoginsCSVHeader, ",")); err != nil {
			return fmt.Errorf("write logins: %w", err)
		}
		c.header = true
	}
	r := c.row
	r[0] = strconv.FormatInt(l.ID, 10)
	r[1] = l.Time.UTC().Format("2006-01-02 15:04:05.000")
	r[2] = strconv.Itoa(l.User)
	r[3] = strconv.Itoa(l.RTT)
	r[4] = l.IP
	r[5] = l.Country
	r[6] = l.Region
	r[7] = l.City
	r[8] = strconv.FormatUint(uint64(l.ASN), 10)
	r[9] = l.UserAgent
	r[10] = l.Browser
	r[11] = l.OS
	r[12] = l.DeviceType
	r[13] = pyBool(l.Success)
	r[14] = pyBool(l.AttackIP)
	r[15] = pyBool(l.ATO)
	r[16] = l.Device
	r[17] = l.Scenario.String()
	if err := c.w.Write(r); err != nil {
		return fmt.Errorf("write logins: %w", err)
	}
	return nil
}

// Flush writes what is buffered, and the header if no row was written.
func (c *LoginsCSVWriter) Flush() error {
	if !c.header {
		if err := c.w.Write(strings.Split(LoginsCSVHeader, ",")); err != nil {
			return fmt.Errorf("write logins: %w", err)
		}
		c.header = true
	}
	c.w.Flush()
	if err := c.w.Error(); err != nil {
		return fmt.Errorf("write logins: %w", err)
	}
	return nil
}

// LoginsNDJSONWriter writes logins as events, one JSON object a line, in
// occsimore.Event's wire form. It buffers: call Flush at the end.
type LoginsNDJSONWriter struct {
	w      io.Writer
	buf    []byte
	ev     occsimore.Event
	labels bool
}

// NewLoginsNDJSONWriter returns a writer to w. With labels, each event
// carries attrs "attack_ip", "ato" ("0" or "1") and "scenario"; leave them
// out of events meant for scoring.
func NewLoginsNDJSONWriter(w io.Writer, labels bool) *LoginsNDJSONWriter {
	return &LoginsNDJSONWriter{w: w, labels: labels}
}

func bit(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// Write appends l as one line.
func (c *LoginsNDJSONWriter) Write(l *Login) error {
	l.Event(&c.ev)
	if c.labels {
		c.ev.Attrs = map[string]string{"attack_ip": bit(l.AttackIP), "ato": bit(l.ATO), "scenario": l.Scenario.String()}
	}
	b, err := json.Marshal(c.ev)
	if err != nil {
		return fmt.Errorf("encode login %d: %w", l.ID, err)
	}
	c.buf = append(append(c.buf, b...), '\n')
	if len(c.buf) >= flushAt {
		return c.Flush()
	}
	return nil
}

// Flush writes what is buffered.
func (c *LoginsNDJSONWriter) Flush() error {
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
