package web

import (
	"context"
	"errors"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"runtime/debug"
	"strings"
	"time"
)

// Wrap puts next inside the shell: panics become a 500 page; security
// headers; the client's address; the reader's language; the logged-in
// person; and, for every state-changing request, a size limit on the body
// and CSRF checks.
func (s *Shell) Wrap(next http.Handler) http.Handler {
	h := s.protect(next)
	h = s.withUser(h)
	h = s.withLang(h)
	h = s.withClientAddr(h)
	h = s.headers(h)
	return s.recoverPanics(h)
}

// contentSecurityPolicy lets a page load nothing from another origin, run
// no inline script and be framed by nobody.
const contentSecurityPolicy = "default-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

func (s *Shell) headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if s.cfg.Secure {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Shell) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.logger.Error("panic serving request", "method", r.Method, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
			s.serverError(w, r)
		}()
		next.ServeHTTP(w, r)
	})
}

type printerKey struct{}

func (s *Shell) withLang(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := s.catalog.Printer(s.catalog.Match(r))
		w.Header().Add("Vary", "Accept-Language, Cookie")
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), printerKey{}, p)))
	})
}

func (s *Shell) withUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u := s.sessionUser(w, r); u != nil {
			r = r.WithContext(WithUser(r.Context(), u))
		}
		next.ServeHTTP(w, r)
	})
}

type addrKey struct{}

// ClientAddr returns the address of the person behind r: the connection's
// peer, or what a trusted proxy says in X-Forwarded-For. It is the zero
// Addr when it cannot be known.
func ClientAddr(r *http.Request) netip.Addr {
	a, _ := r.Context().Value(addrKey{}).(netip.Addr)
	return a
}

func (s *Shell) withClientAddr(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := clientAddr(r.RemoteAddr, r.Header.Values("X-Forwarded-For"), s.cfg.TrustedProxies)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), addrKey{}, a)))
	})
}

// clientAddr returns the client's address: the peer's, unless the peer is a
// trusted proxy, in which case the right-most address of X-Forwarded-For
// that is not itself a trusted proxy.
func clientAddr(remote string, forwarded []string, trusted []netip.Prefix) netip.Addr {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	peer = peer.Unmap()
	isTrusted := func(a netip.Addr) bool {
		for _, p := range trusted {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	if !isTrusted(peer) {
		return peer
	}
	var hops []string
	for _, f := range forwarded {
		hops = append(hops, strings.Split(f, ",")...)
	}
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return peer
		}
		a = a.Unmap()
		if !isTrusted(a) {
			return a
		}
	}
	return peer
}

// AddrKey returns the network a client address is counted in for rate
// limits: its /24 for IPv4, its /64 for IPv6, since one person easily has a
// whole IPv6 /64.
func AddrKey(a netip.Addr) string {
	if !a.IsValid() {
		// netip.Addr.Prefix gives the zero Addr a zero Prefix, not an error.
		return "unknown"
	}
	bits := 24
	if a.Is6() {
		bits = 64
	}
	p, err := a.Prefix(bits)
	if err != nil {
		return "unknown"
	}
	return p.String()
}

func isSafeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// protect limits the body of every state-changing request, parses its
// form, and checks it came from one of our own pages: the browser's
// cross-origin signals (http.CrossOriginProtection) and the form's token.
// A body that declares a length past the limit is refused before it is
// read; the others, unless they declare a small length (most forms:
// logins, edits of ordinary pages), take their share of the memory budget
// first, so that slow uploads cannot hold back the small forms.
func (s *Shell) protect(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isSafeMethod(r.Method) {
			next.ServeHTTP(w, r)
			return
		}
		limit := s.cfg.MaxFormBytes
		ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		multipart := ct == "multipart/form-data"
		if multipart {
			limit = s.cfg.MaxUploadBytes
		}
		if r.ContentLength > limit {
			s.Error(w, r, ErrTooLarge)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		if r.ContentLength < 0 || r.ContentLength > smallBody {
			cost := bodyMemory(r.ContentLength, limit, multipart, s.cfg.MaxBodyMemory)
			ctx, cancel := context.WithTimeout(r.Context(), s.bodyWait)
			ok := s.bodies.Take(ctx, cost)
			cancel()
			if !ok {
				s.logger.Warn("request refused", "reason", "bodies_memory", "method", r.Method, "path", r.URL.Path)
				s.Error(w, r, ErrBusy)
				return
			}
			defer s.bodies.Give(cost)
		}
		if s.isBypassed(r) {
			next.ServeHTTP(w, r)
			return
		}
		if err := s.csrfProt.Check(r); err != nil {
			s.Error(w, r, ErrForbidden)
			return
		}
		var err error
		if multipart {
			err = r.ParseMultipartForm(multipartMemory)
			if r.MultipartForm != nil {
				// The server removes the temporary files of the request it
				// made, not those of the copies the middleware made with
				// WithContext: remove them here.
				defer r.MultipartForm.RemoveAll()
			}
		} else {
			err = r.ParseForm()
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				s.Error(w, r, ErrTooLarge)
				return
			}
			s.Error(w, r, ErrBadRequest)
			return
		}
		if err := s.checkCSRF(r); err != nil {
			s.Error(w, r, ErrExpiredForm)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// smallBody is the largest declared length of a body that does not count
// against the memory budget.
const smallBody = 64 << 10

// multipartMemory is how many bytes of a multipart form's files are kept
// in memory; the rest goes to temporary files. net/http keeps up to 10 MiB
// more for its other fields.
const multipartMemory = 1 << 20

// bodyWait is how long a request waits for its share of the memory budget
// of bodies before it is answered with a 503.
const bodyWait = 30 * time.Second

// formCopies is how many times the bytes of a form's body are held in
// memory at once: as read, as parsed values, and in the handler's copies
// (a page's text normalised, then shown again in the form when refused).
const formCopies = 4

// bodyMemory returns the share of the memory budget that reading a body of
// length bytes (-1 when it is not declared) under limit takes: the length,
// or the limit when it is not declared; for a form, formCopies times that;
// never more than the whole budget. A multipart form's files past
// multipartMemory go to temporary files, but the handler reads an
// attachment back into memory: its share is its length.
func bodyMemory(length, limit int64, multipart bool, budget int64) int64 {
	n := limit
	if length >= 0 {
		n = length
	}
	if !multipart {
		n *= formCopies
	}
	return min(n, budget)
}

// isBypassed reports whether r matches a pattern given to BypassCSRF.
func (s *Shell) isBypassed(r *http.Request) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bypass == nil {
		return false
	}
	_, pattern := s.bypass.Handler(r)
	return pattern != ""
}

// fromTrustedProxy reports whether r's connection comes from one of the
// trusted proxies.
func (s *Shell) fromTrustedProxy(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	peer = peer.Unmap()
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(peer) {
			return true
		}
	}
	return false
}

// BaseURL returns the site's absolute URL as the person behind r reached
// it, without a trailing slash ("https://example.org"), for links in
// feeds and mail: the request's scheme and Host, or what a trusted proxy
// says in X-Forwarded-Proto and X-Forwarded-Host. Those headers are
// ignored from any other peer, and a host that is not a plain host[:port]
// gives "localhost".
func (s *Shell) BaseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || s.cfg.Secure {
		scheme = "https"
	}
	host := r.Host
	if s.fromTrustedProxy(r) {
		if p := firstValue(r.Header.Get("X-Forwarded-Proto")); p == "http" || p == "https" {
			scheme = p
		}
		if h := firstValue(r.Header.Get("X-Forwarded-Host")); h != "" {
			host = h
		}
	}
	if !validHost(host) {
		host = "localhost"
	}
	return scheme + "://" + strings.ToLower(host)
}

// firstValue returns the first of a header's comma-separated values: the
// one the proxy nearest the person added.
func firstValue(v string) string {
	first, _, _ := strings.Cut(v, ",")
	return strings.ToLower(strings.TrimSpace(first))
}

// validHost reports whether h is a host name or address with an optional
// port, and nothing else.
func validHost(h string) bool {
	if h == "" || len(h) > 260 {
		return false
	}
	for _, r := range h {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == ':' || r == '[' || r == ']') {
			return false
		}
	}
	if strings.HasPrefix(h, "[") {
		host, _, err := net.SplitHostPort(h)
		if err != nil {
			host = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
		}
		_, err = netip.ParseAddr(host)
		return err == nil
	}
	return strings.Count(h, ":") <= 1
}
