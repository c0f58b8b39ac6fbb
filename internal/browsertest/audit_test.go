//go:build browser

package browsertest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestAuditFindsViolations: the audit runs with the page's JavaScript
// off, finds what a page gets wrong, and leaves JavaScript off and no
// axe behind.
func TestAuditFindsViolations(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		switch r.URL.Path {
		case "/bad":
			// No lang, an image without text, pale grey on white, a field
			// without a label, a field whose text is white on white.
			w.Write([]byte(`<!doctype html><html><head><title>Mauvaise page</title></head><body><main>
<h1>Titre</h1><img src="/x.png"><p style="color:#bbb;background:#fff">Un texte trop pâle.</p>
<form><input type="text" name="q"><input style="color:#fff;background:#fff" aria-label="Recherche" value="invisible"></form>
<script>document.body.dataset.ran = "yes"</script></main></body></html>`))
		case "/good":
			w.Write([]byte(`<!doctype html><html lang="fr"><head><title>Bonne page</title></head><body><main>
<h1>Titre</h1><p>Un texte lisible.</p></main></body></html>`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()

	b := New(t, WithoutAudit())
	b.Open(t, srv.URL+"/bad")
	found, err := b.axe(t)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, v := range found.Violations {
		ids = append(ids, v.ID+"/"+v.Impact)
		if len(v.Nodes) == 0 || len(v.Nodes[0].Target) == 0 {
			t.Errorf("%s names no element", v.ID)
		}
	}
	for _, want := range []string{"html-has-lang/serious", "image-alt/critical", "color-contrast/serious", "label/critical"} {
		if !slices.Contains(ids, want) {
			t.Errorf("the audit missed %s; it found %v", want, ids)
		}
	}
	invisible := false
	for _, v := range found.Incomplete {
		invisible = invisible || v.ID == "color-contrast" && slices.ContainsFunc(v.Nodes, axeNode.invisible)
	}
	if !invisible {
		t.Errorf("the audit did not see the white-on-white field; undecided: %v", found.Incomplete)
	}
	// The page's own script never ran, JavaScript is still off, and axe
	// is gone.
	ran, err := Get(t, b, chromedp.Evaluate[string](`document.body.dataset.ran || "no"`))
	if err != nil || ran != "no" {
		t.Errorf("the page's script ran: %q, %v", ran, err)
	}
	left, err := Get(t, b, chromedp.Evaluate[string](`typeof window.axe`))
	if err != nil || left != "undefined" {
		t.Errorf("axe left in the page: %q, %v", left, err)
	}
	b.Open(t, srv.URL+"/bad")
	ran, err = Get(t, b, chromedp.Evaluate[string](`document.body.dataset.ran || "no"`))
	if err != nil || ran != "no" {
		t.Errorf("after an audit, the next page ran its script: %q, %v", ran, err)
	}

	// Audit fails the test on each serious or critical violation and on the
	// invisible text, naming the rule and the element; the rest is logged.
	rec := &recorder{TB: t}
	b.Audit(rec, "the bad page")
	for _, want := range []string{"[image-alt]", "[color-contrast]", "[label]", "[html-has-lang]", "colour of its background"} {
		if !slices.ContainsFunc(rec.errors, func(e string) bool {
			return strings.Contains(e, want) && strings.Contains(e, "the bad page") && strings.Contains(e, "\tat [")
		}) {
			t.Errorf("Audit did not fail on %s; errors:\n%s", want, strings.Join(rec.errors, "\n"))
		}
	}
	if len(rec.errors) != len(found.Violations)-countMinor(found.Violations)+1 {
		t.Errorf("Audit failed %d times for %d serious violations and the invisible text", len(rec.errors), len(found.Violations)-countMinor(found.Violations))
	}

	b.Open(t, srv.URL+"/good")
	if found, err := b.axe(t); err != nil || len(found.Violations) != 0 {
		t.Errorf("a good page: %+v, %v", found, err)
	}
	// A browser that audits as it loads passes the good page, and fails
	// the bad one.
	auditing := New(t)
	auditing.Open(t, srv.URL+"/good")
	rec = &recorder{TB: t}
	auditing.Open(rec, srv.URL+"/bad")
	if !slices.ContainsFunc(rec.errors, func(e string) bool { return strings.Contains(e, "[image-alt]") }) {
		t.Errorf("a browser that audits as it loads did not fail the bad page; errors:\n%s", strings.Join(rec.errors, "\n"))
	}
}

// countMinor counts the moderate and minor results of rs.
func countMinor(rs []axeResult) int {
	n := 0
	for _, r := range rs {
		if r.Impact != "serious" && r.Impact != "critical" {
			n++
		}
	}
	return n
}

// recorder is a test that keeps its errors instead of failing.
type recorder struct {
	testing.TB
	errors []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}
