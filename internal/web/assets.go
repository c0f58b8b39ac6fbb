package web

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
)

// Assets serves the embedded static files under content-hashed names
// ("style.3f2a9c1d04.css"), so that browsers may keep them forever and a new
// version is a new URL.
type Assets struct {
	byName map[string]string // "style.css" -> "/static/style.<hash>.css"
	byURL  map[string]asset  // "style.<hash>.css" -> content
}

type asset struct {
	body        []byte
	contentType string
}

// NewAssets reads every file at the root of fsys.
func NewAssets(fsys fs.FS) (*Assets, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("read static assets: %w", err)
	}
	a := &Assets{byName: map[string]string{}, byURL: map[string]asset{}}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		name := e.Name()
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("read static asset %s: %w", name, err)
		}
		sum := sha256.Sum256(body)
		ext := path.Ext(name)
		hashed := strings.TrimSuffix(name, ext) + "." + hex.EncodeToString(sum[:5]) + ext
		ct := mime.TypeByExtension(ext)
		if ct == "" {
			ct = "application/octet-stream"
		}
		a.byName[name] = "/static/" + hashed
		a.byURL[hashed] = asset{body: body, contentType: ct}
	}
	return a, nil
}

// URL returns the hashed URL of the asset called name, or an error for an
// unknown name (which fails the template that asked for it).
func (a *Assets) URL(name string) (string, error) {
	u, ok := a.byName[name]
	if !ok {
		return "", fmt.Errorf("no static asset %q", name)
	}
	return u, nil
}

// ServeHTTP serves GET /static/{file}: the asset with long, immutable
// caching, or 404 for a name that is not a current hashed name.
func (a *Assets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	as, ok := a.byURL[r.PathValue("file")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	// The shell varies pages on the language and cookies; an asset is the
	// same for everyone, and a Vary: Cookie would make caches fetch it again
	// whenever a cookie changes.
	h.Del("Vary")
	h.Set("Content-Type", as.contentType)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Write(as.body)
}
