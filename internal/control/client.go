package control

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
)

// ErrNoServer is wrapped by the error [Dial] returns when no server listens
// on the socket.
var ErrNoServer = errors.New("no placette server is running")

// RemoteError is the error [Dial] returns when the command ran on the
// server and failed.
type RemoteError struct {
	// Message is the server-side error text.
	Message string
}

// Error returns the server-side error text, as is.
func (e *RemoteError) Error() string {
	return e.Message
}

// Dial runs c on the server listening on the unix socket at path. It
// returns nil if the command succeeded, a *[RemoteError] if it ran and
// failed, an error wrapping [ErrNoServer] if nothing listens at path (no
// file, or a stale one), and another error if the call could not be made
// or was interrupted. When the error wraps ErrNoServer, nothing was read
// from c.Stdin.
//
// Dial reads c.Stdin only as the command consumes its input, writes its
// output to c.Stdout and its messages to c.Stderr as they come; the nil ones
// stand for an empty input and discarded output. Errors writing to c.Stdout
// or reading c.Stdin abort the call; errors writing to c.Stderr are
// ignored, as progress is only informative. When ctx is done, Dial closes
// the connection, which cancels the command on the server, and returns; a
// read from c.Stdin that blocks is not interrupted, though.
func Dial(ctx context.Context, path string, c *Call) error {
	if len(path) > maxSocketPath {
		// Listen refuses such a path: no server can be there.
		return fmt.Errorf("%w: %s is too long for a unix socket", ErrNoServer, path)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		if errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED) {
			return fmt.Errorf("%w: %w", ErrNoServer, err)
		}
		return fmt.Errorf("connect to the placette server: %w", err)
	}
	err = call(ctx, conn, c.withDefaults())
	if cerr := conn.Close(); cerr != nil && !errors.Is(cerr, net.ErrClosed) && err == nil {
		err = fmt.Errorf("close the connection: %w", cerr)
	}
	if err == nil {
		return nil
	}
	if re := (*RemoteError)(nil); errors.As(err, &re) {
		return err
	}
	return fmt.Errorf("%s on the placette server: %w", c.Name, err)
}

// call runs c over conn, whose streams are never nil.
func call(ctx context.Context, conn net.Conn, c *Call) error {
	stop := afterFunc(ctx, func() {
		// Unblocks the reads and writes below; the error only means the
		// connection is closed already.
		_ = conn.Close()
	})
	defer stop()
	fail := func(err error) error {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		return err
	}

	h, err := encodeHeader(c)
	if err != nil {
		return err
	}
	if err := writeFrame(conn, frameHeader, h); err != nil {
		return fail(fmt.Errorf("send request: %w", err))
	}

	r := bufio.NewReader(conn)
	buf := make([]byte, maxPayload)
	var (
		in      []byte // c.Stdin's chunks, allocated at the first read frame
		inEOF   bool   // c.Stdin is exhausted
		sendErr error  // the server stopped listening: wait for its result
	)
	for {
		typ, payload, err := readFrame(r, buf)
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = errors.New("the server closed the connection before the command finished")
			}
			if sendErr != nil {
				err = sendErr
			}
			return fail(err)
		}
		switch {
		case typ == frameStdout:
			if _, err := c.Stdout.Write(payload); err != nil {
				return fmt.Errorf("write output: %w", err)
			}
		case typ == frameStderr:
			// Progress is informative: a failure to show it is no
			// reason to stop the command.
			_, _ = c.Stderr.Write(payload)
		case typ == frameRead && len(payload) == 0:
			if sendErr != nil {
				continue
			}
			if !inEOF {
				if in == nil {
					in = make([]byte, maxPayload)
				}
				n, err := io.ReadAtLeast(c.Stdin, in, 1)
				if n > 0 {
					sendErr = writeFrame(conn, frameInput, in[:n])
					continue
				}
				if err != io.EOF {
					return fmt.Errorf("read input: %w", err)
				}
				inEOF = true
			}
			sendErr = writeFrame(conn, frameInputEnd, nil)
		case typ == frameSuccess && len(payload) == 0:
			return nil
		case typ == frameFailure:
			return &RemoteError{Message: string(payload)}
		default:
			return fmt.Errorf("%w: unexpected %d-byte %s frame from the server", errProtocol, len(payload), frameName(typ))
		}
	}
}

// Run runs c on the server listening at path if there is one, and else
// calls local, which opens the database itself and runs the same handler
// in-process. It returns the error of Dial or of local. The *Call that
// local receives is a copy of c whose nil streams are replaced, as on the
// server, by an empty input and discarding writers.
func Run(ctx context.Context, path string, c *Call, local func(ctx context.Context, c *Call) error) error {
	err := Dial(ctx, path, c)
	if !errors.Is(err, ErrNoServer) {
		return err
	}
	return local(ctx, c.withDefaults())
}
