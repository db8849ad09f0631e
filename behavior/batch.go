package behavior

import (
	"fmt"
	"time"
	"unsafe"

	"github.com/occsimore/occsimore"
)

// ProcessBatch is Process for every event of evs, in order: res[i] and
// errs[i] become what Process(&evs[i], &res[i]) would have given, and the
// profiles end as they would have. It returns how many events failed.
// res and errs must be at least as long as evs.
//
// It costs less per event than Process: it read-locks the engine once per
// 256 events, reads the server clock (Config.Now) once per call, finds the
// member and kind once per run of events that share them, and looks up the
// profiles of the next events while it scores the current one, so that
// their cache misses overlap instead of following each other. A Result
// takes 1.8 KB: batches of 32 to 64 events keep their results in a core's
// cache, and longer ones gain nothing more.
func (e *Engine) ProcessBatch(evs []occsimore.Event, res []Result, errs []error) int {
	if len(res) < len(evs) || len(errs) < len(evs) {
		panic(fmt.Sprintf("behavior: ProcessBatch of %d events given %d results and %d errors", len(evs), len(res), len(errs)))
	}
	var now time.Time
	if e.cfg.Now != nil {
		now = e.cfg.Now()
	}
	failed := 0
	for len(evs) > 0 {
		n := min(len(evs), batchLock)
		failed += e.processBatch(evs[:n], res[:n], errs[:n], now)
		evs, res, errs = evs[n:], res[n:], errs[n:]
	}
	return failed
}

// The batch pipeline: while event i is scored, the index slots of the
// entities of event i+indexAhead and the profiles of event i+profileAhead
// are prefetched, and the event i+eventAhead itself. batchLock bounds how
// long a batch holds the engine's read lock, which snapshots wait for.
const (
	eventAhead   = 12
	stringsAhead = 10
	indexAhead   = 8
	profileAhead = 4
	ringSize     = 16 // a power of two above indexAhead
	batchLock    = 256
)

// processBatch runs the pipeline over at most batchLock events under one
// read lock: a profile found ahead stays valid only while it is held.
func (e *Engine) processBatch(evs []occsimore.Event, res []Result, errs []error, now time.Time) int {
	e.mu.RLock()
	defer e.mu.RUnlock()
	var (
		ring   [ringSize]prepared
		last   batchCache
		failed int
	)
	n := len(evs)
	for i := -eventAhead; i < n; i++ {
		if j := i + eventAhead; j < n {
			prefetch(unsafe.Pointer(&evs[j]), unsafe.Sizeof(evs[j]))
		}
		if j := i + stringsAhead; j >= 0 && j < n {
			// The fields of the previous event's kind: batches rarely mix
			// kinds.
			fields := uint8(allFields)
			if last.tn != nil {
				fields = e.specs[last.ki].strings
			}
			prefetchStrings(&evs[j], fields)
		}
		if j := i + indexAhead; j >= 0 && j < n {
			pe := &ring[j%ringSize]
			if errs[j] = e.prepare(&evs[j], pe, now, &last); errs[j] == nil {
				pe.prefetchIndex()
			}
		}
		if j := i + indexAhead - profileAhead; j >= 0 && j < n && errs[j] == nil {
			ring[j%ringSize].findAhead()
		}
		if i < 0 {
			continue
		}
		if errs[i] == nil {
			errs[i] = e.finish(&evs[i], &res[i], &ring[i%ringSize])
		}
		if errs[i] != nil {
			failed++
		}
	}
	return failed
}

// batchCache remembers the tenant and kind of the previous event of a
// batch: events of one member and kind usually come together.
type batchCache struct {
	member, kind string
	tn           *tenant
	ki           int
}

// prepare is Process up to the lateness check, which must wait for the
// events before it: it checks ev and resolves it into pe. The caller holds
// e.mu.
func (e *Engine) prepare(ev *occsimore.Event, pe *prepared, now time.Time, last *batchCache) error {
	ki, err := e.kindOf(ev, last)
	if err != nil {
		return err
	}
	var ids [MaxRoles]string
	if err := e.admit(ev, ki, now, &ids); err != nil {
		return err
	}
	tn := last.tn
	if tn == nil || ev.MemberID != last.member {
		tn = e.tenant(ev.MemberID)
	}
	*last = batchCache{member: ev.MemberID, kind: ev.Kind, tn: tn, ki: ki}
	e.resolve(tn, ki, &ids, pe)
	return nil
}

// Fixed string fields of an Event that a spec may hash, as bits of
// compiledSpec.strings.
const (
	fieldCard = 1 << iota
	fieldCustomer
	fieldTerminal
	fieldMerchant
	fieldUser
	fieldIP
	fieldDevice
	fieldUserAgent
	allFields = 1<<iota - 1
)

// fieldOf is the bit of the Event field of a, if a long string field.
func fieldOf(a attrKind) uint8 {
	switch a {
	case attrCard:
		return fieldCard
	case attrCustomer:
		return fieldCustomer
	case attrTerminal:
		return fieldTerminal
	case attrMerchant:
		return fieldMerchant
	case attrUser:
		return fieldUser
	case attrIP:
		return fieldIP
	case attrDevice:
		return fieldDevice
	case attrUserAgent:
		return fieldUserAgent
	}
	return 0
}

// prefetchStrings prefetches the bytes of the string fields of ev that
// fields selects: where a decoder or a generator put them, not in the
// Event itself, the hashes of its entities and values would wait for them.
func prefetchStrings(ev *occsimore.Event, fields uint8) {
	if fields&fieldCard != 0 {
		prefetchString(ev.Card)
	}
	if fields&fieldCustomer != 0 {
		prefetchString(ev.Customer)
	}
	if fields&fieldTerminal != 0 {
		prefetchString(ev.Terminal)
	}
	if fields&fieldMerchant != 0 {
		prefetchString(ev.Merchant)
	}
	if fields&fieldUser != 0 {
		prefetchString(ev.User)
	}
	if fields&fieldIP != 0 {
		prefetchString(ev.IP)
	}
	if fields&fieldDevice != 0 {
		prefetchString(ev.Device)
	}
	if fields&fieldUserAgent != 0 {
		prefetchString(ev.UserAgent)
	}
}

func prefetchString(s string) {
	if s != "" {
		prefetch(unsafe.Pointer(unsafe.StringData(s)), uintptr(len(s)))
	}
}

// prefetchIndex prefetches the index slots where the lookups of the
// entities of pe will start.
func (pe *prepared) prefetchIndex() {
	for i, sh := range pe.shs[:pe.n] {
		sh.mu.Lock()
		k, v := sh.index.slot(pe.keys[i])
		sh.mu.Unlock()
		if k != nil {
			prefetch(unsafe.Pointer(k), 8)
			prefetch(unsafe.Pointer(v), 4)
		}
	}
}

// findAhead looks up the profiles of pe that exist already and prefetches
// them.
func (pe *prepared) findAhead() {
	for i, sh := range pe.shs[:pe.n] {
		sh.mu.Lock()
		p := sh.get(pe.keys[i], pe.rss[i].layout.stride)
		sh.mu.Unlock()
		if p != nil {
			prefetch(unsafe.Pointer(&p[0]), uintptr(4*len(p)))
		}
		pe.ps[i] = p
	}
}
