package web

import (
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/occsimore/occsimore"
)

func TestPages_SecurityHeaders(t *testing.T) {
	f := newFixture(t, testConfig())
	c := f.login(t, f.adminA)
	for _, path := range []string{"/login", "/members", "/alerts", "/"} {
		cookie := c
		if path == "/login" {
			cookie = nil
		}
		res, _ := f.get(t, path, cookie)
		if got, want := res.StatusCode, http.StatusOK; got != want {
			t.Fatalf("GET %s: status %d, want %d", path, got, want)
		}
		for k, want := range map[string]string{
			"Content-Security-Policy": contentSecurityPolicy,
			"X-Frame-Options":         "DENY",
			"X-Content-Type-Options":  "nosniff",
			"Referrer-Policy":         "same-origin",
			"Cache-Control":           "no-store",
		} {
			if got := res.Header.Get(k); got != want {
				t.Errorf("GET %s: %s = %q, want %q", path, k, got, want)
			}
		}
	}
	if !strings.Contains(contentSecurityPolicy, "frame-ancestors 'none'") || strings.Contains(contentSecurityPolicy, "unsafe-inline") {
		t.Errorf("CSP %q must forbid framing and inline code", contentSecurityPolicy)
	}
}

// The templates must not need inline script or style, which the CSP blocks.
func TestTemplates_NoInlineCode(t *testing.T) {
	inline := regexp.MustCompile(`<script>|<script [^>]*>[^<]|<style|\sstyle="|\son[a-z]+="`)
	pages, err := files.ReadDir("templates/pages")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range append([]string{"templates/layout.html"}, func() (out []string) {
		for _, p := range pages {
			out = append(out, "templates/pages/"+p.Name())
		}
		return out
	}()...) {
		b, err := files.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if m := inline.Find(b); m != nil {
			t.Errorf("%s has inline code %q", name, m)
		}
	}
}

func TestStatic_ChecksummedAndCached(t *testing.T) {
	f := newFixture(t, testConfig())
	_, body := f.get(t, "/login", nil)
	m := regexp.MustCompile(`href="(/static/app\.[0-9a-f]{12}\.css)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("login page links no checksummed stylesheet:\n%s", body)
	}
	res, css := f.get(t, m[1], nil)
	if got, want := res.StatusCode, http.StatusOK; got != want {
		t.Fatalf("GET %s: status %d, want %d", m[1], got, want)
	}
	if got, want := res.Header.Get("Cache-Control"), "public, max-age=31536000, immutable"; got != want {
		t.Errorf("Cache-Control = %q, want %q", got, want)
	}
	if got := res.Header.Get("Content-Type"); !strings.HasPrefix(got, "text/css") {
		t.Errorf("Content-Type = %q, want text/css", got)
	}
	want, err := files.ReadFile("static/app.css")
	if err != nil {
		t.Fatal(err)
	}
	if css != string(want) {
		t.Error("served stylesheet differs from the embedded file")
	}
	// A stale or made-up checksum is not served, nor is the bare name.
	for _, p := range []string{"/static/app.000000000000.css", "/static/app.css"} {
		if res, _ := f.get(t, p, nil); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", p, res.StatusCode)
		}
	}
}

func TestPlaceholders_AreHonest(t *testing.T) {
	f := newFixture(t, testConfig())
	c := f.login(t, f.readerA)
	for _, area := range []string{"Alerts", "Entities", "Attacks", "Sharing", "Challenges"} {
		path := "/" + strings.ToLower(area)
		res, body := f.get(t, path, c)
		if got, want := res.StatusCode, http.StatusOK; got != want {
			t.Fatalf("GET %s: status %d, want %d", path, got, want)
		}
		if !strings.Contains(body, area+" arrives with a later release") {
			t.Errorf("GET %s: no later-release notice", path)
		}
		if !strings.Contains(body, `<a href="`+path+`" aria-current="page">`) {
			t.Errorf("GET %s: nav does not mark the area current", path)
		}
	}
	res, body := f.get(t, "/no-such-page", c)
	if got, want := res.StatusCode, http.StatusNotFound; got != want {
		t.Fatalf("unknown page: status %d, want %d", got, want)
	}
	if !strings.Contains(body, "there is no page at /no-such-page") {
		t.Errorf("404 page does not explain itself:\n%s", body)
	}
}

func TestHandle_ReplacesPlaceholderBehindSession(t *testing.T) {
	f := newFixture(t, testConfig())
	con, err := New(testConfig(), f.db, f.db, f.db, slog.New(slog.NewTextHandler(io.Discard, nil)), f.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	con.Handle("GET /alerts", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := occsimore.PrincipalFromContext(r.Context())
		con.Render(w, r, "placeholder", "Real alerts for "+p.Member.Name)
	}))
	con.AddNav("Cases", "/cases")
	f.handler = con.Handler()

	if res, _ := f.get(t, "/alerts", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("added page without a session: status %d, want 303", res.StatusCode)
	}
	c := f.login(t, f.adminA)
	_, body := f.get(t, "/alerts", c)
	if !strings.Contains(body, "Real alerts for North Bank") {
		t.Errorf("registered handler not served:\n%s", body)
	}
	_, body = f.get(t, "/cases", c)
	if !strings.Contains(body, "Cases arrives with a later release") || !strings.Contains(body, `href="/cases"`) {
		t.Errorf("added nav area has no placeholder or link:\n%s", body)
	}
}

func TestBodyLimit(t *testing.T) {
	cfg := testConfig()
	cfg.MaxBodyBytes = 1024
	f := newFixture(t, cfg)
	res, body := f.post(t, "/login", url.Values{"email": {strings.Repeat("a", 2000)}, "password": {"x"}}, nil)
	if got, want := res.StatusCode, http.StatusRequestEntityTooLarge; got != want {
		t.Fatalf("status %d, want %d:\n%s", got, want, body)
	}
}

func TestNew_RejectsBadConfig(t *testing.T) {
	f := newFixture(t, testConfig())
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := testConfig()
	cfg.LoginRate.PerEmail.Burst = 0
	_, err := New(cfg, f.db, f.db, f.db, logger, nil)
	if got, want := occsimore.ErrorField(err), "login_rate.per_email"; got != want {
		t.Fatalf("error field = %q (%v), want %q", got, err, want)
	}
	cfg = testConfig()
	cfg.Argon2.Time = 0
	_, err = New(cfg, f.db, f.db, f.db, logger, nil)
	if got, want := occsimore.ErrorField(err), "argon2"; got != want {
		t.Fatalf("error field = %q (%v), want %q", got, err, want)
	}
}

func TestPatternPath(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"GET /alerts", "/alerts"},
		{"/alerts", "/alerts"},
		{"POST example.org/x", "/x"},
		{"GET  /a/{id}", "/a/{id}"},
	} {
		if got := patternPath(tc.in); got != tc.want {
			t.Errorf("patternPath(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
