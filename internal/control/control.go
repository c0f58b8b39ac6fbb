package control

import (
	"context"
	"io"
	"strings"
	"sync"
)

// Call is one invocation of a command.
type Call struct {
	// Name is the command's name, such as "backup".
	Name string
	// Args are the command's arguments.
	Args []string
	// Stdin is the command's input. It can be nil: empty input.
	Stdin io.Reader
	// Stdout receives the command's output. It can be nil: output discarded.
	Stdout io.Writer
	// Stderr receives progress and messages for the person. It can be nil:
	// discarded.
	Stderr io.Writer
}

// withDefaults returns a copy of c whose nil streams are replaced by an
// empty reader and discarding writers.
func (c *Call) withDefaults() *Call {
	cc := *c
	if cc.Stdin == nil {
		cc.Stdin = strings.NewReader("")
	}
	if cc.Stdout == nil {
		cc.Stdout = io.Discard
	}
	if cc.Stderr == nil {
		cc.Stderr = io.Discard
	}
	return &cc
}

// Handler runs calls, for a [Server] and for the local fallback of [Run].
//
// ServeCall runs c and returns nil on success, or an error whose Error text
// is shown to the person as is, on one line. It must return soon after ctx
// is done: on the server, ctx is cancelled when the client disconnects or
// the server shuts down, and context.Cause(ctx) tells which.
//
// When ServeCall is called by a Server or by Run, c.Stdin, c.Stdout and
// c.Stderr are never nil. On the server they are streams over the socket:
// Stdin reads the client's input as it is consumed; writes to Stdout and
// Stderr reach the client as they happen and fail once the client is gone
// or ServeCall has returned. A Server calls ServeCall concurrently for
// different connections.
type Handler interface {
	ServeCall(ctx context.Context, c *Call) error
}

// HandlerFunc adapts a function to the [Handler] interface.
type HandlerFunc func(ctx context.Context, c *Call) error

// ServeCall calls f(ctx, c).
func (f HandlerFunc) ServeCall(ctx context.Context, c *Call) error {
	return f(ctx, c)
}

var _ Handler = HandlerFunc(nil)

// afterFunc is [context.AfterFunc], except that stop also waits for f to
// return if it has started, so that no goroutine outlives the caller.
func afterFunc(ctx context.Context, f func()) (stop func()) {
	var wg sync.WaitGroup
	wg.Add(1)
	stopf := context.AfterFunc(ctx, func() {
		defer wg.Done()
		f()
	})
	return func() {
		if stopf() {
			wg.Done() // f will never run.
		}
		wg.Wait()
	}
}
