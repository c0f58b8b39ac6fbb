package mailmsg

import (
	"net/mail"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// parseMsgID returns the first message id in v, without angle brackets:
// the first "<…>" token, else the first word with an "@", else the whole
// trimmed value without spaces. It returns "" for an empty value.
func parseMsgID(v string) string {
	ids := parseMsgIDs(v)
	if len(ids) > 0 {
		return ids[0]
	}
	v = strings.Trim(cleanText(v), "<> ")
	if strings.ContainsAny(v, " <>") {
		return ""
	}
	return v
}

// msgIDTokens matches "<id>" tokens.
var msgIDTokens = regexp.MustCompile(`<([^<>\s]+)>`)

// parseMsgIDs returns every message id in v, in order, without angle
// brackets and without repeats: the "<…>" tokens when there are any,
// else the words (split on spaces and commas) that hold an "@".
func parseMsgIDs(v string) []string {
	v = cleanText(utf8OrCP1252([]byte(v)))
	var ids []string
	seen := map[string]bool{}
	add := func(id string) {
		id = strings.TrimSpace(id)
		if id == "" || seen[id] || len(ids) >= maxReferences {
			return
		}
		seen[id] = true
		ids = append(ids, id)
	}
	for _, m := range msgIDTokens.FindAllStringSubmatch(v, -1) {
		add(m[1])
	}
	if len(ids) > 0 {
		return ids
	}
	for _, w := range strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == ',' || r == ';' }) {
		w = strings.Trim(w, "<>()\"'")
		if strings.Contains(w, "@") {
			add(w)
		}
	}
	return ids
}

// maxReferences caps the ids kept from a References field.
const maxReferences = 500

// AddrSpec checks that s is a plain address ("local@domain", no display
// name, no angle brackets once trimmed) and returns it with the domain in
// lower case. The local part keeps its case: it can matter to the
// receiving server, but addresses should be compared with strings.EqualFold.
func AddrSpec(s string) (string, bool) {
	s = strings.TrimSpace(s)
	s = strings.TrimSuffix(strings.TrimPrefix(s, "<"), ">")
	if s == "" || len(s) > 254 || strings.ContainsAny(s, " \t\r\n<>,;\"\\()[]") {
		return "", false
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 || at > 64 {
		return "", false
	}
	local, domain := s[:at], strings.ToLower(s[at+1:])
	if strings.HasPrefix(local, ".") || strings.HasSuffix(local, ".") || strings.Contains(local, "..") || strings.Contains(local, "@") {
		return "", false
	}
	if strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.Contains(domain, "..") || !strings.Contains(domain, ".") && domain != "localhost" {
		return "", false
	}
	for _, r := range local + domain {
		if r < 0x21 || r == 0x7f {
			return "", false
		}
	}
	if _, err := mail.ParseAddress("<" + local + "@" + domain + ">"); err != nil {
		return "", false
	}
	return local + "@" + domain, true
}

// addrPattern finds something that looks like an address in free text.
var addrPattern = regexp.MustCompile(`[A-Za-z0-9!#$%&'*+/=?^_{|}~.-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+`)

// angleAddr finds an address between angle brackets.
var angleAddr = regexp.MustCompile(`<[^<>\s@]+@[^<>\s@]+>`)

// addrName cleans a display name that net/mail returned: encoded words it
// left alone (inside quotes) are decoded.
func addrName(n string) string {
	n = strings.ReplaceAll(n, "=?"+wordPrefix, "=?")
	return DecodeHeader(n)
}

// parseAddressList reads an address list field. It uses net/mail; when the
// list does not parse as a whole, it reads each comma-separated piece on its
// own and keeps those that hold an address. ok is false when something was
// dropped.
func parseAddressList(v string) (list []Address, ok bool) {
	v = utf8OrCP1252([]byte(v))
	v = strings.NewReplacer("\r", "", "\n", "").Replace(v)
	if strings.TrimSpace(v) == "" {
		return nil, true
	}
	p := mail.AddressParser{WordDecoder: wordDecoder}
	if as, err := p.ParseList(routeWords(v)); err == nil {
		for _, a := range as {
			list = append(list, Address{Name: addrName(a.Name), Addr: a.Address})
		}
		return list, true
	}
	ok = true
	for _, piece := range splitAddresses(v) {
		if strings.TrimSpace(piece) == "" {
			continue
		}
		if a, good := parseOneAddress(piece); good {
			list = append(list, a)
		} else {
			ok = false
		}
		if len(list) >= maxAddresses {
			return list, false
		}
	}
	return list, ok
}

// maxAddresses caps the addresses kept from one field.
const maxAddresses = 1000

// parseOneAddress reads one mailbox as best it can: net/mail first, then an
// address found in "<…>" or anywhere in the text, the rest being the name.
// "user at example.com" (as archives obfuscate it) is read as an address.
func parseOneAddress(s string) (Address, bool) {
	p := mail.AddressParser{WordDecoder: wordDecoder}
	if a, err := p.Parse(routeWords(s)); err == nil {
		return Address{Name: addrName(a.Name), Addr: a.Address}, true
	}
	if !strings.Contains(s, "@") && strings.Contains(s, " at ") {
		s = strings.Replace(s, " at ", "@", 1)
	}
	loc := angleAddr.FindStringIndex(s)
	if loc == nil {
		loc = addrPattern.FindStringIndex(s)
	} else {
		loc[0]++
		loc[1]--
	}
	if loc == nil {
		return Address{}, false
	}
	addr := strings.Trim(s[loc[0]:loc[1]], ".")
	name := s[:loc[0]] + s[loc[1]:]
	name = strings.NewReplacer("<>", "", "()", "", "<", "", ">", "").Replace(name)
	name = strings.Trim(strings.TrimSpace(name), `"'() `)
	return Address{Name: DecodeHeader(name), Addr: addr}, true
}

// splitAddresses splits an address list on the commas that are outside
// quotes, angle brackets and comments.
func splitAddresses(v string) []string {
	var out []string
	depth, angle, quoted, start := 0, false, false, 0
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '\\' && quoted:
			i++
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '(':
			depth++
		case c == ')' && depth > 0:
			depth--
		case c == '<':
			angle = true
		case c == '>':
			angle = false
			// "A <a@x> B <b@x>": a missing comma.
			if depth == 0 {
				rest := strings.TrimLeft(v[i+1:], " \t")
				if rest != "" && rest[0] != ',' && rest[0] != ';' && rest[0] != '(' {
					out = append(out, v[start:i+1])
					start = i + 1
				}
			}
		case (c == ',' || c == ';') && depth == 0 && !angle:
			out = append(out, v[start:i])
			start = i + 1
		}
	}
	return append(out, v[start:])
}

// namedZones are the zone names of RFC 5322 (obs-zone) and a few more seen
// in mail, with their offsets in hours.
var namedZones = map[string]int{
	"UT": 0, "UTC": 0, "GMT": 0, "Z": 0, "WET": 0,
	"EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7,
	"CET": 1, "CEST": 2, "MET": 1, "MEST": 2, "BST": 1, "EET": 2, "EEST": 3, "WEST": 1,
	"JST": 9, "KST": 9, "HKT": 8, "IST": 5, // IST: India, the most common reading
}

// dateLayouts are tried, in order, on a date that net/mail cannot read,
// once the day of the week, comments and the zone are taken off.
var dateLayouts = []string{
	"2 Jan 2006 15:04:05",
	"2 Jan 2006 15:04",
	"2 Jan 06 15:04:05",
	"2 Jan 06 15:04",
	"Jan 2 15:04:05 2006",
	"Jan 2 2006 15:04:05",
	"2 January 2006 15:04:05",
	"2-Jan-2006 15:04:05",
	"2 1 2006 15:04:05",
	"2006-01-02 15:04:05",
	"2006-01-02T15:04:05",
	"2006/01/02 15:04:05",
	"2 Jan 2006",
}

// numericZone matches a numeric zone after a time.
var numericZone = regexp.MustCompile(`\d:\d\d(?::\d\d)?\s*[+-]\d{4}\b`)

// zoneTail matches a numeric or named zone at the end of a date.
var zoneTail = regexp.MustCompile(`\s*(?:([+-])(\d{1,4})|([A-Za-z]{1,5}))$`)

// parseDate reads an RFC 5322 date and the usual broken ones: missing
// seconds, named zones (EST, CET…), two-digit years, no day of the week or
// one in another language, comments and trailing text, an impossible
// offset (read as UTC). ok is false when nothing could be read.
func parseDate(v string) (t time.Time, ok bool) {
	v = cleanText(utf8OrCP1252([]byte(v)))
	if v == "" {
		return time.Time{}, false
	}
	// Comments: "(CST)", "(added by postmaster)".
	for i := 0; i < 4; i++ {
		a := strings.IndexByte(v, '(')
		if a < 0 {
			break
		}
		b := strings.IndexByte(v[a:], ')')
		if b < 0 {
			v = v[:a]
			break
		}
		v = v[:a] + " " + v[a+b+1:]
	}
	v = strings.Join(strings.Fields(v), " ")
	if t, err := mail.ParseDate(v); err == nil && !namedZone(v) {
		return t, true
	}
	// Day of the week, in whatever language: everything up to a comma.
	if i := strings.IndexByte(v, ','); i >= 0 && i < 12 {
		v = strings.TrimSpace(v[i+1:])
	} else if f := strings.Fields(v); len(f) > 0 && len(f[0]) >= 3 && isLetters(f[0]) && len(f) > 4 && !isMonth(f[0]) {
		v = strings.Join(f[1:], " ")
	}
	if m := numericZone.FindStringIndex(v); m != nil {
		v = v[:m[1]] // trailing text after the zone
	}
	loc := time.UTC
	if m := zoneTail.FindStringSubmatchIndex(v); m != nil {
		zone := v[m[0]:]
		rest := strings.TrimSpace(v[:m[0]])
		switch {
		case m[2] >= 0: // numeric
			digits := v[m[4]:m[5]]
			if len(digits) <= 2 {
				digits += "00"
			}
			for len(digits) < 4 {
				digits = "0" + digits
			}
			h, _ := strconv.Atoi(digits[:2])
			mi, _ := strconv.Atoi(digits[2:])
			if h <= 14 && mi < 60 {
				off := h*3600 + mi*60
				if v[m[2]:m[3]] == "-" {
					off = -off
				}
				loc = time.FixedZone("", off)
			}
			v = rest
		default:
			name := strings.ToUpper(strings.TrimSpace(zone))
			if h, known := namedZones[name]; known {
				loc = time.FixedZone(name, h*3600)
				v = rest
			} else if len(name) == 1 || !isMonth(name) && !isLetters(rest) {
				v = rest // military or unknown zone: UTC
			}
		}
	}
	for _, layout := range dateLayouts {
		if t, err := time.ParseInLocation(layout, v, loc); err == nil {
			return t, true
		}
	}
	// Trailing text after the time: try shorter prefixes.
	f := strings.Fields(v)
	for n := len(f) - 1; n >= 3; n-- {
		s := strings.Join(f[:n], " ")
		for _, layout := range dateLayouts {
			if t, err := time.ParseInLocation(layout, s, loc); err == nil {
				return t, true
			}
		}
	}
	return time.Time{}, false
}

// namedZone reports whether date ends with a zone name whose offset
// net/mail would get wrong (it reads unknown names as UTC).
func namedZone(date string) bool {
	f := strings.Fields(date)
	if len(f) == 0 {
		return false
	}
	z := strings.ToUpper(f[len(f)-1])
	if z == "UT" || z == "UTC" || z == "GMT" || z == "Z" {
		return false
	}
	return isLetters(z)
}

func isLetters(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return s != ""
}

func isMonth(s string) bool {
	if len(s) < 3 {
		return false
	}
	switch strings.ToLower(s[:3]) {
	case "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec":
		return true
	}
	return false
}
