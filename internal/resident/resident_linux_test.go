package resident

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"unsafe"
)

// mapFile writes size bytes of a pattern to a new file and maps it shared
// and read-only, as bbolt and bleve map theirs.
func mapFile(t *testing.T, size int) (path string, m []byte, want []byte) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "data")
	want = bytes.Repeat([]byte("médiation numérique "), size/21+1)[:size]
	if err := os.WriteFile(path, want, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err = syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Munmap(m) })
	return path, m, want
}

func fileRSS(t *testing.T, path string) int64 {
	t.Helper()
	rss, err := FileRSS(path)
	if err != nil {
		t.Fatal(err)
	}
	return rss
}

// TestReleaseFileMapping checks that a shared file mapping read through is
// released, and that it reads the same afterwards.
func TestReleaseFileMapping(t *testing.T) {
	const size = 8 << 20
	path, m, want := mapFile(t, size)
	if !bytes.Equal(m, want) { // reads every page
		t.Fatal("the mapping does not read as the file")
	}
	if rss := fileRSS(t, path); rss < size/2 {
		t.Fatalf("after reading the whole mapping, %d bytes of %d are resident: the test does not see the mapping", rss, size)
	}
	if n := Release(m, nil); n != 1 {
		t.Fatalf("Release released %d regions, want 1", n)
	}
	if rss := fileRSS(t, path); rss > size/8 {
		t.Errorf("after Release, %d bytes of %d are still resident", rss, size)
	}
	if !bytes.Equal(m, want) {
		t.Error("after Release, the mapping does not read as the file")
	}
	// A part of a mapping can be released too.
	if n := Release(m[:size/2]); n != 1 {
		t.Errorf("Release of half the mapping released %d regions, want 1", n)
	}
}

// TestReleaseLeavesMemory checks that Release refuses what is not a shared
// file mapping: the advice would wipe the heap or an anonymous mapping.
func TestReleaseLeavesMemory(t *testing.T) {
	heap := bytes.Repeat([]byte{0xAB}, 4<<20)
	anon, err := syscall.Mmap(-1, 0, 1<<20, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Munmap(anon)
	for i := range anon {
		anon[i] = 0xCD
	}
	var stack [8192]byte
	stack[100] = 1
	if n := Release(heap, anon, stack[:]); n != 0 {
		t.Errorf("Release released %d regions of the heap, an anonymous mapping and a stack, want 0", n)
	}
	if bytes.Count(heap, []byte{0xAB}) != len(heap) || bytes.Count(anon, []byte{0xCD}) != len(anon) || stack[100] != 1 {
		t.Error("Release changed memory that is not a file mapping")
	}
	// A region that runs past its mapping is refused too (the slice is
	// never read past the mapping).
	_, m, _ := mapFile(t, 1<<20)
	past := unsafe.Slice(unsafe.SliceData(m), len(m)+os.Getpagesize())
	if n := Release(past, m); n != 1 {
		t.Errorf("Release released %d regions, want only the one within the file mapping", n)
	}
}

//go:noinline
func work(n int) int {
	s := 0
	for i := range n {
		s += i * i % 7
	}
	return s
}

// TestReleaseExecutable checks that the test binary's own pages are
// released and that it runs on.
func TestReleaseExecutable(t *testing.T) {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	before := fileRSS(t, exe)
	if before == 0 {
		t.Fatal("none of the executable is resident: the test does not see its mappings")
	}
	released, err := ReleaseExecutable()
	if err != nil {
		t.Fatal(err)
	}
	after := fileRSS(t, exe)
	if released == 0 || after >= before {
		t.Errorf("ReleaseExecutable released %d bytes; the executable's resident bytes went from %d to %d", released, before, after)
	}
	// The code runs on: it is mapped again as it runs.
	runtime.GC()
	if work(1000) != work(1000) {
		t.Error("the code does not run the same after the release")
	}
}

// TestRSS checks that RSS follows the process's resident memory.
func TestRSS(t *testing.T) {
	before := RSS()
	if before <= 0 {
		t.Fatalf("RSS() = %d", before)
	}
	// Fresh pages, not the heap's (some of it resident already).
	m, err := syscall.Mmap(-1, 0, 32<<20, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Munmap(m)
	for i := 0; i < len(m); i += 4096 {
		m[i] = 1
	}
	if after := RSS(); after < before+24<<20 {
		t.Errorf("RSS went from %d to %d after touching 32 MiB", before, after)
	}
}

// TestParseMappings checks the reading of smaps lines, paths with spaces
// and a deleted executable among them, and refuses a line it cannot read.
func TestParseMappings(t *testing.T) {
	smaps := "00400000-00b52000 r-xp 00000000 fd:01 1234 /usr/bin/placette (deleted)\n" +
		"Size:              11592 kB\nRss:                9300 kB\nAnonymous:             0 kB\n" +
		"b6000000-b6100000 r--s 00000000 fd:01 99 /srv/my data/index/store/00000000000b.zap\n" +
		"Rss:                  64 kB\n" +
		"b6200000-b6300000 rw-p 00000000 00:00 0 \n" +
		"Rss:                1024 kB\nAnonymous:          1024 kB\n" +
		"VmFlags: rd wr mr mw me ac sd\n" +
		"ffff2000-100000000 ---p 00000000 00:00 0 \n"
	ms, err := parseMappings([]byte(smaps))
	if err != nil {
		t.Fatal(err)
	}
	want := mappings{
		{start: 0x400000, end: 0xb52000, inode: 1234, path: "/usr/bin/placette (deleted)", rss: 9300 << 10},
		{start: 0xb6000000, end: 0xb6100000, shared: true, inode: 99, path: "/srv/my data/index/store/00000000000b.zap", rss: 64 << 10},
		{start: 0xb6200000, end: 0xb6300000, writable: true, rss: 1 << 20, anon: 1 << 20},
		{start: 0xffff2000, end: 1 << 32},
	}
	if len(ms) != len(want) {
		t.Fatalf("parsed %d mappings, want %d: %+v", len(ms), len(want), ms)
	}
	for i := range want {
		if ms[i] != want[i] {
			t.Errorf("mapping %d = %+v, want %+v", i, ms[i], want[i])
		}
	}
	if m := ms.find(0xb6000000, 0xb6000800); m == nil || m.inode != 99 {
		t.Errorf("find in the segment's mapping = %+v", m)
	}
	if m := ms.find(0xb60ff000, 0xb6100001); m != nil {
		t.Errorf("find of a region past the mapping's end = %+v, want nil", m)
	}
	for _, bad := range []string{"zzz-00b52000 r-xp 00000000 fd:01 1 /x\n", "00400000-00300000 r-xp 0 fd:01 1\n", "00400000-00b52000 r\n"} {
		if _, err := parseMappings([]byte(bad)); err == nil {
			t.Errorf("parseMappings(%q) gave no error", bad)
		}
	}
}
