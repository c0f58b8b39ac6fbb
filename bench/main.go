// Command bench measures placette against the budgets of DESIGN.md, on the
// standard data set, as a real process on loopback.
//
// Usage, from the project's root:
//
//	go run ./bench                 the whole run: several minutes
//	go run ./bench -quick          a small data set, 1 s per measurement, one pass (CI)
//	go run ./bench -json out.json  the figures as JSON too
//
// It generates the data with the shared folder's generators (python3;
// -shared, default ../shared), builds placette as it is released (without
// cgo, stripped), starts it on free loopback ports with a new data folder,
// and imports the pages and the archive through the running server with the
// command line (placette wiki import, list create, list import), timing each
// until the search finds every document (a search for in:wiki, then
// list:bench, polled every 200 ms: the index has caught up). It reads
// placette's memory from /proc/PID/status at rest (after -idle, 30 s:
// placette gives back what it does not need once it has been quiet for a
// tick of 10 s) after the import, restarts it (SIGTERM, then exec to
// /healthz answering 200 is the start-up time) and reads it at
// rest again. On that restarted server, its own load generator (closed
// loop, N clients each with one keep-alive connection, every latency
// kept) measures a wiki page (the one of median size), the largest
// thread, the list page, and a search for a common word (of the six
// words of six letters or more that the harness counts in the most
// documents, among those in at least a tenth of the pages and of the
// messages, the one placette finds in the most documents), repeated
// (answered from the result cache) and new each time (the word with an excluded
// word that matches nothing, different in each query), at 1, 16 and 64
// clients; and after each, the same bytes written from memory by a bare
// net/http server (this binary with -reference-server, in its own process
// with the same GOMAXPROCS), so that placette's throughput is given as a
// ratio to it. Memory under the 64 clients is the highest of VmHWM (reset
// through /proc/PID/clear_refs before them) and of a sample every 50 ms.
// Then one post to 1,000 members end to end: the harness creates an
// administrator (placette user add), logs in and sets its own SMTP sink
// on port 25 of a loopback address as the smarthost in /admin/mail, adds
// the members with placette list members, posts over SMTP and times until
// the sink has every copy (binding port 25 needs root; without it, the
// harness runs BenchmarkFanOut1000 of mailinglist/delivery instead). It
// also measures the index and database on disk and the stripped binaries.
// Every pass is done with placette's GOMAXPROCS left to Go and with
// GOMAXPROCS=1, the closest to one core of a Raspberry Pi (-gomaxprocs).
//
// The table goes to standard output in Markdown, progress to standard
// error. The figures are reported, never asserted: a budget not met is
// a "no" in the table, not a failure. The harness fails only when
// something does not work (a command, a page that is not a 200).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	if code := run(os.Args[1:], os.Stdout, os.Stderr); code != 0 {
		os.Exit(code)
	}
}

// options are the harness's settings, from its flags.
type options struct {
	Src        string        `json:"-"`
	Shared     string        `json:"-"`
	Quick      bool          `json:"quick"`
	Keep       bool          `json:"-"`
	Duration   time.Duration `json:"duration_ns"`
	Warmup     time.Duration `json:"warmup_ns"`
	Idle       time.Duration `json:"idle_ns"`
	GOMAXPROCS []int         `json:"gomaxprocs"`
	Clients    []int         `json:"clients"`
	Pages      int           `json:"pages"`
	Messages   int           `json:"messages"`
	Members    int           `json:"members"`
	Word       string        `json:"-"`
	JSON       string        `json:"-"`
	Binaries   bool          `json:"binaries"`
}

// parseFlags reads the command line into options; ref is set when the
// process is to be the reference server.
func parseFlags(args []string, stderr io.Writer) (o options, ref [2]string, err error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: go run ./bench [flags]\n\nMeasures placette against DESIGN.md's budgets (see the doc comment of bench/main.go).\n\nFlags:\n")
		fs.PrintDefaults()
	}
	fs.StringVar(&o.Src, "src", "", "placette's source `folder` (default: the module root above the current folder)")
	fs.StringVar(&o.Shared, "shared", "", "the shared `folder` with bench/gen_*.py (default: ../shared beside the module root)")
	fs.BoolVar(&o.Quick, "quick", false, "a quick check that the harness runs: 100 pages, 2,000 messages, 1 s per measurement, one pass, arm64 binary only")
	fs.BoolVar(&o.Keep, "keep", false, "keep the temporary folder (data, logs, binaries)")
	fs.DurationVar(&o.Duration, "duration", 5*time.Second, "length of each load measurement")
	fs.DurationVar(&o.Warmup, "warmup", 0, "warm-up before each load measurement, not recorded (default: a fifth of -duration, at most 1 s)")
	fs.DurationVar(&o.Idle, "idle", 30*time.Second, "idle time before memory is read at rest (placette releases what it does not need at rest after 10 to 20 s)")
	gmp := fs.String("gomaxprocs", "0,1", "GOMAXPROCS of placette and the reference, one pass `each`; 0 is Go's default")
	clients := fs.String("clients", "1,16,64", "concurrent clients of the load measurements")
	fs.IntVar(&o.Pages, "pages", 1000, "wiki pages generated")
	fs.IntVar(&o.Messages, "messages", 20000, "messages generated")
	fs.IntVar(&o.Members, "members", 1000, "members who get the fan-out post (besides its author)")
	fs.StringVar(&o.Word, "word", "", "the common `word` searched (default: of the six words of six letters or more the harness counts in the most documents, the one placette finds in the most)")
	fs.StringVar(&o.JSON, "json", "", "also write the figures to `file` as JSON")
	fs.BoolVar(&o.Binaries, "binaries", true, "measure the stripped binaries (cross-compiled)")
	fs.StringVar(&ref[0], "reference-server", "", "internal: serve the pages of this manifest as the net/http reference")
	fs.StringVar(&ref[1], "reference-addr", "", "internal: the reference server's address")
	if err := fs.Parse(args); err != nil {
		return o, ref, err
	}
	if fs.NArg() > 0 {
		return o, ref, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if o.Quick {
		if !set["pages"] {
			o.Pages = 100
		}
		if !set["messages"] {
			o.Messages = 2000
		}
		if !set["duration"] {
			o.Duration = time.Second
		}
		if !set["idle"] {
			o.Idle = time.Second
		}
		if !set["gomaxprocs"] {
			*gmp = "0"
		}
	}
	if o.Warmup == 0 {
		o.Warmup = min(time.Second, o.Duration/5)
	}
	if o.GOMAXPROCS, err = parseInts(*gmp, 0); err != nil {
		return o, ref, fmt.Errorf("-gomaxprocs: %w", err)
	}
	if o.Clients, err = parseInts(*clients, 1); err != nil {
		return o, ref, fmt.Errorf("-clients: %w", err)
	}
	if o.Pages < 1 || o.Messages < 1 || o.Members < 1 || o.Duration <= 0 {
		return o, ref, errors.New("-pages, -messages, -members and -duration must be positive")
	}
	return o, ref, nil
}

// parseInts reads a comma-separated list of integers of at least least.
func parseInts(s string, least int) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return nil, err
		}
		if n < least {
			return nil, fmt.Errorf("%d is less than %d", n, least)
		}
		out = append(out, n)
	}
	return out, nil
}

// run runs the harness and returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	o, ref, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 2
	}
	if ref[0] != "" {
		if err := serveReference(ref[0], ref[1]); err != nil {
			fmt.Fprintf(stderr, "bench: reference server: %v\n", err)
			return 1
		}
		return 0
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	h := &harness{o: o, stderr: stderr, start: time.Now(), procs: &procs{}}
	defer h.procs.killAll()
	rep, err := h.run(ctx)
	if rep != nil {
		if err != nil {
			rep.Error = err.Error()
			rep.LoadEnd = loadAvg()
			rep.Seconds = time.Since(h.start).Seconds()
		}
		writeMarkdown(stdout, rep)
		if o.JSON != "" {
			if jerr := writeJSON(o.JSON, rep); jerr != nil {
				fmt.Fprintf(stderr, "bench: %v\n", jerr)
				return 1
			}
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 1
	}
	return 0
}

// harness is one run of the benchmarks.
type harness struct {
	o      options
	stderr io.Writer
	start  time.Time
	procs  *procs
	tmp    string
	bin    string // placette built for this machine
}

// logf prints a progress line.
func (h *harness) logf(format string, args ...any) {
	fmt.Fprintf(h.stderr, "bench [%5.1fs] %s\n", time.Since(h.start).Seconds(), fmt.Sprintf(format, args...))
}

// run runs every pass and returns the report, partial if err is not nil.
func (h *harness) run(ctx context.Context) (*report, error) {
	root, err := moduleRoot()
	if err != nil && (h.o.Src == "" || h.o.Shared == "") {
		return nil, err
	}
	if h.o.Src == "" {
		h.o.Src = root
	}
	if h.o.Shared == "" {
		h.o.Shared = filepath.Join(root, "..", "shared")
	}
	if _, err := os.Stat(filepath.Join(h.o.Shared, "bench", "gen_mbox.py")); err != nil {
		return nil, fmt.Errorf("no data generators in %s (-shared): %w", h.o.Shared, err)
	}
	h.tmp, err = os.MkdirTemp("", "placette-bench-")
	if err != nil {
		return nil, err
	}
	if h.o.Keep {
		h.logf("temporary folder %s (kept)", h.tmp)
	} else {
		defer func() {
			h.procs.killAll() // nothing may hold files in it
			os.RemoveAll(h.tmp)
		}()
	}
	rep := &report{
		Date: time.Now().UTC().Format(time.RFC3339), GoVersion: runtime.Version(),
		GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, NumCPU: runtime.NumCPU(), LoadStart: loadAvg(),
		Options: h.o,
	}
	h.bin = filepath.Join(h.tmp, "placette")
	h.logf("building placette from %s", h.o.Src)
	// As released: without cgo (statically linked, as the Pi's builds)
	// and stripped.
	if err := goBuild(ctx, h.o.Src, h.bin, []string{"CGO_ENABLED=0"}, "-trimpath", "-ldflags=-s -w"); err != nil {
		return nil, err
	}
	if rep.Data, err = generate(ctx, h.o.Shared, filepath.Join(h.tmp, "data"), h.o.Pages, h.o.Messages, h.logf); err != nil {
		return nil, err
	}
	h.logf("data: %d pages (%d bytes), %d messages (%d bytes); largest thread %d messages",
		rep.Data.Pages, rep.Data.WikiBytes, rep.Data.Messages, rep.Data.MboxBytes, rep.Data.ThreadSize)
	for i, n := range h.o.GOMAXPROCS {
		pr := &passResult{GOMAXPROCS: n}
		rep.Passes = append(rep.Passes, pr)
		if err := h.pass(ctx, i, pr, rep); err != nil {
			return rep, fmt.Errorf("pass GOMAXPROCS=%s: %w", gomaxprocsName(n), err)
		}
	}
	if h.o.Binaries {
		if rep.Binaries, err = h.binaries(ctx); err != nil {
			return rep, err
		}
	}
	rep.LoadEnd = loadAvg()
	rep.Seconds = time.Since(h.start).Seconds()
	h.logf("done")
	return rep, nil
}

// moduleRoot returns the folder of the go.mod above the current folder.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the current folder: run from placette's source, or give -src")
		}
		dir = parent
	}
}

// loadAvg returns the machine's load average over the last minute, or -1.
func loadAvg() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return -1
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return -1
	}
	return v
}

// writeJSON writes the report to file.
func writeJSON(file string, rep *report) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(file, append(b, '\n'), 0o644)
}
