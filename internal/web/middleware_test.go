package web

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
)

func TestClientAddr(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	tests := []struct {
		name      string
		remote    string
		forwarded []string
		trusted   []netip.Prefix
		want      string // "" for the zero Addr
	}{
		{"no proxy", "203.0.113.5:41000", nil, nil, "203.0.113.5"},
		{"untrusted peer ignores X-Forwarded-For", "203.0.113.5:41000", []string{"198.51.100.7"}, proxies, "203.0.113.5"},
		{"no proxies configured", "10.0.0.1:41000", []string{"198.51.100.7"}, nil, "10.0.0.1"},
		{"trusted proxy", "10.0.0.1:41000", []string{"198.51.100.7"}, proxies, "198.51.100.7"},
		{"right-most untrusted hop", "10.0.0.1:41000", []string{"192.0.2.66, 198.51.100.7, 10.0.0.2"}, proxies, "198.51.100.7"},
		{"spoofed left hops are ignored", "10.0.0.1:41000", []string{"1.1.1.1,8.8.8.8,198.51.100.7"}, proxies, "198.51.100.7"},
		{"several header lines", "10.0.0.1:41000", []string{"192.0.2.66", "198.51.100.7"}, proxies, "198.51.100.7"},
		{"every hop trusted", "10.0.0.1:41000", []string{"10.0.0.3, 10.0.0.2"}, proxies, "10.0.0.1"},
		{"trusted proxy without header", "10.0.0.1:41000", nil, proxies, "10.0.0.1"},
		{"garbage hop", "10.0.0.1:41000", []string{"not-an-address"}, proxies, "10.0.0.1"},
		{"garbage right of a good hop", "10.0.0.1:41000", []string{"198.51.100.7, <script>"}, proxies, "10.0.0.1"},
		{"garbage left of the good hop", "10.0.0.1:41000", []string{"<script>, 198.51.100.7"}, proxies, "198.51.100.7"},
		{"empty header", "10.0.0.1:41000", []string{""}, proxies, "10.0.0.1"},
		{"garbage peer", "nonsense", nil, proxies, ""},
		{"empty peer", "", nil, nil, ""},
		{"peer without port", "203.0.113.5", nil, nil, "203.0.113.5"},
		{"IPv6 peer", "[2001:db8::1]:443", nil, nil, "2001:db8::1"},
		{"IPv6 trusted proxy", "[::1]:8080", []string{"2001:db8:cafe::17"}, proxies, "2001:db8:cafe::17"},
		{"IPv6 client behind IPv4 proxy", "10.0.0.1:41000", []string{"2001:db8::2"}, proxies, "2001:db8::2"},
		{"IPv4-mapped peer", "[::ffff:203.0.113.5]:41000", nil, nil, "203.0.113.5"},
		{"IPv4-mapped hop", "[::1]:8080", []string{"::ffff:198.51.100.7"}, proxies, "198.51.100.7"},
		{"IPv4-mapped trusted peer", "[::ffff:10.0.0.1]:41000", []string{"198.51.100.7"}, proxies, "198.51.100.7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := clientAddr(tt.remote, tt.forwarded, tt.trusted)
			want := netip.Addr{}
			if tt.want != "" {
				want = netip.MustParseAddr(tt.want)
			}
			if got != want {
				t.Errorf("clientAddr(%q, %q) = %v, want %v", tt.remote, tt.forwarded, got, want)
			}
		})
	}
}

// TestClientAddrMiddleware checks that Wrap puts the address in the
// request's context.
func TestClientAddrMiddleware(t *testing.T) {
	shell, _, _ := newShell(t, Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	h := shell.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(ClientAddr(r).String() + " " + AddrKey(ClientAddr(r))))
	}))
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "127.0.0.1:5555"
	r.Header.Set("X-Forwarded-For", "198.51.100.7")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if got := w.Body.String(); got != "198.51.100.7 198.51.100.0/24" {
		t.Errorf("got %q", got)
	}
}

func TestAddrKey(t *testing.T) {
	tests := []struct {
		addr netip.Addr
		want string
	}{
		{netip.MustParseAddr("192.0.2.77"), "192.0.2.0/24"},
		{netip.MustParseAddr("192.0.2.1"), "192.0.2.0/24"},
		{netip.MustParseAddr("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64"},
		{netip.MustParseAddr("2001:db8:1:2:ffff::1"), "2001:db8:1:2::/64"},
		{netip.MustParseAddr("fe80::1%eth0"), "fe80::/64"},
		{netip.Addr{}, "unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.addr.String(), func(t *testing.T) {
			if got := AddrKey(tt.addr); got != tt.want {
				t.Errorf("AddrKey(%v) = %q, want %q", tt.addr, got, tt.want)
			}
		})
	}
}

func TestLocalPath(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "/"},
		{"/", "/"},
		{"/wiki/atelier?x=1#h", "/wiki/atelier?x=1#h"},
		{"/search?q=%2F%2Fevil", "/search?q=%2F%2Fevil"},
		{"wiki/atelier", "/"},
		{"//evil.example", "/"},
		{"/\\evil.example", "/"},
		{"\\\\evil.example", "/"},
		{"https://evil.example", "/"},
		{"javascript:alert(1)", "/"},
		{"/\t/evil.example", "/"},
		{"/\n/evil.example", "/"},
		{"/a\\b", "/"},
		{"/\x7f", "/"},
	}
	for _, tt := range tests {
		if got := LocalPath(tt.in); got != tt.want {
			t.Errorf("LocalPath(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzLocalPath(f *testing.F) {
	for _, s := range []string{"", "/", "/wiki/x?y=1", "//evil.example", "/\\evil.example", "https://evil.example", "/\t/x", "/./..//evil", "/%2F%2Fevil", "\x00", "/é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		got := LocalPath(p)
		if !strings.HasPrefix(got, "/") || strings.HasPrefix(got, "//") || strings.HasPrefix(got, "/\\") {
			t.Fatalf("LocalPath(%q) = %q", p, got)
		}
		if got != "/" && got != p {
			t.Fatalf("LocalPath(%q) = %q: changed, not refused", p, got)
		}
		// Where the redirect of setLang or of the login sends the browser.
		w := httptest.NewRecorder()
		Redirect(w, httptest.NewRequest("GET", "/login", nil), got)
		loc := w.Header().Get("Location")
		u, err := url.Parse(loc)
		if err == nil && (u.Scheme != "" || u.Host != "") || strings.HasPrefix(loc, "//") || strings.ContainsAny(loc, "\\\t\r\n") {
			t.Fatalf("LocalPath(%q) = %q redirects to %q", p, got, loc)
		}
	})
}
