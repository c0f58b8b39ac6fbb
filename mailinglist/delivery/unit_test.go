package delivery

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		way       Way
		permanent bool
		code      int
		enhanced  string
	}{
		{"delivered", nil, Smarthost, false, 0, ""},
		{"user unknown", fmt.Errorf("RCPT: %w", &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no"}), MX, true, 550, "5.1.1"},
		{"greylisted", &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 7, 1}}, MX, false, 451, "4.7.1"},
		{"no enhanced code", &smtp.SMTPError{Code: 554, EnhancedCode: smtp.NoEnhancedCode}, MX, true, 554, ""},
		{"smarthost wants a login", &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}}, Smarthost, false, 530, "5.7.0"},
		{"smarthost refuses the login", &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}}, Smarthost, false, 535, "5.7.8"},
		{"MX 535 is final", &smtp.SMTPError{Code: 535}, MX, true, 535, ""},
		{"connection reset", io.ErrUnexpectedEOF, Smarthost, false, 0, ""},
		{"dial", &net.OpError{Op: "dial", Err: errors.New("refused")}, MX, false, 0, ""},
		{"null MX", &permanentError{code: 556, enhanced: "5.1.10", msg: "x"}, MX, true, 556, "5.1.10"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := classify(tt.err, tt.way)
			if a.permanent != tt.permanent || a.code != tt.code || a.enhanced != tt.enhanced || (a.err == nil) != (tt.err == nil) {
				t.Errorf("classify = %+v, want permanent=%v code=%d enhanced=%q", a, tt.permanent, tt.code, tt.enhanced)
			}
		})
	}
}

func TestSettle(t *testing.T) {
	q := &Queue{retry: defaultRetry, giveUp: defaultGiveUp}
	created := time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)
	temp := attempt{err: errors.New("451 later"), code: 451}
	tests := []struct {
		name     string
		attempts int
		at       time.Duration // after creation
		try      attempt
		final    bool
		wait     time.Duration // until the next try, when not final
	}{
		{"delivered", 0, 0, attempt{}, true, 0},
		{"5xx", 0, 0, attempt{err: errors.New("550"), permanent: true}, true, 0},
		{"first 4xx", 0, 0, temp, false, time.Minute},
		{"second", 1, time.Minute, temp, false, 5 * time.Minute},
		{"third", 2, 6 * time.Minute, temp, false, 15 * time.Minute},
		{"fourth", 3, 21 * time.Minute, temp, false, 30 * time.Minute},
		{"fifth", 4, 51 * time.Minute, temp, false, time.Hour},
		{"sixth", 5, 111 * time.Minute, temp, false, 2 * time.Hour},
		{"twentieth", 19, 30 * time.Hour, temp, false, 2 * time.Hour},
		{"just before five days", 60, 5*24*time.Hour - time.Second, temp, false, 2 * time.Hour},
		{"five days", 61, 5 * 24 * time.Hour, temp, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &record{ID: 7, To: "a@b", Created: created, Attempts: tt.attempts}
			now := created.Add(tt.at)
			o := q.settle(rec, tt.try, now)
			if o.final != tt.final {
				t.Fatalf("final = %v, want %v", o.final, tt.final)
			}
			if o.final {
				if o.res.Delivered != (tt.try.err == nil) || o.next != nil {
					t.Errorf("outcome %+v", o)
				}
				return
			}
			if o.next == nil || o.next.Attempts != tt.attempts+1 || o.next.Next.Sub(now) != tt.wait || o.next.Code != 451 || o.next.Error != "451 later" {
				t.Errorf("next = %+v, want attempt %d in %v", o.next, tt.attempts+1, tt.wait)
			}
			if rec.Attempts != tt.attempts {
				t.Error("settle changed the dispatched record")
			}
		})
	}
}

func TestSafeName(t *testing.T) {
	tests := map[string]string{
		"Rcpt@Example.com":         "rcpt@example.com",
		"../../etc/passwd@x":       "_._.._etc_passwd@x",
		".hidden@x":                "_hidden@x",
		"é@x":                      "__@x",
		"a b\x00c@x":               "a_b_c@x",
		strings.Repeat("a", 300):   strings.Repeat("a", 100),
		"tag+list=1@lists.example": "tag+list=1@lists.example",
	}
	for in, want := range tests {
		if got := safeName(in); got != want {
			t.Errorf("safeName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCheckField(t *testing.T) {
	tests := []struct {
		field string
		ok    bool
	}{
		{"List-Unsubscribe: <https://x/>", true},
		{"List-Unsubscribe: <https://x/>,\r\n <mailto:y@x>", true},
		{"X-A:", true},
		{"X-A: a\r\n\tb", true},
		{": value", false},
		{"no colon", false},
		{"X A: b", false},
		{"X-A: b\r\nBcc: c", false},
		{"X-A: b\nBcc: c", false},
		{"X-A: b\r", false},
		{"X-A: b\r\n", false},
		{"Ünï: b", false},
	}
	for _, tt := range tests {
		if err := checkField(tt.field); (err == nil) != tt.ok {
			t.Errorf("checkField(%q) = %v, want ok=%v", tt.field, err, tt.ok)
		}
	}
}

func FuzzCheckField(f *testing.F) {
	f.Add("List-Unsubscribe: <https://x/>,\r\n <mailto:y@x>")
	f.Add("X-A: b\r\nBcc: c")
	f.Fuzz(func(t *testing.T, field string) {
		if checkField(field) != nil {
			return
		}
		// An accepted field is one field: every line break continues it.
		for i, line := range strings.Split(field, "\r\n") {
			if i > 0 && (line == "" || (line[0] != ' ' && line[0] != '\t')) {
				t.Fatalf("accepted %q: line %d starts a new field", field, i)
			}
			if strings.ContainsAny(line, "\r\n") {
				t.Fatalf("accepted %q: a bare line break", field)
			}
		}
	})
}

func TestSmtpErr(t *testing.T) {
	for _, tt := range []struct {
		in       *textproto.Error
		code     int
		enhanced smtp.EnhancedCode
		msg      string
	}{
		{&textproto.Error{Code: 554, Msg: "5.7.1 go away"}, 554, smtp.EnhancedCode{5, 7, 1}, "go away"},
		{&textproto.Error{Code: 421, Msg: "busy"}, 421, smtp.EnhancedCode{}, "busy"},
		{&textproto.Error{Code: 421, Msg: "4.x.1 busy"}, 421, smtp.EnhancedCode{}, "4.x.1 busy"},
	} {
		var se *smtp.SMTPError
		if !errors.As(smtpErr(tt.in), &se) || se.Code != tt.code || se.EnhancedCode != tt.enhanced || se.Message != tt.msg {
			t.Errorf("smtpErr(%v) = %+v", tt.in, se)
		}
	}
	if err := smtpErr(io.EOF); err != io.EOF {
		t.Errorf("smtpErr(EOF) = %v", err)
	}
}
