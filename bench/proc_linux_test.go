package main

import (
	"os"
	"testing"
	"time"
)

// TestReadStatusSelf reads the test's own status, on Linux.
func TestReadStatusSelf(t *testing.T) {
	m, err := readStatus(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if m.VmRSS <= 0 || m.VmHWM < m.VmRSS {
		t.Errorf("implausible: %+v", m)
	}
	s := sampleRSS(os.Getpid(), time.Millisecond, func(string) string { return "any" })
	time.Sleep(10 * time.Millisecond)
	if max := s.Stop(); max.VmRSS <= 0 || max.Files["any"] <= 0 {
		t.Errorf("the sampler saw nothing: %+v", max)
	}
}
