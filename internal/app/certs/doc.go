// Package certs gives placette its TLS certificates: from an ACME
// certificate authority (Let's Encrypt by default) through certmagic in
// public mode, and from a small certificate authority of its own in LAN
// mode. It is the only package of placette that imports certmagic (and,
// through it, zap); package app wires it to the listeners.
//
// Certificates, their keys, the ACME account and the local authority are
// kept in the database, so that one backup (placette backup) holds
// everything.
//
// # Buckets
//
//	certs/files   certmagic's storage: key "certificates/ISSUER/NAME/NAME.crt"
//	              (certmagic's path, "/"-separated) → 8 bytes of modification
//	              time (Unix nanoseconds, big-endian) followed by the file's
//	              bytes
//	certs/ca      the local authority of LAN mode: "root.crt" and
//	              "leaf.crt" (PEM, the leaf followed by the root),
//	              "root.key" and "leaf.key" (PKCS #8 DER)
//
// # Standards
//
// RFC 8555 (ACME) with the HTTP-01 and TLS-ALPN-01 (RFC 8737) challenges,
// RFC 9773 (ACME renewal information), RFC 5280 (the local authority's
// certificates, with name constraints), RFC 3207 (STARTTLS, which uses the
// same certificates).
package certs
