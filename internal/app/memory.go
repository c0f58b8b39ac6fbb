package app

import (
	"context"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"time"

	"codeberg.org/placette/placette/internal/resident"
)

// Returning memory after bursts, and at rest.
const (
	// memoryTick is how often placette looks at its memory and whether it
	// is at rest.
	memoryTick = 10 * time.Second
	// restCPU is the processor time used during a tick under which
	// placette is at rest: 1%.
	restCPU = memoryTick / 100
	// restGrowth is how much the resident memory may grow at rest, after
	// it was released, before it is released again.
	restGrowth = 1 << 20
	// trimTicks is how many busy ticks pass between two looks at the free
	// heap (30 s).
	trimTicks = 3
	// trimThreshold is how much free heap memory, still held from the
	// system, makes it given back while placette is busy.
	trimThreshold = 8 << 20
)

// heapFree is the runtime metric of the heap memory that is free and
// could be given back to the system but has not been.
const heapFree = "/memory/classes/heap/free:bytes"

// memoryKeeper decides, every tick, what memory to give back. While
// placette is busy it gives back the free heap when more than
// trimThreshold is held: after a burst (an import, a reindex, many
// clients at once) the heap is mostly free again, but Go's background
// scavenger gives it back slowly, and a server stayed above 100 MB for
// minutes after importing an archive, on a board that may have 512 MB for
// everything. When placette is at rest (it used less than 1% of a
// processor during the tick: no request, no mail, no indexing), it also
// unmaps the pages of files it does not need at rest (release): a
// freshly written index or database is mapped almost whole by its first
// reads, and the executable by the start. It does that once per rest, and
// again at rest only when the resident memory grew by restGrowth over
// what it was a tick after the release (by then, the little that runs at
// rest is mapped again).
type memoryKeeper struct {
	cpu     func() time.Duration // the processor time used so far
	rss     func() int64         // the resident memory
	release func()               // gives back what is not needed at rest
	trim    func() uint64        // gives back the free heap if too much is held

	lastCPU  time.Duration
	released bool  // released since the last busy tick
	settling bool  // released at the last tick
	floor    int64 // the resident memory a tick after the last release
	busy     int   // busy ticks since the last trim
}

// tick looks at the memory once and says what it did.
func (k *memoryKeeper) tick() (released bool, trimmed uint64) {
	cpu := k.cpu()
	used := cpu - k.lastCPU
	k.lastCPU = cpu
	if used > restCPU {
		k.released, k.settling = false, false
		if k.busy++; k.busy >= trimTicks {
			k.busy = 0
			trimmed = k.trim()
		}
		return false, trimmed
	}
	if k.settling {
		// The code and data that run at rest were mapped again since
		// the release: what is resident now is the floor.
		k.settling = false
		k.floor = k.rss()
		return false, 0
	}
	if k.released && k.rss() < k.floor+restGrowth {
		return false, 0
	}
	k.release() // gives back the free heap too
	k.released = true
	k.settling = true
	k.busy = 0
	// The release's own work is not activity.
	k.lastCPU = k.cpu()
	return true, 0
}

// keepMemory runs the memory keeper every memoryTick until ctx ends.
func (a *App) keepMemory(ctx context.Context) {
	k := &memoryKeeper{
		cpu:     cpuTime,
		rss:     resident.RSS,
		release: a.releaseAtRest,
		trim:    func() uint64 { return trimOnce(trimThreshold) },
	}
	k.lastCPU = k.cpu()
	t := time.NewTicker(memoryTick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			before := k.rss()
			released, trimmed := k.tick()
			switch {
			case released:
				a.logger.Debug("at rest: memory returned to the system", "rss_before", before, "rss_after", k.rss())
			case trimmed > 0:
				a.logger.Debug("free memory returned to the system", "bytes", trimmed)
			}
		}
	}
}

// releaseAtRest gives back the free heap, and unmaps the pages of the
// search index, the database and the executable (see package resident).
func (a *App) releaseAtRest() {
	// Two collections: the first moves what sync.Pools hold to their
	// victim caches, the second frees it (bleve's pool of segment
	// builders kept 10 MB after an import), then the heap is given back.
	runtime.GC()
	debug.FreeOSMemory()
	a.index.ReleaseMappings()
	a.db.ReleaseMapping()
	if _, err := resident.ReleaseExecutable(); err != nil {
		a.logger.Debug("the executable's pages stay mapped", "error", err)
	}
}

// trimOnce gives the free heap memory back to the system if more than
// threshold bytes of it are held, and returns how many bytes were held.
func trimOnce(threshold uint64) uint64 {
	free := readHeapFree()
	if free <= threshold {
		return 0
	}
	debug.FreeOSMemory()
	return free
}

func readHeapFree() uint64 {
	s := []metrics.Sample{{Name: heapFree}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}
