//go:build !linux

package resident

// Release does nothing here: the advice it gives is Linux's.
func Release(regions ...[]byte) int { return 0 }

// ReleaseAt does nothing here: the advice it gives is Linux's.
func ReleaseAt(addr uintptr, size int) bool { return false }

// ReleaseExecutable does nothing here: the advice it gives is Linux's.
func ReleaseExecutable() (int64, error) { return 0, nil }

// RSS returns 0 here: it reads Linux's /proc.
func RSS() int64 { return 0 }

// FileRSS returns 0 here: it reads Linux's /proc.
func FileRSS(path string) (int64, error) { return 0, nil }
