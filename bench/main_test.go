package main

import (
	"io"
	"slices"
	"testing"
	"time"
)

func TestParseFlags(t *testing.T) {
	for _, tc := range []struct {
		name       string
		args       []string
		pages      int
		messages   int
		duration   time.Duration
		warmup     time.Duration
		idle       time.Duration
		gomaxprocs []int
		clients    []int
	}{
		{"defaults", nil, 1000, 20000, 5 * time.Second, time.Second, 30 * time.Second, []int{0, 1}, []int{1, 16, 64}},
		{"quick", []string{"-quick"}, 100, 2000, time.Second, 200 * time.Millisecond, time.Second, []int{0}, []int{1, 16, 64}},
		{"quick keeps the flags given", []string{"-quick", "-pages", "7", "-messages", "9", "-duration", "2s", "-idle", "3s", "-gomaxprocs", "2,1"},
			7, 9, 2 * time.Second, 400 * time.Millisecond, 3 * time.Second, []int{2, 1}, []int{1, 16, 64}},
		{"quick and one flag", []string{"-messages", "50", "-quick"}, 100, 50, time.Second, 200 * time.Millisecond, time.Second, []int{0}, []int{1, 16, 64}},
		{"warm-up a fifth of a short duration", []string{"-duration", "500ms"}, 1000, 20000, 500 * time.Millisecond, 100 * time.Millisecond, 30 * time.Second, []int{0, 1}, []int{1, 16, 64}},
		{"warm-up given", []string{"-warmup", "3s", "-clients", "4"}, 1000, 20000, 5 * time.Second, 3 * time.Second, 30 * time.Second, []int{0, 1}, []int{4}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, ref, err := parseFlags(tc.args, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if ref != [2]string{} {
				t.Errorf("reference server %q", ref)
			}
			if o.Pages != tc.pages || o.Messages != tc.messages || o.Duration != tc.duration || o.Warmup != tc.warmup || o.Idle != tc.idle ||
				!slices.Equal(o.GOMAXPROCS, tc.gomaxprocs) || !slices.Equal(o.Clients, tc.clients) {
				t.Errorf("got pages %d, messages %d, duration %s, warm-up %s, idle %s, GOMAXPROCS %v, clients %v;\nwant %d, %d, %s, %s, %s, %v, %v",
					o.Pages, o.Messages, o.Duration, o.Warmup, o.Idle, o.GOMAXPROCS, o.Clients,
					tc.pages, tc.messages, tc.duration, tc.warmup, tc.idle, tc.gomaxprocs, tc.clients)
			}
		})
	}
}

func TestParseFlagsBad(t *testing.T) {
	for _, args := range [][]string{
		{"-pages", "0"},
		{"-members", "-1"},
		{"-duration", "0s"},
		{"-clients", "0"},
		{"-gomaxprocs", "-1"},
		{"-clients", "1,x"},
		{"extra"},
		{"-nosuchflag"},
	} {
		if o, _, err := parseFlags(args, io.Discard); err == nil {
			t.Errorf("%q: no error, got %+v", args, o)
		}
	}
}

func TestParseInts(t *testing.T) {
	for _, tc := range []struct {
		s     string
		least int
		want  []int // nil for an error
	}{
		{"0,1", 0, []int{0, 1}},
		{" 1 , 16,64 ", 1, []int{1, 16, 64}},
		{"8", 1, []int{8}},
		{"0", 1, nil},
		{"-1", 0, nil},
		{"", 0, nil},
		{"1,,2", 0, nil},
		{"1.5", 0, nil},
	} {
		got, err := parseInts(tc.s, tc.least)
		if tc.want == nil {
			if err == nil {
				t.Errorf("parseInts(%q, %d) = %v, want an error", tc.s, tc.least, got)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("parseInts(%q, %d) = %v, %v; want %v", tc.s, tc.least, got, err, tc.want)
		}
	}
}
