package behavior

import (
	"fmt"
	"math"
	"time"

	"github.com/occsimore/occsimore"
)

// Label records that the event of entityID (of role) at eventTime was fraud
// or genuine, as learnt at labelTime. The label counts towards the entity's
// and its population's fraud rate from max(labelTime, eventTime +
// LabelDelay) on, rounded up to the hour, and never earlier: a score at
// time t sees only labels usable at t. Every kind whose role keeps a Risk
// block receives the label.
//
// An entity keeps at most three pending hours of labels; a label that finds
// none free is merged into a later pending hour, or moves the latest one
// later, so labels may count late but never early.
func (e *Engine) Label(member, role, entityID string, fraud bool, eventTime, labelTime time.Time) error {
	switch {
	case member == "":
		return occsimore.FieldErrorf("member_id", "member is required")
	case role == "":
		return occsimore.FieldErrorf("role", "role is required")
	case entityID == "" || len(entityID) > occsimore.MaxEntityIDLen:
		return occsimore.FieldErrorf("entity_id", "entity id must be 1-%d bytes", occsimore.MaxEntityIDLen)
	case !validTime(eventTime):
		return occsimore.FieldErrorf("event_time", "event time must be between 1970 and 2100")
	case !validTime(labelTime):
		return occsimore.FieldErrorf("label_time", "label time must be between 1970 and 2100")
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	tn := e.tenant(member)
	key := hashString(e.seed, entityID)
	et := eventTime.UnixNano()
	found := false
	for _, ks := range tn.kinds {
		for _, rs := range ks.roles {
			rl := rs.layout
			if rl.name != role || rl.risk == nil {
				continue
			}
			found = true
			usable := max(labelTime.UnixNano(), et+rl.risk.delay)
			hour := uint32((usable + hourNanos - 1) / hourNanos)
			sh := rs.shardOf(key)
			sh.mu.Lock()
			rl.label(sh.getOrCreate(key, rl.stride), fraud, et, hour)
			sh.mu.Unlock()
			rs.peerMu.Lock()
			rs.labels.add(hour, fraud)
			rs.peerMu.Unlock()
		}
	}
	if !found {
		return occsimore.FieldErrorf("role", "no kind keeps a fraud rate for role %q", role)
	}
	return nil
}

func validTime(t time.Time) bool {
	s := t.Unix()
	return !t.IsZero() && s >= 0 && s < 4102444800
}

// label adds one label of an event at et (unix nanoseconds), usable from
// hour (hours since the epoch), to profile p.
func (rl *roleLayout) label(p []uint32, fraud bool, et int64, hour uint32) {
	b := rl.risk
	rate := rl.rates[b.rate] / 1e9 // per nanosecond
	fw := 0.0
	if fraud {
		fw = 1
	}
	usable := int64(hour) * hourNanos
	if last := lastTime(p); last != 0 && usable <= last {
		// Already usable at the profile's time: fold it in, decayed from the
		// event's time like every other weight.
		d := math.Exp(-float64(max(last-et, 0)) * rate)
		setF32(p, b.off, f32(p, b.off)+fw*d)
		setF32(p, b.off+1, f32(p, b.off+1)+d)
		return
	}
	w := math.Exp(-float64(max(usable-et, 0)) * rate) // referenced at hour
	slot := func(s int) int { return b.off + 2 + 3*s }
	pick, later, latest := -1, -1, -1
	for s := range riskSlots {
		h := p[slot(s)]
		switch {
		case h == hour:
			pick = s
		case h == 0:
			if pick < 0 {
				pick = s
			}
		case h > hour:
			if later < 0 || h < p[slot(later)] {
				later = s
			}
		default:
			if latest < 0 || h > p[slot(latest)] {
				latest = s
			}
		}
	}
	var o int
	switch {
	case pick >= 0:
		o = slot(pick)
		if p[o] == 0 {
			p[o], p[o+1], p[o+2] = hour, 0, 0
		}
	case later >= 0:
		// Wait for a later bucket: re-reference the label at its hour.
		o = slot(later)
		w *= math.Exp(-float64(int64(p[o]-hour)*hourNanos) * rate)
	default:
		// All buckets are earlier: postpone the latest one to this hour.
		o = slot(latest)
		d := math.Exp(-float64(int64(hour-p[o])*hourNanos) * rate)
		setF32(p, o+1, f32(p, o+1)*d)
		setF32(p, o+2, f32(p, o+2)*d)
		p[o] = hour
	}
	setF32(p, o+1, f32(p, o+1)+fw*w)
	setF32(p, o+2, f32(p, o+2)+w)
}

// DelayedLabels holds the labels of replayed history until LabelDelay has
// passed, then gives them to the engine, as a live system would have
// learnt them: a replay for training or evaluation never looks ahead.
type DelayedLabels struct {
	Member     string
	LabelDelay time.Duration

	queue []delayedLabel
	head  int
}

type delayedLabel struct {
	at    time.Time
	fraud bool
	ents  []occsimore.Entity
}

// Add queues the label of an event at time at for its entities (those
// whose roles keep a fraud rate; see Config.RiskRoles).
func (d *DelayedLabels) Add(at time.Time, fraud bool, ents []occsimore.Entity) {
	if len(ents) > 0 {
		d.queue = append(d.queue, delayedLabel{at: at, fraud: fraud, ents: ents})
	}
}

// Release gives e the labels known at now: those of events at or before
// now minus the delay, each learnt at its event time plus the delay. Call
// it before processing the event at now.
func (d *DelayedLabels) Release(e *Engine, now time.Time) error {
	for d.head < len(d.queue) && !d.queue[d.head].at.After(now.Add(-d.LabelDelay)) {
		q := &d.queue[d.head]
		for _, ent := range q.ents {
			if err := e.Label(d.Member, ent.Role, ent.ID, q.fraud, q.at, q.at.Add(d.LabelDelay)); err != nil {
				return fmt.Errorf("label: %w", err)
			}
		}
		d.queue[d.head] = delayedLabel{}
		d.head++
	}
	// Drop the released prefix once it is most of the queue, so memory
	// follows the delay, not the history.
	if d.head > 4096 && d.head*2 > len(d.queue) {
		d.queue = d.queue[:copy(d.queue, d.queue[d.head:])]
		d.head = 0
	}
	return nil
}
