package main

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"codeberg.org/placette/placette/internal/app/apptest"
)

// TestWikiArchive checks the archive the command line streams for
// "wiki import": a folder's files (hidden ones left out), one markdown
// file, or a zip file as it is.
func TestWikiArchive(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("pages/accueil.md", "# Accueil\n")
	write("pages/fiche-atelier.md", "---\ntitle: Fiche\n---\nTexte\n")
	write("pages/fiche-atelier/plan.png", "\x89PNG")
	write("pages/.git/config", "hidden")
	write("pages/.brouillon.md", "hidden")

	entries := func(rc io.ReadCloser) map[string]string {
		t.Helper()
		defer rc.Close()
		data, err := io.ReadAll(rc)
		if err != nil {
			t.Fatal(err)
		}
		zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, f := range zr.File {
			r, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(r)
			r.Close()
			got[f.Name] = string(b)
		}
		return got
	}

	rc, err := wikiArchive(filepath.Join(dir, "pages"))
	if err != nil {
		t.Fatal(err)
	}
	got := entries(rc)
	var names []string
	for n := range got {
		names = append(names, n)
	}
	slices.Sort(names)
	want := []string{"accueil.md", "fiche-atelier.md", "fiche-atelier/plan.png"}
	if !slices.Equal(names, want) {
		t.Errorf("folder archive holds %v, want %v", names, want)
	}
	if got["fiche-atelier.md"] != "---\ntitle: Fiche\n---\nTexte\n" {
		t.Errorf("fiche-atelier.md = %q", got["fiche-atelier.md"])
	}

	rc, err = wikiArchive(filepath.Join(dir, "pages", "accueil.md"))
	if err != nil {
		t.Fatal(err)
	}
	if got := entries(rc); len(got) != 1 || got["accueil.md"] != "# Accueil\n" {
		t.Errorf("one-file archive = %v", got)
	}

	var zbuf bytes.Buffer
	zw := zip.NewWriter(&zbuf)
	w, _ := zw.Create("page.md")
	w.Write([]byte("texte"))
	zw.Close()
	zipPath := filepath.Join(dir, "export.ZIP")
	if err := os.WriteFile(zipPath, zbuf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	rc, err = wikiArchive(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	if got := entries(rc); len(got) != 1 || got["page.md"] != "texte" {
		t.Errorf("zip passed through = %v", got)
	}

	if _, err := wikiArchive(filepath.Join(dir, "missing")); err == nil {
		t.Error("a missing path gave no error")
	}
}

// TestForwardUsage checks the mistakes the command line catches before
// reaching placette, and the help of the forwarded commands.
func TestForwardUsage(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"wiki import without a path", []string{"wiki", "import", "-data", data}, exitUsage, "wiki import takes one"},
		{"wiki import of a missing folder", []string{"wiki", "import", filepath.Join(data, "nope"), "-data", data}, exitError, "no such file"},
		{"list import without a file", []string{"list", "import", "entraide", "-data", data}, exitUsage, "list import takes"},
		{"-o outside export", []string{"list", "create", "x", "-o", filepath.Join(data, "f"), "-data", data}, exitUsage, "-o is for export only"},
		{"-data without a value", []string{"dns", "-data"}, exitUsage, "needs a value"},
		{"help", []string{"list", "-h"}, exitOK, "list members NAME"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := run(context.Background(), "", nil, tc.args...)
			if r.code != tc.code || !strings.Contains(r.stdout+r.stderr, tc.want) {
				t.Errorf("got %v\nwant exit %d saying %q", r, tc.code, tc.want)
			}
		})
	}
	if _, err := os.Stat(data); err == nil {
		t.Errorf("a refused command created the data folder %s", data)
	}
}

func TestDataFirst(t *testing.T) {
	for _, tc := range []struct{ in, want []string }{
		{[]string{"-data", "d", "wiki", "export", "-o", "f.zip"}, []string{"wiki", "export", "-o", "f.zip", "-data", "d"}},
		{[]string{"--data=d", "user", "add", "sam"}, []string{"user", "add", "sam", "--data=d"}},
		{[]string{"-data", "d", "-http", ":8080"}, []string{"-data", "d", "-http", ":8080"}},
		{[]string{"-data", "d"}, []string{"-data", "d"}},
		{[]string{"-data", "wiki"}, []string{"-data", "wiki"}},
		{[]string{"wiki", "export", "-data", "d"}, []string{"wiki", "export", "-data", "d"}},
	} {
		if got := dataFirst(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("dataFirst(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestWikiImportExportCommands imports a folder of markdown pages with
// the command line, without a server running, and exports them again.
func TestWikiImportExportCommands(t *testing.T) {
	dir := t.TempDir()
	pages := filepath.Join(dir, "pages")
	os.MkdirAll(pages, 0o755)
	os.WriteFile(filepath.Join(pages, "accueil.md"), []byte("# Accueil\n\nBienvenue sur le wiki.\n"), 0o644)
	os.WriteFile(filepath.Join(pages, "fiche-tablette.md"), []byte("---\ntitle: Fiche tablette\ntags: [fiche]\n---\nVoir [[Accueil]].\n"), 0o644)
	data := filepath.Join(apptest.TempDir(t), "data")

	r := run(context.Background(), "", nil, "-data", data, "wiki", "import", pages)
	if r.code != exitOK {
		t.Fatalf("wiki import: %v", r)
	}
	out := filepath.Join(dir, "export.zip")
	r = run(context.Background(), "", map[string]string{"PLACETTE_DATA": data}, "wiki", "export", "-o", out)
	if r.code != exitOK {
		t.Fatalf("wiki export: %v", r)
	}
	zr, err := zip.OpenReader(out)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	got := map[string]string{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		got[f.Name] = string(b)
	}
	if !strings.Contains(got["accueil.md"], "Bienvenue sur le wiki.") || !strings.Contains(got["fiche-tablette.md"], "Voir [[Accueil]].") {
		t.Errorf("the export lacks the imported pages: %v", got)
	}
}
