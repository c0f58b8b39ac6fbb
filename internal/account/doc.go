// Package account keeps placette's accounts: people who log in with a
// password, administrators and moderators. Writing in the wiki and reading
// lists need no account; accounts are for the people who look after the
// site. It serves the login, logout and first-administrator pages and the
// administration of accounts.
//
// # Storage
//
// The package owns one bbolt bucket (see internal/store):
//
//	account/users   login -> JSON Account {login, hash, admin, moderator, created}
//
// A password is stored as bcrypt(base64(SHA-256(password))): the SHA-256
// step lets a long French passphrase count whole, where bcrypt alone reads
// only the first 72 bytes.
package account
