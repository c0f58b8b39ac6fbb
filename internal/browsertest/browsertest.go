// Package browsertest drives Debian's chromium from Go tests (chromedp),
// headless and with JavaScript off by default, against a placette started
// by apptest on loopback, and audits every page it loads with axe-core
// (WCAG 2.1 A and AA). The tests that use it are built with the
// "browser" tag, which the README's test command (test.sh) adds once it
// has made sure chromium and axe-core (npm ci in testdata/axe) are
// installed:
//
//	go test -tags browser ./internal/browsertest/
package browsertest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// Chromium is where Debian's package puts the browser.
const Chromium = "/usr/bin/chromium"

// Browser is one headless chromium with one tab, closed when its test ends.
type Browser struct {
	ctx    context.Context
	script bool   // the pages may run JavaScript
	audit  bool   // Load audits every HTML page
	axeJS  string // axe-core's source
}

// Option changes how a browser starts.
type Option func(*options)

type options struct {
	script  bool
	noAudit bool
}

// WithScript lets the pages run JavaScript. Browsers start without it:
// placette's pages must work without.
func WithScript() Option { return func(o *options) { o.script = true } }

// WithoutAudit makes Load leave pages unaudited (Audit still works): for
// the test of the audit itself.
func WithoutAudit() Option { return func(o *options) { o.noAudit = true } }

// New starts chromium for t. A missing browser fails the test with what to
// install.
func New(t testing.TB, opts ...Option) *Browser {
	t.Helper()
	var o options
	for _, f := range opts {
		f(&o)
	}
	axeJS, err := readAxe()
	if err != nil {
		t.Fatal(err)
	}
	path, err := exec.LookPath(Chromium)
	if err != nil {
		t.Fatalf("no browser at %s: install Debian's chromium package (test.sh does it)", Chromium)
	}
	profile, err := os.MkdirTemp("", "placette-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(profile) })
	allocOpts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(profile),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1280, 900),
		// A French reader, as most of placette's are.
		chromedp.Flag("lang", "fr-FR"),
		chromedp.Flag("accept-lang", "fr-FR,fr"),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), allocOpts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
	})
	// Start the browser now, so that a failure to start is reported as such.
	err = chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if o.script {
			return nil
		}
		return setScript(ctx, tg, false)
	}))
	if err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return &Browser{ctx: ctx, script: o.script, audit: !o.noAudit, axeJS: axeJS}
}

// Run runs actions in the browser's tab, failing t on the first error.
// Each call is bounded by a minute, a guard against a hung browser rather
// than a measure of speed.
func (b *Browser) Run(t testing.TB, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if _, err := Get(t, b, chromedp.Steps(actions...)); err != nil {
		t.Fatalf("browser: %v", err)
	}
}

// Load runs actions that lead to a new page (a navigation, a form
// submitted, a link clicked), waits for that page to load, and returns its
// HTTP status. Every HTML page loaded is audited for accessibility (see
// Audit) unless the browser was started WithoutAudit.
func (b *Browser) Load(t testing.TB, actions ...chromedp.Action[chromedp.Void]) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, actions...)
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	if resp == nil {
		t.Fatal("browser: no page loaded")
	}
	if b.audit && resp.MimeType == "text/html" {
		name := resp.URL
		if u, err := url.Parse(resp.URL); err == nil {
			name = u.RequestURI()
		}
		b.Audit(t, fmt.Sprintf("%s (%d)", name, resp.Status))
	}
	return int(resp.Status)
}

// Submit submits the form of the element matching the CSS selector sel,
// as pressing its button would, and returns the status of the page it
// leads to.
func (b *Browser) Submit(t testing.TB, sel string) int {
	t.Helper()
	return b.Load(t, chromedp.Submit(chromedp.CSS(sel)))
}

// Open loads url and returns its HTTP status.
func (b *Browser) Open(t testing.TB, url string) int {
	t.Helper()
	return b.Load(t, chromedp.Navigate(url))
}

// Get runs one action that returns a value in b's tab, bounded like Run.
func Get[T any](t testing.TB, b *Browser, a chromedp.Action[T]) (T, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	return chromedp.Run(ctx, a)
}

// Text returns the visible text of the first element matching the CSS
// selector sel.
func (b *Browser) Text(t testing.TB, sel string) string {
	t.Helper()
	s, err := Get(t, b, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("browser: text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

// Location returns the URL of the page shown.
func (b *Browser) Location(t testing.TB) string {
	t.Helper()
	s, err := Get(t, b, chromedp.Location())
	if err != nil {
		t.Fatalf("browser: location: %v", err)
	}
	return s
}

// Context returns the tab's context, for chromedp calls the helpers do not
// cover.
func (b *Browser) Context() context.Context { return b.ctx }

// setScript turns the tab's JavaScript on or off.
func setScript(ctx context.Context, tg *chromedp.Target, on bool) error {
	_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: !on})
	return err
}
