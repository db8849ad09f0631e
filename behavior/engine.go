package behavior

import (
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/occsimore/occsimore"
)

// Config configures an Engine. Start from DefaultConfig.
type Config struct {
	// Specs are the profiled kinds; nil means DefaultSpecs().
	Specs []Spec
	// Thresholds override a spec's thresholds per member, then per kind.
	Thresholds map[string]map[string]Thresholds
	// HashSeed seeds the hashes of entity ids and values. Set it to a
	// secret random value where ids come from outside, so that nobody can
	// craft colliding ids. Snapshots carry it: ReadSnapshot adopts the
	// seed of the state it restores.
	HashSeed uint64
	// Shards per (member, kind, role), a power of two.
	Shards int
	// MaxLateness is how far behind the newest event of its (member, kind)
	// an event may be and still be folded in.
	MaxLateness time.Duration
	// Now, if set, rejects events more than MaxFuture ahead of it, so that
	// one event with a wrong clock cannot make every later event late.
	Now       occsimore.Now
	MaxFuture time.Duration
	// PeerHalfLife is the memory of population and peer-group statistics.
	PeerHalfLife time.Duration
	// MinPeerEvents is how many events a peer group (RoleSpec.PeerBy) needs
	// before it replaces the population as reference.
	MinPeerEvents int
	// MaxPeerGroups bounds the peer groups per (member, kind, role).
	MaxPeerGroups int
	// DictSize bounds, per member, the values remembered to write reason
	// sentences ("top: FR"); values past it are shown as unknown.
	DictSize int
}

// RiskRoles lists the roles of kind whose profile keeps a fraud rate from
// labels (a RiskSpec): those a label must reach.
func (c Config) RiskRoles(kind string) []string {
	specs := c.Specs
	if specs == nil {
		specs = DefaultSpecs()
	}
	var roles []string
	for _, s := range specs {
		if s.Kind != kind {
			continue
		}
		for _, r := range s.Roles {
			if r.Risk != nil {
				roles = append(roles, r.Role)
			}
		}
	}
	return roles
}

// DefaultConfig returns the built-in specs and defaults.
func DefaultConfig() Config {
	return Config{
		Specs:         DefaultSpecs(),
		HashSeed:      0x6f636373696d6f72, // "occsimor"
		Shards:        64,
		MaxLateness:   time.Hour,
		MaxFuture:     5 * time.Minute,
		PeerHalfLife:  14 * 24 * time.Hour,
		MinPeerEvents: 200,
		MaxPeerGroups: 1024,
		DictSize:      1 << 16,
	}
}

// Engine holds every member's profiles and scores events against them.
// Its methods are safe for concurrent use.
type Engine struct {
	cfg      Config
	seed     uint64 // changed only by ReadSnapshot, under mu
	specs    []*compiledSpec
	dictAttr []string // value dictionary attribute names, by id-1
	lateness int64
	peerHL   float64 // nanoseconds

	// mu is read-locked by every operation and write-locked by snapshots,
	// which therefore see a consistent cut of all profiles.
	mu        sync.RWMutex
	tenantsMu sync.Mutex // serialises tenant creation
	tenants   atomic.Pointer[map[string]*tenant]
}

// tenant is one member's state; nothing in it is shared with another member.
type tenant struct {
	member string
	kinds  []*kindState // parallel to Engine.specs
	dict   dict
}

type kindState struct {
	spec       *compiledSpec
	watermark  atomic.Int64 // newest event time seen, unix nanoseconds
	thresholds atomic.Pointer[Thresholds]
	roles      []*roleStore
}

// roleStore holds the profiles of one (member, kind, role).
type roleStore struct {
	layout *roleLayout
	shards []shard
	shift  uint

	peerMu sync.Mutex // guards pop, groups and labels; taken after a shard lock
	pop    *peerStats
	groups map[uint64]*peerStats
	labels labelStats
}

// chunkWords is the size of a slab chunk: 64 KiB, a whole number of pages,
// so that no allocation is rounded up.
const chunkWords = 1 << 14

type shard struct {
	mu     sync.Mutex
	index  index
	chunks [][]uint32
	n      uint32
	_      [40]byte // keep neighbouring shards' locks off one cache line
}

// NewEngine compiles the specs of cfg. Zero fields of cfg take their
// DefaultConfig values.
func NewEngine(cfg Config) (*Engine, error) {
	def := DefaultConfig()
	if cfg.Specs == nil {
		cfg.Specs = def.Specs
	}
	if cfg.Shards == 0 {
		cfg.Shards = def.Shards
	}
	if cfg.MaxLateness == 0 {
		cfg.MaxLateness = def.MaxLateness
	}
	if cfg.MaxFuture == 0 {
		cfg.MaxFuture = def.MaxFuture
	}
	if cfg.PeerHalfLife == 0 {
		cfg.PeerHalfLife = def.PeerHalfLife
	}
	if cfg.MinPeerEvents == 0 {
		cfg.MinPeerEvents = def.MinPeerEvents
	}
	if cfg.MaxPeerGroups == 0 {
		cfg.MaxPeerGroups = def.MaxPeerGroups
	}
	if cfg.DictSize == 0 {
		cfg.DictSize = def.DictSize
	}
	switch {
	case cfg.Shards < 1 || cfg.Shards > 1<<16 || cfg.Shards&(cfg.Shards-1) != 0:
		return nil, occsimore.FieldErrorf("shards", "shards %d is not a power of two in 1..65536", cfg.Shards)
	case cfg.MaxLateness < 0:
		return nil, occsimore.FieldErrorf("max_lateness", "max_lateness %s is negative", cfg.MaxLateness)
	case cfg.MaxFuture < 0:
		return nil, occsimore.FieldErrorf("max_future", "max_future %s is negative", cfg.MaxFuture)
	case cfg.PeerHalfLife < time.Minute:
		return nil, occsimore.FieldErrorf("peer_half_life", "peer_half_life %s is under a minute", cfg.PeerHalfLife)
	case cfg.MinPeerEvents < 0 || cfg.MaxPeerGroups < 0 || cfg.DictSize < 0:
		return nil, occsimore.FieldErrorf("min_peer_events", "counts must not be negative")
	}
	e := &Engine{cfg: cfg, seed: cfg.HashSeed, lateness: int64(cfg.MaxLateness), peerHL: float64(cfg.PeerHalfLife)}
	var ids dictIDs
	for i, s := range cfg.Specs {
		cs, err := compile(s, &ids)
		if err != nil {
			return nil, fmt.Errorf("spec %d (%s): %w", i, s.Kind, err)
		}
		for _, o := range e.specs {
			if o.kind == cs.kind {
				return nil, occsimore.FieldErrorf("specs", "kind %q given twice", cs.kind)
			}
		}
		e.specs = append(e.specs, cs)
	}
	e.dictAttr = ids.names
	for member, kinds := range cfg.Thresholds {
		for kind, t := range kinds {
			if e.spec(kind) < 0 {
				return nil, occsimore.FieldErrorf("thresholds", "member %q: unknown kind %q", member, kind)
			}
			if err := t.Validate(); err != nil {
				return nil, fmt.Errorf("member %q kind %q: %w", member, kind, err)
			}
		}
	}
	e.tenants.Store(&map[string]*tenant{})
	return e, nil
}

// Kinds returns the profiled kinds.
func (e *Engine) Kinds() []string {
	ks := make([]string, len(e.specs))
	for i, s := range e.specs {
		ks[i] = s.kind
	}
	return ks
}

// FeatureNames returns the names of Result.Features for kind, or nil for an
// unknown kind. The names are stable for a given spec.
func (e *Engine) FeatureNames(kind string) []string {
	if i := e.spec(kind); i >= 0 {
		return append([]string(nil), e.specs[i].features...)
	}
	return nil
}

// SetThresholds changes the thresholds of one member for one kind.
func (e *Engine) SetThresholds(member, kind string, t Thresholds) error {
	if member == "" {
		return occsimore.FieldErrorf("member_id", "member is required")
	}
	ki := e.spec(kind)
	if ki < 0 {
		return occsimore.FieldErrorf("kind", "no profile spec for kind %q", kind)
	}
	if err := t.Validate(); err != nil {
		return err
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	e.tenant(member).kinds[ki].thresholds.Store(&t)
	return nil
}

func (e *Engine) spec(kind string) int {
	for i, s := range e.specs {
		if s.kind == kind {
			return i
		}
	}
	return -1
}

// tenant returns member's state, creating it on first use.
func (e *Engine) tenant(member string) *tenant {
	if t := (*e.tenants.Load())[member]; t != nil {
		return t
	}
	e.tenantsMu.Lock()
	defer e.tenantsMu.Unlock()
	old := *e.tenants.Load()
	if t := old[member]; t != nil {
		return t
	}
	t := e.newTenant(member)
	m := make(map[string]*tenant, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	m[member] = t
	e.tenants.Store(&m)
	return t
}

// lookupTenant returns member's state without creating it.
func (e *Engine) lookupTenant(member string) *tenant {
	return (*e.tenants.Load())[member]
}

func (e *Engine) newTenant(member string) *tenant {
	t := &tenant{member: member, dict: dict{max: e.cfg.DictSize}}
	shift := uint(64)
	for n := e.cfg.Shards; n > 1; n >>= 1 {
		shift--
	}
	for _, cs := range e.specs {
		ks := &kindState{spec: cs, roles: make([]*roleStore, len(cs.roles))}
		thr := cs.thresholds
		if o, ok := e.cfg.Thresholds[member][cs.kind]; ok {
			thr = o
		}
		ks.thresholds.Store(&thr)
		for i, rl := range cs.roles {
			ks.roles[i] = &roleStore{layout: rl, shards: make([]shard, e.cfg.Shards), shift: shift, pop: newPeerStats(rl)}
		}
		t.kinds = append(t.kinds, ks)
	}
	return t
}

func (rs *roleStore) shardOf(key uint64) *shard {
	if rs.shift == 64 {
		return &rs.shards[0]
	}
	return &rs.shards[key>>rs.shift]
}

// get returns the profile of key, or nil.
func (s *shard) get(key uint64, stride int) []uint32 {
	slot, ok := s.index.get(key)
	if !ok {
		return nil
	}
	return s.at(slot, stride)
}

func (s *shard) at(slot uint32, stride int) []uint32 {
	per := uint32(chunkWords / stride)
	o := int(slot%per) * stride
	return s.chunks[slot/per][o : o+stride : o+stride]
}

// getOrCreate returns the profile of key, adding a zero one if needed.
func (s *shard) getOrCreate(key uint64, stride int) []uint32 {
	if slot, ok := s.index.get(key); ok {
		return s.at(slot, stride)
	}
	slot := s.n
	if per := uint32(chunkWords / stride); int(slot/per) == len(s.chunks) {
		s.chunks = append(s.chunks, make([]uint32, chunkWords))
	}
	s.n++
	s.index.put(key, slot)
	return s.at(slot, stride)
}

// index maps entity hashes to slab slots by open addressing with linear
// probing. Entity hashes are already well mixed, so their low bits serve as
// the position. At 12 bytes a slot it takes about half the memory of a Go
// map.
type index struct {
	keys []uint64 // 0 marks an empty slot
	vals []uint32
	n    int
}

// slotKey reserves 0 for empty slots; the hash 0 shares 1's entity, a
// 2^-63 chance.
func slotKey(k uint64) uint64 { return max(k, 1) }

func (x *index) get(k uint64) (uint32, bool) {
	if x.n == 0 {
		return 0, false
	}
	k = slotKey(k)
	mask := uint64(len(x.keys) - 1)
	for i := k & mask; ; i = (i + 1) & mask {
		switch x.keys[i] {
		case k:
			return x.vals[i], true
		case 0:
			return 0, false
		}
	}
}

// slot returns the addresses of the key and value where a lookup of k
// starts, or nils for an empty index.
func (x *index) slot(k uint64) (*uint64, *uint32) {
	if x.n == 0 {
		return nil, nil
	}
	i := slotKey(k) & uint64(len(x.keys)-1)
	return &x.keys[i], &x.vals[i]
}

// put adds k, which must not be present.
func (x *index) put(k uint64, v uint32) {
	if 4*(x.n+1) > 3*len(x.keys) {
		x.grow()
	}
	k = slotKey(k)
	mask := uint64(len(x.keys) - 1)
	i := k & mask
	for x.keys[i] != 0 {
		i = (i + 1) & mask
	}
	x.keys[i], x.vals[i] = k, v
	x.n++
}

func (x *index) grow() {
	keys, vals := x.keys, x.vals
	size := max(2*len(keys), 16)
	x.keys, x.vals, x.n = make([]uint64, size), make([]uint32, size), 0
	for i, k := range keys {
		if k != 0 {
			x.put(k, vals[i])
		}
	}
}

// each calls f for every key and slot.
func (x *index) each(f func(key uint64, slot uint32)) {
	for i, k := range x.keys {
		if k != 0 {
			f(k, x.vals[i])
		}
	}
}

// evCtx carries one event through the roles of its kind.
type evCtx struct {
	e        *Engine
	ev       *occsimore.Event
	t        int64 // unix nanoseconds
	hour     int
	clock    float64 // hours and minutes, in hours
	cosT     float64 // clock on the unit circle
	sinT     float64
	dow      int
	res      *Result
	dict     *dict
	update   bool
	familiar float64 // sum of negative contributions
	touch    uint32  // keeps processRoles' early loads
	peerG    memo    // peer weights
	settle   memo    // top-K settling, the same for blocks seen together
	country  uint64  // hash of the event's country, once countryHash has run
	novel    uint32  // the categorical blocks of the current role whose value is new
	away     bool    // the event is far from the current entity's home area
	// The log of the amount, which every role with an amount habit needs.
	logAmount   float64
	logAmountOK bool
	// The value hashes of the categorical blocks of each role, for learn.
	hashes     [MaxRoles][maxBlocks]uint64
	seenHashes [MaxRoles][maxBlocks]uint64
	hashSet    [MaxRoles]uint16
	groupMax   [MaxGroups + 1]float64 // the largest contribution of each group of the current role
	role       int                    // the index of the current entity in prepared
	// For learn: each entity's time before the event and its peer group.
	last [MaxRoles]int64
	grps [MaxRoles]*peerStats
}

// countryHash is the hash of the event's country, which a categorical
// block and the travel block of every role may need.
func (c *evCtx) countryHash() uint64 {
	if c.country == 0 {
		c.country = hashString(c.e.seed, c.ev.Country)
	}
	return c.country
}

// memo remembers the last result of a function, for values that the roles
// and blocks of one event often share; being the same computation, it
// changes no result.
type memo struct{ x, y float64 }

var newMemo = memo{x: math.NaN()}

func (m *memo) exp(x float64) float64 {
	if x != m.x {
		m.x, m.y = x, fastExp(x)
	}
	return m.y
}

func (m *memo) decay(x float64) float64 {
	if x != m.x {
		m.x, m.y = x, decay(x)
	}
	return m.y
}

// Process scores ev against the past of every entity it touches, then folds
// it into their profiles: an event is judged only by what came before it.
// res is overwritten; the caller may reuse it. Errors are *occsimore.Error
// with code EINVALID: a malformed event, an unknown kind, an event too late.
func (e *Engine) Process(ev *occsimore.Event, res *Result) error {
	return e.run(ev, res, true)
}

// Score is Process without updating anything: it works on copies of the
// profiles, and population labels are read as of the last Process.
func (e *Engine) Score(ev *occsimore.Event, res *Result) error {
	return e.run(ev, res, false)
}

func (e *Engine) run(ev *occsimore.Event, res *Result, update bool) error {
	ki, err := e.kindOf(ev, nil)
	if err != nil {
		return err
	}
	var now time.Time
	if e.cfg.Now != nil {
		now = e.cfg.Now()
	}
	var ids [MaxRoles]string // the entity of each role, if any
	if err := e.admit(ev, ki, now, &ids); err != nil {
		return err
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	tn := e.tenant(ev.MemberID)
	if update {
		var pe prepared
		e.resolve(tn, ki, &ids, &pe)
		return e.finish(ev, res, &pe)
	}
	ks := tn.kinds[ki]
	var c evCtx
	if err := e.begin(&c, ev, res, tn, ks, false); err != nil {
		return err
	}
	for i, id := range ids[:len(ks.roles)] {
		if id != "" {
			c.role = i
			e.processRole(&c, ks.roles[i], id)
		}
	}
	e.end(&c, ks)
	return nil
}

// kindOf checks ev and returns the index of its kind's spec. last, if not
// nil, is the previous event of a batch, whose kind it reuses.
func (e *Engine) kindOf(ev *occsimore.Event, last *batchCache) (int, error) {
	if ev.MemberID == "" {
		return -1, occsimore.FieldErrorf("member_id", "member is required")
	}
	if err := ev.Validate(); err != nil {
		return -1, err
	}
	if last != nil && last.tn != nil && ev.Kind == last.kind {
		return last.ki, nil
	}
	ki := e.spec(ev.Kind)
	if ki < 0 {
		return -1, occsimore.FieldErrorf("kind", "no profile spec for kind %q", ev.Kind)
	}
	return ki, nil
}

// admit makes the checks of Process that need no lock after kindOf: the
// server clock now (read only if Config.Now is set) and the entities, whose
// ids it writes to ids by role.
func (e *Engine) admit(ev *occsimore.Event, ki int, now time.Time, ids *[MaxRoles]string) error {
	if e.cfg.Now != nil && ev.Time.Sub(now) > e.cfg.MaxFuture {
		return occsimore.FieldErrorf("time", "time %s is more than %s ahead of the server clock", ev.Time.Format(time.RFC3339), e.cfg.MaxFuture)
	}
	cs := e.specs[ki]
	present := false
	for i, rl := range cs.roles {
		ids[i], _, _ = catValue(ev, &rl.src)
		present = present || ids[i] != ""
	}
	if !present {
		return occsimore.FieldErrorf(cs.roles[0].name, "a %s event needs at least one of its entities", cs.kind)
	}
	return nil
}

// prepared is an admitted event resolved to its entities' shards: what
// Process knows before it takes a shard lock.
type prepared struct {
	ks   *kindState
	tn   *tenant
	n    int // entities present
	rss  [MaxRoles]*roleStore
	shs  [MaxRoles]*shard
	keys [MaxRoles]uint64
	// ps holds the profiles ProcessBatch found ahead; nil ones are looked
	// up (and created) by finish. A profile never moves nor goes away
	// while the engine is read-locked, so one found stays valid.
	ps [MaxRoles][]uint32
}

// resolve hashes the entity ids of an event of kind ki of tenant tn. The
// caller holds e.mu.
func (e *Engine) resolve(tn *tenant, ki int, ids *[MaxRoles]string, pe *prepared) {
	ks := tn.kinds[ki]
	pe.ks, pe.tn = ks, tn
	n := 0
	for i, id := range ids[:len(ks.roles)] {
		if id == "" {
			continue
		}
		rs := ks.roles[i]
		key := hashString(e.seed, id)
		pe.rss[n], pe.shs[n], pe.keys[n], pe.ps[n] = rs, rs.shardOf(key), key, nil
		n++
	}
	pe.n = n
}

// finish is the rest of Process for a resolved event: the lateness check,
// then scoring and updating every profile. The caller holds e.mu.
func (e *Engine) finish(ev *occsimore.Event, res *Result, pe *prepared) error {
	var c evCtx
	if err := e.begin(&c, ev, res, pe.tn, pe.ks, true); err != nil {
		return err
	}
	e.processRoles(&c, pe)
	e.end(&c, pe.ks)
	for {
		wm := pe.ks.watermark.Load()
		if c.t <= wm || pe.ks.watermark.CompareAndSwap(wm, c.t) {
			break
		}
	}
	return nil
}

// begin checks the lateness of ev and sets up its context and the
// features that depend on no profile.
func (e *Engine) begin(c *evCtx, ev *occsimore.Event, res *Result, tn *tenant, ks *kindState, update bool) error {
	cs := ks.spec
	t := ev.Time.UnixNano()
	if wm := ks.watermark.Load(); t < wm-e.lateness {
		return occsimore.FieldErrorf("time", "time %s is more than the allowed lateness of %s behind the newest %s event (%s)",
			ev.Time.Format(time.RFC3339), e.cfg.MaxLateness, cs.kind, time.Unix(0, wm).UTC().Format(time.RFC3339))
	}
	hh, mm, dow := clockOf(ev.Time)
	*c = evCtx{e: e, ev: ev, t: t, hour: hh, clock: float64(hh) + float64(mm)/60, dow: dow,
		res: res, dict: &tn.dict, update: update, peerG: newMemo, settle: newMemo}
	c.sinT, c.cosT = clockSin[hh*60+mm], clockCos[hh*60+mm]
	res.Kind = cs.kind
	res.Score = 0
	res.Decision = Allow
	res.NReasons = 0
	res.NFeatures = len(cs.features)
	copy(res.Features[:res.NFeatures], nanFeatures[:])
	f := &res.Features
	f[featHour] = float32(c.hour)
	f[featWeekday] = float32(c.dow)
	f[featWeekend] = b2f(c.dow == 0 || c.dow == 6)
	f[featNight] = b2f(c.hour <= 6)
	for _, r := range cs.raw {
		if v, ok := numValue(ev, r.a); ok {
			f[r.feat] = float32(v)
		}
	}
	return nil
}

// end turns the contributions into a score and a decision, and names the
// values and entities of the reasons kept.
func (e *Engine) end(c *evCtx, ks *kindState) {
	res, cs := c.res, ks.spec
	res.Score += max(c.familiar, -familiarityCap)
	res.Features[featScore] = float32(res.Score)
	thr := ks.thresholds.Load()
	switch {
	case res.Score >= thr.Block:
		res.Decision = Block
	case res.Score >= thr.Review:
		res.Decision = Review
	}
	// Name the entities' top values, and the entities themselves, only
	// now, for the few reasons kept.
	for i := 0; i < res.NReasons; i++ {
		r := &res.Reasons[i]
		if r.topKey != 0 {
			r.Top = c.dict.lookup(r.topKey)
		}
		if cs.nouns {
			r.noun = cs.noun(r.Role)
		}
	}
}

// clockOf returns the hour, minute and weekday of t in its own time zone,
// as t.Clock and t.Weekday do, with one zone lookup instead of two.
func clockOf(t time.Time) (hour, minute, weekday int) {
	_, off := t.Zone()
	s := t.Unix() + int64(off)
	day := s / 86400
	sod := s - day*86400
	if sod < 0 {
		sod += 86400
		day--
	}
	wd := (day + 4) % 7 // 1970-01-01 was a Thursday
	if wd < 0 {
		wd += 7
	}
	return int(sod / 3600), int(sod % 3600 / 60), int(wd)
}

// clockSin and clockCos place every minute of the day on the unit circle,
// as math.Sincos of the clock in hours would.
var clockSin, clockCos = func() (s, c [24 * 60]float64) {
	for i := range s {
		clock := float64(i/60) + float64(i%60)/60
		s[i], c[i] = math.Sincos(clock * (2 * math.Pi / 24))
	}
	return s, c
}()

// nanFeatures is the feature vector before anything is known.
var nanFeatures = func() (f [MaxFeatures]float32) {
	for i := range f {
		f[i] = float32(math.NaN())
	}
	return f
}()

func b2f(b bool) float32 {
	if b {
		return 1
	}
	return 0
}

// processRole scores and updates the entity id of one role, under its shard
// lock and then its role's peer lock.
func (e *Engine) processRole(c *evCtx, rs *roleStore, id string) {
	rl := rs.layout
	key := hashString(e.seed, id)
	sh := rs.shardOf(key)
	sh.mu.Lock()
	var p []uint32
	if c.update {
		p = sh.getOrCreate(key, rl.stride)
	} else {
		// Score works on a copy, on the stack.
		var scratch [maxStride]uint32
		p = scratch[:rl.stride:rl.stride]
		if q := sh.get(key, rl.stride); q != nil {
			copy(p, q)
		} else {
			clear(p)
		}
	}
	e.scoreRole(c, rs, p)
	rs.peerMu.Unlock()
	sh.mu.Unlock()
}

// processRoles is processRole for every entity of an event that updates
// them. It locks their shards in role order, which cannot deadlock since no
// other path holds two shard locks, and finds every profile before scoring
// any, so that their cache misses overlap instead of following each other.
func (e *Engine) processRoles(c *evCtx, pe *prepared) {
	n := pe.n
	for _, sh := range pe.shs[:n] {
		sh.mu.Lock()
	}
	var touch uint32
	for i := range n {
		if pe.ps[i] != nil {
			continue // found, and touched, ahead
		}
		p := pe.shs[i].getOrCreate(pe.keys[i], pe.rss[i].layout.stride)
		pe.ps[i] = p
		// Touch every cache line of the profile now, while nothing waits
		// on it.
		for o := 0; o < len(p); o += 16 {
			touch |= p[o]
		}
		touch |= p[len(p)-1]
	}
	c.touch = touch
	// Each role's peer lock is held from its score to its learning: the
	// roles are locked in order, as their shards are.
	for i := range n {
		c.role = i
		e.scoreRole(c, pe.rss[i], pe.ps[i])
	}
	// A blocked event is counted (velocity, last time) but teaches no
	// habit, neither its entities' nor their peers'. Nor does a failure
	// (a refused login, a declined payment): anyone can make one, and a
	// credential-stuffing run would otherwise teach every account, and the
	// population, its networks.
	failed := c.ev.HasSuccess && !c.ev.Success
	switch {
	case failed:
	case c.res.Score+max(c.familiar, -familiarityCap) < pe.ks.thresholds.Load().Block:
		for i := range n {
			c.role = i
			rs := pe.rss[i]
			rs.layout.learn(c, pe.ps[i], rs, c.grps[i], c.last[i])
		}
	default:
		// A blocked event's values are remembered as met, in the seen
		// filters, so that a customer blocked abroad is not blocked again
		// for the same new country at every payment, but they become no
		// habit: no share, no amount, no hour, no peer statistic.
		for i := range n {
			c.role = i
			pe.rss[i].layout.remember(c, pe.ps[i])
		}
	}
	for i, sh := range pe.shs[:n] {
		pe.rss[i].peerMu.Unlock()
		sh.mu.Unlock()
	}
}

// scoreRole scores profile p of role rs and, if c.update, counts the event
// in it, under its role's peer lock, which it takes and leaves to the
// caller to release. The caller holds p's shard lock.
func (e *Engine) scoreRole(c *evCtx, rs *roleStore, p []uint32) {
	rl := rs.layout
	rs.peerMu.Lock()
	sp, grp := rs.pop, (*peerStats)(nil)
	if rl.peerBy.kind != attrNone {
		if s, n, ok := catValue(c.ev, &rl.peerBy); ok {
			gk := e.catHash(s, n)
			grp = rs.groups[gk]
			if grp == nil && c.update && len(rs.groups) < e.cfg.MaxPeerGroups {
				if rs.groups == nil {
					rs.groups = make(map[uint64]*peerStats)
				}
				grp = newPeerStats(rl)
				rs.groups[gk] = grp
			}
			if grp != nil && grp.n >= uint64(e.cfg.MinPeerEvents) {
				sp = grp
			}
		}
	}
	if c.update {
		rs.pop.prepare(c.t, e.peerHL, &c.peerG)
		if grp != nil {
			grp.prepare(c.t, e.peerHL, &c.peerG)
		}
		if rl.risk != nil {
			rs.labels.promote(c.t, e.peerHL)
		}
	}
	c.grps[c.role] = grp
	rl.run(c, p, rs, sp, grp)
}
