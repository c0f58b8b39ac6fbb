package mailmsg

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"path"
	"regexp"
	"strings"

	mtextproto "github.com/emersion/go-message/textproto"
)

// Limits that keep a hostile message from using unbounded memory or time.
const (
	maxHeaderBytes = 256 << 10 // the top-level header block
	maxHeaderKeys  = 1000      // fields kept in Message.Header
	maxParts       = 500       // MIME parts visited
	maxDepth       = 20        // multipart nesting
	maxBodyBytes   = 1 << 20   // Text and HTML, each
)

// errStop ends a walk early without a problem being noted.
var errStop = errors.New("stop")

// part is one leaf of the MIME tree, as a walk visits it.
type part struct {
	header     mtextproto.Header
	mediaType  string            // lower case, "text/plain" when missing
	params     map[string]string // Content-Type parameters
	disp       string            // "attachment", "inline" or ""
	dispParams map[string]string
	path       []int          // indices from the root, 0-based; empty for a single-part message
	body       io.Reader      // transfer-decoded
	encoding   string         // the Content-Transfer-Encoding when unknown, else ""
	b64        *base64Reader  // the decoder, for base64 parts
	encoded    *limitedBuffer // the start of a base64 text part, as written
	problem    func(format string, args ...any)
	depth      int
}

// filename returns the part's file name, sanitised: the last element of
// the path, no control characters, at most 255 bytes.
func (p *part) filename() string {
	name := p.dispParams["filename"]
	if name == "" {
		name = p.params["name"]
	}
	return sanitizeFilename(name)
}

// sanitizeFilename keeps the last element of a name (slashes and
// backslashes both separate), decoded and without control characters.
func sanitizeFilename(name string) string {
	name = DecodeHeader(name)
	name = strings.ReplaceAll(name, `\`, "/")
	name = path.Base(name)
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '"' || r == ':' {
			return -1
		}
		return r
	}, name)
	name = strings.Trim(name, " .")
	if name == "/" || name == "" {
		return ""
	}
	for len(name) > 255 {
		_, size := lastRune(name)
		name = name[:len(name)-size]
	}
	return name
}

func lastRune(s string) (rune, int) {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] < 0x80 || s[i] >= 0xC0 {
			return rune(s[i]), len(s) - i
		}
	}
	return 0, 1
}

// walker visits the leaves of a MIME tree.
type walker struct {
	visit    func(*part) error
	problems []string
	parts    int
}

func (w *walker) problem(format string, args ...any) {
	if len(w.problems) < 50 {
		w.problems = append(w.problems, fmt.Sprintf(format, args...))
	}
}

// mediaTypePattern and paramPattern read a Content-Type or
// Content-Disposition that mime.ParseMediaType refuses.
var (
	mediaTypePattern = regexp.MustCompile(`^\s*([A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+)`)
	paramPattern     = regexp.MustCompile(`(?i)\b(boundary|charset|name|filename|format|delsp|report-type)\s*=\s*(?:"([^"]*)"|([^\s;]+))`)
)

// contentType reads a Content-Type field, tolerating the broken ones.
func contentType(v string, def string) (string, map[string]string, bool) {
	if strings.TrimSpace(v) == "" {
		return def, map[string]string{}, true
	}
	mt, params, err := mime.ParseMediaType(v)
	if err == nil || errors.Is(err, mime.ErrInvalidMediaParameter) && mt != "" {
		if params == nil {
			params = map[string]string{}
		}
		if !strings.Contains(mt, "/") {
			return "text/plain", params, false
		}
		return mt, params, err == nil
	}
	// Broken: take what looks like a type, and the parameters we use.
	params = map[string]string{}
	t := "text/plain"
	if m := mediaTypePattern.FindStringSubmatch(v); m != nil {
		t = strings.ToLower(m[1])
	}
	for _, m := range paramPattern.FindAllStringSubmatch(v, -1) {
		k := strings.ToLower(m[1])
		if _, dup := params[k]; !dup {
			params[k] = m[2] + m[3]
		}
	}
	return t, params, false
}

// entity walks one entity: a leaf is visited, a multipart is read part by
// part.
func (w *walker) entity(h mtextproto.Header, body io.Reader, p []int, depth int, defType string) error {
	mt, params, ok := contentType(h.Get("Content-Type"), defType)
	if !ok {
		w.problem("unreadable Content-Type %q", clip(h.Get("Content-Type"), 80))
	}
	if strings.HasPrefix(mt, "multipart/") {
		boundary := params["boundary"]
		if boundary == "" {
			w.problem("multipart without a boundary, read as text")
			mt = "text/plain"
		} else if depth >= maxDepth {
			w.problem("MIME parts nested deeper than %d, the rest is not read", maxDepth)
			return nil
		} else {
			return w.multipart(mt, boundary, body, p, depth)
		}
	}
	disp, dparams, err := mime.ParseMediaType(h.Get("Content-Disposition"))
	if err != nil && h.Get("Content-Disposition") != "" {
		v := h.Get("Content-Disposition")
		disp = strings.ToLower(strings.TrimSpace(strings.SplitN(v, ";", 2)[0]))
		dparams = map[string]string{}
		for _, m := range paramPattern.FindAllStringSubmatch(v, -1) {
			dparams[strings.ToLower(m[1])] = m[2] + m[3]
		}
	}
	if dparams == nil {
		dparams = map[string]string{}
	}
	lp := &part{header: h, mediaType: mt, params: params, disp: strings.ToLower(disp), dispParams: dparams, path: p, depth: depth, problem: w.problem}
	enc := strings.ToLower(strings.TrimSpace(h.Get("Content-Transfer-Encoding")))
	if i := strings.IndexAny(enc, " ;("); i > 0 {
		enc = enc[:i]
	}
	switch enc {
	case "", "7bit", "8bit", "binary", "7-bit", "8-bit":
		lp.body = body
	case "quoted-printable":
		lp.body = quotedprintable.NewReader(body)
	case "base64":
		src := body
		if strings.HasPrefix(mt, "text/") {
			// Keep the encoded bytes: text that only claims to be
			// base64 is kept as written.
			lp.encoded = &limitedBuffer{b: new(bytes.Buffer), n: maxBodyBytes}
			src = io.TeeReader(body, lp.encoded)
		}
		lp.b64 = &base64Reader{r: bufio.NewReader(src)}
		lp.body = lp.b64
	default:
		w.problem("unknown Content-Transfer-Encoding %q, kept as is", clip(enc, 40))
		lp.encoding = enc
		lp.body = body
	}
	return w.visit(lp)
}

func (w *walker) multipart(mt, boundary string, body io.Reader, p []int, depth int) error {
	def := "text/plain"
	if mt == "multipart/digest" {
		def = "message/rfc822"
	}
	mr := mtextproto.NewMultipartReader(body, boundary)
	for i := 0; ; i++ {
		if w.parts >= maxParts {
			w.problem("more than %d MIME parts, the rest is not read", maxParts)
			return nil
		}
		pt, err := mr.NextPart()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			if i == 0 {
				w.problem("no part found in %s", mt)
			} else {
				w.problem("broken %s: %v", mt, clip(err.Error(), 80))
			}
			return nil
		}
		w.parts++
		cp := make([]int, len(p)+1)
		copy(cp, p)
		cp[len(p)] = i
		if err := w.entity(pt.Header, pt, cp, depth+1, def); err != nil {
			return err
		}
	}
}

// readHeader reads the header of a whole message from raw, leniently: a
// leading mbox "From " line is skipped, a first line that starts with a
// space is taken as a field, and the header ends at the first line that is
// neither a field nor a continuation (a missing blank line). It returns the
// header and the body.
func readHeader(raw []byte) (mtextproto.Header, []byte, []string, error) {
	var problems []string
	rest := raw
	if bytes.HasPrefix(rest, []byte("From ")) {
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			rest = rest[i+1:]
		} else {
			rest = nil
		}
	}
	var clean bytes.Buffer
	fields := 0
	first := true
	for len(rest) > 0 {
		i := bytes.IndexByte(rest, '\n')
		var line []byte
		next := rest[len(rest):]
		if i < 0 {
			line = rest
		} else {
			line, next = rest[:i], rest[i+1:]
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) == 0 {
			rest = next
			break // end of header
		}
		if first && (line[0] == ' ' || line[0] == '\t') {
			line = bytes.TrimLeft(line, " \t")
			problems = append(problems, "header starts with a space")
			if len(line) == 0 {
				rest = next
				continue
			}
		}
		cont := line[0] == ' ' || line[0] == '\t'
		if !first && cont {
			// continuation line
		} else if !isField(line) {
			if fields > 0 || !first {
				problems = append(problems, "header not followed by a blank line")
			}
			break // the body starts here
		} else {
			fields++
		}
		first = false
		if clean.Len()+len(line) > maxHeaderBytes {
			problems = append(problems, fmt.Sprintf("header longer than %d bytes, cut", maxHeaderBytes))
			// Skip to the end of the header.
			for len(next) > 0 {
				j := bytes.IndexByte(next, '\n')
				if j < 0 {
					next = nil
					break
				}
				l := bytes.TrimSuffix(next[:j], []byte("\r"))
				next = next[j+1:]
				if len(l) == 0 {
					break
				}
			}
			rest = next
			break
		}
		clean.Write(line)
		clean.WriteString("\r\n")
		rest = next
	}
	if fields == 0 {
		return mtextproto.Header{}, nil, problems, ErrNotMail
	}
	clean.WriteString("\r\n")
	h, err := mtextproto.ReadHeader(bufio.NewReader(&clean))
	if err != nil {
		problems = append(problems, "header: "+clip(err.Error(), 80))
	}
	return h, rest, problems, nil
}

// isField reports whether line starts a header field: a name of printable
// characters, maybe spaces, and a colon.
func isField(line []byte) bool {
	i := bytes.IndexByte(line, ':')
	if i <= 0 {
		return false
	}
	key := bytes.TrimRight(line[:i], " \t")
	if len(key) == 0 {
		return false
	}
	for _, c := range key {
		if c <= ' ' || c >= 0x7f {
			return false
		}
	}
	return true
}

// clip cuts s to at most n bytes, on a rune boundary, for messages.
func clip(s string, n int) string {
	s = utf8OrCP1252([]byte(s))
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}

// base64Reader decodes base64 leniently: characters outside the alphabet
// are skipped, and padding ends a group, so that several encoded chunks
// glued together decode as they were meant.
type base64Reader struct {
	r    *bufio.Reader
	q    [4]byte // the group being read, as 6-bit values
	n    int     // how many of q are set
	out  [3]byte
	outN int // bytes in out not yet returned
	outI int
	err  error
	bad  int // bytes outside the alphabet, line breaks not counted
	all  int // bytes read
}

func b64val(c byte) (byte, bool) {
	switch {
	case c >= 'A' && c <= 'Z':
		return c - 'A', true
	case c >= 'a' && c <= 'z':
		return c - 'a' + 26, true
	case c >= '0' && c <= '9':
		return c - '0' + 52, true
	case c == '+' || c == '-':
		return 62, true
	case c == '/' || c == '_':
		return 63, true
	}
	return 0, false
}

// flush turns the group read so far into bytes.
func (b *base64Reader) flush() {
	q := b.q
	switch b.n {
	case 4:
		b.out = [3]byte{q[0]<<2 | q[1]>>4, q[1]<<4 | q[2]>>2, q[2]<<6 | q[3]}
		b.outN = 3
	case 3:
		b.out = [3]byte{q[0]<<2 | q[1]>>4, q[1]<<4 | q[2]>>2}
		b.outN = 2
	case 2:
		b.out = [3]byte{q[0]<<2 | q[1]>>4}
		b.outN = 1
	default:
		b.outN = 0
	}
	b.outI = 0
	b.n = 0
}

func (b *base64Reader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if b.outI < b.outN {
			c := copy(p[n:], b.out[b.outI:b.outN])
			b.outI += c
			n += c
			continue
		}
		if b.err != nil {
			if n > 0 {
				return n, nil
			}
			return 0, b.err
		}
		c, err := b.r.ReadByte()
		if err != nil {
			b.err = err
			b.flush()
			continue
		}
		if c == '=' {
			b.flush()
			continue
		}
		b.all++
		v, ok := b64val(c)
		if !ok {
			if c != '\r' && c != '\n' {
				b.bad++
			}
			continue
		}
		b.q[b.n] = v
		b.n++
		if b.n == 4 {
			b.flush()
		}
	}
	return n, nil
}
