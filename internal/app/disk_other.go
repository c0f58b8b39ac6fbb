//go:build !(linux || darwin || freebsd || netbsd || openbsd)

package app

// diskSpace is unknown on this system.
func diskSpace(string) (free, total uint64) { return 0, 0 }
