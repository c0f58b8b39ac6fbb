// Package search will hold placette's full-text index over the wiki and the
// list archives (bleve), its only importer of bleve (DESIGN.md, "Data").
package search
