package main

import (
	"reflect"
	"strings"
	"testing"
)

// status is a /proc/PID/status of Linux 6.1, cut.
const status = `Name:	placette
Umask:	0022
State:	S (sleeping)
Pid:	4242
VmPeak:	 1293464 kB
VmSize:	 1293464 kB
VmLck:	       0 kB
VmHWM:	   53144 kB
VmRSS:	   36128 kB
RssAnon:	   13512 kB
RssFile:	   22604 kB
RssShmem:	      12 kB
VmData:	   90520 kB
Threads:	9
`

func TestParseStatus(t *testing.T) {
	m, err := parseStatus(strings.NewReader(status))
	if err != nil {
		t.Fatal(err)
	}
	want := memStatus{VmRSS: 36128 << 10, VmHWM: 53144 << 10, RssAnon: 13512 << 10, RssFile: 22604 << 10, RssShmem: 12 << 10}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("got %+v, want %+v", m, want)
	}
}

func TestParseStatusBad(t *testing.T) {
	for name, s := range map[string]string{
		"no VmRSS":      "Name:\tx\nRssAnon:\t12 kB\n",
		"not kB":        "VmRSS:\t12 MB\n",
		"not a number":  "VmRSS:\tlots kB\n",
		"empty":         "",
		"missing value": "VmRSS:\n",
	} {
		t.Run(name, func(t *testing.T) {
			if m, err := parseStatus(strings.NewReader(s)); err == nil {
				t.Errorf("no error, got %+v", m)
			}
		})
	}
}

// smaps is a /proc/PID/smaps of placette, cut: its binary (text, and data
// with pages copied on write), the heap, the database and an index
// segment, the index's folder under the data folder.
const smaps = `00400000-00d9e000 r-xp 00000000 fe:00 1234                       /tmp/b/placette
Size:              9848 kB
Rss:               6000 kB
Anonymous:            0 kB
VmFlags: rd ex mr mw me dw sd
00f00000-00f40000 rw-p 00b00000 fe:00 1234                       /tmp/b/placette
Size:               256 kB
Rss:                200 kB
Anonymous:          150 kB
VmFlags: rd wr mr mw me ac sd
01000000-02000000 rw-p 00000000 00:00 0                          [heap]
Size:             16384 kB
Rss:              12000 kB
Anonymous:        12000 kB
7f0000000000-7f0008000000 r--s 00000000 fe:00 99                 /tmp/d/placette.db
Size:            131072 kB
Rss:              90000 kB
Anonymous:            0 kB
VmFlags: rd sh mr mw me ms sd
7f1000000000-7f1000400000 r--s 00000000 fe:00 100                /tmp/d/index/store/000000000a1b.zap
Size:              4096 kB
Rss:               3000 kB
Anonymous:            0 kB
7f2000000000-7f2000001000 r--p 00000000 fe:00 101                /usr/lib/locale/C.utf8 (deleted)
Size:                 4 kB
Rss:                  4 kB
Anonymous:            0 kB
7f3000000000-7f3000010000 rw-p 00000000 00:00 0 
Size:                64 kB
Rss:                 64 kB
Anonymous:           64 kB
`

func TestParseSmaps(t *testing.T) {
	got, err := parseSmaps(strings.NewReader(smaps), fileClass("/tmp/d", "/tmp/b/placette"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"binary": (6000 + 50) << 10, "placette.db": 90000 << 10, "index": 3000 << 10, "other": 4 << 10}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
