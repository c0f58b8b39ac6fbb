package main

import (
	"strings"
	"testing"
)

func TestBudgetMet(t *testing.T) {
	for _, tc := range []struct {
		applies, ok bool
		want        string
	}{
		{true, true, "yes"},
		{true, false, "**no**"},
		{false, true, "n/a (not the standard data set)"},
		{false, false, "n/a (not the standard data set)"},
	} {
		if got := budgetMet(tc.applies, tc.ok); got != tc.want {
			t.Errorf("budgetMet(%v, %v) = %q, want %q", tc.applies, tc.ok, got, tc.want)
		}
	}
}

func TestLoadRowBudget(t *testing.T) {
	good := func(clients int, rate, p50, p99 float64) loadResult {
		return loadResult{Clients: clients, Requests: 100, ReqPerSec: rate, P50Ms: p50, P99Ms: p99}
	}
	for _, tc := range []struct {
		name       string
		page       string
		l          loadResult
		standard   bool
		budget     string
		met        string
		ratioStart string
	}{
		{"wiki met", pageWiki, good(16, 9000, 1, 19), true, "≥ 8,000 req/s, p99 ≤ 20 ms", "yes", ""},
		{"wiki too slow", pageWiki, good(16, 7999, 1, 19), true, "≥ 8,000 req/s, p99 ≤ 20 ms", "**no**", ""},
		{"wiki p99 too long", pageWiki, good(16, 9000, 1, 21), true, "≥ 8,000 req/s, p99 ≤ 20 ms", "**no**", ""},
		// The wiki budget holds whatever the data set: one page is one page.
		{"wiki small data set", pageWiki, good(16, 9000, 1, 19), false, "≥ 8,000 req/s, p99 ≤ 20 ms", "yes", ""},
		{"wiki with errors", pageWiki, loadResult{Clients: 16, ReqPerSec: 9000, P99Ms: 1, Errors: 1}, true, "≥ 8,000 req/s, p99 ≤ 20 ms", "**no**", ""},
		{"wiki 64 clients", pageWiki, good(64, 100, 1, 500), true, "", "", ""},
		{"thread met", pageThread, good(16, 400, 1, 1), true, "≥ 400 req/s (56 messages)", "yes", ""},
		{"thread not 200", pageThread, loadResult{Clients: 16, ReqPerSec: 500, Non200: 1}, true, "≥ 400 req/s (56 messages)", "**no**", ""},
		{"thread small data set", pageThread, good(16, 1, 1, 1), false, "≥ 400 req/s (56 messages)", "n/a (not the standard data set)", ""},
		{"fresh search met", pageSearchFresh, good(16, 700, 1, 1), true, "≥ 700 req/s", "yes", ""},
		{"fresh search slow", pageSearchFresh, good(16, 699, 1, 1), true, "≥ 700 req/s", "**no**", ""},
		{"fresh search alone", pageSearchFresh, good(1, 10, 5, 9), true, "p50 ≤ 5 ms alone", "yes", ""},
		{"fresh search alone slow", pageSearchFresh, good(1, 10, 5.1, 9), true, "p50 ≤ 5 ms alone", "**no**", ""},
		{"cached search", pageSearch, good(16, 1, 100, 100), true, "", "", ""},
		{"list", pageList, good(16, 1, 100, 100), true, "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := loadRow(&passResult{}, measure{Page: tc.page, URL: "/x", Placette: tc.l}, tc.standard)
			if r.budget != tc.budget || r.met != tc.met {
				t.Errorf("budget %q, met %q; want %q, %q", r.budget, r.met, tc.budget, tc.met)
			}
		})
	}
}

func TestLoadRowRatio(t *testing.T) {
	ref := loadResult{ReqPerSec: 4000}
	r := loadRow(&passResult{}, measure{Page: pageWiki, URL: "/wiki/P", Placette: loadResult{Clients: 1, ReqPerSec: 1000}, Reference: &ref}, true)
	if want := "0.25 (4,000 req/s)"; r.ratio != want {
		t.Errorf("ratio %q, want %q", r.ratio, want)
	}
	if want := "wiki page `/wiki/P`, 1 client"; r.what != want {
		t.Errorf("what %q, want %q", r.what, want)
	}
}

// TestPassRowsFanout checks the fan-out row: its budget is for 1,000
// members, and copies are shown only when the harness counted them.
func TestPassRowsFanout(t *testing.T) {
	for _, tc := range []struct {
		name   string
		f      fanoutResult
		met    string
		figure string // the start of the figure
		absent string // not in the figure
	}{
		{"end to end met", fanoutResult{Mode: "end to end", Members: 1000, Seconds: 1.5, Accepted: 0.01, Delivered: 1000, Signed: 1000, Sink: "127.0.0.2:25"},
			"yes", "1.50 s: 1,000 copies, 1,000 DKIM-signed; the post accepted (250) in 0.010 s; sink 127.0.0.2:25", ""},
		{"end to end slow", fanoutResult{Mode: "end to end", Members: 1000, Seconds: 2.5, Delivered: 1000, Signed: 1000},
			"**no**", "2.50 s: 1,000 copies", ""},
		{"end to end fewer members", fanoutResult{Mode: "end to end", Members: 10, Seconds: 0.1, Delivered: 10, Signed: 10},
			"n/a (not the standard data set)", "0.10 s: 10 copies", ""},
		{"go test", fanoutResult{Mode: "go test", Members: 1000, Seconds: 1.2},
			"yes", "1.20 s: mean of BenchmarkFanOut1000's iterations", "copies,"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := tc.f
			var got *row
			for _, r := range passRows(&passResult{Fanout: &f}, nil, options{}) {
				if strings.HasPrefix(r.what, "one post to ") {
					got = &r
				}
			}
			if got == nil {
				t.Fatal("no fan-out row")
			}
			if got.met != tc.met || !strings.HasPrefix(got.figure, tc.figure) || tc.absent != "" && strings.Contains(got.figure, tc.absent) {
				t.Errorf("met %q, figure %q; want %q, %q…", got.met, got.figure, tc.met, tc.figure)
			}
			if want := "one post to " + commas(int64(f.Members)) + " members, " + f.Mode; got.what != want {
				t.Errorf("what %q, want %q", got.what, want)
			}
		})
	}
}

func TestPassRowsNoFanout(t *testing.T) {
	for _, r := range passRows(&passResult{}, nil, options{}) {
		if strings.HasPrefix(r.what, "one post to ") {
			t.Errorf("a fan-out row without a fan-out: %+v", r)
		}
	}
}
