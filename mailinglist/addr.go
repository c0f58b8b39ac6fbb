package mailinglist

import (
	"regexp"
	"strings"
)

// kind is what an address of a list is for.
type kind int

// The addresses of a list.
const (
	kindPost        kind = iota // NAME
	kindSubscribe               // NAME-subscribe
	kindUnsubscribe             // NAME-unsubscribe
	kindRequest                 // NAME-request
	kindOwner                   // NAME-owner
	kindBounces                 // NAME-bounces, NAME-bounces+TOKEN
)

// suffixKinds maps the local part suffixes to their kinds.
var suffixKinds = []struct {
	suffix string
	kind   kind
}{
	{"-subscribe", kindSubscribe},
	{"-unsubscribe", kindUnsubscribe},
	{"-request", kindRequest},
	{"-owner", kindOwner},
	{"-bounces", kindBounces},
}

// target is the list address a recipient names.
type target struct {
	List  string
	Kind  kind
	Token string // the VERP token of NAME-bounces+TOKEN
}

// splitAddr splits addr (an envelope address, maybe in angle brackets)
// into its local part and lower-cased domain; ok is false when it is not
// one address.
func splitAddr(addr string) (local, domain string, ok bool) {
	addr = strings.TrimSpace(addr)
	addr = strings.TrimPrefix(addr, "<")
	addr = strings.TrimSuffix(addr, ">")
	i := strings.LastIndexByte(addr, '@')
	if i <= 0 || i == len(addr)-1 || len(addr) > 254 {
		return "", "", false
	}
	local, domain = addr[:i], strings.ToLower(addr[i+1:])
	if strings.ContainsAny(addr, " \t\r\n<>,;\"\\") || strings.Contains(domain, "@") || len(local) > 64 {
		return "", "", false
	}
	return local, domain, true
}

// parseLocal tells which address of which list local (a local part) is;
// isList reports whether a list of that name exists at the domain. ok is
// false for an address that is none of a list's.
func parseLocal(local string, isList func(string) bool) (t target, ok bool) {
	local = strings.ToLower(local)
	base, token, plus := strings.Cut(local, "+")
	if base == "" {
		return target{}, false
	}
	if !plus && isList(base) {
		return target{List: base, Kind: kindPost}, true
	}
	for _, sk := range suffixKinds {
		name, found := strings.CutSuffix(base, sk.suffix)
		if !found || name == "" || !isList(name) {
			continue
		}
		if plus && (sk.kind != kindBounces || token == "" || !verpRE.MatchString(token)) {
			return target{}, false
		}
		return target{List: name, Kind: sk.kind, Token: token}, true
	}
	return target{}, false
}

// verpRE matches a VERP token.
var verpRE = regexp.MustCompile(`^[a-z2-7]{1,64}$`)
