package mailinglist

import (
	"bytes"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Addresses in public archives.
//
// A public archive never shows a mail address in clear: not in its pages,
// its raw messages, its feeds, its month mboxes nor its text attachments
// (binary attachments are served byte for byte). An address is written
// with the end of its local part replaced by an ellipsis and its domain
// kept — "jean.dupont@example.org" becomes "jea…@example.org" (at most
// three characters and at most half of the local part are kept) — so that
// a reader still sees who wrote from where, and a harvester gets nothing
// it can mail. Pages and feeds use "…"; raw messages and mboxes use "..."
// so that they stay ASCII. Raw messages and mboxes are walked part by part
// (obfuscateMIME, in privacy_mime.go), so that an address hidden in a
// base64 or quoted-printable text part or in an RFC 2047 encoded word is
// obfuscated too. Message-ID, In-Reply-To, References and
// Content-ID fields are left alone: they look like addresses but are
// names of messages, and threading needs them. Private archives are shown
// to their members and moderators as they are.

// addrRE matches what looks like a mail address in text.
var addrRE = regexp.MustCompile(`[\p{L}\p{N}._%+\-=!#$&'*/?^{|}~]+@[\p{L}\p{N}\-]+(?:\.[\p{L}\p{N}\-]+)+`)

// addrREBytes is addrRE for raw messages, ASCII only.
var addrREBytes = regexp.MustCompile(`[A-Za-z0-9._%+\-=!#$&'*/?^{|}~]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+`)

// obfuscateAddr returns addr with most of its local part replaced by
// ellipsis.
func obfuscateAddr(addr, ellipsis string) string {
	local, domain, ok := strings.Cut(addr, "@")
	if !ok {
		return addr
	}
	keep := min(3, utf8.RuneCountInString(local)/2)
	i := 0
	for n := 0; n < keep; n++ {
		_, size := utf8.DecodeRuneInString(local[i:])
		i += size
	}
	return local[:i] + ellipsis + "@" + domain
}

// obfuscateText returns s with every address obfuscated ("…").
func obfuscateText(s string) string {
	if !strings.Contains(s, "@") {
		return s
	}
	// Addresses may overlap ("a@b.c@d.e"): until none is left in clear.
	for range 8 {
		t := addrRE.ReplaceAllStringFunc(s, func(a string) string { return obfuscateAddr(a, "…") })
		if t == s {
			break
		}
		s = t
	}
	return s
}

// displayName returns how an author is shown: their name (any address in
// it obfuscated), else their address obfuscated.
func displayName(name, addr string) string {
	name = strings.TrimSpace(strings.Map(noControl, name))
	if name != "" {
		return obfuscateText(name)
	}
	if addr == "" {
		return "?"
	}
	return obfuscateAddr(addr, "…")
}

// keptFields are the header fields whose values look like addresses but
// are not, and are never obfuscated.
var keptFields = []string{"message-id", "in-reply-to", "references", "content-id", "resent-message-id", "list-id"}

// obfuscateRaw returns a copy of the raw message with every address in
// its header (except keptFields) and body obfuscated ("..."), line
// endings kept.
func obfuscateRaw(raw []byte) []byte {
	if !bytes.Contains(raw, []byte("@")) {
		return raw
	}
	out := make([]byte, 0, len(raw))
	inHeader, keep := true, false
	repl := func(a []byte) []byte { return []byte(obfuscateAddr(string(a), "...")) }
	for line := range bytes.Lines(raw) {
		if inHeader {
			trimmed := bytes.TrimRight(line, "\r\n")
			switch {
			case len(trimmed) == 0:
				inHeader = false
			case line[0] != ' ' && line[0] != '\t':
				name, _, _ := bytes.Cut(trimmed, []byte(":"))
				keep = false
				for _, f := range keptFields {
					if strings.EqualFold(string(bytes.TrimSpace(name)), f) {
						keep = true
					}
				}
			}
			if keep {
				out = append(out, line...)
				continue
			}
		}
		if bytes.IndexByte(line, '@') < 0 {
			out = append(out, line...)
			continue
		}
		for range 8 {
			t := addrREBytes.ReplaceAllFunc(line, repl)
			if bytes.Equal(t, line) {
				break
			}
			line = t
		}
		out = append(out, line...)
	}
	return out
}
