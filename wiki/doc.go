// Package wiki will hold placette's open-write wiki: pages, revisions,
// markdown rendering, links, attachments, anti-spam and their handlers
// (DESIGN.md, "Wiki pages").
package wiki
