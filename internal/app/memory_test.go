package app

import (
	"runtime"
	"testing"
)

// burstSink holds TestTrimOnce's burst where the compiler cannot see it
// is never read.
var burstSink [][]byte

// TestTrimOnce checks that the heap a burst left free is given back, and
// that nothing happens under the threshold.
func TestTrimOnce(t *testing.T) {
	// A burst: 64 MiB in 1 MiB pieces, then dropped.
	burstSink = make([][]byte, 64)
	for i := range burstSink {
		burstSink[i] = make([]byte, 1<<20)
		burstSink[i][0] = 1
	}
	burstSink = nil
	runtime.GC()
	if free := readHeapFree(); free < 16<<20 {
		t.Fatalf("after the burst only %d bytes of the heap are free: the test does not make a burst", free)
	}
	if held := trimOnce(1 << 40); held != 0 {
		t.Errorf("under the threshold, trimOnce gave back %d bytes", held)
	}
	if held := trimOnce(8 << 20); held < 16<<20 {
		t.Errorf("trimOnce found %d bytes held, want the burst's", held)
	}
	if free := readHeapFree(); free > 8<<20 {
		t.Errorf("after trimOnce, %d bytes of the heap are still free and held", free)
	}
}
