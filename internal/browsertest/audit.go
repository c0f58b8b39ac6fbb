package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// axeDir is the folder, beside this file, whose package.json and
// package-lock.json pin the axe-core release the audits run. Its
// node_modules is not in the repository: "npm ci" there installs it, and
// test.sh does so when it is missing. It is under testdata so that the go
// tool and the repository's walks over its files leave node_modules alone.
const axeDir = "testdata/axe"

// axeTags are the rule sets an audit runs: WCAG 2.0 and 2.1, levels A and
// AA (what RGAA 4 maps to), and axe's best practices.
var axeTags = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"}

// readAxe returns axe.min.js from axeDir's node_modules, or an error that
// says how to install it. Tests run in the package's folder.
func readAxe() (string, error) {
	dir, err := filepath.Abs(axeDir)
	if err != nil {
		return "", err
	}
	b, err := os.ReadFile(filepath.Join(dir, "node_modules", "axe-core", "axe.min.js"))
	if err != nil {
		return "", fmt.Errorf("axe-core, which audits every page, is not installed (%v); install it with\n\tcd %s && npm ci --no-audit --no-fund\n(test.sh does it)", err, dir)
	}
	return string(b), nil
}

// axeResult is one rule that found something on a page.
type axeResult struct {
	ID     string    `json:"id"`
	Impact string    `json:"impact"` // minor, moderate, serious or critical
	Help   string    `json:"help"`
	URL    string    `json:"helpUrl"`
	Nodes  []axeNode `json:"nodes"`
}

// axeNode is an element a rule found something on.
type axeNode struct {
	Target  []any  `json:"target"` // CSS selectors, nested for frames
	Summary string `json:"failureSummary"`
	Any     []struct {
		Data json.RawMessage `json:"data"` // the check's own figures
	} `json:"any"`
}

// invisible reports whether axe measured n's text in the very colour of
// its background. axe leaves that undecided, as it could be text hidden on
// purpose; placette hides nothing that way, so it is a field whose typed
// text cannot be seen, or a similar mistake.
func (n axeNode) invisible() bool {
	for _, c := range n.Any {
		var d struct {
			MessageKey string `json:"messageKey"`
		}
		if json.Unmarshal(c.Data, &d) == nil && d.MessageKey == "equalRatio" {
			return true
		}
	}
	return false
}

// String describes r and every element it names, for a test's output.
func (r axeResult) String() string {
	var s strings.Builder
	fmt.Fprintf(&s, "%s [%s] %s (%s)", r.Impact, r.ID, r.Help, r.URL)
	for _, n := range r.Nodes {
		fmt.Fprintf(&s, "\n\tat %v", n.Target)
		if n.Summary != "" {
			fmt.Fprintf(&s, ": %s", strings.ReplaceAll(n.Summary, "\n", " "))
		}
	}
	return s.String()
}

// axeResults is what one run of axe found.
type axeResults struct {
	Violations []axeResult `json:"violations"`
	Incomplete []axeResult `json:"incomplete"` // what axe could not decide
}

// Audit checks the page shown with axe-core against WCAG 2.1 A and AA
// and axe's best practices. Serious and critical violations fail t, each
// with its rule, its help and the elements at fault; moderate and minor
// ones, and what axe could not decide (a colour over an image…), are
// logged, except text measured in its background's very colour, which
// fails. name says which page it was in the messages. Load calls it on
// every HTML page; call it after changing a page (a field filled in) to
// check that state too.
//
// The pages run without JavaScript, and axe is JavaScript. Evaluating it
// through the DevTools protocol (Runtime.evaluate) works while
// Emulation.setScriptExecutionDisabled is on, but axe.run then never
// finishes: it waits on timers, and Blink fires no timer in a page whose
// scripts are disabled, in the page's world or in an isolated world
// alike. So the audit turns script execution on for the time of the run,
// and off again before it returns. That runs none of the page's own
// scripts: those were skipped when the page was parsed without
// JavaScript (and its <noscript> parts shown), and that page is the one
// axe checks. axe's global is deleted after the run.
func (b *Browser) Audit(t testing.TB, name string) {
	t.Helper()
	res, err := b.axe(t)
	if err != nil {
		t.Fatalf("audit of %s: %v", name, err)
	}
	for _, v := range res.Violations {
		switch v.Impact {
		case "serious", "critical":
			t.Errorf("audit of %s: %v", name, v)
		default:
			t.Logf("audit of %s: %v", name, v)
		}
	}
	for _, v := range res.Incomplete {
		if v.ID == "color-contrast" && slices.ContainsFunc(v.Nodes, axeNode.invisible) {
			t.Errorf("audit of %s: text in the colour of its background: %v", name, v)
			continue
		}
		t.Logf("audit of %s, to review: %v", name, v)
	}
}

// axe runs axe-core on the page shown and returns what it found.
func (b *Browser) axe(t testing.TB) (axeResults, error) {
	t.Helper()
	var res axeResults
	tags, err := json.Marshal(axeTags)
	if err != nil {
		return res, err
	}
	run := `(async () => {
	try {
		const r = await axe.run(document, {runOnly: {type: "tag", values: ` + string(tags) + `}, resultTypes: ["violations"]});
		return JSON.stringify({violations: r.violations, incomplete: r.incomplete});
	} finally {
		delete window.axe;
	}
})()`
	out, err := Get(t, b, chromedp.Action[string](func(ctx context.Context, tg *chromedp.Target) (out string, err error) {
		if !b.script {
			if err := setScript(ctx, tg, true); err != nil {
				return "", err
			}
			defer func() {
				if e := setScript(b.ctx, tg, false); e != nil && err == nil {
					err = fmt.Errorf("turn JavaScript off again: %w", e)
				}
			}()
		}
		if _, err := chromedp.Evaluate[chromedp.Void](b.axeJS+"\n;void 0")(ctx, tg); err != nil {
			return "", fmt.Errorf("load axe: %w", err)
		}
		return chromedp.Evaluate[string](run, chromedp.EvalAwaitPromise)(ctx, tg)
	}))
	if err != nil {
		return res, err
	}
	err = json.Unmarshal([]byte(out), &res)
	return res, err
}
