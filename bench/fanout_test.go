package main

import "testing"

// TestBenchLine reads the result line of BenchmarkFanOut1000, with and
// without the -cpu suffix.
func TestBenchLine(t *testing.T) {
	for out, want := range map[string]string{
		"goos: linux\nBenchmarkFanOut1000 \t       3\t2899469561 ns/op\t         1.646 cpu-s/op\t59530266 B/op\n": "2899469561",
		"BenchmarkFanOut1000-2   \t3\t912345678.5 ns/op\t1.5 cpu-s/op\nPASS\n":                                    "912345678.5",
	} {
		m := benchLine.FindStringSubmatch(out)
		if m == nil || m[1] != want {
			t.Errorf("in %q: got %q, want %s", out, m, want)
		}
	}
	if m := benchLine.FindStringSubmatch("BenchmarkFanOut1000-2 --- FAIL\n"); m != nil {
		t.Errorf("a failure read as %q", m)
	}
}
