// Package wiki is placette's open-write wiki: pages, revisions, links,
// tags, attachments, recent changes, import and export, and their web
// pages (DESIGN.md, "Wiki pages"). The markdown renderer is the markup
// package; the defences against spam are the antispam package.
//
// # On-disk layout
//
// Every write — a save, a rename, a restore, an upload — is one bbolt
// transaction, and a save is acknowledged to the writer only after it has
// committed. The wiki's buckets (schema component "wiki"):
//
//	wiki/pages      slug -> JSON Page: title, current revision number,
//	                tags, front matter, outgoing links, protection,
//	                created/updated, last author, time of the last
//	                anonymous change, and for a renamed page the slug it
//	                redirects to (Redirect) or, for a deleted page,
//	                Deleted (its revisions are kept)
//	wiki/revisions  slug 0x00 rev (uint32 big-endian) -> JSON Revision:
//	                time, author (login or pseudonym), anonymous flag,
//	                addr (keyed hash of the writer's /24 or /64, the
//	                guard's AddrHash), summary, title, source, size
//	wiki/links      from 0x00 to -> empty: the [[links]] of each page
//	wiki/backlinks  to 0x00 from -> empty: the same, reversed
//	wiki/tags       lower-case tag 0x00 slug -> empty
//	wiki/recent     unix nanoseconds (uint64 big-endian) slug 0x00 rev
//	                (uint32 big-endian) -> JSON Change: recent changes,
//	                oldest first
//	wiki/files      slug 0x00 name -> JSON File: an attachment's content
//	                hash, sniffed type, size and time
//	wiki/blobs      hex SHA-256 -> content: each attachment stored once
//
// A rename moves the revisions and files of the page to the new slug,
// rewrites the outgoing links and tags under it, and leaves at the old
// slug a page whose Redirect names the new one.
//
// # Search
//
// The wiki does not import the search index. Config.Indexer, when set, is
// called inside the write transaction of every change to a page's text,
// title, tags or existence (PageChanged), so that it can queue the page in
// its own pending bucket atomically with the change.
//
// # Import and export
//
// An archive is a zip file: one SLUG.md per page, its text as stored
// (front matter included), and the page's attachments as SLUG/NAME. On
// import, a page's slug comes from its file name, its title from the front
// matter's title, else the first "# " heading, else the file name; the
// files of the folder named after the page, and the files it references
// with a relative markdown link or image, become its attachments. A page
// whose text is already the wiki's gets no new revision, so importing the
// same archive twice changes nothing.
package wiki
