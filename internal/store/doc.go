// Package store opens placette's bbolt database, keeps the schema version of
// each component, runs their migrations and makes consistent backups.
//
// The database is one bbolt file, placette.db in the data folder, created
// with mode 0600 (its directory with mode 0700). bbolt locks the file, so
// only one process opens it read-write at a time; a second one gets
// [ErrLocked].
//
// # On-disk layout
//
// The store owns one bucket, meta:
//
//	meta
//	  schema/<component>  big-endian uint64: the number of migrations of
//	                      <component> applied to this database
//	                      (schema/store is the store's own)
//	  created             the time the database was created, RFC 3339, UTC
//
// Every other package owns the buckets named with its prefix and documents
// them in its own doc.go: web/sessions, wiki/pages, list/messages,
// search/pending and so on. A package never reads or writes another
// package's buckets directly.
//
// # Migrations
//
// Each package keeps an append-only list of [Migration] values and calls
// [DB.Migrate] with its component name when it starts. Migrate runs the
// migrations that this database has not seen yet, in order, each in its own
// write transaction together with the bump of schema/<component>, so a
// migration is applied entirely, exactly once, or not at all. A released
// migration is never edited, reordered or removed: a change of layout is a
// new migration at the end of the list. A database whose version is greater
// than the list (written by a newer placette) is refused with [ErrTooNew]
// rather than misread.
//
// The migrations of the store itself (component "store") run in [Open].
// testdata/frozen-v1.db is a database written by an early placette; the
// tests upgrade a copy of it, so a migration that breaks old data fails
// there.
package store
