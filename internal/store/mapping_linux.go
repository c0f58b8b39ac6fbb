package store

import (
	"os"
	"syscall"

	"go.etcd.io/bbolt"
)

// releaseMapping tells the kernel that the pages of db's memory mapping
// read so far are not needed any more. Opened with NoFreelistSync, bbolt
// rebuilds its freelist by reading every page of the file, which left the
// whole database resident in the process (98 MB of a 107 MB database)
// though a running server reads a small part of it. The mapping is shared
// and read-only, so the pages stay in the kernel's page cache and are
// mapped again, unchanged, on the next read. Errors are ignored: the
// advice only trims the resident memory.
func releaseMapping(db *bbolt.DB, path string) {
	fi, err := os.Stat(path)
	if err != nil || fi.Size() == 0 {
		return
	}
	// The mapping is at least as large as the file (bbolt maps more as
	// the file grows), and starts on a page boundary.
	syscall.Syscall(syscall.SYS_MADVISE, db.Info().Data, uintptr(fi.Size()), syscall.MADV_DONTNEED)
}
