package mailinglist

import (
	"fmt"
	"net"
	"sync/atomic"
	"testing"

	"github.com/emersion/go-smtp"
)

// BenchmarkIngest measures messages per second posted over loopback SMTP
// by 16 clients at once to a list of 10 members, each acknowledged after its commit (the copies
// are queued, not sent: the queue's own benchmark measures that).
func BenchmarkIngest(b *testing.B) {
	e := newMailEnvRun(b, nil, false)
	members := make([]string, 10)
	for i := range members {
		members[i] = fmt.Sprintf("m%d@example.org", i)
	}
	e.mkList(b, List{Name: "bench", Policy: PolicyAnyone}, members...)
	var n atomic.Int64
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		conn, err := net.Dial("tcp", e.smtp)
		if err != nil {
			b.Error(err)
			return
		}
		c := smtp.NewClient(conn)
		defer c.Close()
		if err := c.Hello("bench.test"); err != nil {
			b.Error(err)
			return
		}
		for pb.Next() {
			i := n.Add(1)
			msg := fmt.Sprintf("From: Alice <alice@example.net>\r\nTo: bench@lists.example\r\nSubject: Message %d\r\nMessage-ID: <bench-%d@example.net>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nBonjour, voici le message numéro %d.\r\n%s", i, i, i, filler)
			if err := c.SendMail("alice@example.net", []string{"bench@lists.example"}, stringsReader(msg)); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// filler makes a post of about 2 KB.
var filler = func() string {
	s := ""
	for len(s) < 2000 {
		s += "Une ligne de texte ordinaire, comme dans un vrai message.\r\n"
	}
	return s
}()
