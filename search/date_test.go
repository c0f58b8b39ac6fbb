package search

import (
	"testing"
	"time"
)

// TestDateOrderAndRanges checks the sort by date within one day (the
// index keeps the day for ranges and the time for the order), the date
// of hits, and the day bounds of after: and before:.
func TestDateOrderAndRanges(t *testing.T) {
	f := newFixture(t)
	at := func(h, m int) time.Time { return time.Date(2024, 5, 7, h, m, 0, 0, time.UTC) }
	docs := map[string]*Doc{}
	for i, tm := range []time.Time{at(9, 0), at(23, 59), at(0, 1), at(12, 30), time.Date(2024, 5, 8, 0, 0, 0, 0, time.UTC)} {
		docs[MessageKey("entraide", uint64(i))] = &Doc{Kind: KindList, List: "entraide", Ref: time.Duration(i).String(),
			Title: "Horaires", Text: "Les horaires de la salle.", Date: tm}
	}
	f.put(docs)
	f.drain()
	res := f.search(Request{Q: "horaires", Sort: SortDate, PerPage: 50})
	var got []time.Time
	for _, h := range res.Hits {
		got = append(got, h.Date)
	}
	want := []time.Time{time.Date(2024, 5, 8, 0, 0, 0, 0, time.UTC), at(23, 59), at(12, 30), at(9, 0), at(0, 1)}
	if len(got) != len(want) {
		t.Fatalf("dates %v, want %v", got, want)
	}
	for i := range want {
		if !got[i].Equal(want[i]) {
			t.Errorf("hit %d: date %v, want %v", i, got[i], want[i])
		}
	}
	for _, tt := range []struct {
		q    string
		want uint64
	}{
		{"horaires after:2024-05-07 before:2024-05-07", 4},
		{"horaires after:2024-05-08", 1},
		{"horaires before:2024-05-06", 0},
		{"horaires after:2024-05-07", 5},
	} {
		if got := f.search(Request{Q: tt.q}).Total; got != tt.want {
			t.Errorf("%q: %d hits, want %d", tt.q, got, tt.want)
		}
	}
}
