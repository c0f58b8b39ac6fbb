package wiki

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"codeberg.org/placette/placette/internal/web"
	"codeberg.org/placette/placette/wiki/markup"
)

// render renders the text of the page slug.
func (w *Wiki) render(slug, src string) (*markup.Result, error) {
	return markup.Render([]byte(src), markup.Options{
		Resolver:   w.store,
		Attachment: func(name string) string { return fileURL(slug, name) },
	})
}

// fileURL returns the URL of the attachment name of the page slug, for a
// relative link such as ![](plan.png) or ![](images/plan.png).
func fileURL(slug, name string) string {
	if i := strings.IndexAny(name, "?#"); i >= 0 {
		name = name[:i]
	}
	// markup hands the name decoded already (no %XX left to undo).
	return pageURL(slug) + "/files/" + url.PathEscape(cleanFileName(path.Base(name)))
}

// rendered is the cached rendering of a page's current revision.
type rendered struct {
	rev int
	res *markup.Result
}

// rendering returns the rendering of the live page p's current revision,
// from the cache when it is there.
func (w *Wiki) rendering(p *Page) (*markup.Result, error) {
	if v, ok := w.results.get(p.Slug); ok {
		if rd := v.(*rendered); rd.rev == p.Rev {
			return rd.res, nil
		}
	}
	src, err := w.store.source(p)
	if err != nil {
		return nil, err
	}
	res, err := w.render(p.Slug, src)
	// A page whose front matter broke still reads: markup shows the
	// broken block as code above the page.
	var fm *markup.FrontMatterError
	if err != nil && !(errors.As(err, &fm) && res != nil) {
		return nil, err
	}
	w.results.put(p.Slug, &rendered{rev: p.Rev, res: res}, len(res.HTML)+len(src)/4+256)
	return res, nil
}

// cachedPage is a whole page as served to anonymous readers.
type cachedPage struct {
	rev     int
	body    []byte
	etag    string
	noIndex bool
	until   time.Time // when noIndex no longer holds; zero when it does not
	site    web.Settings
}

// captureWriter keeps a response in memory, for the page cache.
type captureWriter struct {
	h      http.Header
	status int
	buf    bytes.Buffer
}

func (c *captureWriter) Header() http.Header { return c.h }
func (c *captureWriter) WriteHeader(s int) {
	if c.status == 0 {
		c.status = s
	}
}
func (c *captureWriter) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	return c.buf.Write(b)
}

// serveCached answers r from the page cache, and reports whether it did.
func (w *Wiki) serveCached(rw http.ResponseWriter, r *http.Request, p *Page, lang string) bool {
	v, ok := w.responses.get(p.Slug + "\x00" + lang)
	if !ok {
		return false
	}
	c := v.(*cachedPage)
	if c.rev != p.Rev || (c.noIndex && !w.now().Before(c.until)) || c.site != w.shell.Settings() {
		return false
	}
	h := rw.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("ETag", c.etag)
	if c.noIndex {
		h.Set("X-Robots-Tag", "noindex")
	}
	if match := r.Header.Get("If-None-Match"); match != "" && match == c.etag {
		rw.WriteHeader(http.StatusNotModified)
		return true
	}
	rw.Write(c.body)
	return true
}

// renderCached renders a page for an anonymous reader and keeps it in the
// page cache when nothing in it is personal: no cookie set, no token.
func (w *Wiki) renderCached(rw http.ResponseWriter, r *http.Request, p *Page, lang string, noIndex bool, data any) {
	cw := &captureWriter{h: rw.Header().Clone()}
	if noIndex {
		w.shell.RenderNoIndex(cw, r, http.StatusOK, w.pages, "page.html", data)
	} else {
		w.shell.Render(cw, r, http.StatusOK, w.pages, "page.html", data)
	}
	body := cw.buf.Bytes()
	shareable := cw.status == http.StatusOK && len(cw.h.Values("Set-Cookie")) == 0 &&
		!strings.Contains(cw.h.Get("Cache-Control"), "private")
	if shareable {
		sum := sha256.Sum256(body)
		c := &cachedPage{rev: p.Rev, body: bytes.Clone(body), etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`, noIndex: noIndex, site: w.shell.Settings()}
		if noIndex {
			c.until = p.LastAnon.Add(noIndexFor)
		}
		w.responses.put(p.Slug+"\x00"+lang, c, len(c.body)+128)
		cw.h.Set("ETag", c.etag)
	}
	h := rw.Header()
	for k, v := range cw.h {
		h[k] = v
	}
	rw.WriteHeader(cw.status)
	rw.Write(body)
}
