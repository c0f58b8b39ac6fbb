// Package mailinglist holds placette's mailing lists: lists, members, the
// SMTP and LMTP inbound servers, posting rules, distribution through the
// delivery queue, the archive, moderation, subscriptions, bounces, the
// "list" and "dns" commands and the lists' pages (DESIGN.md, "Mail
// addresses of a list").
//
// # Standards
//
//   - RFC 5321 (SMTP) and RFC 2033 (LMTP), through github.com/emersion/go-smtp;
//     a message is acknowledged only after it is committed in bbolt.
//   - RFC 2369 and RFC 2919 (List-* and List-Id header fields), RFC 8058
//     (one-click unsubscription), RFC 3834 (auto-responders are never
//     answered and never reach the members), RFC 3464 and RFC 5965 (bounces
//     and complaints, read by package mailmsg), RFC 7489 (DMARC: the From of
//     authors whose domain asks for quarantine or reject is rewritten).
//
// # Addresses of a list NAME@DOMAIN
//
// NAME posts; NAME-subscribe, NAME-unsubscribe and NAME-request take
// commands; NAME-owner reaches the list's moderators; NAME-bounces and
// NAME-bounces+TOKEN (VERP, TOKEN naming a member) receive bounces. Mail to
// any other address of a list domain gets 550 5.1.1, mail to another domain
// 550 5.7.1: the server is never a relay.
//
// # Limits of the inbound servers
//
// 100 connections at once, 20 per client network (/24 or /64), 120
// messages in a burst then one a second per network (loopback and unix
// sockets, a local MTA, are exempt), 50 recipients, 25 MiB per message
// (less when the list says so: 552), two minutes per command. The messages
// being received share 64 MiB of memory, counted twice (as read, then
// joined) as their data arrives: one that finds it spent gets 451 4.3.1
// and its sender tries again later. Data holding
// a dot line not framed by CRLF on both sides, or a CRLF followed by a lone
// LF (what go-smtp leaves of "\r\n.\n"), is refused with 554 5.6.0 (SMTP
// smuggling); other lone LFs and CRs are normalised to CRLF.
//
// # Moderators
//
// A list's moderators are the addresses in List.Moderators. They are told
// of held mail (at most once per list every 15 minutes), receive what is
// sent to NAME-owner, may post to an announce list, and their posts are
// never held.
//
// # Distribution
//
// Each accepted post is stored raw in the archive and, in the same write
// transaction, queued once per member in ModeEach (the author too when
// List.SelfCopy). A copy keeps the author's header except: Return-Path,
// DKIM-Signature (the list changes the message, so the author's
// signature would fail; the copy is signed for the list domain instead),
// Sender, Errors-To, Precedence, List-* and Delivered-To are removed; the
// subject gets the list's tag; List-Id, List-Post, List-Archive, List-Help,
// List-Subscribe, Precedence: list, X-Loop and Sender are added, and each
// member's copy gets its own List-Unsubscribe and List-Unsubscribe-Post.
// When the author's domain publishes a DMARC policy of quarantine or reject
// (or the list says DMARCAlways), From becomes "Author via List
// <NAME@DOMAIN>", Reply-To the author, and the original From is kept in
// X-Original-From.
//
// # Bounces
//
// Each bounce (a report to NAME-bounces, or a 5xx from the relay) adds to
// the member's score: 1 for a permanent failure, 0.5 for a temporary one
// (at most one a day), nothing for a 5.7.x policy refusal. A score left 30
// days without a bounce starts again from zero. At 3, the member's delivery
// stops (ModeBouncing) and the member and the moderators are told. A spam
// complaint (RFC 5965) unsubscribes the complainer.
//
// # On-disk layout
//
// Buckets, each holding one sub-bucket per list (named by the list's name)
// except list/lists, list/confirm and list/settings:
//
//	list/lists      NAME -> List, JSON
//	list/members    NAME/ADDR -> Member, JSON (ADDR lower-cased)
//	list/accept     NAME/ADDR -> RFC 3339 time: non-members whose posts are
//	                always accepted (moderation's "approve always")
//	list/messages   NAME/SEQ -> Archived, JSON (SEQ: big-endian uint64, in
//	                order of arrival, from the sub-bucket's sequence)
//	list/raw        NAME/SEQ -> the raw message, line endings CRLF
//	list/msgids     NAME/MESSAGE-ID -> SEQ (without angle brackets)
//	list/dates      NAME/DATE SEQ -> empty (DATE: big-endian Unix
//	                nanoseconds of the message's date, for listing by time)
//	list/threads    NAME/ROOT-SEQ -> Thread, JSON
//	list/activity   NAME/LAST ROOT-SEQ -> empty (LAST: big-endian Unix
//	                nanoseconds of the thread's newest message)
//	list/subjects   NAME/NORMALISED-SUBJECT -> ROOT-SEQ, the threading
//	                fallback for replies whose parents are unknown
//	list/bythread   NAME/ROOT-SEQ SEQ -> empty: the messages of each thread
//	list/orphans    NAME/MESSAGE-ID 0x00 SEQ -> empty: message SEQ names
//	                MESSAGE-ID as a better parent than the one it has
//	                (a reply archived before the message it answers)
//	list/months     NAME/YYYYMM -> big-endian count of its messages
//	list/erased     NAME/MESSAGE-ID -> Tombstone, JSON: erased messages,
//	                whose permalinks answer 410 and which are never
//	                archived again
//	list/held       NAME/ID -> heldRecord, JSON (ID from the sequence)
//	list/heldraw    NAME/ID -> the held raw message
//	list/confirm    TOKEN -> confirmation, JSON: a pending subscription or
//	                unsubscription, single use, expires after 7 days
//	list/settings   relay -> delivery.Relay, JSON
//	                digest/LIST/SEQ -> nothing (a nested bucket: posts for the next digest)
//	                digest-last/LIST -> time of the last digest, big-endian Unix ns
//	                maildomain, baseurl -> what the server last ran with
//	                secret -> 32 random bytes, the key of member and VERP
//	                tokens
//
// The delivery queue and the DKIM keys keep their own buckets (package
// delivery).
//
// # Threading
//
// A message's parent is the first archived message among its In-Reply-To
// then its References from the newest (at most 64, never itself); without
// one, a reply ("Re:", "Fwd:", "TR:"… after list tags) joins the thread
// of the same normalised subject. The ids it names that are better
// parents than the one found are noted in list/orphans; when such a
// message arrives (by mail or import, in any order), the reply is moved
// under it: with its own replies, or with its whole thread when it had
// started one. A message is never moved under its own descendant, so
// loops in References end. Thread summaries (count, dates, participants)
// are recomputed from list/bythread whenever messages move or go.
//
// # Erasure
//
// Erase (a moderator's POST on the message's page) deletes a message's
// raw bytes, metadata and every index entry, re-attaches its replies to
// its parent, recomputes its thread and tells the Indexer (doc nil); a
// tombstone keeps its Message-ID so that its permalink, raw view and
// attachments answer 410 Gone and a later import skips it. The caches of
// rendered pages are dropped when the transaction commits.
//
// See privacy.go for how addresses are hidden in public archives, access.go
// for who reads a private archive, and render.go for how text is shown.
package mailinglist
