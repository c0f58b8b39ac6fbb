package main

import (
	"archive/zip"
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"codeberg.org/placette/placette/internal/app"
	"codeberg.org/placette/placette/internal/control"
)

// forwarded are the commands whose arguments the server's packages parse:
// the command line only finds the data folder and moves files, since the
// server never opens the caller's files.
var forwarded = map[string]string{
	"wiki":    " import DIR|FILE.zip|FILE.md  |  wiki export [-o FILE.zip]",
	"list":    " create NAME [-title T] [-private]  |  list members NAME [add ADDR... | remove ADDR... | export]  |  list import NAME FILE.mbox  |  list export NAME [-o FILE.mbox]",
	"dns":     " [-check]",
	"doctor":  " [-no-dns]",
	"reindex": "",
}

// forward runs a forwarded command: "-data DIR" and "-o FILE" are taken
// from args, an input file is streamed to the call's input, an export
// written to -o (atomically) or to stdout.
func forward(ctx context.Context, cmd string, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) error {
	data := getenv("PLACETTE_DATA")
	if data == "" {
		data = app.DefaultDataDir
	}
	var out string
	var rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, value, hasValue := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-"), "=")
		if !strings.HasPrefix(a, "-") || (name != "data" && name != "o") {
			if isHelp(a) {
				fmt.Fprintf(stdout, "Usage: placette %s%s\n\nEvery form takes -data DIR (default %s, or $PLACETTE_DATA).\n", cmd, forwarded[cmd], app.DefaultDataDir)
				return flag.ErrHelp
			}
			rest = append(rest, a)
			continue
		}
		if !hasValue {
			if i+1 == len(args) {
				return usageError{error: fmt.Errorf("%s: flag -%s needs a value", cmd, name)}
			}
			i++
			value = args[i]
		}
		if name == "data" {
			data = value
		} else {
			out = value
		}
	}
	call := &control.Call{Name: cmd, Args: rest, Stdin: stdin, Stdout: stdout, Stderr: stderr}
	sub := ""
	if len(rest) > 0 {
		sub = rest[0]
	}
	switch {
	case cmd == "wiki" && sub == "import":
		if len(rest) != 2 {
			return usageError{error: errors.New("wiki import takes one DIR, FILE.zip or FILE.md")}
		}
		in, err := wikiArchive(rest[1])
		if err != nil {
			return fmt.Errorf("wiki import: %w", err)
		}
		defer in.Close()
		call.Args, call.Stdin = rest[:1], in
	case cmd == "list" && sub == "import":
		if len(rest) != 3 {
			return usageError{error: errors.New("list import takes a list NAME and one FILE.mbox or FILE.eml")}
		}
		f, err := os.Open(rest[2])
		if err != nil {
			return fmt.Errorf("list import: %w", err)
		}
		defer f.Close()
		// The server learns the file's name, not its path: .eml or mbox.
		call.Args, call.Stdin = []string{"import", rest[1], filepath.Base(rest[2])}, bufio.NewReaderSize(f, 1<<20)
	}
	if out != "" {
		if sub != "export" {
			return usageError{error: fmt.Errorf("%s: -o is for export only", cmd)}
		}
		return writeAtomic(out, func(w io.Writer) error {
			call.Stdout = w
			return app.Call(ctx, data, call)
		})
	}
	return app.Call(ctx, data, call)
}

// wikiArchive returns the zip archive to import from path: the file itself
// for a .zip, else an archive made on the fly of a folder (every file in
// it, hidden ones skipped) or of one markdown file.
func wikiArchive(path string) (io.ReadCloser, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() && strings.EqualFold(filepath.Ext(path), ".zip") {
		return os.Open(path)
	}
	pr, pw := io.Pipe()
	go func() {
		zw := zip.NewWriter(pw)
		var err error
		if fi.IsDir() {
			err = zipDir(zw, path)
		} else {
			err = zipFile(zw, path, filepath.Base(path))
		}
		pw.CloseWithError(errors.Join(err, zw.Close()))
	}()
	return pr, nil
}

func zipDir(zw *zip.Writer, dir string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != dir && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		return zipFile(zw, p, filepath.ToSlash(rel))
	})
}

func zipFile(zw *zip.Writer, path, name string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	w, err := zw.Create(name)
	if err != nil {
		return err
	}
	_, err = io.Copy(w, f)
	return err
}

// writeAtomic writes file with write, beside it first, then renames it:
// a failed command never leaves a half file under the file's name.
func writeAtomic(file string, write func(io.Writer) error) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(file), ".placette-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return err
	}
	w := bufio.NewWriterSize(tmp, 1<<20)
	if err := write(w); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", file, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", file, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", file, err)
	}
	if err := os.Rename(tmp.Name(), file); err != nil {
		return err
	}
	// The rename lasts through a power cut only once the folder is synced.
	if err := syncDir(filepath.Dir(file)); err != nil {
		return fmt.Errorf("%s is written, but %w", file, err)
	}
	return nil
}
