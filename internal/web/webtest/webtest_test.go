package webtest

import (
	"fmt"
	"strings"
	"testing"
)

// recorder is a testing.TB that keeps the errors it is told.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func TestCheckAccessible(t *testing.T) {
	for _, tc := range []struct {
		name, body, want string
	}{
		{"good", `<h1>T</h1><h2>S</h2><label for="a">A</label><input id="a" aria-describedby="h"><p id="h">hint</p><input type="hidden" name="csrf">`, ""},
		{"no label", `<h1>T</h1><input id="a">`, "without a label"},
		{"label for nothing", `<h1>T</h1><label for="b">B</label>`, "names no element"},
		{"dangling aria", `<h1>T</h1><p aria-describedby="x">p</p>`, "aria reference"},
		{"duplicate id", `<h1 id="a">T</h1><p id="a">p</p>`, "used 2 times"},
		{"two h1", `<h1>T</h1><h1>U</h1>`, "2 <h1>"},
		{"skipped level", `<h1>T</h1><h3>U</h3>`, "h3 follows h1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &recorder{TB: t}
			CheckAccessible(r, tc.body)
			got := strings.Join(r.errs, "\n")
			if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
				t.Errorf("errors %q, want %q", got, tc.want)
			}
		})
	}
}
