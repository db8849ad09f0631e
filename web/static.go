package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

// asset is one embedded static file, served under a URL that carries a prefix
// of its SHA-256, so that it can be cached forever and still change on deploy.
type asset struct {
	url         string // such as /static/app.3f2a9c01be.css
	contentType string
	etag        string
	body        []byte
}

// assets maps logical names ("app.css") and checksummed names
// ("app.3f2a9c01be.css") to their files.
type assets struct {
	byName   map[string]*asset
	byHashed map[string]*asset
}

// loadAssets reads every file under dir in fsys and computes its URL.
func loadAssets(fsys fs.FS, dir string) (*assets, error) {
	a := &assets{byName: make(map[string]*asset), byHashed: make(map[string]*asset)}
	err := fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(fsys, p)
		if err != nil {
			return fmt.Errorf("read %s: %w", p, err)
		}
		name := strings.TrimPrefix(p, dir+"/")
		sum := sha256.Sum256(body)
		hash := hex.EncodeToString(sum[:])[:12]
		ext := path.Ext(name)
		hashed := strings.TrimSuffix(name, ext) + "." + hash + ext
		ct := mime.TypeByExtension(ext)
		if ct == "" {
			ct = "application/octet-stream"
		}
		f := &asset{url: "/static/" + hashed, contentType: ct, etag: `"` + hash + `"`, body: body}
		a.byName[name] = f
		a.byHashed[hashed] = f
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load static assets: %w", err)
	}
	return a, nil
}

// url returns the checksummed URL of a logical name. An unknown name is a bug
// in a template, so it fails the render rather than emitting a broken link.
func (a *assets) url(name string) (string, error) {
	f, ok := a.byName[name]
	if !ok {
		return "", fmt.Errorf("unknown static asset %q", name)
	}
	return f.url, nil
}

// ServeHTTP serves "GET /static/{file}" by checksummed name only.
func (a *assets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f, ok := a.byHashed[r.PathValue("file")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.contentType)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("ETag", f.etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.body))
}
