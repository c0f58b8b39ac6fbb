package mailmsg

import (
	"errors"
	"fmt"
	"io"
)

// ErrNoPart is returned by Part when the message has no part at that path.
var ErrNoPart = errors.New("no such MIME part")

// Part returns the decoded bytes of the leaf part of raw found at path (as
// in Attachment.Part: indices from the root, 0-based; empty for a message
// that is not multipart), with its media type and its sanitised file name.
// The body is transfer-decoded (base64, quoted-printable) but not
// charset-converted: it is the file as sent. It is never longer than raw.
// A caller serving it should send it as a download
// (Content-Disposition: attachment, X-Content-Type-Options: nosniff), not
// inline, whatever its type. A truncated part gives the bytes there are.
func Part(raw []byte, path []int) (contentType, filename string, body []byte, err error) {
	h, rest, _, err := readHeader(raw)
	if err != nil {
		return "", "", nil, err
	}
	found := false
	w := &walker{}
	w.visit = func(p *part) error {
		if !samePath(p.path, path) {
			return nil
		}
		found = true
		contentType, filename = p.mediaType, p.filename()
		// A truncated part gives what there is, as Parse counts it.
		body, _ = io.ReadAll(io.LimitReader(p.body, int64(len(raw))))
		return errStop
	}
	_ = w.entity(h, byteReader(rest), nil, 0, "text/plain")
	if !found {
		return "", "", nil, fmt.Errorf("MIME part %v: %w", path, ErrNoPart)
	}
	return contentType, filename, body, err
}

func samePath(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
