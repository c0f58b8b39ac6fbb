// Package webtest holds the checks that the tests of every package serving
// pages run on them.
package webtest

import (
	"regexp"
	"strings"
	"testing"
)

var (
	labelFor    = regexp.MustCompile(`<label[^>]*\sfor="([^"]+)"`)
	controlTag  = regexp.MustCompile(`<(input|select|textarea)\b[^>]*>`)
	idAttr      = regexp.MustCompile(`\sid="([^"]+)"`)
	typeAttr    = regexp.MustCompile(`\stype="([^"]+)"`)
	headingTag  = regexp.MustCompile(`<h([1-6])\b`)
	describedBy = regexp.MustCompile(`\saria-(?:describedby|labelledby)="([^"]+)"`)
)

// CheckAccessible fails t unless the HTML page body gets right what
// assistive technologies need: each form control (but hidden fields and
// buttons) has a label tied to it by id, each label's for= and each
// aria-describedby or aria-labelledby names an element of the page, ids
// are unique, there is one h1, and headings go down one level at a time.
func CheckAccessible(t testing.TB, body string) {
	t.Helper()
	ids := map[string]int{}
	for _, m := range idAttr.FindAllStringSubmatch(body, -1) {
		ids[m[1]]++
	}
	for id, n := range ids {
		if n > 1 {
			t.Errorf("id %q used %d times", id, n)
		}
	}
	labelled := map[string]bool{}
	for _, m := range labelFor.FindAllStringSubmatch(body, -1) {
		labelled[m[1]] = true
		if ids[m[1]] == 0 {
			t.Errorf("<label for=%q> names no element", m[1])
		}
	}
	for _, m := range describedBy.FindAllStringSubmatch(body, -1) {
		for _, id := range strings.Fields(m[1]) {
			if ids[id] == 0 {
				t.Errorf("aria reference %q names no element", id)
			}
		}
	}
	for _, tag := range controlTag.FindAllString(body, -1) {
		if ty := typeAttr.FindStringSubmatch(tag); ty != nil && (ty[1] == "hidden" || ty[1] == "submit") {
			continue
		}
		id := idAttr.FindStringSubmatch(tag)
		if id == nil || !labelled[id[1]] {
			t.Errorf("form control without a label: %s", tag)
		}
	}
	level, h1 := 0, 0
	for _, m := range headingTag.FindAllStringSubmatch(body, -1) {
		l := int(m[1][0] - '0')
		if l == 1 {
			h1++
		}
		if l > level+1 {
			t.Errorf("heading h%d follows h%d", l, level)
		}
		level = l
	}
	if h1 != 1 {
		t.Errorf("%d <h1> in the page, want 1", h1)
	}
}
