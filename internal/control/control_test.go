package control

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	random := make([]byte, 5<<20)
	if _, err := rand.Read(random); err != nil {
		t.Fatal(err)
	}
	type got struct {
		name string
		args []string
	}
	calls := make(chan got, 1)
	// The handler echoes its input to its output, a megabyte at a time,
	// with a progress line after each.
	ts := startServer(t, HandlerFunc(func(ctx context.Context, c *Call) error {
		calls <- got{c.Name, c.Args}
		for i := 0; ; i++ {
			n, err := io.CopyN(c.Stdout, c.Stdin, 1<<20)
			if err != nil && err != io.EOF {
				return err
			}
			fmt.Fprintf(c.Stderr, "%d: %d bytes\n", i, n)
			if err == io.EOF {
				return nil
			}
		}
	}))

	tests := []struct {
		name  string
		args  []string
		stdin []byte // nil: no Stdin
	}{
		{"backup", []string{"out.db"}, random},
		{"user add", []string{"léa", "-admin", "", "a b\nc\"d"}, []byte("secret\n")},
		{"version", nil, nil},
		{"reindex", []string{}, []byte{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			c := &Call{Name: tt.name, Args: tt.args, Stdout: &stdout, Stderr: &stderr}
			if tt.stdin != nil {
				c.Stdin = bytes.NewReader(tt.stdin)
			}
			if err := Dial(context.Background(), ts.path, c); err != nil {
				t.Fatalf("Dial: %v", err)
			}
			g := wait(t, calls, "the call")
			if g.name != tt.name || !slices.Equal(g.args, tt.args) {
				t.Errorf("handler got %q %q, want %q %q", g.name, g.args, tt.name, tt.args)
			}
			if !bytes.Equal(stdout.Bytes(), tt.stdin) {
				t.Errorf("output: got %d bytes, want the %d bytes of input", stdout.Len(), len(tt.stdin))
			}
			var want strings.Builder
			for i := 0; i <= len(tt.stdin)>>20; i++ {
				fmt.Fprintf(&want, "%d: %d bytes\n", i, min(len(tt.stdin)-i<<20, 1<<20))
			}
			if stderr.String() != want.String() {
				t.Errorf("stderr:\n%s\nwant:\n%s", stderr.String(), want.String())
			}
		})
	}
}

// notifyWriter sends each write on a channel.
type notifyWriter chan string

func (w notifyWriter) Write(p []byte) (int, error) {
	w <- string(p)
	return len(p), nil
}

func TestProgressIsLive(t *testing.T) {
	proceed := make(chan struct{})
	ts := startServer(t, HandlerFunc(func(ctx context.Context, c *Call) error {
		fmt.Fprint(c.Stderr, "1/2")
		// The client sees "1/2" before the command goes on.
		select {
		case <-proceed:
		case <-ctx.Done():
			return ctx.Err()
		}
		fmt.Fprint(c.Stderr, "2/2")
		return nil
	}))
	progress := make(notifyWriter, 2)
	errc := make(chan error, 1)
	go func() { errc <- Dial(context.Background(), ts.path, &Call{Name: "reindex", Stderr: progress}) }()
	if got := wait(t, progress, "the first progress line"); got != "1/2" {
		t.Errorf("first progress: got %q", got)
	}
	close(proceed)
	if got := wait(t, progress, "the second progress line"); got != "2/2" {
		t.Errorf("second progress: got %q", got)
	}
	if err := wait(t, errc, "Dial"); err != nil {
		t.Errorf("Dial: %v", err)
	}
}

func TestResult(t *testing.T) {
	long := strings.Repeat("é", maxPayload) // more than a frame
	tests := []struct {
		name string
		err  error
		want string // the RemoteError's message; "" for success
	}{
		{"success", nil, ""},
		{"error", errors.New(`list "atelier" does not exist`), `list "atelier" does not exist`},
		{"wrapped", fmt.Errorf("import line 12: %w", io.ErrUnexpectedEOF), "import line 12: unexpected EOF"},
		{"empty", errors.New(""), "the command failed"},
		{"too long", errors.New(long), strings.ToValidUTF8(long[:maxPayload-len("…")], "") + "…"},
	}
	errs := make(map[string]error)
	for _, tt := range tests {
		errs[tt.name] = tt.err
	}
	ts := startServer(t, HandlerFunc(func(ctx context.Context, c *Call) error {
		return errs[c.Name]
	}))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Dial(context.Background(), ts.path, &Call{Name: tt.name})
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Dial: %v, want nil", err)
				}
				return
			}
			var re *RemoteError
			if !errors.As(err, &re) {
				t.Fatalf("Dial: %v (%T), want a *RemoteError", err, err)
			}
			if re.Message != tt.want || err.Error() != tt.want {
				t.Errorf("Dial: %q, want %q", err.Error(), tt.want)
			}
		})
	}
}

func TestNilStreams(t *testing.T) {
	type result struct {
		input []byte
		err   error
	}
	results := make(chan result, 1)
	ts := startServer(t, HandlerFunc(func(ctx context.Context, c *Call) error {
		b, err := io.ReadAll(c.Stdin)
		results <- result{b, err}
		// Reading again still gives io.EOF.
		if n, err := c.Stdin.Read(make([]byte, 10)); n != 0 || err != io.EOF {
			return fmt.Errorf("second read: %d, %v", n, err)
		}
		fmt.Fprint(c.Stdout, "discarded")
		fmt.Fprint(c.Stderr, "discarded")
		return nil
	}))
	if err := Dial(context.Background(), ts.path, &Call{Name: "backup"}); err != nil {
		t.Fatalf("Dial: %v", err)
	}
	r := wait(t, results, "the handler")
	if len(r.input) != 0 || r.err != nil {
		t.Errorf("ReadAll(Stdin): %q, %v; want empty, nil", r.input, r.err)
	}
}

func TestHandlerIgnoresInput(t *testing.T) {
	const size = 2 << 20
	tests := []struct {
		name string
		read int64 // what the handler reads
	}{
		{"nothing", 0},
		{"a little", 100},
		{"half", size / 2},
		{"all", size},
	}
	reads := make(map[string]int64)
	for _, tt := range tests {
		reads[tt.name] = tt.read
	}
	ts := startServer(t, HandlerFunc(func(ctx context.Context, c *Call) error {
		n, err := io.CopyN(io.Discard, c.Stdin, reads[c.Name])
		if err != nil {
			return err
		}
		fmt.Fprintf(c.Stdout, "read %d", n)
		return nil
	}))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := bytes.NewReader(make([]byte, size))
			var out bytes.Buffer
			if err := Dial(context.Background(), ts.path, &Call{Name: tt.name, Stdin: in, Stdout: &out}); err != nil {
				t.Fatalf("Dial: %v", err)
			}
			if want := fmt.Sprintf("read %d", tt.read); out.String() != want {
				t.Errorf("output %q, want %q", out.String(), want)
			}
			// Input is pulled: the client reads at most one chunk ahead.
			if consumed := size - int64(in.Len()); consumed < tt.read || consumed > tt.read+maxPayload {
				t.Errorf("the client read %d bytes of input for a handler that read %d", consumed, tt.read)
			}
		})
	}
}

func TestConcurrentCalls(t *testing.T) {
	ts := startServer(t, HandlerFunc(func(ctx context.Context, c *Call) error {
		_, err := io.Copy(c.Stdout, c.Stdin)
		return err
	}))
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			in := bytes.Repeat([]byte{byte(i)}, 200<<10+i)
			var out bytes.Buffer
			if err := Dial(context.Background(), ts.path, &Call{Name: "echo", Stdin: bytes.NewReader(in), Stdout: &out}); err != nil {
				t.Errorf("call %d: %v", i, err)
				return
			}
			if !bytes.Equal(out.Bytes(), in) {
				t.Errorf("call %d: got %d bytes back, want %d", i, out.Len(), len(in))
			}
		})
	}
	wg.Wait()
}

func TestHandlerPanic(t *testing.T) {
	ts := startServer(t, HandlerFunc(func(ctx context.Context, c *Call) error {
		if c.Name == "boom" {
			panic("boom")
		}
		return nil
	}))
	err := Dial(context.Background(), ts.path, &Call{Name: "boom"})
	var re *RemoteError
	if !errors.As(err, &re) || !strings.Contains(re.Message, "internal error") {
		t.Errorf("Dial: %v, want a RemoteError about an internal error", err)
	}
	if err := Dial(context.Background(), ts.path, &Call{Name: "fine"}); err != nil {
		t.Errorf("Dial after a panic: %v", err)
	}
}

func TestServerShutdown(t *testing.T) {
	started := make(chan struct{})
	causes := make(chan error, 1)
	ts := startServer(t, HandlerFunc(func(ctx context.Context, c *Call) error {
		close(started)
		<-ctx.Done()
		causes <- context.Cause(ctx)
		return ctx.Err()
	}))
	// A client that connects and says nothing must not hold the server up.
	idle, err := net.Dial("unix", ts.path)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()

	errc := make(chan error, 1)
	go func() { errc <- Dial(context.Background(), ts.path, &Call{Name: "import"}) }()
	wait(t, started, "the handler to start")
	if err := ts.stop(); err != nil {
		t.Fatal(err)
	}
	if cause := wait(t, causes, "the handler to see its context cancelled"); cause != errShuttingDown {
		t.Errorf("handler's context cause: %v, want %v", cause, errShuttingDown)
	}
	err = wait(t, errc, "Dial")
	var re *RemoteError
	if !errors.As(err, &re) || re.Message != "the placette server is shutting down: context canceled" {
		t.Errorf("Dial: %v, want a RemoteError saying the server is shutting down", err)
	}
	if _, err := os.Lstat(ts.path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket file after shutdown: %v, want it removed", err)
	}
	if err := Dial(context.Background(), ts.path, &Call{Name: "import"}); !errors.Is(err, ErrNoServer) {
		t.Errorf("Dial after shutdown: %v, want ErrNoServer", err)
	}
}

// failingWriter fails every write.
type failingWriter struct{ err error }

func (w failingWriter) Write([]byte) (int, error) { return 0, w.err }

// failingReader gives some bytes, then an error.
type failingReader struct {
	r   io.Reader
	err error
}

func (r *failingReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err == io.EOF {
		err = r.err
	}
	return n, err
}

func TestClientAbort(t *testing.T) {
	errDisk := errors.New("no space left on device")
	errRead := errors.New("input/output error")
	tests := []struct {
		name    string
		call    *Call
		cancel  bool  // cancel the client's context once the handler runs
		wantErr error // what Dial's error wraps
	}{
		{
			name:    "context cancelled",
			call:    &Call{Name: "wait"},
			cancel:  true,
			wantErr: context.Canceled,
		},
		{
			name:    "output fails",
			call:    &Call{Name: "write", Stdout: failingWriter{errDisk}},
			wantErr: errDisk,
		},
		{
			name:    "input fails",
			call:    &Call{Name: "read", Stdin: &failingReader{strings.NewReader("From a@b"), errRead}},
			wantErr: errRead,
		},
	}
	type report struct {
		cause    error
		writeErr error
	}
	reports := make(chan report, 1)
	started := make(chan struct{}, 1)
	ts := startServer(t, HandlerFunc(func(ctx context.Context, c *Call) error {
		started <- struct{}{}
		switch c.Name {
		case "write":
			fmt.Fprint(c.Stdout, "backup bytes")
		case "read":
			if _, err := io.ReadAll(c.Stdin); err == nil {
				return errors.New("ReadAll succeeded")
			}
		}
		<-ctx.Done()
		_, err := c.Stdout.Write([]byte("too late"))
		reports <- report{context.Cause(ctx), err}
		return ctx.Err()
	}))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			errc := make(chan error, 1)
			go func() { errc <- Dial(ctx, ts.path, tt.call) }()
			wait(t, started, "the handler to start")
			if tt.cancel {
				cancel()
			}
			if err := wait(t, errc, "Dial"); !errors.Is(err, tt.wantErr) {
				t.Errorf("Dial: %v, want an error wrapping %v", err, tt.wantErr)
			}
			r := wait(t, reports, "the handler to see its context cancelled")
			if !errors.Is(r.cause, errClientGone) {
				t.Errorf("handler's context cause: %v, want %v", r.cause, errClientGone)
			}
			if r.writeErr == nil {
				t.Error("a write after the client left succeeded")
			}
		})
	}
}
