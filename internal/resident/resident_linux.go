package resident

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"unsafe"
)

// Release unmaps from the process the pages of each region that it has
// read so far, and returns how many regions it released. A region is
// released only if it lies within one shared, read-only mapping of a file
// (such as bbolt's or a bleve segment's), never the heap, whose contents
// the advice would wipe. The caller must keep the regions mapped during
// the call: hold what stops them being unmapped (a bbolt transaction, a
// bleve snapshot).
func Release(regions ...[]byte) int {
	maps, err := readMappings(false)
	if err != nil {
		return 0
	}
	n := 0
	for _, r := range regions {
		if len(r) > 0 && maps.release(uintptr(unsafe.Pointer(unsafe.SliceData(r))), uintptr(len(r))) {
			n++
		}
	}
	return n
}

// ReleaseAt is [Release] for the region of size bytes at addr, for a
// mapping known by its address (bbolt's), and reports whether it was
// released.
func ReleaseAt(addr uintptr, size int) bool {
	maps, err := readMappings(false)
	if err != nil || size <= 0 {
		return false
	}
	return maps.release(addr, uintptr(size))
}

// release advises that the region of size bytes at addr is not needed, if
// it lies within one shared, read-only file mapping of ms.
func (ms mappings) release(addr, size uintptr) bool {
	m := ms.find(uint64(addr), uint64(addr)+uint64(size))
	if m == nil || !m.shared || m.writable || m.inode == 0 {
		return false
	}
	_, _, errno := syscall.Syscall(syscall.SYS_MADVISE, addr, size, syscall.MADV_DONTNEED)
	return errno == 0
}

// ReleaseExecutable unmaps from the process the pages of its executable
// that are unchanged copies of the file (its code and read-only data), and
// returns how many bytes were resident there before. A mapping holding
// pages the process or the loader changed (relocations, a debugger's
// breakpoints) is left alone. Executable mappings are never unmapped, so
// this is safe at any time; the code that runs next is mapped again from
// the page cache.
func ReleaseExecutable() (int64, error) {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return 0, fmt.Errorf("release the executable's pages: %w", err)
	}
	maps, err := readMappings(true)
	if err != nil {
		return 0, fmt.Errorf("release the executable's pages: %w", err)
	}
	var released int64
	for _, m := range maps {
		if m.path != exe || m.writable || m.shared || m.anon > 0 || m.rss == 0 || uint64(uintptr(m.end)) != m.end {
			continue
		}
		if _, _, errno := syscall.Syscall(syscall.SYS_MADVISE, uintptr(m.start), uintptr(m.end-m.start), syscall.MADV_DONTNEED); errno != 0 {
			return released, fmt.Errorf("release the executable's pages: %w", errno)
		}
		released += m.rss
	}
	return released, nil
}

// RSS returns the process's resident memory in bytes, 0 if it cannot be
// read.
func RSS() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return 0
	}
	return pages * int64(os.Getpagesize())
}

// FileRSS returns the resident bytes of the process's mappings of the file
// at path.
func FileRSS(path string) (int64, error) {
	maps, err := readMappings(true)
	if err != nil {
		return 0, err
	}
	var rss int64
	for _, m := range maps {
		if m.path == path {
			rss += m.rss
		}
	}
	return rss, nil
}

// mapping is one line of /proc/self/maps, with its resident and
// anonymous bytes when read from /proc/self/smaps.
type mapping struct {
	start, end uint64
	writable   bool
	shared     bool
	inode      uint64
	path       string
	rss, anon  int64
}

type mappings []mapping

// find returns the mapping that holds all of [start, end), or nil.
func (ms mappings) find(start, end uint64) *mapping {
	for i := range ms {
		if ms[i].start <= start && end <= ms[i].end {
			return &ms[i]
		}
	}
	return nil
}

// readMappings reads the process's mappings from /proc/self/maps, or from
// /proc/self/smaps with their sizes when sizes is set.
func readMappings(sizes bool) (mappings, error) {
	name := "/proc/self/maps"
	if sizes {
		name = "/proc/self/smaps"
	}
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	return parseMappings(data)
}

// parseMappings reads the text of /proc/self/maps or /proc/self/smaps.
func parseMappings(data []byte) (mappings, error) {
	var ms mappings
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if strings.HasSuffix(f[0], ":") { // an smaps size line
			if len(ms) == 0 || len(f) < 2 {
				continue
			}
			kb, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				continue
			}
			switch f[0] {
			case "Rss:":
				ms[len(ms)-1].rss = kb << 10
			case "Anonymous:":
				ms[len(ms)-1].anon = kb << 10
			}
			continue
		}
		m, err := parseMapping(line, f)
		if err != nil {
			return nil, err
		}
		ms = append(ms, m)
	}
	return ms, sc.Err()
}

// parseMapping reads a mapping's first line: "start-end perms offset dev
// inode [path]", the path possibly holding spaces.
func parseMapping(line string, f []string) (mapping, error) {
	var m mapping
	if len(f) < 5 || len(f[1]) < 4 {
		return m, fmt.Errorf("unexpected line in the process's mappings: %q", line)
	}
	lo, hi, ok := strings.Cut(f[0], "-")
	// 64 bits even for a 32-bit process: under a 64-bit kernel, its
	// last mapping may end at 1<<32.
	start, err1 := strconv.ParseUint(lo, 16, 64)
	end, err2 := strconv.ParseUint(hi, 16, 64)
	inode, err3 := strconv.ParseUint(f[4], 10, 64)
	if !ok || err1 != nil || err2 != nil || err3 != nil || end < start {
		return m, fmt.Errorf("unexpected line in the process's mappings: %q", line)
	}
	m.start, m.end, m.inode = start, end, inode
	m.writable = f[1][1] == 'w'
	m.shared = f[1][3] == 's'
	if len(f) > 5 {
		// The path is the rest of the line after the five fields.
		rest := line
		for range 5 {
			rest = strings.TrimLeft(rest, " \t")
			rest = rest[strings.IndexAny(rest, " \t"):]
		}
		m.path = strings.TrimLeft(rest, " \t")
	}
	return m, nil
}
