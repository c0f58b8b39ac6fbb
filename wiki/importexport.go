package wiki

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"regexp"
	"strings"
	"unicode/utf8"

	"codeberg.org/placette/placette/wiki/markup"
	bolt "go.etcd.io/bbolt"
)

// maxImportBytes bounds the archive an import reads.
const maxImportBytes = 4 << 30

// importBatch is how many pages an import saves per transaction.
const importBatch = 100

// ImportReport counts what an import did.
type ImportReport struct {
	Created, Updated, Unchanged int // pages
	Files                       int // attachments added or changed
	Errors                      int // files skipped
}

// importSlug returns the slug of a page imported from the file called
// name ("dir/Ma page.md" → "ma-page"), or "" when it gives none.
func importSlug(name string) string {
	base := path.Base(strings.ReplaceAll(name, "\\", "/"))
	stem := strings.TrimSuffix(base, path.Ext(base))
	s := markup.Slug(strings.ToValidUTF8(stem, ""))
	if !validSlug(s) {
		return ""
	}
	return s
}

// firstHeading returns the text of src's first "# " heading outside front
// matter, or "".
func firstHeading(src string) string {
	_, body, err := markup.Split([]byte(src))
	if err != nil {
		body = []byte(src)
	}
	for _, l := range strings.Split(string(body), "\n") {
		if t, ok := strings.CutPrefix(strings.TrimRight(l, "\r"), "# "); ok {
			return strings.TrimSpace(strings.TrimRight(strings.TrimSpace(t), "#"))
		}
	}
	return ""
}

// refPattern finds the destinations of markdown links and images.
var refPattern = regexp.MustCompile(`\]\(\s*<?([^)>\s]+)>?`)

// hiddenPath reports whether a path in an archive is to be skipped: a
// dot-file or one in a dot-folder, or macOS's resource forks.
func hiddenPath(name string) bool {
	for _, el := range strings.Split(name, "/") {
		if strings.HasPrefix(el, ".") || el == "__MACOSX" {
			return true
		}
	}
	return false
}

type importPage struct {
	name   string
	slug   string
	source string
	res    *markup.Result
	title  string
	files  []importFile
}

type importFile struct {
	name string
	ct   string
	data []byte
}

// Import reads a zip archive of markdown pages from in and saves each page
// whose text differs from the wiki's, with the files the pages reference
// or that lie in a folder named after the page, as attachments. Progress
// and the files it skips, with why, go to progress. It fails only when the
// archive cannot be read.
func (w *Wiki) Import(ctx context.Context, in io.Reader, progress io.Writer) (ImportReport, error) {
	var rep ImportReport
	if progress == nil {
		progress = io.Discard
	}
	tmp, err := os.CreateTemp("", "placette-wiki-import-*.zip")
	if err != nil {
		return rep, fmt.Errorf("wiki import: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	n, err := io.Copy(tmp, io.LimitReader(in, maxImportBytes+1))
	if err != nil {
		return rep, fmt.Errorf("wiki import: read the archive: %w", err)
	}
	if n > maxImportBytes {
		return rep, fmt.Errorf("wiki import: the archive is larger than %d bytes", int64(maxImportBytes))
	}
	zr, err := zip.NewReader(tmp, n)
	if err != nil {
		return rep, fmt.Errorf("wiki import: not a zip archive: %w", err)
	}
	return w.importZip(ctx, zr, progress)
}

func (w *Wiki) importZip(ctx context.Context, zr *zip.Reader, progress io.Writer) (ImportReport, error) {
	var rep ImportReport
	fail := func(name string, err error) {
		rep.Errors++
		fmt.Fprintf(progress, "wiki import: %s: skipped: %v\n", name, err)
	}
	others := map[string]*zip.File{}
	var mds []*zip.File
	for _, f := range zr.File {
		name := strings.ReplaceAll(f.Name, "\\", "/")
		if f.FileInfo().IsDir() || hiddenPath(name) {
			continue
		}
		if strings.EqualFold(path.Ext(name), ".md") {
			mds = append(mds, f)
		} else {
			others[path.Clean(name)] = f
		}
	}
	read := func(f *zip.File, limit int64) ([]byte, error) {
		rc, err := f.Open()
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		data, err := io.ReadAll(io.LimitReader(rc, limit+1))
		if err != nil {
			return nil, err
		}
		if int64(len(data)) > limit {
			return nil, fmt.Errorf("larger than %d bytes", limit)
		}
		return data, nil
	}
	seen := map[string]string{}
	var batch []*importPage
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		created, updated, unchanged, files, err := w.saveImported(batch)
		if err != nil {
			return err
		}
		rep.Created += created
		rep.Updated += updated
		rep.Unchanged += unchanged
		rep.Files += files
		batch = batch[:0]
		return nil
	}
	done := 0
	for _, f := range mds {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		name := strings.ReplaceAll(f.Name, "\\", "/")
		slug := importSlug(name)
		if slug == "" {
			fail(name, errors.New("its name gives no page name"))
			continue
		}
		if prev, ok := seen[slug]; ok {
			fail(name, fmt.Errorf("same page as %s", prev))
			continue
		}
		seen[slug] = name
		data, err := read(f, markup.MaxSize)
		if err != nil {
			fail(name, err)
			continue
		}
		data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
		if !utf8.Valid(data) {
			fail(name, errors.New("not UTF-8 text"))
			continue
		}
		src := normalizeText(string(data))
		res, err := w.render(slug, src)
		if err != nil {
			fail(name, err)
			continue
		}
		stem := strings.TrimSuffix(path.Base(name), path.Ext(name))
		ip := &importPage{name: name, slug: slug, source: src, res: res, title: res.Title}
		if ip.title == "" {
			ip.title = firstHeading(src)
		}
		if ip.title == "" {
			ip.title = stem
		}
		// Attachments: the files in a folder named after the page, and
		// the files the page references.
		dir := path.Dir(name)
		refs := map[string]bool{}
		for p := range others {
			if path.Dir(p) == path.Join(dir, stem) {
				refs[p] = true
			}
		}
		for _, m := range refPattern.FindAllStringSubmatch(src, -1) {
			ref := m[1]
			if strings.Contains(ref, ":") || strings.HasPrefix(ref, "/") || strings.HasPrefix(ref, "#") {
				continue
			}
			if i := strings.IndexAny(ref, "?#"); i >= 0 {
				ref = ref[:i]
			}
			p := path.Join(dir, ref)
			if _, ok := others[p]; ok {
				refs[p] = true
			}
		}
		for p := range refs {
			data, err := read(others[p], w.cfg.MaxFileBytes)
			if err != nil {
				fail(p, err)
				continue
			}
			ct, ok := sniff(data)
			if !ok {
				fail(p, fmt.Errorf("type %s is not accepted", ct))
				continue
			}
			ip.files = append(ip.files, importFile{name: attachmentName(path.Base(p), ct), ct: ct, data: data})
		}
		batch = append(batch, ip)
		done++
		if len(batch) == importBatch {
			if err := flush(); err != nil {
				return rep, err
			}
		}
		if done%100 == 0 {
			fmt.Fprintf(progress, "wiki import: %d pages read\n", done)
		}
	}
	if err := flush(); err != nil {
		return rep, err
	}
	fmt.Fprintf(progress, "wiki import: %d pages created, %d updated, %d unchanged, %d files, %d skipped\n",
		rep.Created, rep.Updated, rep.Unchanged, rep.Files, rep.Errors)
	return rep, nil
}

// saveImported saves a batch of imported pages in one transaction.
func (w *Wiki) saveImported(batch []*importPage) (created, updated, unchanged, files int, err error) {
	now := w.now()
	wr := Writer{Author: "import"}
	txr, err := w.store.update(func(tx *bolt.Tx, res *txResult) error {
		created, updated, unchanged, files = 0, 0, 0, 0
		for _, ip := range batch {
			old, err := getPage(tx, ip.slug)
			if err != nil {
				return err
			}
			p, err := w.store.saveTx(tx, res, saveReq{Slug: ip.slug, Base: -1, Source: ip.source, Result: ip.res, Title: ip.title, Writer: wr, Summary: "import", Now: now})
			switch {
			case errors.Is(err, ErrUnchanged):
				unchanged++
			case err != nil:
				return fmt.Errorf("import %s: %w", ip.name, err)
			case old.Live():
				updated++
			default:
				created++
			}
			for _, f := range ip.files {
				changed, err := putFileTx(tx, ip.slug, File{Name: f.name, Hash: blobKey(f.data), Type: f.ct, Size: int64(len(f.data)), Time: now}, f.data)
				if err != nil {
					return err
				}
				if changed {
					files++
					res.changed = append(res.changed, ip.slug)
					if err := addChange(tx, Change{Time: now, Slug: ip.slug, Rev: p.Rev, Title: p.Title, Kind: "upload", Author: wr.Author, Summary: f.name, Size: p.Size}); err != nil {
						return err
					}
				}
			}
		}
		return nil
	})
	w.afterWrite(txr)
	return created, updated, unchanged, files, err
}

// Export writes every page to out as a zip archive: SLUG.md with the
// page's text, front matter included, and its attachments as SLUG/NAME,
// the layout Import reads back. Redirects left by renames are not
// exported.
func (w *Wiki) Export(ctx context.Context, out io.Writer, progress io.Writer) error {
	if progress == nil {
		progress = io.Discard
	}
	zw := zip.NewWriter(out)
	n, nf := 0, 0
	for _, p := range w.store.all() {
		if err := ctx.Err(); err != nil {
			return err
		}
		src, err := w.store.source(p)
		if err != nil {
			return fmt.Errorf("wiki export: %w", err)
		}
		fw, err := zw.CreateHeader(&zip.FileHeader{Name: p.Slug + ".md", Method: zip.Deflate, Modified: p.Updated})
		if err != nil {
			return fmt.Errorf("wiki export: %w", err)
		}
		if _, err := io.WriteString(fw, src); err != nil {
			return fmt.Errorf("wiki export: %w", err)
		}
		files, err := w.store.files(p.Slug)
		if err != nil {
			return fmt.Errorf("wiki export: %w", err)
		}
		for _, f := range files {
			_, data, err := w.store.file(p.Slug, f.Name)
			if err != nil {
				return fmt.Errorf("wiki export: %w", err)
			}
			fw, err := zw.CreateHeader(&zip.FileHeader{Name: p.Slug + "/" + f.Name, Method: zip.Store, Modified: f.Time})
			if err != nil {
				return fmt.Errorf("wiki export: %w", err)
			}
			if _, err := fw.Write(data); err != nil {
				return fmt.Errorf("wiki export: %w", err)
			}
			nf++
		}
		n++
		if n%100 == 0 {
			fmt.Fprintf(progress, "wiki export: %d pages\n", n)
		}
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("wiki export: %w", err)
	}
	fmt.Fprintf(progress, "wiki export: %d pages, %d files\n", n, nf)
	return nil
}
