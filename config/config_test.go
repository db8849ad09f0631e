package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDefaultConfigIsValid(t *testing.T) {
	t.Parallel()
	c := DefaultConfig()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestLoadOverlayOrder(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "occsimore.toml")
	os.WriteFile(path, []byte("[server]\naddr = \"127.0.0.1:9000\"\nshutdown_timeout = \"3s\"\n[store]\ndata_dir = \"/var/lib/occ\"\n"), 0o600)
	secret := filepath.Join(dir, "dsn")
	os.WriteFile(secret, []byte("postgres://u@h/db\n"), 0o600)

	c, err := Load(path, []string{
		"OCCSIMORE_SERVER_ADDR=127.0.0.1:9100",
		"OCCSIMORE_STORE_DRIVER=postgres",
		"OCCSIMORE_STORE_POSTGRES_DSN_FILE=" + secret,
		"OCCSIMORE_TEST_POSTGRES_DSN=ignored",
		"HOME=/root",
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Server.Addr, "127.0.0.1:9100"; got != want {
		t.Errorf("addr = %q, want %q (env beats file)", got, want)
	}
	if got, want := c.Server.ShutdownTimeout.D(), 3*time.Second; got != want {
		t.Errorf("shutdown_timeout = %v, want %v (file beats default)", got, want)
	}
	if got, want := c.Store.PostgresDSN, "postgres://u@h/db"; got != want {
		t.Errorf("dsn = %q, want %q (from _FILE, newline trimmed)", got, want)
	}
	if got, want := c.Server.MaxBodyBytes, DefaultConfig().Server.MaxBodyBytes; got != want {
		t.Errorf("max_body_bytes = %d, want default %d", got, want)
	}
}

func TestErrorsNameKeyAndPlace(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, toml, key, source string
	}{
		{"unknown key", "[server]\naddr = \"x:1\"\nadr = \"typo\"\n", "server.adr", "f.toml:3"},
		{"unknown table", "[log]\nlevel = \"info\"\n[sever]\naddr = \"x\"\n", "sever", "f.toml:3"},
		{"wrong type", "[server]\nmax_body_bytes = \"big\"\n", "server.max_body_bytes", "f.toml:2"},
		{"bad duration", "[server]\n\nread_timeout = \"soon\"\n", "server.read_timeout", "f.toml:3"},
		{"syntax", "[server\naddr = 1\n", "", "f.toml:2"},
		{"section not a table", "server = 1\n", "server", "f.toml:1"},
		{"nested table", "[server.tls]\ncert = \"x\"\n", "server.tls", "f.toml:1"},
		{"invalid value", "[store]\ndriver = \"mysql\"\n", "store.driver", "config"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("f.toml", []byte(tc.toml))
			ce, ok := errors.AsType[*Error](err)
			if !ok {
				t.Fatalf("err = %v, want *config.Error", err)
			}
			if tc.key != "" && ce.Key != tc.key {
				t.Errorf("key = %q, want %q (%v)", ce.Key, tc.key, err)
			}
			if ce.Source != tc.source {
				t.Errorf("source = %q, want %q (%v)", ce.Source, tc.source, err)
			}
		})
	}
}

func TestEnvErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		env, want string
	}{
		{"OCCSIMORE_SERVER_ADRR=x", "env OCCSIMORE_SERVER_ADRR"},
		{"OCCSIMORE_SERVER_MAX_BODY_BYTES=lots", "key server.max_body_bytes"},
		{"OCCSIMORE_CONSOLE_SESSION_TTL=forever", "key console.session_ttl"},
		{"OCCSIMORE_STORE_POSTGRES_DSN_FILE=/nonexistent/secret", "read secret file"},
		{"OCCSIMORE_LOG_LEVEL=loud", "key log.level"},
	} {
		_, err := Load("", []string{tc.env})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Load(env %s) = %v, want error containing %q", tc.env, err, tc.want)
		}
	}
}

func TestAnomalyKeys(t *testing.T) {
	t.Parallel()
	c, err := Parse("f.toml", []byte("[engine]\nanomaly_kinds = [\"cloud.api\", \"badge.swipe\"]\nanomaly_review = 0.995\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(c.Engine.AnomalyKinds, " "), "cloud.api badge.swipe"; got != want {
		t.Errorf("anomaly_kinds = %q, want %q", got, want)
	}
	if got, want := c.Engine.AnomalyReview, 0.995; got != want {
		t.Errorf("anomaly_review = %g, want %g", got, want)
	}
	c, err = Load("", []string{"OCCSIMORE_ENGINE_ANOMALY_KINDS=cloud.api, vpn.login", "OCCSIMORE_ENGINE_ANOMALY_WARMUP=512"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(c.Engine.AnomalyKinds, " "), "cloud.api vpn.login"; got != want {
		t.Errorf("env anomaly_kinds = %q, want %q", got, want)
	}
	if got, want := c.Engine.AnomalyWarmup, int64(512); got != want {
		t.Errorf("env anomaly_warmup = %d, want %d", got, want)
	}
	c, err = Load("", []string{"OCCSIMORE_ENGINE_ANOMALY_KINDS="})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(c.Engine.AnomalyKinds); got != 0 {
		t.Errorf("an empty variable leaves %d anomaly kinds, want none", got)
	}
	for _, tc := range []struct{ env, key string }{
		{"OCCSIMORE_ENGINE_ANOMALY_REVIEW=1.5", "engine.anomaly_review"},
		{"OCCSIMORE_ENGINE_ANOMALY_REVIEW=high", "engine.anomaly_review"},
		{"OCCSIMORE_ENGINE_ANOMALY_KINDS=cloud api", "engine.anomaly_kinds"},
		{"OCCSIMORE_ENGINE_ANOMALY_WARMUP=-1", "engine.anomaly_warmup"},
	} {
		_, err := Load("", []string{tc.env})
		ce, ok := errors.AsType[*Error](err)
		if !ok || ce.Key != tc.key {
			t.Errorf("Load(env %s) = %v, want an error about %s", tc.env, err, tc.key)
		}
	}
}

// TestLatencyKeys: the collector's heap floor and the journal's sync
// interval are read from the environment, and out-of-range values name
// their key.
func TestLatencyKeys(t *testing.T) {
	t.Parallel()
	c, err := Load("", []string{"OCCSIMORE_SERVER_GC_HEAP_FLOOR=0", "OCCSIMORE_ENGINE_JOURNAL_SYNC_INTERVAL=0s"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Server.GCHeapFloor != 0 || c.Engine.JournalSyncInterval.D() != 0 {
		t.Errorf("gc_heap_floor = %d, journal_sync_interval = %s; want 0 and 0s (sync before every answer)", c.Server.GCHeapFloor, c.Engine.JournalSyncInterval.D())
	}
	if d := DefaultConfig(); d.Server.GCHeapFloor != 256<<20 || d.Engine.JournalSyncInterval.D() != 10*time.Millisecond {
		t.Errorf("defaults: gc_heap_floor %d, journal_sync_interval %s; want 256 MiB and 10ms",
			d.Server.GCHeapFloor, d.Engine.JournalSyncInterval.D())
	}
	for _, tc := range []struct{ env, key string }{
		{"OCCSIMORE_SERVER_GC_HEAP_FLOOR=-1", "server.gc_heap_floor"},
		{"OCCSIMORE_SERVER_GC_HEAP_FLOOR=lots", "server.gc_heap_floor"},
		{"OCCSIMORE_ENGINE_JOURNAL_SYNC_INTERVAL=-1ms", "engine.journal_sync_interval"},
		{"OCCSIMORE_ENGINE_JOURNAL_SYNC_INTERVAL=2s", "engine.journal_sync_interval"},
	} {
		_, err := Load("", []string{tc.env})
		ce, ok := errors.AsType[*Error](err)
		if !ok || ce.Key != tc.key {
			t.Errorf("Load(env %s) = %v, want an error about %s", tc.env, err, tc.key)
		}
	}
}

// TestLogLimitKeys: the syslog connection limits and the log push budgets
// are read from the environment, and bad values name their key.
func TestLogLimitKeys(t *testing.T) {
	t.Parallel()
	c, err := Load("", []string{"OCCSIMORE_LOGS_SYSLOG_MAX_CONNS=64", "OCCSIMORE_LOGS_SYSLOG_MAX_CONNS_PER_ADDR=4",
		"OCCSIMORE_LOGS_SYSLOG_IDLE_TIMEOUT=30s", "OCCSIMORE_LOGS_PUSH_MAX_BYTES=134217728", "OCCSIMORE_LOGS_PUSH_MAX_BYTES_PER_MEMBER=8388608", "OCCSIMORE_LOGS_PUSH_WAIT=0s"})
	if err != nil {
		t.Fatal(err)
	}
	l := c.Logs
	if l.SyslogMaxConns != 64 || l.SyslogMaxConnsPerAddr != 4 || l.SyslogIdleTimeout.D() != 30*time.Second ||
		l.PushMaxBytes != 128<<20 || l.PushMaxBytesPerMember != 8<<20 || l.PushWait.D() != 0 {
		t.Errorf("logs = %+v", l)
	}
	if d := DefaultConfig().Logs; d.SyslogMaxConns != 256 || d.SyslogMaxConnsPerAddr != 16 || d.SyslogIdleTimeout.D() != time.Minute ||
		d.PushMaxBytes != 128<<20 || d.PushMaxBytesPerMember != 64<<20 || d.PushWait.D() != 10*time.Second {
		t.Errorf("defaults: %+v", d)
	}
	for _, tc := range []struct{ env, key string }{
		{"OCCSIMORE_LOGS_SYSLOG_MAX_CONNS=0", "logs.syslog_max_conns"},
		{"OCCSIMORE_LOGS_SYSLOG_MAX_CONNS_PER_ADDR=300", "logs.syslog_max_conns_per_addr"},
		{"OCCSIMORE_LOGS_SYSLOG_IDLE_TIMEOUT=10ms", "logs.syslog_idle_timeout"},
		{"OCCSIMORE_LOGS_PUSH_MAX_BYTES_PER_MEMBER=1000", "logs.push_max_bytes_per_member"},
		{"OCCSIMORE_LOGS_PUSH_MAX_BYTES=1048576", "logs.push_max_bytes"},
		{"OCCSIMORE_LOGS_PUSH_WAIT=2m", "logs.push_wait"},
	} {
		_, err := Load("", []string{tc.env})
		ce, ok := errors.AsType[*Error](err)
		if !ok || ce.Key != tc.key {
			t.Errorf("Load(env %s) = %v, want an error about %s", tc.env, err, tc.key)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("[server]\naddr = \"127.0.0.1:1\"\n"))
	f.Add([]byte("[store]\ndriver = \"postgres\"\npostgres_dsn = \"x\"\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse("fuzz.toml", b)
		if err == nil {
			if verr := c.Validate(); verr != nil {
				t.Fatalf("Parse accepted an invalid config: %v", verr)
			}
		}
	})
}

func TestConsoleStreamKeys(t *testing.T) {
	t.Parallel()
	c, err := Parse("f.toml", []byte("[console]\nmax_streams_per_session = 2\nmax_streams_per_member = 8\nmax_streams = 64\nstream_write_timeout = \"5s\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Console.MaxStreamsPerSession != 2 || c.Console.MaxStreamsPerMember != 8 || c.Console.MaxStreams != 64 || c.Console.StreamWriteTimeout.D() != 5*time.Second {
		t.Fatalf("console = %+v", c.Console)
	}
	for _, tc := range []struct{ toml, key string }{
		{"[console]\nmax_streams_per_session = 0\n", "console.max_streams_per_session"},
		{"[console]\nmax_streams_per_member = 1\n", "console.max_streams_per_member"},
		{"[console]\nmax_streams = 10\n", "console.max_streams"},
		{"[console]\nstream_write_timeout = \"1ms\"\n", "console.stream_write_timeout"},
	} {
		_, err := Parse("f.toml", []byte(tc.toml))
		if ce, ok := errors.AsType[*Error](err); !ok || ce.Key != tc.key {
			t.Errorf("Parse(%q) = %v, want an error about %s", tc.toml, err, tc.key)
		}
	}
}

func TestSignInBudgetKeys(t *testing.T) {
	c, err := Parse("f.toml", []byte("[server]\nhash_slots = 2\n[console]\nsign_in_rate = 0.5\nsign_in_burst = 4\ndevice_sign_in_rate = 0.25\ndevice_sign_in_burst = 3\ndevice_key_file = \"/etc/occsimore/device.key\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Server.HashSlots != 2 || c.Console.SignInRate != 0.5 || c.Console.SignInBurst != 4 ||
		c.Console.DeviceSignInRate != 0.25 || c.Console.DeviceSignInBurst != 3 || c.DeviceKeyPath() != "/etc/occsimore/device.key" {
		t.Fatalf("config = %+v %+v", c.Server, c.Console)
	}
	d := DefaultConfig()
	if got, want := d.DeviceKeyPath(), filepath.Join("occsimore-data", "device-cookie.key"); got != want {
		t.Errorf("default device key path = %q, want %q", got, want)
	}
	for _, tc := range []struct{ toml, key string }{
		{"[server]\nhash_slots = 0\n", "server.hash_slots"},
		{"[console]\nsign_in_rate = 0.0\n", "console.sign_in_rate"},
		{"[console]\nsign_in_rate = nan\n", "console.sign_in_rate"},
		{"[console]\nsign_in_burst = 0\n", "console.sign_in_burst"},
		{"[console]\ndevice_sign_in_rate = -1.0\n", "console.device_sign_in_rate"},
		{"[console]\ndevice_sign_in_burst = 0\n", "console.device_sign_in_burst"},
	} {
		_, err := Parse("f.toml", []byte(tc.toml))
		if ce, ok := errors.AsType[*Error](err); !ok || ce.Key != tc.key {
			t.Errorf("Parse(%q) = %v, want an error about %s", tc.toml, err, tc.key)
		}
	}
}
