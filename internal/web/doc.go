// Package web is the shell every placette page is served in: the layout and
// its templates, the embedded stylesheet under content-hashed URLs, the
// French and English catalogs, sessions, CSRF protection, security headers,
// the mapping of errors to status pages, rate limiting and the site
// settings. The wiki and mailinglist packages build their handlers on it.
//
// # Storage
//
// The package owns these bbolt buckets (see internal/store):
//
//	web/sessions   sha256(session token) -> JSON session {login, created, expires}
//	web/settings   "site"   -> JSON Settings (name, description, hoster, terms, privacy…)
//	               "secret" -> 32 random bytes, the key that signs CSRF tokens and cookies
//
// Session tokens are never stored in clear: a stolen backup does not hold a
// usable cookie.
package web
