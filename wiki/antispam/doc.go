// Package antispam keeps placette's open-write wiki open without drowning
// in spam, with defences that need neither JavaScript nor images: a question
// in plain language on a first anonymous edit, a honeypot field, a signed
// form timestamp, limits on new external links, a regular-expression
// blocklist, rate limits and a daily cap on anonymous page creation. It
// also holds the wiki's mode (open, accounts only, read-only) and the log of
// refused edits, with their administration pages.
//
// # Use by the wiki
//
// The wiki builds one [Guard] with [New] and registers its [Guard.Routes].
// It shows edit forms only when [Guard.MayEdit] (from [Guard.Mode]); when
// rendering an edit form it calls [Guard.Form] and puts in the form:
//
//   - a hidden input named [FieldToken] with Form.Token;
//   - a text input named [FieldHoneypot], hidden from people (CSS class and
//     aria-hidden) and labelled "leave empty" (catalog key
//     antispam.form.honeypot), autocomplete off, tabindex -1;
//   - when Form.Question is not nil: a hidden input [FieldQuestion] with
//     Question.ID, and a labelled text input [FieldAnswer] whose label is
//     Question.Text (keys antispam.form.question, antispam.form.answer.hint
//     are there for the legend and the hint).
//
// On every save it calls [Guard.Check] with the [Edit]; when the verdict is
// not OK it shows the form again with the writer's text, the message
// {{t Verdict.Reason}} (every reason is a key of this package's catalog,
// listed by [Reasons]) and the fields of Verdict.Form in place of the old
// ones.
//
// # Decisions
//
// Staff pass everything. Accounts that are not staff skip the question,
// the honeypot and the form timestamp, but not the link limit, the
// blocklist and the rate limits. Added text is computed by [AddedText],
// links by [ExtractLinks], a scan of the source that does not depend on the
// markdown renderer and errs towards counting. A correct answer is
// remembered [AnswerTTL] in the signed cookie [AnswerCookie]; an edit that
// adds links asks again. The daily cap on page creation counts in memory
// (a restart resets it); the rate limiters are web.Limiter values, in
// memory too.
//
// # Buckets
//
//	wiki/antispam            the settings (schema component "wiki/antispam")
//	  settings               JSON {"mode": "open"|"accounts"|"readonly",
//	                         "limits": {min_seconds, max_hours, max_new_links,
//	                         creates_per_day, addr_edits, page_edits}}
//	  questions              JSON [{"id", "text", "answers": [...]}, ...],
//	                         French defaults written by the first migration
//	  blocklist              the blocklist's text as the administrator typed
//	                         it (LF line ends), parsed at start and on change
//	wiki/refused             the log of refused edits, the newest MaxRefused
//	  <uint64 big-endian>    sequence number -> JSON Refusal {time, slug,
//	                         reason, detail, addr (keyed hash of the /24 or
//	                         /64), who, account, added (first 500 bytes)}
package antispam
