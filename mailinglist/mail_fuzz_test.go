package mailinglist

import (
	"bytes"
	"strings"
	"testing"
)

func TestParseCommands(t *testing.T) {
	tests := []struct {
		name, subject, body string
		want                []command
	}{
		{"help in body", "", "help\n", []command{{Verb: "help"}}},
		{"subject command", "subscribe", "", []command{{Verb: "subscribe"}}},
		{"reply carrying a token", "Re: Confirmez votre abonnement à X (confirm abcdefghijklmnop234567)", "> quoted\n", []command{{Verb: "confirm", Arg: "abcdefghijklmnop234567"}}},
		{"several, stop at signature", "", "subscribe\nhelp\n-- \nunsubscribe\n", []command{{Verb: "subscribe"}, {Verb: "help"}}},
		{"stop after unknown lines", "", "hello\nhow are you\nplease\nunsubscribe\n", nil},
		{"confirm needs a token", "", "confirm\nconfirm short\n", nil},
		{"each once", "help", "HELP\nhelp\n", []command{{Verb: "help"}}},
		{"french aliases", "", "aide\nfin\nsubscribe\n", []command{{Verb: "help"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseCommands(tt.subject, tt.body)
			if len(got) != len(tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("got %+v, want %+v", got, tt.want)
				}
			}
		})
	}
}

func FuzzParseCommands(f *testing.F) {
	f.Add("Re: confirm abcdefghijklmnop", "help\nsubscribe\n")
	f.Add("", "confirm abcdefghijklmnopqrst\r\n-- \r\n")
	f.Add("subscribe", strings.Repeat("x\n", 100))
	f.Fuzz(func(t *testing.T, subject, body string) {
		cmds := parseCommands(subject, body)
		if len(cmds) > maxCommands {
			t.Fatalf("%d commands", len(cmds))
		}
		for _, c := range cmds {
			switch c.Verb {
			case "help", "subscribe", "unsubscribe":
				if c.Arg != "" {
					t.Fatalf("%+v has an argument", c)
				}
			case "confirm":
				if !verpRE.MatchString(c.Arg) {
					t.Fatalf("bad token %q", c.Arg)
				}
			default:
				t.Fatalf("unknown verb %+v", c)
			}
		}
	})
}

func TestParseLocal(t *testing.T) {
	lists := map[string]bool{"entraide": true, "mediation-num": true}
	isList := func(n string) bool { return lists[n] }
	tests := []struct {
		local string
		want  target
		ok    bool
	}{
		{"entraide", target{List: "entraide", Kind: kindPost}, true},
		{"Entraide", target{List: "entraide", Kind: kindPost}, true},
		{"entraide-request", target{List: "entraide", Kind: kindRequest}, true},
		{"mediation-num-subscribe", target{List: "mediation-num", Kind: kindSubscribe}, true},
		{"mediation-num-unsubscribe", target{List: "mediation-num", Kind: kindUnsubscribe}, true},
		{"entraide-owner", target{List: "entraide", Kind: kindOwner}, true},
		{"entraide-bounces", target{List: "entraide", Kind: kindBounces}, true},
		{"entraide-bounces+abcdef234", target{List: "entraide", Kind: kindBounces, Token: "abcdef234"}, true},
		{"entraide-bounces+", target{}, false},
		{"entraide-bounces+a.b", target{}, false},
		{"entraide+x", target{}, false},
		{"entraide-request+x", target{}, false},
		{"mediation", target{}, false},
		{"-request", target{}, false},
		{"", target{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.local, func(t *testing.T) {
			got, ok := parseLocal(tt.local, isList)
			if ok != tt.ok || got != tt.want {
				t.Errorf("parseLocal(%q) = %+v, %v; want %+v, %v", tt.local, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func FuzzAddress(f *testing.F) {
	for _, s := range []string{"<entraide@lists.example>", "entraide-bounces+abc@lists.example", "a@b@c", "<>", "x@", "\"quoted local\"@example.org"} {
		f.Add(s)
	}
	isList := func(n string) bool { return n == "entraide" || n == "a-b" }
	f.Fuzz(func(t *testing.T, addr string) {
		local, domain, ok := splitAddr(addr)
		if !ok {
			return
		}
		if domain != strings.ToLower(domain) || strings.Contains(domain, "@") || local == "" {
			t.Fatalf("splitAddr(%q) = %q, %q", addr, local, domain)
		}
		tg, ok := parseLocal(local, isList)
		if !ok {
			return
		}
		if !isList(tg.List) || tg.Token != "" && (tg.Kind != kindBounces || !verpRE.MatchString(tg.Token)) {
			t.Fatalf("parseLocal(%q) = %+v", local, tg)
		}
	})
}

func TestSmuggled(t *testing.T) {
	tests := []struct {
		raw  string
		want bool
	}{
		{"a\r\n.\r\nb", false}, // an unstuffed line holding a dot
		{"a\r\nb.\r\nc", false},
		{"a\n.\nb", true},
		{"a\r\n.\nb", true},
		{"a\n.\r\nb", true},
		{"a\r.\rb", true},
		{"a\r\n\nb", true},
		{"a\nb\nc", false}, // lone LFs are normalised, not refused
	}
	for _, tt := range tests {
		if got := smuggled([]byte(tt.raw)); got != tt.want {
			t.Errorf("smuggled(%q) = %v, want %v", tt.raw, got, tt.want)
		}
	}
}

func FuzzReadMbox(f *testing.F) {
	f.Add([]byte("From a Mon Nov 23 10:00:00 2026\nSubject: x\n\n>From b\n\nFrom c Mon Nov 23 10:00:00 2026\nSubject: y\n\nz\n"))
	f.Add([]byte("Subject: one\r\n\r\nbody\r\n"))
	f.Add([]byte("From \n\n\nFrom \n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		total := 0
		err := readMbox(bytes.NewReader(data), func(raw []byte) error {
			total += len(raw)
			if len(bytes.TrimSpace(raw)) == 0 {
				t.Fatal("an empty message")
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if total > len(data) {
			t.Fatalf("%d bytes out of %d", total, len(data))
		}
	})
}
