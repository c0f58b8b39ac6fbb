package delivery

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/textproto"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// outboxDirMode is the mode of the outbox folder; the files get 0600.
const outboxDirMode fs.FileMode = 0o700

// workOutbox writes each job of c as a file in the outbox folder.
func (q *Queue) workOutbox(ctx context.Context, c chunk, done chan<- outcome) {
	dir := q.cfg.Outbox
	var err error
	if dir == "" {
		err = errors.New("no outbox folder is set")
	} else if err = os.MkdirAll(dir, outboxDirMode); err != nil {
		err = fmt.Errorf("outbox: %w", err)
	}
	if err != nil {
		q.log.Error("delivery_outbox_failed", "error", err)
		now := q.now()
		for _, r := range c.jobs {
			done <- q.settle(r, attempt{err: err}, now)
		}
		return
	}
	cache := make(map[uint64][]byte)
	var written []outcome
	for i, rec := range c.jobs {
		if ctx.Err() != nil {
			for _, r := range c.jobs[i:] {
				done <- outcome{rec: r, release: true}
			}
			break
		}
		data, try := q.compose(rec, cache)
		if try.err == nil {
			try.err = writeOutboxFile(dir, outboxName(rec), rec, data)
		}
		if try.err != nil {
			if !try.permanent {
				q.log.Error("delivery_outbox_failed", "to", rec.To, "error", try.err)
			}
			done <- q.settle(rec, try, q.now())
			continue
		}
		written = append(written, q.settle(rec, attempt{}, q.now()))
	}
	if len(written) == 0 {
		return
	}
	// The renames last only once the folder is synced; then the jobs go.
	if err := syncDir(dir); err != nil {
		q.log.Error("delivery_outbox_failed", "error", err)
		now := q.now()
		for _, o := range written {
			done <- q.settle(o.rec, attempt{err: err}, now)
		}
		return
	}
	for _, o := range written {
		done <- o
	}
}

// outboxName returns the file name of rec in the outbox:
// <creation time>-<job id>-<recipient>.eml, the same for every try of the
// job (a copy written again after a crash replaces the first), sorting in
// creation order.
func outboxName(rec *record) string {
	return fmt.Sprintf("%s-%012d-%s.eml", rec.Created.UTC().Format("20060102T150405Z"), rec.ID, safeName(rec.To))
}

// safeName returns s with only letters, digits and . _ + = @ - kept (others
// become _), at most 100 bytes, never starting with a dot.
func safeName(s string) string {
	b := []byte(strings.ToLower(s))
	for i, c := range b {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', strings.IndexByte("._+=@-", c) >= 0:
		default:
			b[i] = '_'
		}
	}
	if len(b) > 100 {
		b = b[:100]
	}
	if len(b) > 0 && b[0] == '.' {
		b[0] = '_'
	}
	return string(b)
}

// writeOutboxFile writes data, its envelope prepended, as dir/name:
// a temporary file, synced, renamed.
func writeOutboxFile(dir, name string, rec *record, data []byte) (err error) {
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = f.Close() // Already failed.
			_ = os.Remove(tmp)
		}
	}()
	w := bufio.NewWriter(f)
	fmt.Fprintf(w, "X-Envelope-From: <%s>\r\nX-Envelope-To: <%s>\r\n", rec.From, rec.To)
	if _, err := w.Write(data); err != nil {
		return fmt.Errorf("outbox: write %s: %w", name, err)
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("outbox: write %s: %w", name, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("outbox: sync %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("outbox: close %s: %w", name, err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	return nil
}

// syncDir flushes dir's entries to disk.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	if err := d.Sync(); err != nil {
		_ = d.Close() // The sync error is the one to report.
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	if err := d.Close(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// OutboxFile is one copy written in the outbox folder, as the
// administration lists it.
type OutboxFile struct {
	Name    string    // the file name in the folder
	Size    int64     // bytes
	Time    time.Time // when the file was written
	From    string    // the envelope sender (X-Envelope-From, without <>)
	To      string    // the envelope recipient (X-Envelope-To, without <>)
	Subject string    // the Subject field as written (possibly RFC 2047 encoded)
}

// maxOutboxHeader bounds the bytes of a file read for its header.
const maxOutboxHeader = 64 << 10

// OutboxFiles lists the .eml files of the outbox folder dir, newest first,
// at most limit of them (all when limit <= 0). A missing folder is an empty
// outbox. Files whose header cannot be read are listed with Name, Size and
// Time only.
func OutboxFiles(dir string, limit int) ([]OutboxFile, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list the outbox: %w", err)
	}
	var names []string
	for _, e := range entries {
		if e.Type().IsRegular() && strings.HasSuffix(e.Name(), ".eml") && !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	// Names start with the creation time and the job id: newest last.
	slices.Sort(names)
	slices.Reverse(names)
	if limit > 0 && len(names) > limit {
		names = names[:limit]
	}
	files := make([]OutboxFile, 0, len(names))
	for _, name := range names {
		f, err := readOutboxFile(filepath.Join(dir, name))
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed meanwhile
		}
		if err != nil {
			return nil, fmt.Errorf("list the outbox: %w", err)
		}
		f.Name = name
		files = append(files, f)
	}
	return files, nil
}

// readOutboxFile reads the size, time and envelope of the file at path.
func readOutboxFile(path string) (OutboxFile, error) {
	fh, err := os.Open(path)
	if err != nil {
		return OutboxFile{}, err
	}
	defer fh.Close() //nolint:errcheck // Read only.
	st, err := fh.Stat()
	if err != nil {
		return OutboxFile{}, err
	}
	f := OutboxFile{Size: st.Size(), Time: st.ModTime()}
	h, err := textproto.NewReader(bufio.NewReader(io.LimitReader(fh, maxOutboxHeader))).ReadMIMEHeader()
	if err != nil && len(h) == 0 {
		return f, nil
	}
	trim := func(s string) string { return strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(s), "<"), ">") }
	f.From = trim(h.Get("X-Envelope-From"))
	f.To = trim(h.Get("X-Envelope-To"))
	f.Subject = h.Get("Subject")
	return f, nil
}
