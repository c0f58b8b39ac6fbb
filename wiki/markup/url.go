package markup

import (
	"net/url"
	"strings"
)

// urlKind is what a link or image URL points to.
type urlKind int

const (
	urlRefused  urlKind = iota // a scheme outside the allowlist (javascript:, data:, …): never rendered
	urlExternal                // http(s), or "//host": another site
	urlMail                    // mailto:
	urlOther                   // tel:, allowed but neither internal nor external
	urlFragment                // "#section", on the same page
	urlAbsolute                // "/path" on this site
	urlRelative                // "plan.png", relative to the page
)

// allowedSchemes are the only schemes a URL may have; anything else,
// javascript:, vbscript: and data: first, is refused.
var allowedSchemes = map[string]urlKind{
	"http": urlExternal, "https": urlExternal, "mailto": urlMail, "tel": urlOther,
}

// classifyURL says what u points to, and returns it normalised: "//host"
// (and its backslash variants, which browsers read the same way) becomes
// "https://host". u is the URL as the browser will see it (entities and
// backslash escapes already resolved).
//
// The scheme is read the way browsers read it: leading spaces and control
// characters skipped, tabs and newlines anywhere removed, any case. A
// colon before the first "/", "?" or "#" makes the part before it a
// scheme, so anything that a browser might take for one is checked against
// the allowlist; what does not pass is refused rather than guessed at.
func classifyURL(u string) (urlKind, string) {
	s := strings.TrimLeftFunc(u, func(r rune) bool { return r <= ' ' || r == '\u00a0' || r == '\ufeff' })
	if strings.ContainsAny(s, "\t\n\r") {
		s = strings.Map(func(r rune) rune {
			if r == '\t' || r == '\n' || r == '\r' {
				return -1
			}
			return r
		}, s)
	}
	if i := strings.IndexAny(s, ":/?#\\"); i >= 0 && s[i] == ':' {
		kind, ok := allowedSchemes[strings.ToLower(s[:i])]
		if !ok {
			return urlRefused, ""
		}
		return kind, u
	}
	switch {
	case s == "":
		return urlRelative, u
	case len(s) >= 2 && (s[0] == '/' || s[0] == '\\') && (s[1] == '/' || s[1] == '\\'):
		rest := strings.TrimLeft(s, "/\\")
		if rest == "" {
			return urlAbsolute, "/"
		}
		return urlExternal, "https://" + rest
	case s[0] == '/' || s[0] == '\\':
		return urlAbsolute, u
	case s[0] == '#':
		return urlFragment, u
	}
	return urlRelative, u
}

// attachmentName returns the file name a relative URL names: "./" and
// percent-encoding removed, query and fragment dropped.
func attachmentName(u string) string {
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		u = u[:i]
	}
	u = strings.TrimPrefix(u, "./")
	if s, err := url.PathUnescape(u); err == nil {
		u = s
	}
	return u
}
