package web

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/occsimore/occsimore"
)

// pageTemplate is the layout plus one page. Each file in templates/pages
// defines "title" and "content"; the layout wraps them.
type pageTemplate struct {
	tmpl *template.Template
}

// loadPages parses templates/layout.html with each templates/pages/*.html.
func loadPages(fsys fs.FS, static *assets) (map[string]*pageTemplate, error) {
	funcs := template.FuncMap{
		"static": static.url,
		"date":   formatDate,
		"field":  newField,
		"mulf":   func(a, b float64) float64 { return a * b },
		"seconds": func(s float64) string {
			return time.Duration(s * float64(time.Second)).Round(time.Second).String()
		},
	}
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(fsys, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("parse layout: %w", err)
	}
	names, err := fs.Glob(fsys, "templates/pages/*.html")
	if err != nil {
		return nil, fmt.Errorf("list pages: %w", err)
	}
	pages := make(map[string]*pageTemplate, len(names))
	for _, n := range names {
		t, err := template.Must(base.Clone()).ParseFS(fsys, n)
		if err != nil {
			return nil, fmt.Errorf("parse page %s: %w", n, err)
		}
		pages[strings.TrimSuffix(path.Base(n), ".html")] = &pageTemplate{tmpl: t}
	}
	return pages, nil
}

func formatDate(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// fieldView is the data of the "input" template.
type fieldView struct {
	ID, Name, Label, Type, Hint string
	Value, Error                string
}

// newField describes field name of f; prefix keeps IDs unique when a page
// has several forms.
func newField(f *form, prefix, name, label, typ, hint string) fieldView {
	return fieldView{
		ID: prefix + "-" + name, Name: name, Label: label, Type: typ, Hint: hint,
		Value: f.Get(name), Error: f.Err(name),
	}
}

// navLink is a nav area as a template sees it.
type navLink struct {
	Label  string
	Path   string
	Active bool
	Ready  bool
}

// view is what every page template receives: the layout's data and the
// page's own in Data.
type view struct {
	Principal *occsimore.Principal // nil on the sign-in page
	User      *occsimore.User
	Nav       []navLink
	Data      any
}

// Render writes the page template name (templates/pages/name.html) with data
// and status 200. The layout sees the signed-in user; the page reads data as
// .Data.
func (c *Console) Render(w http.ResponseWriter, r *http.Request, name string, data any) {
	c.RenderStatus(w, r, http.StatusOK, name, data)
}

// RenderStatus is Render with another status, for example 422 for a form
// sent back with its errors.
func (c *Console) RenderStatus(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	p, ok := c.pages[name]
	if !ok {
		c.logger.ErrorContext(r.Context(), "web: unknown page template", "name", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	v := view{Data: data}
	if s := sessionFromContext(r.Context()); s != nil {
		v.Principal, v.User = s.principal, s.user
		v.Nav = c.navLinks(r.URL.Path)
	}
	var buf bytes.Buffer
	if err := p.tmpl.ExecuteTemplate(&buf, "layout", v); err != nil {
		c.logger.ErrorContext(r.Context(), "web: render page", "name", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	// Pages show tenant data and, once, token secrets: never cache them.
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

func (c *Console) navLinks(current string) []navLink {
	c.mu.Lock()
	defer c.mu.Unlock()
	links := make([]navLink, len(c.nav))
	for i, n := range c.nav {
		links[i] = navLink{
			Label: n.Label, Path: n.Path, Ready: n.ready,
			Active: current == n.Path || strings.HasPrefix(current, n.Path+"/"),
		}
	}
	return links
}

// errorView is the data of the error page.
type errorView struct {
	Status  int
	Title   string
	Message string
}

// Error renders err as a readable page with the status its code maps to.
// Internal errors are logged and not described to the user.
func (c *Console) Error(w http.ResponseWriter, r *http.Request, err error) {
	code := occsimore.ErrorCode(err)
	status, title := errorStatus(code)
	if code == occsimore.EINTERNAL {
		c.logger.ErrorContext(r.Context(), "web: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	c.RenderStatus(w, r, status, "error", errorView{Status: status, Title: title, Message: occsimore.ErrorMessage(err)})
}

// errorStatus returns the HTTP status of an application error code, from the
// one code-to-status map, and the page heading for it.
func errorStatus(code string) (int, string) {
	status := occsimore.HTTPStatus(code)
	if h, ok := errorHeadings[status]; ok {
		return status, h
	}
	return status, "Something went wrong"
}

var errorHeadings = map[int]string{
	http.StatusBadRequest:            "That request was not valid",
	http.StatusNotFound:              "Not found",
	http.StatusUnauthorized:          "Sign-in required",
	http.StatusForbidden:             "Not allowed",
	http.StatusConflict:              "Already exists",
	http.StatusRequestEntityTooLarge: "Too large",
	http.StatusTooManyRequests:       "Too many requests",
	http.StatusServiceUnavailable:    "Unavailable",
}
