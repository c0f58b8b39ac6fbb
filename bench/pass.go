package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// passResult is what one pass measured, with one GOMAXPROCS.
type passResult struct {
	GOMAXPROCS int `json:"gomaxprocs"` // 0: Go's default

	WikiImport     float64       `json:"wiki_import_seconds"`         // the command
	WikiIndexed    float64       `json:"wiki_import_indexed_seconds"` // until the index has every page
	ListImport     float64       `json:"list_import_seconds"`         // the command
	ListIndexed    float64       `json:"list_import_indexed_seconds"` // until the index has every message
	Imported       int           `json:"messages_imported"`
	ImportPeak     int64         `json:"import_peak_rss"`     // VmHWM after the import
	AtRest         memStatus     `json:"at_rest"`             // after the import, idle
	Peak64         memStatus     `json:"peak_64_clients"`     // the highest sample under the most clients
	Peak64HWM      int64         `json:"peak_64_clients_hwm"` // VmHWM reset before those runs; 0 if it could not be
	Startup        float64       `json:"startup_seconds"`     // exec to /healthz 200, with the data
	AfterRestart   memStatus     `json:"at_rest_after_restart"`
	IndexBytes     int64         `json:"index_bytes"`
	DatabaseBytes  int64         `json:"database_bytes"`
	PageHTML       int           `json:"wiki_page_html_bytes"`
	PageCSS        int           `json:"wiki_page_css_bytes"`
	ThreadURL      string        `json:"thread_url"`
	ThreadMessages int           `json:"thread_messages"`
	Word           string        `json:"word"`
	WordHits       int           `json:"word_hits"`
	Documents      int           `json:"documents"`
	Measures       []measure     `json:"measures"`
	Fanout         *fanoutResult `json:"fanout,omitempty"`
	LoadAvg        float64       `json:"load_average"` // at the end of the pass
}

// measure is one load measurement of one page, on placette and on the
// reference.
type measure struct {
	Page      string      `json:"page"` // the key of pageNames
	URL       string      `json:"url"`
	Bytes     int         `json:"bytes"`
	Placette  loadResult  `json:"placette"`
	Reference *loadResult `json:"reference,omitempty"`
}

// The pages measured.
const (
	pageWiki        = "wiki"
	pageThread      = "thread"
	pageList        = "list"
	pageSearch      = "search"
	pageSearchFresh = "search-fresh"
)

// pass imports the data into a new placette and measures it.
func (h *harness) pass(ctx context.Context, i int, pr *passResult, rep *report) error {
	dir := filepath.Join(h.tmp, fmt.Sprintf("pass%d-gomaxprocs-%s", i+1, gomaxprocsName(pr.GOMAXPROCS)))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	h.logf("pass %d: GOMAXPROCS=%s", i+1, gomaxprocsName(pr.GOMAXPROCS))
	srv := &placette{bin: h.bin, data: filepath.Join(dir, "data"), gomaxprocs: pr.GOMAXPROCS, logPath: filepath.Join(dir, "placette.log"), procs: h.procs}
	if _, err := srv.start(ctx); err != nil {
		return err
	}
	defer func() {
		if srv.p != nil {
			srv.p.kill()
		}
	}()
	web := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{Proxy: nil, DisableCompression: true}}
	d := rep.Data

	// The import, through the running server.
	h.logf("importing %d pages", d.Pages)
	t0 := time.Now()
	_, errOut, cmdTime, err := srv.cli(ctx, nil, "wiki", "import", d.WikiDir)
	if err != nil {
		return err
	}
	pages, err := countIn(errOut, `(\d+) pages created`)
	if err != nil {
		return fmt.Errorf("wiki import: %w", err)
	}
	if pages != d.Pages {
		return fmt.Errorf("wiki import created %d pages of %d:\n%s", pages, d.Pages, errOut)
	}
	pr.WikiImport = cmdTime.Seconds()
	if err := waitIndexed(ctx, web, srv, "in:wiki", pages); err != nil {
		return err
	}
	pr.WikiIndexed = time.Since(t0).Seconds()
	h.logf("%d pages imported in %.2f s, indexed at %.2f s", pages, pr.WikiImport, pr.WikiIndexed)

	if _, _, _, err := srv.cli(ctx, nil, "list", "create", "bench", "-title", "Bench"); err != nil {
		return err
	}
	h.logf("importing %d messages", d.Messages)
	t0 = time.Now()
	out, _, cmdTime, err := srv.cli(ctx, nil, "list", "import", "bench", d.Mbox)
	if err != nil {
		return err
	}
	if pr.Imported, err = countIn(out, `(\d+) messages imported`); err != nil {
		return fmt.Errorf("list import: %w", err)
	}
	pr.ListImport = cmdTime.Seconds()
	if err := waitIndexed(ctx, web, srv, "list:bench", pr.Imported); err != nil {
		return err
	}
	pr.ListIndexed = time.Since(t0).Seconds()
	h.logf("%d messages imported in %.2f s, indexed at %.2f s", pr.Imported, pr.ListImport, pr.ListIndexed)
	if m, err := readStatus(srv.pid()); err == nil {
		pr.ImportPeak = m.VmHWM
	}
	pr.Documents = pages + pr.Imported

	pr.IndexBytes = dirSize(filepath.Join(srv.data, "index"))
	if fi, err := os.Stat(filepath.Join(srv.data, "placette.db")); err == nil {
		pr.DatabaseBytes = fi.Size()
	}

	h.logf("idle %s, then memory at rest", h.o.Idle)
	if err := sleep(ctx, h.o.Idle); err != nil {
		return err
	}
	if pr.AtRest, err = readMem(srv.pid(), srv.fileClass()); err != nil {
		return err
	}

	// A restart with the same data.
	h.logf("restarting placette")
	if err := srv.stop(); err != nil {
		return err
	}
	startup, err := srv.start(ctx)
	if err != nil {
		return err
	}
	pr.Startup = startup.Seconds()
	h.logf("started in %.3f s; idle %s, then memory at rest", pr.Startup, h.o.Idle)
	if err := sleep(ctx, h.o.Idle); err != nil {
		return err
	}
	if pr.AfterRestart, err = readMem(srv.pid(), srv.fileClass()); err != nil {
		return err
	}
	if n, err := searchCount(ctx, web, srv, "list:bench"); err != nil || n != pr.Imported {
		return fmt.Errorf("after the restart, the search finds %d messages of %d (%v)", n, pr.Imported, err)
	}

	// What to measure.
	paths, err := h.choosePages(ctx, web, srv, pr, d)
	if err != nil {
		return err
	}
	bodies := map[string][]byte{}
	for _, p := range []string{pageWiki, pageThread, pageList, pageSearch} {
		status, body, err := fetch(ctx, web, srv.URL(paths[p][0]))
		if err != nil || status != http.StatusOK {
			return fmt.Errorf("GET %s: status %d, %v", paths[p][0], status, err)
		}
		bodies[p] = []byte(body)
	}
	bodies[pageSearchFresh] = bodies[pageSearch]
	if pr.PageHTML, pr.PageCSS, err = asSent(ctx, web, srv, string(bodies[pageWiki])); err != nil {
		return err
	}

	// Load, on placette and on the reference.
	refPages := map[string][]byte{}
	for _, p := range []string{pageWiki, pageThread, pageList, pageSearch} {
		refPages["/"+p] = bodies[p]
	}
	ref, err := startReference(ctx, h.procs, filepath.Join(dir, "reference"), refPages, pr.GOMAXPROCS)
	if err != nil {
		return err
	}
	defer ref.stop()
	most := 0
	for _, c := range h.o.Clients {
		most = max(most, c)
	}
	var sampler *rssSampler
	for _, clients := range h.o.Clients {
		if clients == most && sampler == nil {
			if err := resetPeak(srv.pid()); err == nil {
				pr.Peak64HWM = -1 // to be read
			}
			sampler = sampleRSS(srv.pid(), 50*time.Millisecond, srv.fileClass())
		}
		for _, p := range []string{pageWiki, pageThread, pageList, pageSearch, pageSearchFresh} {
			m := measure{Page: p, URL: paths[p][0], Bytes: len(bodies[p])}
			var urls []string
			for _, u := range paths[p] {
				urls = append(urls, srv.URL(u))
			}
			h.logf("%s, %s, placette", pageNames[p], clientsName(clients))
			if m.Placette, err = runLoad(ctx, loadConfig{URLs: urls, Clients: clients, Warmup: h.o.Warmup, Duration: h.o.Duration}); err != nil {
				return err
			}
			refPath := "/" + strings.TrimSuffix(p, "-fresh")
			h.logf("%s, %s, net/http", pageNames[p], clientsName(clients))
			r, err := runLoad(ctx, loadConfig{URLs: []string{ref.URL(refPath)}, Clients: clients, Warmup: h.o.Warmup, Duration: h.o.Duration})
			if err != nil {
				return err
			}
			m.Reference = &r
			pr.Measures = append(pr.Measures, m)
			h.logf("  placette %.0f req/s p50 %.2f ms p99 %.2f ms; net/http %.0f req/s", m.Placette.ReqPerSec, m.Placette.P50Ms, m.Placette.P99Ms, r.ReqPerSec)
		}
	}
	if sampler != nil {
		pr.Peak64 = sampler.Stop()
		if pr.Peak64HWM == -1 {
			pr.Peak64HWM = 0
			if m, err := readStatus(srv.pid()); err == nil {
				pr.Peak64HWM = m.VmHWM
			}
		}
	}
	ref.stop()

	// One post to many members.
	pr.Fanout, err = fanout(ctx, srv, h.o.Members, h.logf)
	if errors.Is(err, errNoPort25) {
		h.logf("fan-out end to end impossible (%v): go test -bench=FanOut1000 instead, 1,000 members whatever -members", err)
		pr.Fanout, err = fanoutGoTest(ctx, h.o.Src, pr.GOMAXPROCS, err)
	}
	if err != nil {
		return err
	}
	if pr.Fanout.Mode == "end to end" {
		h.logf("fan-out: %d copies (%d signed) in %.2f s", pr.Fanout.Delivered, pr.Fanout.Signed, pr.Fanout.Seconds)
	} else {
		h.logf("fan-out: %.2f s per post to 1,000 members (BenchmarkFanOut1000, ns/op)", pr.Fanout.Seconds)
	}
	if err := srv.stop(); err != nil {
		return err
	}
	pr.LoadAvg = loadAvg()
	return nil
}

// pageNames are the pages measured, as the table names them.
var pageNames = map[string]string{
	pageWiki:        "wiki page",
	pageThread:      "thread page",
	pageList:        "list page",
	pageSearch:      "search, same query repeated (result cache)",
	pageSearchFresh: "search, each query new (no cache)",
}

// choosePages finds the paths to measure: the wiki page of median size,
// the largest thread, the list page and the search for the common word:
// -word, or of the first six candidates of the data set (the words the
// harness counts in the most documents), the one placette finds in the
// most documents. Each has one path, but the fresh search, whose
// thousand queries are the same word with a different excluded word that
// matches nothing, so that none is answered from the result cache (64
// entries).
func (h *harness) choosePages(ctx context.Context, web *http.Client, srv *placette, pr *passResult, d *dataset) (map[string][]string, error) {
	paths := map[string][]string{
		pageWiki: {"/wiki/" + url.PathEscape(d.Page)},
		pageList: {"/lists/bench/"},
	}
	// The thread: the permalink of its root names it.
	status, body, err := fetch(ctx, web, srv.URL("/lists/bench/m/"+url.PathEscape(d.ThreadRoot)))
	if err != nil || status != http.StatusOK {
		return nil, fmt.Errorf("the largest thread's first message %s: status %d, %v", d.ThreadRoot, status, err)
	}
	m := regexp.MustCompile(`href="(/lists/bench/t/\d+)"`).FindStringSubmatch(body)
	if m == nil {
		return nil, fmt.Errorf("no thread link in the page of %s", d.ThreadRoot)
	}
	pr.ThreadURL = m[1]
	paths[pageThread] = []string{m[1]}
	status, body, err = fetch(ctx, web, srv.URL(m[1]))
	if err != nil || status != http.StatusOK {
		return nil, fmt.Errorf("GET %s: status %d, %v", m[1], status, err)
	}
	pr.ThreadMessages = strings.Count(body, "<article")

	// The word.
	words := []string{h.o.Word}
	if h.o.Word == "" {
		words = words[:0]
		for _, w := range d.Words[:min(len(d.Words), 6)] {
			words = append(words, w.Word)
		}
	}
	if len(words) == 0 {
		return nil, errors.New("no word common to the pages and the messages: give one with -word")
	}
	for _, w := range words {
		n, err := searchCount(ctx, web, srv, w)
		if err != nil {
			return nil, err
		}
		if n > pr.WordHits {
			pr.Word, pr.WordHits = w, n
		}
	}
	if pr.WordHits == 0 {
		return nil, fmt.Errorf("placette finds none of %q", words)
	}
	h.logf("searching « %s »: %d of %d documents", pr.Word, pr.WordHits, pr.Documents)
	paths[pageSearch] = []string{"/search?q=" + url.QueryEscape(pr.Word)}
	for i := range 1000 {
		paths[pageSearchFresh] = append(paths[pageSearchFresh], "/search?q="+url.QueryEscape(fmt.Sprintf("%s -zzbench%d", pr.Word, i)))
	}
	return paths, nil
}

// resultsCount finds the number of results in a search page.
var resultsCount = regexp.MustCompile(`<h2 id="results"[^>]*>([^<]*)</h2>`)

// searchCount returns how many documents placette finds for q.
func searchCount(ctx context.Context, web *http.Client, srv *placette, q string) (int, error) {
	status, body, err := fetch(ctx, web, srv.URL("/search?q="+url.QueryEscape(q)))
	if err != nil {
		return 0, err
	}
	if status == http.StatusServiceUnavailable { // the index is being rebuilt
		return 0, nil
	}
	if status != http.StatusOK {
		return 0, fmt.Errorf("search %q: status %d", q, status)
	}
	m := resultsCount.FindStringSubmatch(body)
	if m == nil {
		return 0, fmt.Errorf("search %q: no result count (h2#results) in the page", q)
	}
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, m[1])
	return strconv.Atoi(digits)
}

// waitIndexed polls the search for q until it finds want documents.
func waitIndexed(ctx context.Context, web *http.Client, srv *placette, q string, want int) error {
	const timeout = 15 * time.Minute
	deadline := time.Now().Add(timeout)
	for {
		n, err := searchCount(ctx, web, srv, q)
		if err != nil {
			return err
		}
		if n >= want {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the search for %q finds %d of %d documents after %s", q, n, want, timeout)
		}
		if err := sleep(ctx, 200*time.Millisecond); err != nil {
			return err
		}
	}
}

// countIn returns the number the first group of pattern finds in s.
func countIn(s, pattern string) (int, error) {
	m := regexp.MustCompile(pattern).FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("no %q in the output:\n%s", pattern, lastLines(s, 10))
	}
	return strconv.Atoi(m[1])
}

// asSent returns the size of a page and of the stylesheets it links: the
// page as a browser gets it (no script, no image in a wiki page).
func asSent(ctx context.Context, web *http.Client, srv *placette, page string) (html, css int, err error) {
	for _, m := range regexp.MustCompile(`<link rel="stylesheet" href="([^"]+)"`).FindAllStringSubmatch(page, -1) {
		status, body, err := fetch(ctx, web, srv.URL(m[1]))
		if err != nil || status != http.StatusOK {
			return 0, 0, fmt.Errorf("GET %s: status %d, %v", m[1], status, err)
		}
		css += len(body)
	}
	return len(page), css, nil
}

// dirSize returns the size of the files under dir.
func dirSize(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, e fs.DirEntry, err error) error {
		if err == nil && e.Type().IsRegular() {
			if fi, err := e.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil // A file gone meanwhile is not counted.
	})
	return n
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
