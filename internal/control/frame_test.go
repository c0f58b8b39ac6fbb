package control

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"
)

// frame returns the encoding of one frame, whatever its length.
func frame(typ byte, payload []byte) []byte {
	b := []byte{typ, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(b[1:], uint32(len(payload)))
	return append(b, payload...)
}

// rawFrame returns a frame header that announces n bytes, without them.
func rawFrame(typ byte, n uint32) []byte {
	b := []byte{typ, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(b[1:], n)
	return b
}

func TestReadFrame(t *testing.T) {
	full := bytes.Repeat([]byte{'x'}, maxPayload)
	tests := []struct {
		name    string
		in      []byte
		typ     byte
		payload []byte
		err     string // a substring of the error; "" for none
	}{
		{"empty", frame(frameSuccess, nil), frameSuccess, []byte{}, ""},
		{"output", frame(frameStdout, []byte("hello")), frameStdout, []byte("hello"), ""},
		{"largest", frame(frameInput, full), frameInput, full, ""},
		{"one byte too long", rawFrame(frameInput, maxPayload+1), 0, nil, "exceeds the limit of 65536 bytes"},
		{"huge", rawFrame(frameHeader, 1<<32-1), 0, nil, "header frame of 4294967295 bytes exceeds the limit"},
		{"unknown type", []byte("GET / HTTP/1.1\r\n"), 0, nil, "unknown type 0x47"},
		{"truncated header", []byte{frameStdout, 0, 0}, 0, nil, "unexpected EOF"},
		{"truncated payload", frame(frameStdout, []byte("hello"))[:7], 0, nil, "unexpected EOF"},
		{"nothing", nil, 0, nil, "EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			typ, payload, err := readFrame(bytes.NewReader(tt.in), make([]byte, maxPayload))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("readFrame: %v, want an error containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("readFrame: %v", err)
			}
			if typ != tt.typ || !bytes.Equal(payload, tt.payload) {
				t.Errorf("readFrame: %c %q, want %c %q", typ, payload, tt.typ, tt.payload)
			}
		})
	}
}

func TestWriteFrame(t *testing.T) {
	var b bytes.Buffer
	if err := writeFrame(&b, frameStderr, []byte("12000/20000 messages\n")); err != nil {
		t.Fatal(err)
	}
	if want := frame(frameStderr, []byte("12000/20000 messages\n")); !bytes.Equal(b.Bytes(), want) {
		t.Errorf("writeFrame: %q, want %q", b.Bytes(), want)
	}
	if err := writeFrame(&b, frameStdout, make([]byte, maxPayload+1)); err == nil {
		t.Error("writeFrame wrote an oversized frame")
	}
}

func TestHeader(t *testing.T) {
	c := &Call{Name: "list import", Args: []string{"atelier", "-"}}
	b, err := encodeHeader(c)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"v":1,"name":"list import","args":["atelier","-"]}`; string(b) != want {
		t.Errorf("encodeHeader: %s, want %s", b, want)
	}
	h, err := decodeHeader(b)
	if err != nil || h.Name != c.Name || !slices.Equal(h.Args, c.Args) {
		t.Errorf("decodeHeader: %+v, %v", h, err)
	}
	if _, err := encodeHeader(&Call{Name: "list members", Args: []string{strings.Repeat("a", maxPayload)}}); err == nil {
		t.Error("encodeHeader accepted an oversized header")
	}
}

// FuzzReadFrame reads frames, and headers from header frames, from
// arbitrary bytes: it must never panic, and payloads stay inside the
// caller's buffer.
func FuzzReadFrame(f *testing.F) {
	f.Add(frame(frameHeader, []byte(`{"v":1,"name":"backup","args":["x"]}`)))
	f.Add(slices.Concat(frame(frameInput, []byte("From a@b\n")), frame(frameInputEnd, nil)))
	f.Add(slices.Concat(frame(frameRead, nil), frame(frameStdout, []byte("x")), frame(frameFailure, []byte("no"))))
	f.Add(rawFrame(frameHeader, 1<<32-1))
	f.Add(frame(frameHeader, []byte(`{"v":1,"name":"","args":null}`)))
	f.Add(frame(frameHeader, []byte(`{"v":2}`)))
	f.Add([]byte("GET / HTTP/1.1\r\n\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		buf := make([]byte, maxPayload)
		r := bytes.NewReader(data)
		for {
			before := r.Len()
			typ, payload, err := readFrame(r, buf)
			if err != nil {
				return
			}
			if len(payload) > maxPayload {
				t.Fatalf("payload of %d bytes", len(payload))
			}
			if len(payload) > 0 && unsafe.SliceData(payload) != unsafe.SliceData(buf) {
				t.Fatal("the payload is not in the caller's buffer")
			}
			if consumed := data[len(data)-before : len(data)-r.Len()]; !bytes.Equal(consumed, frame(typ, payload)) {
				t.Fatalf("frame %q re-encodes as %q", consumed, frame(typ, payload))
			}
			if typ != frameHeader {
				continue
			}
			h, err := decodeHeader(payload)
			if err != nil {
				if !errors.Is(err, errProtocol) {
					t.Fatalf("decodeHeader error %v does not wrap errProtocol", err)
				}
				continue
			}
			b, err := encodeHeader(&Call{Name: h.Name, Args: h.Args})
			if err != nil {
				// Re-encoding may escape characters and outgrow the limit.
				continue
			}
			h2, err := decodeHeader(b)
			if err != nil || h2.Name != h.Name || !slices.Equal(h2.Args, h.Args) {
				t.Fatalf("header %+v round-trips as %+v, %v", h, h2, err)
			}
		}
	})
}

// rawExchange sends data on a fresh connection to path, then reads the
// server's frames until it closes the connection, and returns the last
// one.
func rawExchange(t *testing.T, path string, data []byte, closeWrite bool) (typ byte, payload string) {
	t.Helper()
	conn, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(safety)); err != nil {
		t.Fatal(err)
	}
	// The server may close the connection before it has read everything.
	_, _ = conn.Write(data)
	if closeWrite {
		if err := conn.(*net.UnixConn).CloseWrite(); err != nil {
			t.Fatal(err)
		}
	}
	buf := make([]byte, maxPayload)
	for {
		ft, p, err := readFrame(conn, buf)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatal("the server neither answered nor closed the connection")
			}
			return typ, payload
		}
		typ, payload = ft, string(p)
	}
}

func TestMalformedRequests(t *testing.T) {
	header := frame(frameHeader, []byte(`{"v":1,"name":"echo"}`))
	tests := []struct {
		name       string
		data       []byte
		closeWrite bool
		want       string // a substring of the failure, "" for no answer
	}{
		{"garbage", []byte("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"), false, "unknown type 0x47"},
		{"oversized header", rawFrame(frameHeader, 1<<31), false, "header frame of 2147483648 bytes exceeds the limit of 65536 bytes"},
		{"malformed header", frame(frameHeader, []byte(`{"v":1,"name":`)), false, "malformed request header"},
		{"header not an object", frame(frameHeader, []byte(`[1,2]`)), false, "malformed request header"},
		{"newer version", frame(frameHeader, []byte(`{"v":2,"name":"echo"}`)), false, "request version 2, but this placette server speaks version 1"},
		{"no name", frame(frameHeader, []byte(`{"v":1}`)), false, "without a command name"},
		{"input first", frame(frameInput, []byte("x")), false, "input frame before the header"},
		{"truncated header", rawFrame(frameHeader, 100), true, "unexpected EOF"},
		{"output from the client", slices.Concat(header, frame(frameStdout, []byte("abc"))), false, "unexpected 3-byte output frame from the client"},
		{"empty input", slices.Concat(header, frame(frameInput, nil)), false, "unexpected 0-byte input frame"},
		{"oversized input", slices.Concat(header, rawFrame(frameInput, maxPayload+1)), false, "input frame of 65537 bytes exceeds the limit"},
		{"second header", slices.Concat(header, header), false, "unexpected 21-byte header frame"},
		{"silent", nil, true, ""},
	}
	ts := startServer(t, HandlerFunc(func(ctx context.Context, c *Call) error {
		_, err := io.Copy(c.Stdout, c.Stdin)
		return err
	}))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			typ, msg := rawExchange(t, ts.path, tt.data, tt.closeWrite)
			if tt.want == "" {
				if typ != 0 {
					t.Errorf("got a %s frame %q, want none", frameName(typ), msg)
				}
			} else if typ != frameFailure || !strings.Contains(msg, tt.want) {
				t.Errorf("last frame: %s %q, want a failure containing %q", frameName(typ), msg, tt.want)
			}
			// The server still serves.
			var out bytes.Buffer
			if err := Dial(context.Background(), ts.path, &Call{Name: "echo", Stdin: strings.NewReader("still here"), Stdout: &out}); err != nil || out.String() != "still here" {
				t.Errorf("Dial after %s: %q, %v", tt.name, out.String(), err)
			}
		})
	}
	if err := ts.stop(); err != nil {
		t.Fatal(err)
	}
	logs := strings.Join(ts.logs.all(), "\n")
	for _, tt := range tests {
		if tt.want != "" && !strings.Contains(logs, tt.want) {
			t.Errorf("no log for %s (%q) in:\n%s", tt.name, tt.want, logs)
		}
	}
}

// FuzzServeConn plays arbitrary bytes as a client against a connection's
// server side: it must never panic nor hang.
func FuzzServeConn(f *testing.F) {
	header := frame(frameHeader, []byte(`{"v":1,"name":"echo"}`))
	f.Add(header)
	f.Add(slices.Concat(header, frame(frameInput, []byte("abc")), frame(frameInputEnd, nil)))
	f.Add(slices.Concat(header, frame(frameInputEnd, nil), frame(frameInputEnd, nil)))
	f.Add(slices.Concat(header, frame(frameInput, []byte("abc")), frame(frameStdout, nil)))
	f.Add(frame(frameHeader, []byte(`{"v":1,"name":"panic"}`)))
	f.Add([]byte("garbage"))
	srv := &Server{Handler: HandlerFunc(func(ctx context.Context, c *Call) error {
		if c.Name == "panic" {
			panic("fuzz")
		}
		fmt.Fprintln(c.Stderr, c.Args)
		_, err := io.Copy(c.Stdout, c.Stdin)
		return err
	})}
	logger := slog.New(slog.DiscardHandler)
	f.Fuzz(func(t *testing.T, data []byte) {
		client, server := net.Pipe()
		done := make(chan struct{})
		go func() {
			defer close(done)
			srv.serveConn(context.Background(), logger, server)
		}()
		// Drain what the server says, as a client would.
		drained := make(chan struct{})
		go func() {
			defer close(drained)
			_, _ = io.Copy(io.Discard, client)
		}()
		wrote := make(chan struct{})
		go func() {
			defer close(wrote)
			_, _ = client.Write(data)
		}()
		select {
		case <-wrote:
		case <-time.After(safety):
			buf := make([]byte, 1<<20)
			t.Fatalf("client.Write of %q hangs:\n%s", data, buf[:runtime.Stack(buf, true)])
		}
		if err := client.Close(); err != nil {
			t.Fatal(err)
		}
		wait(t, done, "serveConn to return")
		wait(t, drained, "the drain")
	})
}
