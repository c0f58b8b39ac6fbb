//go:build linux || darwin || freebsd || netbsd || openbsd

package app

import "syscall"

// diskSpace returns the free (for an unprivileged user) and total bytes
// of the file system holding dir; zeros when unknown. The fields' types
// differ between systems and 32- and 64-bit ARM: every one is converted.
func diskSpace(dir string) (free, total uint64) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, 0
	}
	bsize := uint64(st.Bsize)
	return uint64(st.Bavail) * bsize, uint64(st.Blocks) * bsize
}
