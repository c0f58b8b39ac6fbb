package search

import (
	"context"
	"testing"
	"time"
)

// TestDrainRemovesPersisted checks that Drain returns with the queue empty
// for every kind of batch: additions, removals only, a removal of a key
// never indexed, and an undecodable entry.
func TestDrainRemovesPersisted(t *testing.T) {
	f := newFixture(t)
	steps := []struct {
		name string
		docs map[string]*Doc
	}{
		{"additions", corpus()},
		{"removals only", map[string]*Doc{WikiKey("atelier-seniors"): nil, MessageKey("entraide", 1): nil}},
		{"removal of an unknown key", map[string]*Doc{WikiKey("jamais-vue"): nil}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			f.put(s.docs)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if _, err := f.idx.Drain(ctx); err != nil {
				t.Fatal(err)
			}
			if n, _ := f.idx.Pending(); n != 0 {
				t.Errorf("%d entries still pending", n)
			}
		})
	}
	if got := urls(f.search(Request{Q: "essentiel"})); got != "" {
		t.Errorf("a removed page is found: %q", got)
	}
}
