package main

import (
	"context"
	"strings"
	"testing"

	"codeberg.org/placette/placette/internal/app/apptest"
)

func TestModeFlagErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want []string // on standard error
	}{
		{"bad domain", nil, []string{"serve", "-domain", "exa mple.org"}, []string{"-domain", "not a domain name"}},
		{"local name in public mode", nil, []string{"serve", "-domain", "localhost"}, []string{"-domain", "-local-ca"}},
		{"domain from the environment", map[string]string{"PLACETTE_DOMAIN": "pi.local"}, []string{"serve"}, []string{"pi.local", "-local-ca"}},
		{"acme email without a domain", nil, []string{"serve", "-acme-email", "sam@example.org"}, []string{"-acme-email: only in public mode"}},
		{"bad acme email", nil, []string{"serve", "-domain", "a.example.org", "-acme-email", "sam"}, []string{"-acme-email", "not a mail address"}},
		{"plain http CA", nil, []string{"serve", "-domain", "a.example.org", "-acme-ca", "http://ca.example/dir"}, []string{"-acme-ca", "https://"}},
		{"https without a mode", nil, []string{"serve", "-https", ":8443"}, []string{"-https: only with -domain"}},
		{"proxy and LAN", nil, []string{"serve", "-behind-proxy", "-local-ca"}, []string{"choose one"}},
	}
	dir := apptest.TempDir(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(context.Background(), "", tt.env, append(tt.args, "-data", dir)...)
			if r.code != exitUsage {
				t.Errorf("exit code %d, want 2; %v", r.code, r)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("standard error does not say %q:\n%s", w, r.stderr)
				}
			}
		})
	}
}

func TestDoctorOffline(t *testing.T) {
	t.Parallel()
	dir := apptest.TempDir(t)
	if r := run(context.Background(), password+"\n", nil, "user", "add", "sam", "-admin", "-data", dir); r.code != exitOK {
		t.Fatalf("user add: %v", r)
	}
	r := run(context.Background(), "", nil, "doctor", "-data", dir)
	if r.code != exitOK {
		t.Fatalf("doctor: %v", r)
	}
	for _, want := range []string{"local mode", "certificates:\n  none", "mail queue:", "0 waiting, 0 failing", "database", "no problem found"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("doctor does not say %q:\n%s", want, r.stdout)
		}
	}
	if r := run(context.Background(), "", nil, "doctor", "-bogus", "-data", dir); r.code == exitOK {
		t.Errorf("doctor -bogus: %v", r)
	}
}
