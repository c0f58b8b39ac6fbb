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
