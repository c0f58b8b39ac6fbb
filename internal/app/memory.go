package app

import (
	"context"
	"log/slog"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// Returning memory after bursts.
const (
	// trimInterval is how often the heap's free memory is looked at.
	trimInterval = 30 * time.Second
	// trimThreshold is how much free heap memory, still held from the
	// system, makes it given back.
	trimThreshold = 8 << 20
)

// heapFree is the runtime metric of the heap memory that is free and
// could be given back to the system but has not been.
const heapFree = "/memory/classes/heap/free:bytes"

// trimMemory gives the free heap memory back to the system every interval
// when more than threshold bytes of it are held, until ctx ends. After a
// burst (an import, a reindex, many clients at once) the heap is mostly
// free again, but Go's background scavenger gives it back slowly: a
// server stayed above 100 MB for minutes after importing an archive, on a
// board that may have 512 MB for everything.
func trimMemory(ctx context.Context, interval time.Duration, threshold uint64, logger *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if freed := trimOnce(threshold); freed > 0 {
				logger.Debug("free memory returned to the system", "bytes", freed)
			}
		}
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
