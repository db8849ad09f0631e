// Package config loads occsimore's configuration: DefaultConfig, then a TOML
// file, then OCCSIMORE_* environment variables (each with a *_FILE variant
// that reads the value from a file, for secrets). Every error names the key and
// where it came from, and unknown keys are errors rather than silence.
package config

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/occsimore/occsimore"
)

// Config is the whole configuration. Field tags name the TOML keys; the
// environment variable of a key is OCCSIMORE_<SECTION>_<KEY> in upper case.
type Config struct {
	Server  Server  `toml:"server"`
	Store   Store   `toml:"store"`
	Console Console `toml:"console"`
	Engine  Engine  `toml:"engine"`
	Logs    Logs    `toml:"logs"`
	TAXII   TAXII   `toml:"taxii"`
	Sharing Sharing `toml:"sharing"`
	Log     Log     `toml:"log"`
}

// Server configures the HTTP listener.
type Server struct {
	Addr              string   `toml:"addr"`
	MaxBodyBytes      int64    `toml:"max_body_bytes"`
	ReadHeaderTimeout Duration `toml:"read_header_timeout"`
	ReadTimeout       Duration `toml:"read_timeout"`
	WriteTimeout      Duration `toml:"write_timeout"`
	IdleTimeout       Duration `toml:"idle_timeout"`
	ShutdownTimeout   Duration `toml:"shutdown_timeout"`
	ShutdownDelay     Duration `toml:"shutdown_delay"`
	// TokenCacheTTL is how long a looked-up API token is reused without
	// asking the store. A revocation through this server applies at once; one
	// made by another process (the CLI, another node) within this delay.
	TokenCacheTTL Duration `toml:"token_cache_ttl"`
	// GCHeapFloor is the heap size, in bytes, below which the garbage
	// collector does not start a cycle (0: GOGC alone decides). A small live
	// heap otherwise collects every second or so under load, and marking
	// delays requests; see package gcfloor.
	GCHeapFloor int64 `toml:"gc_heap_floor"`
	// HashSlots bounds the argon2id hashes and verifications run at once,
	// for the API and the console together. Each takes 64 MiB and, with one
	// lane, one core while it runs.
	HashSlots int64 `toml:"hash_slots"`
}

// Store selects and configures the relational store.
type Store struct {
	Driver      string `toml:"driver"` // "sqlite" (embedded default) or "postgres"
	DataDir     string `toml:"data_dir"`
	PostgresDSN string `toml:"postgres_dsn"`
}

// Console configures the web console.
type Console struct {
	SessionTTL Duration `toml:"session_ttl"`
	// MaxStreamsPerSession, MaxStreamsPerMember and MaxStreams bound the
	// live alert streams open at once: of one sign-in, of all users of one
	// member, and of the whole console. Over a bound the stream is refused
	// with 429.
	MaxStreamsPerSession int64 `toml:"max_streams_per_session"`
	MaxStreamsPerMember  int64 `toml:"max_streams_per_member"`
	MaxStreams           int64 `toml:"max_streams"`
	// StreamWriteTimeout is how long one event may take to reach a stream's
	// reader; a slower reader is disconnected.
	StreamWriteTimeout Duration `toml:"stream_write_timeout"`
	// SignInRate and SignInBurst are the console-wide budget of password
	// verifications for sign-ins, per second; over it a sign-in is refused
	// with 429 at once, before any hashing, whatever its email. Each costs
	// about 0.2 s of one core at the default argon2id cost, so no number of
	// client addresses can take more CPU time than this.
	SignInRate  float64 `toml:"sign_in_rate"`
	SignInBurst int64   `toml:"sign_in_burst"`
	// DeviceSignInRate and DeviceSignInBurst are a reserve of that work for
	// browsers with a valid device cookie (a browser that signed in as the
	// user before), which a flood of sign-ins without one cannot spend.
	DeviceSignInRate  float64 `toml:"device_sign_in_rate"`
	DeviceSignInBurst int64   `toml:"device_sign_in_burst"`
	// DeviceKeyFile holds the key that signs device cookies, created (32
	// random bytes, hex, mode 0600) when missing; empty means
	// <store.data_dir>/device-cookie.key, or beside the journal when
	// store.data_dir is empty. Nodes behind one address should share it.
	DeviceKeyFile string `toml:"device_key_file"`
}

// Engine configures the behaviour engine and its durable journal.
type Engine struct {
	// JournalDir holds the event journal and profile snapshots; empty means
	// <store.data_dir>/journal.
	JournalDir string `toml:"journal_dir"`
	// JournalSyncInterval, if not zero, answers an event once it is written
	// to the operating system and syncs the journal at most this long after:
	// a killed server loses nothing, a power failure the events of the last
	// interval. Zero syncs before every answer, which puts the disk's sync
	// tail on every answer's latency; the default is 10ms.
	JournalSyncInterval Duration `toml:"journal_sync_interval"`
	// MaxLateness is how far behind the newest event an event may arrive and
	// still be folded in; later ones are refused with the reason.
	MaxLateness Duration `toml:"max_lateness"`
	// CheckpointEvery bounds replay after a crash: a snapshot is written
	// every this many events.
	CheckpointEvery int64 `toml:"checkpoint_every"`
	// SpecsFile, if set, replaces the built-in profile specs and sets
	// thresholds per member (see LoadSpecs; `occsimore engine specs` prints
	// the defaults in this format).
	SpecsFile string `toml:"specs_file"`
	// AnomalyKinds are the event kinds without labels that an online
	// anomaly model (Half-Space Trees, per member and kind) scores; an empty
	// list turns it off. In the environment, a comma-separated list.
	AnomalyKinds []string `toml:"anomaly_kinds"`
	// AnomalyWarmup is how many events of a member and kind the anomaly
	// model sees before it may raise a decision.
	AnomalyWarmup int64 `toml:"anomaly_warmup"`
	// AnomalyReview is the percentile of a member's recent anomaly scores,
	// in (0, 1], at or above which an event is raised to review.
	AnomalyReview float64 `toml:"anomaly_review"`
}

// Logs configures attack detection from members' logs.
type Logs struct {
	// SyslogUDP and SyslogTCP are listen addresses of the syslog server
	// (RFC 3164 and 5424); empty disables each. Every message a listener
	// receives belongs to SyslogMember (a member slug): a member relaying
	// its own logs gets its own listener, never a member named by the
	// message, which a sender could forge.
	SyslogUDP    string `toml:"syslog_udp"`
	SyslogTCP    string `toml:"syslog_tcp"`
	SyslogMember string `toml:"syslog_member"`
	// SyslogMaxConns, SyslogMaxConnsPerAddr and SyslogIdleTimeout bound the
	// TCP listener's connections: in all, from one source address (an IPv6
	// /64), and in silence, so that idle senders cannot lock out real ones.
	SyslogMaxConns        int      `toml:"syslog_max_conns"`
	SyslogMaxConnsPerAddr int      `toml:"syslog_max_conns_per_addr"`
	SyslogIdleTimeout     Duration `toml:"syslog_idle_timeout"`
	// PushMaxBytes and PushMaxBytesPerMember bound the bodies of POST
	// /v1/logs held in memory at once, on the server and per member; a push
	// that does not fit waits up to PushWait (0: not at all) for one to end.
	PushMaxBytes          int64    `toml:"push_max_bytes"`
	PushMaxBytesPerMember int64    `toml:"push_max_bytes_per_member"`
	PushWait              Duration `toml:"push_wait"`
	// MaxMessageBytes bounds a syslog message or pushed line; longer ones are
	// rejected and counted.
	MaxMessageBytes int64 `toml:"max_message_bytes"`
	// GeoIPDir holds the databases scripts/geoip.sh fetches; attacks get a
	// country and an ASN when they are there.
	GeoIPDir string `toml:"geoip_dir"`
	// ScenariosDir, if set, holds YAML scenario files that replace the
	// built-in set.
	ScenariosDir string `toml:"scenarios_dir"`
	// SkipPrivate ignores lines from private and loopback sources, as
	// CrowdSec's default whitelist does.
	SkipPrivate bool `toml:"skip_private"`
	// FlushEvery is how often counter scenarios' windows are closed on a
	// live server.
	FlushEvery Duration `toml:"flush_every"`
}

// JournalPath returns where the journal lives.
func (c *Config) JournalPath() string {
	if c.Engine.JournalDir != "" {
		return c.Engine.JournalDir
	}
	return filepath.Join(c.Store.DataDir, "journal")
}

// DeviceKeyPath returns where the key of device cookies lives.
func (c *Config) DeviceKeyPath() string {
	switch {
	case c.Console.DeviceKeyFile != "":
		return c.Console.DeviceKeyFile
	case c.Store.DataDir != "":
		return filepath.Join(c.Store.DataDir, "device-cookie.key")
	}
	return filepath.Join(c.JournalPath(), "device-cookie.key")
}

// Log configures log/slog output.
type Log struct {
	Level  string `toml:"level"`  // debug, info, warn, error
	Format string `toml:"format"` // text or json
}

// Duration is a time.Duration written as "30s" or "12h" in TOML and the
// environment.
type Duration time.Duration

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration such as 30s or 12h", b)
	}
	if v < 0 {
		return fmt.Errorf("%q must not be negative", b)
	}
	*d = Duration(v)
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// DefaultConfig returns the configuration used when nothing is set: the
// embedded SQLite store under ./occsimore-data, listening on loopback only.
func DefaultConfig() Config {
	return Config{
		Server: Server{
			Addr:              "127.0.0.1:8080",
			MaxBodyBytes:      1 << 20,
			ReadHeaderTimeout: Duration(5 * time.Second),
			ReadTimeout:       Duration(30 * time.Second),
			WriteTimeout:      Duration(60 * time.Second),
			IdleTimeout:       Duration(120 * time.Second),
			ShutdownTimeout:   Duration(15 * time.Second),
			TokenCacheTTL:     Duration(5 * time.Second),
			GCHeapFloor:       256 << 20,
			HashSlots:         1,
		},
		Store: Store{Driver: "sqlite", DataDir: "occsimore-data"},
		Console: Console{SessionTTL: Duration(12 * time.Hour), MaxStreamsPerSession: 4, MaxStreamsPerMember: 32, MaxStreams: 256, StreamWriteTimeout: Duration(10 * time.Second),
			SignInRate: 1, SignInBurst: 10, DeviceSignInRate: 0.5, DeviceSignInBurst: 5},
		Engine: Engine{JournalSyncInterval: Duration(10 * time.Millisecond), MaxLateness: Duration(time.Hour), CheckpointEvery: 1_000_000,
			AnomalyKinds: []string{"cloud.api"}, AnomalyWarmup: 256, AnomalyReview: 0.999},
		Logs: Logs{MaxMessageBytes: 64 << 10, GeoIPDir: "data/geoip", FlushEvery: Duration(time.Minute),
			SyslogMaxConns: 256, SyslogMaxConnsPerAddr: 16, SyslogIdleTimeout: Duration(time.Minute),
			PushMaxBytes: 128 << 20, PushMaxBytesPerMember: 64 << 20, PushWait: Duration(10 * time.Second)},
		TAXII:   defaultTAXII(),
		Sharing: defaultSharing(),
		Log:     Log{Level: "info", Format: "text"},
	}
}

// Error is a configuration error about one key.
type Error struct {
	Key    string // dotted TOML key, e.g. "server.addr"
	Source string // "file.toml:12" or "env OCCSIMORE_SERVER_ADDR"
	Msg    string
}

func (e *Error) Error() string {
	if e.Key == "" {
		return fmt.Sprintf("config: %s: %s", e.Source, e.Msg)
	}
	return fmt.Sprintf("config: %s: key %s: %s", e.Source, e.Key, e.Msg)
}

// Load returns DefaultConfig overlaid with the TOML file at path (if path is
// not empty) and then with environ (as from os.Environ), and validates it.
func Load(path string, environ []string) (Config, error) {
	c := DefaultConfig()
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return c, fmt.Errorf("config: %w", err) // the error names the file
		}
		if err := decodeTOML(&c, path, b); err != nil {
			return c, err
		}
	}
	if err := applyEnv(&c, environ, os.ReadFile); err != nil {
		return c, err
	}
	return c, c.Validate()
}

// Parse decodes TOML text over DefaultConfig without the environment; name
// labels errors. It is the pure part of Load, used by tests and fuzzing.
func Parse(name string, b []byte) (Config, error) {
	c := DefaultConfig()
	if err := decodeTOML(&c, name, b); err != nil {
		return c, err
	}
	return c, c.Validate()
}

func decodeTOML(c *Config, name string, b []byte) error {
	// Decode into primitives first so that each key is decoded on its own and
	// an error can name it and its line; toml reports type errors only as text.
	var raw map[string]toml.Primitive
	md, err := toml.NewDecoder(bytes.NewReader(b)).Decode(&raw)
	if err != nil {
		if pe, ok := errors.AsType[toml.ParseError](err); ok {
			return &Error{Key: pe.LastKey, Source: fmt.Sprintf("%s:%d", name, pe.Position.Line), Msg: pe.Message}
		}
		return &Error{Source: name, Msg: err.Error()}
	}
	fields := tomlFields(reflect.ValueOf(c).Elem())
	for _, k := range md.Keys() {
		at := func(msg string) error {
			return &Error{Key: k.String(), Source: fmt.Sprintf("%s:%d", name, keyLine(b, k)), Msg: msg}
		}
		switch len(k) {
		case 1:
			if _, ok := fields[k[0]]; !ok {
				return at("unknown key")
			}
			if md.Type(k...) != "Hash" {
				return at("must be a table such as [" + k[0] + "]")
			}
		case 2:
			f, ok := fields[k[0]][k[1]]
			if !ok {
				return at("unknown key")
			}
			var section map[string]toml.Primitive
			if err := md.PrimitiveDecode(raw[k[0]], &section); err != nil {
				return at(err.Error())
			}
			if err := md.PrimitiveDecode(section[k[1]], f.Addr().Interface()); err != nil {
				return at(tomlMessage(err))
			}
		default:
			return at("unknown key")
		}
	}
	return nil
}

// tomlFields maps section and key names to the fields of c.
func tomlFields(root reflect.Value) map[string]map[string]reflect.Value {
	out := map[string]map[string]reflect.Value{}
	for i := range root.NumField() {
		sv := root.Field(i)
		keys := map[string]reflect.Value{}
		for j := range sv.NumField() {
			keys[sv.Type().Field(j).Tag.Get("toml")] = sv.Field(j)
		}
		out[root.Type().Field(i).Tag.Get("toml")] = keys
	}
	return out
}

// tomlMessage strips toml's "toml: line N (last key …): " prefix, which the
// config error already says better.
func tomlMessage(err error) string {
	msg := err.Error()
	if _, after, ok := strings.Cut(msg, "): "); ok && strings.HasPrefix(msg, "toml:") {
		return after
	}
	return strings.TrimPrefix(msg, "toml: ")
}

// keyLine finds the line that defines key k, for error messages; toml does not
// export key positions. It returns 0 when the key cannot be located.
func keyLine(b []byte, k toml.Key) int {
	if len(k) == 0 {
		return 0
	}
	table, last := strings.Join(k[:len(k)-1], "."), k[len(k)-1]
	current := ""
	s := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; s.Scan(); n++ {
		line := strings.TrimSpace(s.Text())
		if strings.HasPrefix(line, "[") {
			current = strings.Trim(line, "[] \t")
			if current == k.String() {
				return n // an unknown table
			}
			continue
		}
		name, _, ok := strings.Cut(line, "=")
		if ok && current == table && strings.Trim(strings.TrimSpace(name), `"'`) == last {
			return n
		}
	}
	return 0
}

const envPrefix = "OCCSIMORE_"

// reservedEnv are OCCSIMORE_ variables that belong to test scripts, not to
// the server, so they are not reported as unknown keys.
const reservedEnv = "OCCSIMORE_TEST_"

// applyEnv overlays OCCSIMORE_<SECTION>_<KEY> variables, and their _FILE
// variants, onto c.
func applyEnv(c *Config, environ []string, readFile func(string) ([]byte, error)) error {
	fields := envFields(reflect.ValueOf(c).Elem())
	for _, kv := range environ {
		name, value, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, envPrefix) || strings.HasPrefix(name, reservedEnv) {
			continue
		}
		src := "env " + name
		f, ok := fields[name]
		if !ok {
			base, isFile := strings.CutSuffix(name, "_FILE")
			if f, ok = fields[base]; !isFile || !ok {
				return &Error{Source: src, Msg: "unknown variable; known ones are OCCSIMORE_<SECTION>_<KEY> for the keys of the TOML file, with an optional _FILE suffix"}
			}
			b, err := readFile(value)
			if err != nil {
				return &Error{Key: f.key, Source: src, Msg: fmt.Sprintf("read secret file: %v", err)}
			}
			value = strings.TrimRight(string(b), "\r\n")
		}
		if err := setField(f.v, value); err != nil {
			return &Error{Key: f.key, Source: src, Msg: err.Error()}
		}
	}
	return nil
}

type envField struct {
	key string
	v   reflect.Value
}

func envFields(root reflect.Value) map[string]envField {
	out := map[string]envField{}
	for section, keys := range tomlFields(root) {
		for key, v := range keys {
			out[envPrefix+strings.ToUpper(section+"_"+key)] = envField{key: section + "." + key, v: v}
		}
	}
	return out
}

func setField(v reflect.Value, s string) error {
	if d, ok := v.Addr().Interface().(*Duration); ok {
		return d.UnmarshalText([]byte(s))
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Int64, reflect.Int:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not an integer", s)
		}
		v.SetInt(n)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("%q is not true or false", s)
		}
		v.SetBool(b)
	case reflect.Float64:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("%q is not a number", s)
		}
		v.SetFloat(f)
	case reflect.Slice:
		if v.Type().Elem().Kind() != reflect.String {
			return fmt.Errorf("cannot be set from the environment")
		}
		list := []string{}
		for item := range strings.SplitSeq(s, ",") {
			if item = strings.TrimSpace(item); item != "" {
				list = append(list, item)
			}
		}
		v.Set(reflect.ValueOf(list))
	default:
		return fmt.Errorf("cannot be set from the environment")
	}
	return nil
}

// Validate checks values that decode fine but make no sense.
func (c *Config) Validate() error {
	bad := func(key, format string, args ...any) error {
		return &Error{Key: key, Source: "config", Msg: fmt.Sprintf(format, args...)}
	}
	switch {
	case c.Server.Addr == "":
		return bad("server.addr", "must not be empty (e.g. 127.0.0.1:8080)")
	case c.Server.MaxBodyBytes < 1024 || c.Server.MaxBodyBytes > 1<<30:
		return bad("server.max_body_bytes", "%d must be between 1024 and 1073741824", c.Server.MaxBodyBytes)
	case c.Store.Driver != "sqlite" && c.Store.Driver != "postgres":
		return bad("store.driver", "%q must be sqlite or postgres", c.Store.Driver)
	case c.Store.Driver == "sqlite" && c.Store.DataDir == "":
		return bad("store.data_dir", "must be set for the sqlite driver")
	case c.Store.Driver == "postgres" && c.Store.PostgresDSN == "":
		return bad("store.postgres_dsn", "must be set for the postgres driver (or OCCSIMORE_STORE_POSTGRES_DSN_FILE)")
	case c.Server.GCHeapFloor < 0 || c.Server.GCHeapFloor > 1<<40:
		return bad("server.gc_heap_floor", "%d must be between 0 (off) and 1 TiB", c.Server.GCHeapFloor)
	case c.Server.TokenCacheTTL.D() < 0 || c.Server.TokenCacheTTL.D() > time.Minute:
		return bad("server.token_cache_ttl", "%s must be between 0s (no cache) and 1m", c.Server.TokenCacheTTL.D())
	case c.Server.HashSlots < 1 || c.Server.HashSlots > 64:
		return bad("server.hash_slots", "%d must be between 1 and 64", c.Server.HashSlots)
	case !(c.Console.SignInRate >= 0.01 && c.Console.SignInRate <= 1000):
		return bad("console.sign_in_rate", "%g must be between 0.01 and 1000 verifications per second", c.Console.SignInRate)
	case c.Console.SignInBurst < 1 || c.Console.SignInBurst > 10_000:
		return bad("console.sign_in_burst", "%d must be between 1 and 10000", c.Console.SignInBurst)
	case !(c.Console.DeviceSignInRate >= 0.01 && c.Console.DeviceSignInRate <= 1000):
		return bad("console.device_sign_in_rate", "%g must be between 0.01 and 1000 verifications per second", c.Console.DeviceSignInRate)
	case c.Console.DeviceSignInBurst < 1 || c.Console.DeviceSignInBurst > 10_000:
		return bad("console.device_sign_in_burst", "%d must be between 1 and 10000", c.Console.DeviceSignInBurst)
	case c.Console.SessionTTL.D() < time.Minute:
		return bad("console.session_ttl", "%s must be at least 1m", c.Console.SessionTTL.D())
	case c.Console.MaxStreamsPerSession < 1 || c.Console.MaxStreamsPerSession > 1000:
		return bad("console.max_streams_per_session", "%d must be between 1 and 1000", c.Console.MaxStreamsPerSession)
	case c.Console.MaxStreamsPerMember < c.Console.MaxStreamsPerSession || c.Console.MaxStreamsPerMember > 100_000:
		return bad("console.max_streams_per_member", "%d must be between console.max_streams_per_session (%d) and 100000", c.Console.MaxStreamsPerMember, c.Console.MaxStreamsPerSession)
	case c.Console.MaxStreams < c.Console.MaxStreamsPerMember || c.Console.MaxStreams > 100_000:
		return bad("console.max_streams", "%d must be between console.max_streams_per_member (%d) and 100000", c.Console.MaxStreams, c.Console.MaxStreamsPerMember)
	case c.Console.StreamWriteTimeout.D() < 100*time.Millisecond || c.Console.StreamWriteTimeout.D() > 10*time.Minute:
		return bad("console.stream_write_timeout", "%s must be between 100ms and 10m", c.Console.StreamWriteTimeout.D())
	case c.Store.Driver == "postgres" && c.Engine.JournalDir == "" && c.Store.DataDir == "":
		return bad("engine.journal_dir", "must be set when store.data_dir is empty")
	case (c.Logs.SyslogUDP != "" || c.Logs.SyslogTCP != "") && c.Logs.SyslogMember == "":
		return bad("logs.syslog_member", "must name the member (slug) whose logs the syslog listener receives")
	case c.Logs.MaxMessageBytes < 480 || c.Logs.MaxMessageBytes > 1<<20:
		return bad("logs.max_message_bytes", "%d must be between 480 (RFC 3164's minimum) and 1048576", c.Logs.MaxMessageBytes)
	case c.Logs.SyslogMaxConns < 1:
		return bad("logs.syslog_max_conns", "%d must be at least 1", c.Logs.SyslogMaxConns)
	case c.Logs.SyslogMaxConnsPerAddr < 1 || c.Logs.SyslogMaxConnsPerAddr > c.Logs.SyslogMaxConns:
		return bad("logs.syslog_max_conns_per_addr", "%d must be between 1 and logs.syslog_max_conns (%d)", c.Logs.SyslogMaxConnsPerAddr, c.Logs.SyslogMaxConns)
	case c.Logs.SyslogIdleTimeout.D() < time.Second:
		return bad("logs.syslog_idle_timeout", "%s must be at least 1s", c.Logs.SyslogIdleTimeout.D())
	case c.Logs.PushMaxBytesPerMember < 1<<20:
		return bad("logs.push_max_bytes_per_member", "%d must be at least 1048576", c.Logs.PushMaxBytesPerMember)
	case c.Logs.PushMaxBytes < c.Logs.PushMaxBytesPerMember:
		return bad("logs.push_max_bytes", "%d must be at least logs.push_max_bytes_per_member (%d)", c.Logs.PushMaxBytes, c.Logs.PushMaxBytesPerMember)
	case c.Logs.PushWait.D() > time.Minute:
		return bad("logs.push_wait", "%s must be at most 1m", c.Logs.PushWait.D())
	case c.Logs.FlushEvery.D() < time.Second:
		return bad("logs.flush_every", "%s must be at least 1s", c.Logs.FlushEvery.D())
	case c.Engine.JournalSyncInterval.D() < 0 || c.Engine.JournalSyncInterval.D() > time.Second:
		return bad("engine.journal_sync_interval", "%s must be between 0s (sync before every answer) and 1s", c.Engine.JournalSyncInterval.D())
	case c.Engine.CheckpointEvery < 1000:
		return bad("engine.checkpoint_every", "%d must be at least 1000", c.Engine.CheckpointEvery)
	case c.Engine.AnomalyWarmup < 0:
		return bad("engine.anomaly_warmup", "%d must not be negative", c.Engine.AnomalyWarmup)
	case !(c.Engine.AnomalyReview > 0 && c.Engine.AnomalyReview <= 1):
		return bad("engine.anomaly_review", "%g must be a percentile in (0, 1], such as 0.999", c.Engine.AnomalyReview)
	case c.Log.Level != "debug" && c.Log.Level != "info" && c.Log.Level != "warn" && c.Log.Level != "error":
		return bad("log.level", "%q must be debug, info, warn or error", c.Log.Level)
	case c.Log.Format != "text" && c.Log.Format != "json":
		return bad("log.format", "%q must be text or json", c.Log.Format)
	}
	if err := c.TAXII.validate(bad); err != nil {
		return err
	}
	if err := c.Sharing.validate(bad); err != nil {
		return err
	}
	for _, k := range c.Engine.AnomalyKinds {
		if !occsimore.ValidName(k) {
			return bad("engine.anomaly_kinds", "%q is not an event kind such as cloud.api", k)
		}
	}
	return nil
}
