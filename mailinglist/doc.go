// Package mailinglist will hold placette's mailing lists: lists, members,
// SMTP/LMTP inbound, the delivery queue, the archive, moderation and their
// handlers (DESIGN.md, "Mail addresses of a list").
package mailinglist
