package wiki

import (
	"errors"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"

	"codeberg.org/placette/placette/internal/web"
	"codeberg.org/placette/placette/wiki/antispam"
	bolt "go.etcd.io/bbolt"
	"golang.org/x/text/unicode/norm"
)

// fileTypes are the media types an attachment may have, with the
// extension its name is given.
var fileTypes = map[string]string{
	"image/png":       ".png",
	"image/jpeg":      ".jpg",
	"image/gif":       ".gif",
	"image/webp":      ".webp",
	"application/pdf": ".pdf",
}

// extTypes are the extensions accepted for each type.
var extTypes = map[string]string{
	".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif", ".webp": "image/webp", ".pdf": "application/pdf",
}

// sniff returns the media type of data, if it is one attachments may have.
func sniff(data []byte) (string, bool) {
	ct := http.DetectContentType(data)
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	_, ok := fileTypes[ct]
	return ct, ok
}

// cleanFileName returns a safe name for a file called name: its last path
// element, with letters, digits, '.', '-' and '_' only, no leading dot, at
// most 100 bytes. It may return "".
func cleanFileName(name string) string {
	name = strings.ReplaceAll(name, "\\", "/")
	name = norm.NFD.String(path.Base(strings.ToValidUTF8(name, "")))
	var b strings.Builder
	dash := false
	for _, c := range name {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '.', c == '_':
			b.WriteRune(c)
			dash = false
		case c >= 'A' && c <= 'Z':
			b.WriteRune(c + 'a' - 'A')
			dash = false
		case unicode.Is(unicode.Mn, c):
			// An accent, folded away.
		default:
			if !dash && b.Len() > 0 {
				b.WriteByte('-')
				dash = true
			}
		}
	}
	s := b.String()
	for strings.Contains(s, "..") || strings.Contains(s, "-.") || strings.Contains(s, ".-") {
		s = strings.NewReplacer("..", ".", "-.", ".", ".-", ".").Replace(s)
	}
	s = strings.Trim(s, ".-_")
	if len(s) > 100 {
		ext := path.Ext(s)
		if len(ext) > 10 {
			ext = ""
		}
		s = strings.TrimRight(s[:100-len(ext)], ".-_") + ext
	}
	return s
}

// attachmentName returns the name an attachment of type ct uploaded as
// name is stored under: cleaned, with an extension that matches ct.
func attachmentName(name, ct string) string {
	s := cleanFileName(name)
	ext := path.Ext(s)
	stem := strings.TrimSuffix(s, ext)
	if extTypes[ext] != ct {
		ext = fileTypes[ct]
	}
	stem = strings.TrimRight(stem, ".-_")
	if len(stem) > 100-len(ext) {
		// cleanFileName keeps ASCII only: any cut is between characters.
		stem = strings.TrimRight(stem[:100-len(ext)], ".-_")
	}
	if stem == "" {
		stem = "fichier"
	}
	return stem + ext
}

type filesPage struct {
	Slug      string
	Title     string
	Files     []File
	MaxBytes  int64
	CanEdit   bool
	Anonymous bool
	Pseudonym string
	Guard     template.HTML
	Error     string
	Added     string
}

// URL returns the page's path.
func (f filesPage) URL() string { return pageURL(f.Slug) }

// MaxMiB returns the size limit in mebibytes.
func (f filesPage) MaxMiB() int64 { return f.MaxBytes >> 20 }

// FileURL returns the path of an attachment.
func (f filesPage) FileURL(name string) string { return fileURL(f.Slug, name) }

func (w *Wiki) filesPage(rw http.ResponseWriter, r *http.Request) {
	slug, ok := w.slugOf(rw, r)
	if !ok {
		return
	}
	p := w.store.page(slug)
	if !p.Live() {
		w.shell.NotFound(rw, r)
		return
	}
	user := web.UserFrom(r.Context())
	data := filesPage{Slug: slug, Title: p.Title, MaxBytes: w.cfg.MaxFileBytes, Anonymous: user == nil, Pseudonym: w.pseudonym(r),
		Added: cleanFileName(r.URL.Query().Get("added"))}
	a, _ := w.access(r, p)
	data.CanEdit = a == accessEdit
	w.renderFiles(rw, r, http.StatusOK, data, nil)
}

func (w *Wiki) renderFiles(rw http.ResponseWriter, r *http.Request, status int, data filesPage, f *antispam.Form) {
	var err error
	if data.Files, err = w.store.files(data.Slug); err != nil {
		w.shell.Error(rw, r, err)
		return
	}
	if data.CanEdit {
		if f == nil {
			g := w.guard.Form(rw, r, web.UserFrom(r.Context()), data.Slug)
			f = &g
		}
		data.Guard = w.guardHTML(r, *f)
	}
	w.shell.RenderNoIndex(rw, r, status, w.pages, "files.html", data)
}

func (w *Wiki) upload(rw http.ResponseWriter, r *http.Request) {
	slug, ok := w.slugOf(rw, r)
	if !ok {
		return
	}
	p := w.store.page(slug)
	if !p.Live() {
		w.shell.NotFound(rw, r)
		return
	}
	if a, _ := w.access(r, p); a != accessEdit {
		w.refuse(rw, r, a)
		return
	}
	user := web.UserFrom(r.Context())
	data := filesPage{Slug: slug, Title: p.Title, MaxBytes: w.cfg.MaxFileBytes, CanEdit: true, Anonymous: user == nil,
		Pseudonym: strings.ToValidUTF8(r.PostFormValue("pseudonym"), "")}
	if r.MultipartForm == nil || len(r.MultipartForm.File["file"]) != 1 {
		data.Error = "wiki.files.error.none"
		w.renderFiles(rw, r, http.StatusBadRequest, data, nil)
		return
	}
	fh := r.MultipartForm.File["file"][0]
	if fh.Size > w.cfg.MaxFileBytes {
		data.Error = "wiki.files.error.too_large"
		w.renderFiles(rw, r, http.StatusRequestEntityTooLarge, data, nil)
		return
	}
	f, err := fh.Open()
	if err != nil {
		w.shell.Error(rw, r, err)
		return
	}
	defer f.Close()
	// The type shows in the first 512 bytes: the defences run before the
	// whole file is read into memory, so that refused uploads cost little.
	head := make([]byte, 512)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		w.shell.Error(rw, r, err)
		return
	}
	ct, ok := sniff(head[:n])
	if !ok {
		data.Error = "wiki.files.error.type"
		w.renderFiles(rw, r, http.StatusUnsupportedMediaType, data, nil)
		return
	}
	name := r.PostFormValue("name")
	if strings.TrimSpace(name) == "" || !utf8.ValidString(name) {
		name = fh.Filename
	}
	name = attachmentName(name, ct)
	v := w.guard.Check(r.Context(), rw, r, antispam.Edit{Slug: slug, User: user, Summary: name, Pseudonym: cleanPseudonym(data.Pseudonym)})
	if !v.OK {
		data.Error = v.Reason
		w.renderFiles(rw, r, statusOfReason(v.Reason), data, &v.Form)
		return
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		w.shell.Error(rw, r, err)
		return
	}
	content, err := io.ReadAll(io.LimitReader(f, w.cfg.MaxFileBytes+1))
	if err != nil {
		w.shell.Error(rw, r, err)
		return
	}
	if int64(len(content)) > w.cfg.MaxFileBytes {
		data.Error = "wiki.files.error.too_large"
		w.renderFiles(rw, r, http.StatusRequestEntityTooLarge, data, nil)
		return
	}
	if err := w.attach(slug, name, ct, content, w.writer(r, data.Pseudonym)); err != nil {
		w.shell.Error(rw, r, err)
		return
	}
	web.Redirect(rw, r, pageURL(slug)+"/files?added="+url.QueryEscape(name))
}

// attach stores content as the attachment name of the page slug.
func (w *Wiki) attach(slug, name, ct string, content []byte, wr Writer) error {
	now := w.now()
	f := File{Name: name, Hash: blobKey(content), Type: ct, Size: int64(len(content)), Time: now}
	txr, err := w.store.update(func(tx *bolt.Tx, res *txResult) error {
		p, err := getPage(tx, slug)
		if err != nil {
			return err
		}
		if !p.Live() {
			return ErrNotFound
		}
		changed, err := putFileTx(tx, slug, f, content)
		if err != nil || !changed {
			return err
		}
		res.changed = append(res.changed, slug)
		return addChange(tx, Change{Time: now, Slug: slug, Rev: p.Rev, Title: p.Title, Kind: "upload", Author: wr.Author, Anonymous: wr.Anonymous, Addr: wr.Addr, Summary: name, Size: p.Size})
	})
	w.afterWrite(txr)
	return err
}

// contentDisposition returns a Content-Disposition header value for name:
// an ASCII fallback and the RFC 5987 encoding of the name.
func contentDisposition(kind, name string) string {
	ascii := strings.Map(func(c rune) rune {
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '%' || c == ';' {
			return '_'
		}
		return c
	}, name)
	return kind + `; filename="` + ascii + `"; filename*=UTF-8''` + url.PathEscape(name)
}

func (w *Wiki) serveFile(rw http.ResponseWriter, r *http.Request) {
	slug, ok := w.slugOf(rw, r)
	if !ok {
		return
	}
	f, data, err := w.store.file(slug, r.PathValue("name"))
	if errors.Is(err, ErrNotFound) {
		w.shell.NotFound(rw, r)
		return
	}
	if err != nil {
		w.shell.Error(rw, r, err)
		return
	}
	h := rw.Header()
	h.Del("Vary")
	h.Set("Content-Type", f.Type)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("ETag", `"`+f.Hash[:32]+`"`)
	h.Set("Cache-Control", "public, max-age=3600")
	kind := "attachment"
	if strings.HasPrefix(f.Type, "image/") {
		kind = "inline"
	}
	h.Set("Content-Disposition", contentDisposition(kind, f.Name))
	if r.Header.Get("If-None-Match") == `"`+f.Hash[:32]+`"` {
		rw.WriteHeader(http.StatusNotModified)
		return
	}
	rw.Write(data)
}
