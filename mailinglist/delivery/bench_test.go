package delivery

import (
	"context"
	"testing"
)

// BenchmarkFanOut1000 measures one ~4 KB post to 1,000 recipients, each
// copy with its own List-Unsubscribe and DKIM-signed, through an
// in-process go-smtp smarthost on loopback (STARTTLS and AUTH PLAIN), from
// Enqueue to the last Report. It also reports the CPU time the whole
// process spent per fan-out (cpu-s/op), sink included.
func BenchmarkFanOut1000(b *testing.B) {
	const n = 1000
	s := startSink(b, sinkOptions{tls: true, user: "liste", pass: "s3cret", discard: true})
	e := newEnv(b, smarthostConfig(s))
	if _, err := e.keys.Signer("lists.example.net"); err != nil { // the key is made once, at first start
		b.Fatal(err)
	}
	msg := testMessage(4000)
	jobs := testJobs(n, "example.com")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go e.q.Run(ctx)
	b.ReportAllocs()
	cpu0, cpuOK := cpuTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		want := (i + 1) * n
		e.enqueue(b, msg, jobs)
		for e.rep.len() < want {
			<-e.rep.ch
		}
	}
	b.StopTimer()
	// On a shared machine the wall time says little; the CPU time of the
	// whole process (queue, signing, TLS and the sink) says what it costs.
	if cpu1, ok := cpuTime(); ok && cpuOK {
		b.ReportMetric((cpu1-cpu0).Seconds()/float64(b.N), "cpu-s/op")
	}
	if _, count, _, _, _ := s.snapshot(); count != b.N*n {
		b.Fatalf("sink got %d, want %d", count, b.N*n)
	}
	for _, r := range e.rep.get() {
		if !r.Delivered {
			b.Fatalf("report %+v", r)
		}
	}
}
