package control

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"
)

const (
	// headerTimeout bounds the wait for a new connection's header.
	headerTimeout = 10 * time.Second
	// shutdownWriteTimeout bounds, once the server shuts down, the writes
	// to a client that does not read, so that it cannot hold up the
	// shutdown.
	shutdownWriteTimeout = 5 * time.Second
	// maxAcceptDelay is the longest pause after a failed Accept.
	maxAcceptDelay = time.Second
)

var (
	// errShuttingDown is the cause of the calls' contexts when Serve's
	// context is done.
	errShuttingDown = errors.New("the placette server is shutting down")
	// errClientGone is the cause of a call's context when its client
	// disconnects.
	errClientGone = errors.New("the client disconnected")
	// errCallDone is the cause of a call's context once its handler has
	// returned.
	errCallDone = errors.New("the call is over")
)

// Server serves calls on a unix socket. Its fields are read by Serve and
// must not change while it runs.
type Server struct {
	// Handler runs the calls.
	Handler Handler
	// Logger receives the calls and the connections' errors. It can be nil:
	// nothing is logged.
	Logger *slog.Logger
}

// Serve accepts connections on ln, usually made by [Listen], and serves
// each in its own goroutine, until ctx is done or ln is closed.
//
// When ctx is done, Serve closes ln and cancels the running calls' contexts
// with the cause "the placette server is shutting down". When ln is closed
// by someone else, the running calls go on, and cancelling ctx still
// cancels them. Either way, Serve returns once every connection's goroutine
// has returned; it returns nil, or the error of an Accept that failed for
// another reason than ln's closing.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if s.Handler == nil {
		return errors.New("control: Server.Handler is nil")
	}
	logger := s.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}

	// The calls' contexts keep ctx's values but are cancelled with our
	// own cause.
	base, cancelBase := context.WithCancelCause(context.WithoutCancel(ctx))
	defer cancelBase(nil)
	stop := afterFunc(ctx, func() {
		cancelBase(errShuttingDown)
		if err := ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			logger.Warn("close control listener", "error", err)
		}
	})
	defer stop()

	var conns sync.WaitGroup
	defer conns.Wait()
	var delay time.Duration
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			if !temporary(err) {
				return fmt.Errorf("accept control connection: %w", err)
			}
			delay = min(max(2*delay, 5*time.Millisecond), maxAcceptDelay)
			logger.Warn("accept control connection", "error", err, "retry_in", delay)
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
			}
			continue
		}
		delay = 0
		conns.Go(func() { s.serveConn(base, logger, conn) })
	}
}

// temporary reports whether a failed Accept may succeed later.
func temporary(err error) bool {
	for _, errno := range []syscall.Errno{syscall.ECONNABORTED, syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM} {
		if errors.Is(err, errno) {
			return true
		}
	}
	return false
}

// serveConn serves one connection, until the call is over. ctx is done
// when the server shuts down.
func (s *Server) serveConn(ctx context.Context, logger *slog.Logger, conn net.Conn) {
	defer func() {
		if err := conn.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			logger.Debug("close control connection", "error", err)
		}
	}()
	// On shutdown, stop waiting for the client at once, and for a client
	// that does not read after a while.
	stop := afterFunc(ctx, func() {
		// The errors only mean the connection is closed already.
		_ = conn.SetReadDeadline(time.Unix(1, 0))
		_ = conn.SetWriteDeadline(time.Now().Add(shutdownWriteTimeout))
	})
	defer stop()

	fw := &frameWriter{w: conn}
	r := bufio.NewReader(conn)
	buf := make([]byte, maxPayload)

	h, err := readHeader(ctx, conn, r, buf)
	if err != nil {
		if errors.Is(err, io.EOF) || ctx.Err() != nil {
			// Connected and left without a word, or shutting down:
			// nothing to say.
			logger.Debug("control connection closed before its header", "error", err)
			return
		}
		logger.Warn("bad control request", "error", err)
		if ferr := fw.finish(frameFailure, err.Error()); ferr != nil {
			logger.Debug("send control failure", "error", ferr)
		}
		return
	}

	callCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	frames := make(chan []byte)
	var reader sync.WaitGroup
	reader.Go(func() { readInput(callCtx, cancel, r, buf, frames) })

	c := &Call{
		Name:   h.Name,
		Args:   h.Args,
		Stdin:  &remoteInput{ctx: callCtx, fw: fw, frames: frames},
		Stdout: &stream{fw: fw, typ: frameStdout},
		Stderr: &stream{fw: fw, typ: frameStderr},
	}
	err = s.runHandler(callCtx, logger, c)
	var ferr error
	if err == nil {
		ferr = fw.finish(frameSuccess, "")
	} else {
		ferr = fw.finish(frameFailure, failureMessage(callCtx, err))
	}
	cause := context.Cause(callCtx)
	cancel(errCallDone)
	if err := conn.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		logger.Debug("close control connection", "error", err)
	}
	reader.Wait()

	attrs := []any{"name", h.Name}
	if err != nil {
		attrs = append(attrs, "error", err)
	}
	if cause != nil {
		attrs = append(attrs, "cause", cause)
	}
	logger.Info("control call", attrs...)
	if errors.Is(cause, errProtocol) {
		logger.Warn("bad control request", "name", h.Name, "error", cause)
	}
	if ferr != nil && !errors.Is(cause, errClientGone) {
		logger.Warn("send control result", "name", h.Name, "error", ferr)
	}
}

// readHeader reads the first frame of a connection, which must be a header,
// within headerTimeout, unless ctx (the server's) is done.
func readHeader(ctx context.Context, conn net.Conn, r io.Reader, buf []byte) (header, error) {
	if err := conn.SetReadDeadline(time.Now().Add(headerTimeout)); err != nil {
		return header{}, fmt.Errorf("set header deadline: %w", err)
	}
	// A shutdown that set its deadline in the past before the line above
	// was undone by it: the connection would have held the server up for
	// headerTimeout. One after it sets the deadline again.
	if err := ctx.Err(); err != nil {
		return header{}, err
	}
	typ, payload, err := readFrame(r, buf)
	if err != nil {
		return header{}, err
	}
	if typ != frameHeader {
		return header{}, fmt.Errorf("%w: %s frame before the header", errProtocol, frameName(typ))
	}
	h, err := decodeHeader(payload)
	if err != nil {
		return header{}, err
	}
	if err := conn.SetReadDeadline(time.Time{}); err != nil {
		return header{}, fmt.Errorf("clear header deadline: %w", err)
	}
	return h, nil
}

// runHandler runs the handler, and turns a panic into an error so that a
// bug in one command does not bring the whole server down.
func (s *Server) runHandler(ctx context.Context, logger *slog.Logger, c *Call) (err error) {
	defer func() {
		if v := recover(); v != nil {
			logger.Error("control handler panicked", "name", c.Name, "panic", v, "stack", string(debug.Stack()))
			err = fmt.Errorf("internal error in the placette server while running %q (see its log)", c.Name)
		}
	}()
	return s.Handler.ServeCall(ctx, c)
}

// failureMessage returns the message sent to the client for the handler's
// error err. When err comes from the context's cancellation, the message
// tells why, such as the server shutting down.
func failureMessage(ctx context.Context, err error) string {
	msg := err.Error()
	if msg == "" {
		msg = "the command failed"
	}
	cause := context.Cause(ctx)
	if cause != nil && cause != context.Canceled && errors.Is(err, context.Canceled) && !errors.Is(err, cause) {
		msg = cause.Error() + ": " + msg
	}
	if len(msg) > maxPayload {
		msg = strings.ToValidUTF8(msg[:maxPayload-len("…")], "") + "…"
	}
	return msg
}

// readInput reads the client's frames after the header, and hands the
// input to the call's Stdin through frames: a chunk, or nil at the end of
// the input. It cancels the call when the client disconnects or breaks the
// protocol, and returns then or once ctx is done.
func readInput(ctx context.Context, cancel context.CancelCauseFunc, r io.Reader, buf []byte, frames chan<- []byte) {
	for {
		typ, payload, err := readFrame(r, buf)
		if err != nil {
			switch {
			case errors.Is(err, io.EOF):
				cancel(errClientGone)
			case errors.Is(err, errProtocol):
				cancel(err)
			default:
				cancel(fmt.Errorf("%w: %w", errClientGone, err))
			}
			return
		}
		var chunk []byte
		switch {
		case typ == frameInput && len(payload) > 0:
			chunk = bytes.Clone(payload)
		case typ == frameInputEnd && len(payload) == 0:
			chunk = nil
		default:
			cancel(fmt.Errorf("%w: unexpected %d-byte %s frame from the client", errProtocol, len(payload), frameName(typ)))
			return
		}
		select {
		case frames <- chunk:
		case <-ctx.Done():
			return
		}
	}
}

// frameWriter writes the server's frames to a connection, for the handler's
// streams, possibly from several goroutines, and for the end of the call.
type frameWriter struct {
	w io.Writer

	mu   sync.Mutex // guards the writes to w, err and done
	err  error      // the first error writing to w: later frames would be garbled
	done bool       // the final frame was written
}

// write writes p as frames of type typ.
func (fw *frameWriter) write(typ byte, p []byte) (int, error) {
	fw.mu.Lock()
	defer fw.mu.Unlock()
	if fw.done {
		return 0, errors.New("write to a finished control call")
	}
	if fw.err != nil {
		return 0, fw.err
	}
	n := 0
	for len(p) > 0 {
		chunk := p[:min(len(p), maxPayload)]
		if err := writeFrame(fw.w, typ, chunk); err != nil {
			fw.err = fmt.Errorf("send to the client: %w", err)
			return n, fw.err
		}
		n += len(chunk)
		p = p[len(chunk):]
	}
	return n, nil
}

// requestInput sends a read frame.
func (fw *frameWriter) requestInput() error {
	fw.mu.Lock()
	defer fw.mu.Unlock()
	if fw.done {
		return errors.New("read from a finished control call")
	}
	if fw.err != nil {
		return fw.err
	}
	if err := writeFrame(fw.w, frameRead, nil); err != nil {
		fw.err = fmt.Errorf("send to the client: %w", err)
		return fw.err
	}
	return nil
}

// finish writes the final frame, a success or a failure with msg; later
// writes fail.
func (fw *frameWriter) finish(typ byte, msg string) error {
	fw.mu.Lock()
	defer fw.mu.Unlock()
	fw.done = true
	if fw.err != nil {
		return fw.err
	}
	return writeFrame(fw.w, typ, []byte(msg))
}

// stream is the handler's Stdout or Stderr on the server.
type stream struct {
	fw  *frameWriter
	typ byte
}

// Write sends p to the client.
func (s *stream) Write(p []byte) (int, error) {
	return s.fw.write(s.typ, p)
}

// remoteInput is the handler's Stdin on the server: it asks the client for
// input as the handler reads.
type remoteInput struct {
	ctx    context.Context
	fw     *frameWriter
	frames <-chan []byte // from readInput: a chunk, or nil at the end

	mu  sync.Mutex // guards buf and eof, and serialises the reads
	buf []byte     // the unread rest of the last chunk
	eof bool       // the client has sent the end of its input
}

// Read reads the client's input.
func (in *remoteInput) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	for len(in.buf) == 0 {
		if in.eof {
			return 0, io.EOF
		}
		if err := in.ctx.Err(); err != nil {
			return 0, fmt.Errorf("read input: %w", context.Cause(in.ctx))
		}
		if err := in.fw.requestInput(); err != nil {
			return 0, fmt.Errorf("read input: %w", err)
		}
		select {
		case chunk := <-in.frames:
			if chunk == nil {
				in.eof = true
				return 0, io.EOF
			}
			in.buf = chunk
		case <-in.ctx.Done():
			return 0, fmt.Errorf("read input: %w", context.Cause(in.ctx))
		}
	}
	n := copy(p, in.buf)
	in.buf = in.buf[n:]
	return n, nil
}
