package app

import (
	"runtime"
	"testing"
	"time"
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

// fakeProcess drives a memoryKeeper: the processor time and resident
// memory it reads are set by the test, and its releases and trims counted.
type fakeProcess struct {
	cpu      time.Duration
	rss      int64
	releases int
	trims    int
}

func (p *fakeProcess) keeper() *memoryKeeper {
	return &memoryKeeper{
		cpu: func() time.Duration { return p.cpu },
		rss: func() int64 { return p.rss },
		release: func() {
			p.releases++
			p.rss = 20 << 20
		},
		trim: func() uint64 { p.trims++; return 1 },
	}
}

// TestMemoryKeeper checks when memory is released: once per rest, again at
// rest only if the resident memory grew, never while busy, where the heap
// is trimmed every trimTicks.
func TestMemoryKeeper(t *testing.T) {
	p := &fakeProcess{rss: 70 << 20}
	k := p.keeper()
	busy := func() { p.cpu += memoryTick / 10 } // 10% of a processor
	idle := func() { p.cpu += memoryTick / 1000 }
	steps := []struct {
		name     string
		do       func()
		released bool
		trims    int
	}{
		{"busy", busy, false, 0},
		{"busy", busy, false, 0},
		{"busy, the third tick: trim", busy, false, 1},
		{"at rest: release", idle, true, 1},
		{"still at rest, the code that runs at rest mapped again (2 MiB): nothing", func() { idle(); p.rss += 2 << 20 }, false, 1},
		{"still at rest: nothing", idle, false, 1},
		{"at rest, a monitor's request (grew 512 KiB): nothing", func() { idle(); p.rss += 512 << 10 }, false, 1},
		{"at rest, grew past 1 MiB: release again", func() { idle(); p.rss += 1 << 20 }, true, 1},
		{"busy", busy, false, 1},
		{"at rest after busy: release", idle, true, 1},
		{"at rest", idle, false, 1},
		{"busy", busy, false, 1},
		{"busy", busy, false, 1},
		{"busy: trim", busy, false, 2},
	}
	for i, s := range steps {
		before := p.releases
		s.do()
		released, _ := k.tick()
		if released != s.released || (p.releases > before) != s.released || p.trims != s.trims {
			t.Errorf("step %d (%s): released %v (%d releases so far), %d trims; want released %v, %d trims",
				i, s.name, released, p.releases, p.trims, s.released, s.trims)
		}
	}
}

// TestMemoryKeeperOwnWork checks that the release's own processor time
// does not count as activity: a slow release is not followed by a busy
// tick that would release again at the next rest.
func TestMemoryKeeperOwnWork(t *testing.T) {
	p := &fakeProcess{rss: 70 << 20}
	k := p.keeper()
	k.release = func() {
		p.releases++
		p.rss = 20 << 20
		p.cpu += 5 * restCPU // a full GC on a slow board
	}
	for i := 0; i < 5; i++ {
		k.tick()
	}
	if p.releases != 1 {
		t.Errorf("five ticks at rest made %d releases, want 1", p.releases)
	}
}
