// Package control is the transport of placette's control socket.
//
// While "placette serve" runs, it holds the lock on the bbolt database, so
// the other subcommands ("placette backup FILE", "placette user add", …)
// ask the running server to do the work, through a unix socket in the data
// folder (DATA/placette.sock, mode 0600). When no server runs, the same
// command runs in-process. [Run] makes that choice; [Server] and [Dial] are
// the two ends of the socket. The commands themselves are defined by
// cmd/placette, as one [Handler] that serves both remote and local calls.
//
// A call has a name, string arguments, an input stream (bytes the client
// reads from its own disk or terminal: the server may run as another user
// and never opens the client's paths), an output stream (bytes the client
// writes to its own file or standard output), a stream of progress and
// messages for the person, and ends with success or an error message.
//
// # Frames
//
// Both directions are sequences of frames:
//
//	type     1 byte, one of the letters below
//	length   4 bytes, big-endian, at most 65536
//	payload  length bytes
//
// A frame longer than 65536 bytes is a protocol error: the reader checks the
// length before reading the payload and never allocates more than that.
//
// From the client to the server:
//
//	H  header   the request, JSON: {"v":1,"name":"backup","args":["x"]};
//	            the first frame, sent once
//	I  input    1 to 65536 bytes of input, only in answer to R
//	Z  end      end of input, empty payload, only in answer to R
//
// From the server to the client:
//
//	R  read     empty; asks for the next chunk of input
//	O  output   bytes of the command's output
//	E  stderr   bytes of progress and messages for the person
//	S  success  empty; the last frame
//	F  failure  the error message, UTF-8; the last frame
//
// # Exchange
//
// The client connects and sends H. The server answers with any number of R,
// O and E frames, in the order the command produces them, and ends with
// exactly one S or F, after which it closes the connection. The client
// answers each R with one I, or with Z once its input is exhausted (at once
// if it has no input). Input is thus pulled: the server sends R only when
// the command reads and has no input left, so at most one chunk is in flight,
// a command that reads little makes the client read little, and 100 MB of
// mbox never sit in memory. Output is pushed as the command writes it, so
// progress appears live.
//
// The server answers a header it cannot accept (malformed, oversized,
// unknown version "v") with F. A client that disconnects cancels the
// command's context, and later writes fail; a server that shuts down
// cancels the contexts of the running commands, which end with F.
//
// The socket is created with mode 0600 inside a fresh 0700 directory and
// renamed into place, so that no other user can connect, whatever the
// umask; the data folder itself should be 0700 too.
package control
