package mailmsg

import "bytes"

// Normalize returns raw with every line ending turned into CRLF (a lone LF
// or a lone CR included), ending with a CRLF. It makes one pass over raw and
// one allocation; the result never aliases raw. Normalize is idempotent:
// Normalize(Normalize(x)) equals Normalize(x). Mail is normalised before it
// is stored, signed or indexed, so that the bytes a signature covers are the
// bytes kept.
func Normalize(raw []byte) []byte {
	// Count what must be added first, so that the output is allocated once.
	extra := 0
	for i := 0; i < len(raw); i++ {
		switch raw[i] {
		case '\n':
			if i == 0 || raw[i-1] != '\r' {
				extra++ // a lone LF gets a CR before it
			}
		case '\r':
			if i+1 >= len(raw) || raw[i+1] != '\n' {
				extra++ // a lone CR gets an LF after it
			}
		}
	}
	final := len(raw) == 0 || (raw[len(raw)-1] != '\n' && raw[len(raw)-1] != '\r')
	if final {
		extra += 2
	}
	out := make([]byte, 0, len(raw)+extra)
	for len(raw) > 0 {
		i := bytes.IndexAny(raw, "\r\n")
		if i < 0 {
			out = append(out, raw...)
			break
		}
		out = append(out, raw[:i]...)
		out = append(out, '\r', '\n')
		if raw[i] == '\r' && i+1 < len(raw) && raw[i+1] == '\n' {
			i++
		}
		raw = raw[i+1:]
	}
	if final {
		out = append(out, '\r', '\n')
	}
	return out
}

// BareLF reports whether raw holds a line feed that does not follow a
// carriage return, or a carriage return that no line feed follows. An SMTP
// server that accepts such bytes must not take "LF.LF" or "CR.CR" for the
// end of the data (SMTP smuggling); a receiver can refuse or normalise such
// a message.
func BareLF(raw []byte) bool {
	for i := 0; i < len(raw); i++ {
		switch raw[i] {
		case '\n':
			if i == 0 || raw[i-1] != '\r' {
				return true
			}
		case '\r':
			if i+1 >= len(raw) || raw[i+1] != '\n' {
				return true
			}
		}
	}
	return false
}
