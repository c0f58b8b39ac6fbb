package web

import (
	"crypto/tls"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

func TestBaseURL(t *testing.T) {
	t.Parallel()
	proxy := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	tests := []struct {
		name    string
		secure  bool
		trusted []netip.Prefix
		remote  string
		host    string
		tls     bool
		headers map[string]string
		want    string
	}{
		{name: "plain", remote: "192.0.2.1:5000", host: "placette.example", want: "http://placette.example"},
		{name: "tls", remote: "192.0.2.1:5000", host: "placette.example", tls: true, want: "https://placette.example"},
		{name: "port kept", remote: "192.0.2.1:5000", host: "192.168.1.2:8443", tls: true, want: "https://192.168.1.2:8443"},
		{name: "from the proxy", secure: true, trusted: proxy, remote: "127.0.0.1:4000", host: "127.0.0.1:8080",
			headers: map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-Host": "Liste.Example.org"}, want: "https://liste.example.org"},
		{name: "proxy chain: the first value", trusted: proxy, remote: "127.0.0.1:4000", host: "127.0.0.1:8080",
			headers: map[string]string{"X-Forwarded-Proto": "https, http", "X-Forwarded-Host": "a.example, b.example"}, want: "https://a.example"},
		{name: "proxy without headers", secure: true, trusted: proxy, remote: "127.0.0.1:4000", host: "wiki.example", want: "https://wiki.example"},
		{name: "stranger's headers ignored", trusted: proxy, remote: "203.0.113.5:4000", host: "placette.example",
			headers: map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example"}, want: "http://placette.example"},
		{name: "no proxy configured", remote: "127.0.0.1:4000", host: "placette.example",
			headers: map[string]string{"X-Forwarded-Host": "evil.example"}, want: "http://placette.example"},
		{name: "bad forwarded host", trusted: proxy, remote: "127.0.0.1:4000", host: "placette.example",
			headers: map[string]string{"X-Forwarded-Host": "evil.example/path?"}, want: "http://localhost"},
		{name: "bad proto ignored", trusted: proxy, remote: "127.0.0.1:4000", host: "placette.example",
			headers: map[string]string{"X-Forwarded-Proto": "javascript"}, want: "http://placette.example"},
		{name: "bad host", remote: "192.0.2.1:5000", host: "a b@c", want: "http://localhost"},
		{name: "ipv6 host", remote: "[2001:db8::1]:5000", host: "[2001:db8::2]:8080", want: "http://[2001:db8::2]:8080"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Shell{cfg: Config{Secure: tt.secure, TrustedProxies: tt.trusted}}
			r := httptest.NewRequest("GET", "/wiki/-/recent.atom", nil)
			r.RemoteAddr, r.Host = tt.remote, tt.host
			if tt.tls {
				r.TLS = &tls.ConnectionState{}
			}
			for k, v := range tt.headers {
				r.Header.Set(k, v)
			}
			if got := s.BaseURL(r); got != tt.want {
				t.Errorf("BaseURL = %q, want %q", got, tt.want)
			}
		})
	}
}

func FuzzBaseURL(f *testing.F) {
	f.Add("placette.example", "https", "a.example")
	f.Add("[::1]:80", "http", "x/y")
	s := &Shell{cfg: Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}}
	f.Fuzz(func(t *testing.T, host, proto, fwdHost string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr, r.Host = "127.0.0.1:1", host
		r.Header.Set("X-Forwarded-Proto", proto)
		r.Header.Set("X-Forwarded-Host", fwdHost)
		u := s.BaseURL(r)
		if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			t.Fatalf("BaseURL gave %q", u)
		}
		rest := u[len("http://"):]
		if u[4] == 's' {
			rest = u[len("https://"):]
		}
		for _, c := range rest {
			if c == '/' || c == '?' || c == '#' || c == '@' {
				t.Fatalf("BaseURL gave %q", u)
			}
		}
	})
}
