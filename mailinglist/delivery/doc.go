// Package delivery sends the mail a list distributes: a persistent queue in
// bbolt with one job per recipient, retried with backoff on temporary
// failures for up to five days, DKIM signatures (relaxed/relaxed, list
// headers and From over-signed), and three ways out: a smarthost
// (submission on 587 with STARTTLS or 465 with TLS, with login), each
// domain's MX, or the outbox folder of the local mode.
//
// # How a message goes out
//
// The mailing-list core composes one message (CRLF line endings, with its
// list headers) and calls [Queue.Enqueue] inside its own write transaction
// with one [Job] per recipient. The message is stored once; each job holds
// the envelope and the header fields that differ per recipient (its own
// List-Unsubscribe, for instance). At send time, a copy is made of the job's
// header fields followed by the shared message, a DKIM-Signature field for
// [Job.Domain] is prepended, and the copy is sent in its own SMTP
// transaction (or written to the outbox). The only field this package adds
// is DKIM-Signature (and, in the outbox, X-Envelope-From and X-Envelope-To).
//
// A job is deleted only once the remote server accepted the copy (or the
// outbox file is in place), or once it failed for good: delivery is at
// least once, never lost, possibly twice after a crash between the remote
// "250" and the commit.
//
// # Sending
//
// [Queue.Run] scans the due jobs, groups them by destination (the
// smarthost, or each recipient domain for the MX way) and hands them to at
// most Config.Concurrency workers (default 4), each keeping one SMTP
// connection for up to 100 copies; a big group is spread over several
// workers, a small one (under 20 copies) stays on one connection. A
// refused transaction is followed by RSET on the same connection; a broken
// connection is replaced for the rest of the batch. Each worker signs its
// copies itself, so signing uses every core.
//
// A 5xx reply ends the job at once (Result.Delivered false, with Code and
// Enhanced), except a smarthost's 530, 535 and 538, which are about our
// login and wait for the administrator like a 4xx. A 4xx reply or a
// network error is retried after 1 min, 5 min, 15 min, 30 min, 1 h, then
// every 2 h (Config.Retry), and given up 5 days after the job was queued
// (Config.GiveUpAfter). Results are committed in batches (db.Batch), then
// reported, in order, to Config.Report. A job interrupted by the end of
// Run's context is left as it was, untried.
//
// The smarthost way connects to Relay.Host: on 465 (or with
// Relay.ImplicitTLS) with TLS from the first byte, on 25 with STARTTLS when
// offered, on any other port (587) with STARTTLS required; certificates are
// verified (Config.TLS). With Relay.Username set it logs in with AUTH
// PLAIN, else LOGIN, and never sends the password in plain text except to
// a loopback host. The MX way looks up the MX hosts of the recipient domain
// (Config.LookupMX), tries them by preference, falls back to the domain
// itself when it has none (a null MX, RFC 7505, fails the job at once), and
// uses STARTTLS when offered without checking certificates (RFC 7435),
// retrying in plain text when the handshake fails. The outbox way writes
// each copy to Config.Outbox as <created>-<job id>-<recipient>.eml
// (see [OutboxFiles]), through a temporary file, synced and renamed.
//
// # On-disk layout
//
// The package owns three buckets, created by the migrations of component
// "list/delivery" (see [store.DB.Migrate]):
//
//	list/queue   one key per job:
//	               key   8 bytes big-endian next-try time (Unix nanoseconds)
//	                     + 8 bytes big-endian job id (the bucket's sequence),
//	                     so a cursor walks the jobs in the order they are due
//	               value JSON of the job: id, msg (the message id in
//	                     list/outmsg), from, to, headers, domain, tag,
//	                     created, attempts, next, code, enhanced, error
//	list/outmsg  the shared messages:
//	               key   8 bytes big-endian message id (the bucket's
//	                     sequence) + 'm'   value: the raw message (CRLF)
//	               key   8 bytes big-endian message id + 'n'
//	                     value: 8 bytes big-endian count of jobs left;
//	                     both keys go when it reaches zero
//	list/dkim    one key per domain (lower case, no trailing dot):
//	               value JSON {selector, created, pkcs8}: the RSA-2048
//	                     private key in PKCS #8 DER (base64 in the JSON)
//
// # Protocols
//
// RFC 5321 (SMTP), RFC 3207 (STARTTLS), RFC 8314 (implicit TLS on 465),
// RFC 4954 (AUTH, with PLAIN and LOGIN), RFC 3463 (enhanced status codes),
// RFC 7505 (null MX), RFC 6376 (DKIM) and RFC 8058 (the one-click
// unsubscribe fields this package signs and over-signs).
package delivery
