package sharing

import (
	"context"
	"fmt"
	"hash/maphash"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/occsimore/occsimore"
	"github.com/occsimore/occsimore/remediation"
	"github.com/occsimore/occsimore/share"
	"github.com/occsimore/occsimore/stix"
	"github.com/occsimore/occsimore/taxii"
)

// ReasonCode is the code of the reason a match adds to an event.
const ReasonCode = "shared_indicator"

// AnticipatorConfig configures an Anticipator.
type AnticipatorConfig struct {
	// Keyring computes the tokens of the member's own identifiers.
	Keyring *share.Keyring
	Taxii   taxii.Store
	// Members lists the server's members (each gets its own index).
	Members func(ctx context.Context) ([]*occsimore.Member, error)
	// Remediations receives the bans of shared attacker addresses; nil
	// makes none.
	Remediations occsimore.AttackService
	// BanFor bounds a consortium ban (the indicator's validity if shorter);
	// default 24h; negative makes no ban.
	BanFor time.Duration
	// MaxObjects bounds the STIX objects kept per member (default 200,000);
	// objects past it are not read, and a warning says so.
	MaxObjects int
	// Anonymous must match the producer's: a member's own indicators are
	// not matched against its own events.
	Anonymous bool
	Now       func() time.Time
	Logger    *slog.Logger
}

// Anticipator matches members' events against the indicators the other
// members shared. Match is safe for concurrent use and does not allocate
// unless it matches; Refresh reads new objects and swaps the indexes in.
type Anticipator struct {
	cfg AnticipatorConfig

	refreshMu sync.Mutex // one Refresh at a time; guards states
	states    map[string]*memberState

	indexes atomic.Pointer[map[string]*memberIndex]

	hashMu sync.Mutex // guards hasher, buf and the indexes' caches, used by Match
	seed   maphash.Seed
	hasher *share.Hasher
	hashAt time.Time // when hasher was made (a rotation needs a new one)
	buf    []byte
}

// memberState is what Refresh keeps of one member between calls.
type memberState struct {
	after   map[string]taxii.Position // per collection, the last object read
	objs    map[string]stix.Object    // by STIX id, the newest version read
	banned  map[string]bool           // values with a consortium ban made
	built   time.Time
	changed bool
	full    bool // MaxObjects reached (warned once)
}

// memberIndex is one member's index and what it holds, swapped in whole.
type memberIndex struct {
	idx    *share.Index
	tokens uint8 // bit per customer-linked kind present: tokenKinds
	ips    bool
	sector map[string]string // source label → sector
	// cache remembers the outcome of recent identifiers (a terminal or a
	// merchant comes back with every payment), so that most events cost a
	// hash of the identifier instead of two HMAC-SHA256 per key. It belongs
	// to this index: a rebuild starts an empty one. Guarded by
	// Anticipator.hashMu.
	cache []cacheEntry
}

// cacheEntries is the size of a member's cache (two-way, 16 bytes an entry:
// 1 MiB, made on the first token lookup). At 16,384 entries the
// handbook's 10,000 terminals collided often enough that misses (an HMAC
// each) doubled the cost of matching (docs/benchmarks.md).
const cacheEntries = 1 << 16

// cacheEntry is keyed by the 64-bit hash of (kind, identifier) under a
// random per-process seed, not by the identifier: two identifiers would
// have to collide on 64 bits for one to take the other's outcome (one
// chance in 2^64 per pair), and the entry stays small.
type cacheEntry struct {
	h     uint64       // 0: empty
	match *share.Match // nil: not in the index
}

// tokenKinds are the customer-linked kinds an event names, by bit.
var tokenKinds = [...]share.Kind{share.KindTerminal, share.KindMerchant, share.KindDevice, share.KindCard, share.KindCustomer}

// NewAnticipator returns an anticipator with empty indexes.
func NewAnticipator(cfg AnticipatorConfig) (*Anticipator, error) {
	if cfg.Keyring == nil || cfg.Taxii == nil || cfg.Members == nil {
		return nil, fmt.Errorf("sharing: keyring, TAXII store and members are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.BanFor == 0 {
		cfg.BanFor = 24 * time.Hour
	}
	if cfg.MaxObjects <= 0 {
		cfg.MaxObjects = 200_000
	}
	a := &Anticipator{cfg: cfg, states: map[string]*memberState{}}
	empty := map[string]*memberIndex{}
	a.indexes.Store(&empty)
	a.seed = maphash.MakeSeed()
	a.hasher = cfg.Keyring.NewHasher(cfg.Now())
	a.hashAt = cfg.Now()
	return a, nil
}

// Len is the number of distinct values indexed for a member.
func (a *Anticipator) Len(memberID string) int {
	if mi := (*a.indexes.Load())[memberID]; mi != nil {
		return mi.idx.Len()
	}
	return 0
}

// Loop refreshes every interval until ctx is done.
func (a *Anticipator) Loop(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := a.Refresh(ctx); err != nil && ctx.Err() == nil {
			a.cfg.Logger.ErrorContext(ctx, "anticipation refresh", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Refresh reads the objects added to each member's readable collections
// since the last call, rebuilds the indexes that changed (and, once a
// minute, the others, so that expired indicators leave), and bans the
// newly shared attacker addresses.
func (a *Anticipator) Refresh(ctx context.Context) error {
	a.refreshMu.Lock()
	defer a.refreshMu.Unlock()
	members, err := a.cfg.Members(ctx)
	if err != nil {
		return fmt.Errorf("list members: %w", err)
	}
	now := a.cfg.Now()
	next := map[string]*memberIndex{}
	old := *a.indexes.Load()
	for _, m := range members {
		st := a.states[m.ID]
		if st == nil {
			st = &memberState{after: map[string]taxii.Position{}, objs: map[string]stix.Object{}}
			if err := a.loadBans(ctx, m.ID, st, now); err != nil {
				return err
			}
			a.states[m.ID] = st
		}
		if err := a.read(ctx, m, st); err != nil {
			return err
		}
		if !st.changed && old[m.ID] != nil && now.Sub(st.built) < time.Minute {
			next[m.ID] = old[m.ID]
			continue
		}
		mi, inds := a.build(m, st, now)
		next[m.ID] = mi
		st.built, st.changed = now, false
		if err := a.ban(ctx, m, st, inds, now); err != nil {
			a.cfg.Logger.ErrorContext(ctx, "consortium bans", "member", m.Slug, "err", err)
		}
	}
	a.indexes.Store(&next)
	a.hashMu.Lock()
	if now.Sub(a.hashAt) >= time.Minute {
		a.hasher, a.hashAt = a.cfg.Keyring.NewHasher(now), now
	}
	a.hashMu.Unlock()
	return nil
}

// read takes the objects added since the last read from every collection
// the member may read.
func (a *Anticipator) read(ctx context.Context, m *occsimore.Member, st *memberState) error {
	cols, err := a.cfg.Taxii.ListCollections(ctx, m.ID)
	if err != nil {
		return fmt.Errorf("member %s: collections: %w", m.Slug, err)
	}
	for _, c := range cols {
		if !c.CanRead {
			continue
		}
		for {
			// Every version, in the order added: the newest read replaces the
			// one kept.
			q := taxii.Query{Limit: 1000, Filter: taxii.Filter{Versions: taxii.VersionMatch{All: true}}}
			if pos, ok := st.after[c.ID]; ok {
				q.After = &pos
			}
			page, err := a.cfg.Taxii.QueryObjects(ctx, m.ID, c.ID, q)
			if err != nil {
				return fmt.Errorf("member %s: collection %s: %w", m.Slug, c.ID, err)
			}
			for _, r := range page.Records {
				st.after[c.ID] = taxii.Position{DateAdded: r.DateAdded, Seq: r.Seq}
				if _, held := st.objs[r.ID]; !held && len(st.objs) >= a.cfg.MaxObjects {
					if !st.full {
						st.full = true
						a.cfg.Logger.WarnContext(ctx, "anticipation bound reached: later objects are not matched",
							"member", m.Slug, "max_objects", a.cfg.MaxObjects)
					}
					continue
				}
				o, err := stix.ParseObject(r.Raw)
				if err != nil {
					continue // not a type matched here (or refused when it was added)
				}
				st.objs[r.ID] = o
				st.changed = true
			}
			if !page.More || len(page.Records) == 0 {
				break
			}
		}
	}
	return nil
}

// build makes a member's index from the objects it read, leaving out its
// own indicators (they describe its own events).
func (a *Anticipator) build(m *occsimore.Member, st *memberState, now time.Time) (*memberIndex, []share.Indicator) {
	objs := make([]stix.Object, 0, len(st.objs))
	for _, o := range st.objs {
		objs = append(objs, o)
	}
	self := share.SourceIdentityID(share.Source{Member: m.ID, Sector: m.Sector, Anonymous: a.cfg.Anonymous})
	inds, _ := share.FromSTIX(objs, share.Source{Name: "collection"})
	mi := &memberIndex{sector: map[string]string{}}
	kept := inds[:0]
	for _, ind := range inds {
		if ind.Source.Member == self || ind.TLP == stix.TLPRed {
			continue
		}
		kept = append(kept, ind)
		mi.sector[ind.Source.Label()] = ind.Source.Sector
		for i, k := range tokenKinds {
			if ind.Kind == k {
				mi.tokens |= 1 << i
			}
		}
		mi.ips = mi.ips || ind.Kind == share.KindIP || ind.Kind == share.KindCIDR
	}
	mi.idx = share.NewIndex(kept, now)
	return mi, kept
}

// loadBans remembers the consortium bans in force, so that a restart does
// not ban again.
func (a *Anticipator) loadBans(ctx context.Context, member string, st *memberState, now time.Time) error {
	st.banned = map[string]bool{}
	if a.cfg.Remediations == nil {
		return nil
	}
	rs, err := a.cfg.Remediations.ActiveRemediations(ctx, member, now)
	if err != nil {
		return fmt.Errorf("member %s: decisions: %w", member, err)
	}
	for _, r := range rs {
		if r.Origin == remediation.OriginConsortium {
			st.banned[r.Value] = true
		}
	}
	return nil
}

// ban makes a decision of origin consortium for every shared attacker
// address or range in force that has none yet.
func (a *Anticipator) ban(ctx context.Context, m *occsimore.Member, st *memberState, inds []share.Indicator, now time.Time) error {
	if a.cfg.Remediations == nil || a.cfg.BanFor < 0 {
		return nil
	}
	var rs []*occsimore.Remediation
	for i := range inds {
		ind := &inds[i]
		var scope occsimore.Scope
		switch ind.Kind {
		case share.KindIP:
			scope = occsimore.ScopeIP
		case share.KindCIDR:
			scope = occsimore.ScopeRange
		default:
			continue
		}
		if now.Before(ind.ValidFrom) || (!ind.ValidUntil.IsZero() && !now.Before(ind.ValidUntil)) {
			continue
		}
		v, err := remediation.ParseValue(scope, ind.Value)
		if err != nil || st.banned[v] {
			continue // a range wider than the bounds needs an admin's force
		}
		until := now.Add(a.cfg.BanFor)
		if !ind.ValidUntil.IsZero() && ind.ValidUntil.Before(until) {
			until = ind.ValidUntil
		}
		scenario := "consortium"
		if len(ind.AttackPatterns) > 0 {
			scenario = cmp(ind.AttackPatterns[0].Scenario, cmp(ind.AttackPatterns[0].Name, scenario))
		}
		r := &occsimore.Remediation{MemberID: m.ID, Action: occsimore.ActionBan, Scope: scope, Value: v,
			Scenario: scenario, Origin: remediation.OriginConsortium, Until: until}
		if err := remediation.Check(r); err != nil {
			continue
		}
		rs = append(rs, r)
	}
	if len(rs) == 0 {
		return nil
	}
	if err := a.cfg.Remediations.CreateRemediations(ctx, m.ID, rs); err != nil {
		return err
	}
	for _, r := range rs {
		st.banned[r.Value] = true
	}
	a.cfg.Logger.InfoContext(ctx, "consortium bans", "member", m.Slug, "decisions", len(rs))
	return nil
}

func cmp(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// Match looks an event up in its member's index: the address of a login or
// log line, and the tokens of its terminal, merchant, device, card and
// customer (computed under the consortium keys, current and previous during
// an overlap). It allocates only to write the reason of a match.
func (a *Anticipator) Match(ev *occsimore.Event) (occsimore.Reason, bool) {
	mi := (*a.indexes.Load())[ev.MemberID]
	if mi == nil || mi.idx.Len() == 0 {
		return occsimore.Reason{}, false
	}
	if mi.tokens != 0 {
		a.hashMu.Lock()
		defer a.hashMu.Unlock()
	}
	if m, role, value := a.match(mi, ev); m != nil {
		return mi.reason(m, role, value), true
	}
	return occsimore.Reason{}, false
}

// MatchBatch matches a batch of one member's events (the pipeline's
// Matcher): dst[k] gets the reason of each evs[k] that matches, the zero
// Reason otherwise; it returns how many matched. The member's index is
// found and the lock taken once per batch. It allocates only to write the
// reasons of matches.
func (a *Anticipator) MatchBatch(member string, evs []occsimore.Event, dst []occsimore.Reason) int {
	clear(dst[:len(evs)])
	mi := (*a.indexes.Load())[member]
	if mi == nil || mi.idx.Len() == 0 {
		return 0
	}
	if mi.tokens != 0 {
		a.hashMu.Lock()
		defer a.hashMu.Unlock()
	}
	n := 0
	for k := range evs {
		if m, role, value := a.match(mi, &evs[k]); m != nil {
			dst[k] = mi.reason(m, role, value)
			n++
		}
	}
	return n
}

// match looks one event up; hashMu is held if the index has tokens.
func (a *Anticipator) match(mi *memberIndex, ev *occsimore.Event) (*share.Match, string, string) {
	if mi.ips && ev.IP != "" {
		if addr, err := netip.ParseAddr(ev.IP); err == nil {
			if m, ok := mi.idx.LookupIP(addr); ok {
				return m, "ip", ev.IP
			}
		}
	}
	if mi.tokens == 0 {
		return nil, "", ""
	}
	for i, k := range tokenKinds {
		if mi.tokens&(1<<i) == 0 {
			continue
		}
		var v string
		switch k {
		case share.KindTerminal:
			v = ev.Terminal
		case share.KindMerchant:
			v = ev.Merchant
		case share.KindDevice:
			v = ev.Device
		case share.KindCard:
			v = ev.Card
		case share.KindCustomer:
			v = ev.Customer
		}
		if v == "" {
			continue
		}
		if m := a.lookupToken(mi, uint8(i), k, v); m != nil {
			return m, string(k), ""
		}
	}
	return nil, "", ""
}

// lookupToken returns the match of an identifier of kind k (bit i of
// tokenKinds): from the cache, else by computing its MAC under each
// accepted key and looking it up. It does not allocate. hashMu is held.
func (a *Anticipator) lookupToken(mi *memberIndex, i uint8, k share.Kind, v string) *share.Match {
	// share.NormalizeValue, without its allocations: trimmed, and a card
	// keeps its digits only.
	v = strings.TrimSpace(v)
	a.buf = a.buf[:0]
	if k == share.KindCard {
		for j := 0; j < len(v); j++ {
			switch c := v[j]; {
			case c >= '0' && c <= '9':
				a.buf = append(a.buf, c)
			case c != ' ' && c != '-':
				return nil
			}
		}
	} else {
		a.buf = append(a.buf, v...)
	}
	if mi.cache == nil {
		mi.cache = make([]cacheEntry, cacheEntries)
	}
	h := (maphash.Bytes(a.seed, a.buf) ^ uint64(i+1)*0x9e3779b97f4a7c15) | 1
	// Two ways: the slot and its neighbour, the newest outcome in the first.
	slot := h >> 48 & (cacheEntries - 2)
	e0, e1 := &mi.cache[slot], &mi.cache[slot+1]
	switch h {
	case e0.h:
		return e0.match
	case e1.h:
		return e1.match
	}
	var found *share.Match
	var mac [share.TokenLen]byte
	for j := 0; j < a.hasher.Keys(); j++ {
		if !a.hasher.MAC(j, k, a.buf, &mac) {
			break
		}
		if m, ok := mi.idx.LookupToken(&mac); ok {
			found = m
			break
		}
	}
	*e1 = *e0
	e0.h, e0.match = h, found
	return found
}

// reason says who shared what was matched, and when they last saw it. A
// customer-linked identifier is not repeated: the event already names it.
func (mi *memberIndex) reason(m *share.Match, role, value string) occsimore.Reason {
	var sectors []string
	for _, s := range m.Sources {
		if sec := mi.sector[s]; sec != "" && !slices.Contains(sectors, sec) {
			sectors = append(sectors, sec)
		}
	}
	what := string(m.Kind)
	if value != "" {
		what += " " + value
	}
	n := len(m.Sources)
	text := fmt.Sprintf("%s seen at %d member%s", what, n, plural(n))
	if len(sectors) > 0 {
		text += " of " + strings.Join(sectors, ", ")
	}
	text += " (" + strings.Join(m.Sources, ", ") + ")"
	if !m.LastSeen.IsZero() {
		text += fmt.Sprintf(", %d sighting%s, last on %s", m.Sightings, plural(m.Sightings), m.LastSeen.UTC().Format("2006-01-02 15:04 MST"))
	}
	return occsimore.Reason{Code: ReasonCode, Role: role, Text: text, Score: float64(m.Confidence) / 100}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
