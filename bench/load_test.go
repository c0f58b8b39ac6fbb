package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	ms := func(ns ...int) []time.Duration {
		var out []time.Duration
		for _, n := range ns {
			out = append(out, time.Duration(n)*time.Millisecond)
		}
		return out
	}
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Millisecond
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"none", nil, 50, 0},
		{"one value is every percentile", ms(7), 99, 7 * time.Millisecond},
		{"p0 is the smallest", ms(1, 2, 3), 0, time.Millisecond},
		{"p100 is the largest", ms(1, 2, 3), 100, 3 * time.Millisecond},
		{"p50 of 100 is the 50th", hundred, 50, 50 * time.Millisecond},
		{"p99 of 100 is the 99th", hundred, 99, 99 * time.Millisecond},
		{"p90 of 100 is the 90th", hundred, 90, 90 * time.Millisecond},
		{"p50 of 4 is the 2nd", ms(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{"p50 of 5 is the 3rd", ms(1, 2, 3, 4, 5), 50, 3 * time.Millisecond},
		{"p99 of 10 is the largest", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 99, 10 * time.Millisecond},
		{"p99.9 of 1000 is the 999th", func() []time.Duration {
			s := make([]time.Duration, 1000)
			for i := range s {
				s[i] = time.Duration(i + 1)
			}
			return s
		}(), 99.9, 999},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := percentile(tt.sorted, tt.p); got != tt.want {
				t.Errorf("percentile(%v, %v) = %v, want %v", tt.sorted, tt.p, got, tt.want)
			}
		})
	}
}

// TestRunLoad runs the generator against a loopback server that answers
// some requests with a 404: every request is counted, the 404s apart,
// and each client keeps its connection.
func TestRunLoad(t *testing.T) {
	var conns, hits atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte("0123456789"))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	res, err := runLoad(context.Background(), loadConfig{
		URLs:     []string{srv.URL + "/a", srv.URL + "/b", srv.URL + "/c", srv.URL + "/missing"},
		Clients:  3,
		Warmup:   50 * time.Millisecond,
		Duration: 300 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests < 20 || int64(res.Requests) > hits.Load() {
		t.Errorf("%d requests recorded, %d served", res.Requests, hits.Load())
	}
	// One in four URLs is missing, and they are taken in turn.
	if q := float64(res.Non200) / float64(res.Requests); q < 0.2 || q > 0.3 {
		t.Errorf("%d of %d not 200, want about a quarter", res.Non200, res.Requests)
	}
	if res.Errors != 0 {
		t.Errorf("%d errors: %s", res.Errors, res.FirstErr)
	}
	if n := conns.Load(); n != 3 {
		t.Errorf("%d connections for 3 clients, want one each (keep-alive)", n)
	}
	if res.Seconds < 0.3 {
		t.Errorf("Seconds = %v, less than the duration", res.Seconds)
	}
	if !slices.IsSorted([]float64{res.P50Ms, res.P90Ms, res.P99Ms, res.MaxMs}) || res.P50Ms <= 0 {
		t.Errorf("percentiles out of order: %+v", res)
	}
}

func TestRunLoadStopsWithContext(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := runLoad(ctx, loadConfig{URLs: []string{srv.URL}, Clients: 2, Duration: time.Hour}); err == nil {
		t.Error("runLoad did not fail when its context ended")
	}
}

func TestSummarize(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	parts := []clientPart{
		{lat: []time.Duration{ms(4), ms(1), ms(3)}, bytes: 300, non200: 1, firstErr: errors.New("GET /x: status 404")},
		{lat: []time.Duration{ms(2), ms(10)}, bytes: 200, errs: 2, firstErr: errors.New("later")},
		{},
	}
	got := summarize(parts, 2*time.Second)
	// 5 answers, 1 not 200: 4 good ones in 2 s.
	want := loadResult{Clients: 3, Seconds: 2, Requests: 5, Errors: 2, Non200: 1, Bytes: 500, ReqPerSec: 2,
		P50Ms: 3, P90Ms: 10, P99Ms: 10, MaxMs: 10, FirstErr: "GET /x: status 404"}
	if got != want {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}
