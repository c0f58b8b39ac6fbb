package main

import (
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
	if m != want {
		t.Errorf("got %+v, want %+v", m, want)
	}
	if m.RssAnon+m.RssFile+m.RssShmem != m.VmRSS {
		t.Errorf("the parts do not add up to VmRSS: %+v", m)
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
