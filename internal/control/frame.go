package control

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
)

// The frame types; see the package documentation.
const (
	frameHeader   byte = 'H' // client: the request header, JSON
	frameInput    byte = 'I' // client: a chunk of input
	frameInputEnd byte = 'Z' // client: end of input
	frameRead     byte = 'R' // server: asks for the next chunk of input
	frameStdout   byte = 'O' // server: output
	frameStderr   byte = 'E' // server: progress and messages
	frameSuccess  byte = 'S' // server: the call succeeded
	frameFailure  byte = 'F' // server: the call failed, with the message
)

const (
	// maxPayload is the largest payload of a frame, the header included.
	maxPayload = 64 << 10
	// frameHeaderLen is the length of a frame's type and length.
	frameHeaderLen = 5
	// protocolVersion is the version of the request header.
	protocolVersion = 1
)

// errProtocol is wrapped by errors about frames that break the protocol.
var errProtocol = errors.New("control protocol error")

// frameName returns a name for typ, for error messages.
func frameName(typ byte) string {
	switch typ {
	case frameHeader:
		return "header"
	case frameInput:
		return "input"
	case frameInputEnd:
		return "end-of-input"
	case frameRead:
		return "read"
	case frameStdout:
		return "output"
	case frameStderr:
		return "stderr"
	case frameSuccess:
		return "success"
	case frameFailure:
		return "failure"
	}
	return fmt.Sprintf("unknown (0x%02x)", typ)
}

// readFrame reads one frame from r into buf, which must be maxPayload bytes
// long, and returns its type and its payload, a prefix of buf. It returns
// io.EOF, unwrapped, when r ends before a frame starts. It checks the type
// and the length before reading the payload, so it never reads or
// allocates more than buf.
func readFrame(r io.Reader, buf []byte) (typ byte, payload []byte, err error) {
	var hdr [frameHeaderLen]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		if err == io.EOF {
			return 0, nil, io.EOF
		}
		return 0, nil, fmt.Errorf("read frame header: %w", err)
	}
	typ = hdr[0]
	switch typ {
	case frameHeader, frameInput, frameInputEnd, frameRead,
		frameStdout, frameStderr, frameSuccess, frameFailure:
	default:
		return 0, nil, fmt.Errorf("%w: frame of unknown type 0x%02x", errProtocol, typ)
	}
	n := binary.BigEndian.Uint32(hdr[1:])
	if n > uint32(len(buf)) {
		return 0, nil, fmt.Errorf("%w: %s frame of %d bytes exceeds the limit of %d bytes",
			errProtocol, frameName(typ), n, len(buf))
	}
	payload = buf[:n]
	if _, err := io.ReadFull(r, payload); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return 0, nil, fmt.Errorf("read %d-byte %s frame: %w", n, frameName(typ), err)
	}
	return typ, payload, nil
}

// writeFrame writes one frame to w, with one writev where w allows it.
func writeFrame(w io.Writer, typ byte, payload []byte) error {
	if len(payload) > maxPayload {
		return fmt.Errorf("%w: %s frame of %d bytes exceeds the limit of %d bytes",
			errProtocol, frameName(typ), len(payload), maxPayload)
	}
	var hdr [frameHeaderLen]byte
	hdr[0] = typ
	binary.BigEndian.PutUint32(hdr[1:], uint32(len(payload)))
	bufs := net.Buffers{hdr[:], payload}
	if _, err := bufs.WriteTo(w); err != nil {
		return fmt.Errorf("write %s frame: %w", frameName(typ), err)
	}
	return nil
}

// header is the payload of the header frame.
type header struct {
	V    int      `json:"v"`
	Name string   `json:"name"`
	Args []string `json:"args"`
}

// encodeHeader returns the header frame's payload for c.
func encodeHeader(c *Call) ([]byte, error) {
	b, err := json.Marshal(header{V: protocolVersion, Name: c.Name, Args: c.Args})
	if err != nil {
		return nil, fmt.Errorf("encode request header: %w", err)
	}
	if len(b) > maxPayload {
		return nil, fmt.Errorf("the command and its arguments take %d bytes, more than the %d bytes the control socket accepts",
			len(b), maxPayload)
	}
	return b, nil
}

// decodeHeader parses and checks a header frame's payload.
func decodeHeader(b []byte) (header, error) {
	var h header
	if err := json.Unmarshal(b, &h); err != nil {
		return header{}, fmt.Errorf("%w: malformed request header: %w", errProtocol, err)
	}
	if h.V != protocolVersion {
		return header{}, fmt.Errorf("%w: request version %d, but this placette server speaks version %d (restart it after an upgrade)",
			errProtocol, h.V, protocolVersion)
	}
	if h.Name == "" {
		return header{}, fmt.Errorf("%w: request header without a command name", errProtocol)
	}
	return h, nil
}
