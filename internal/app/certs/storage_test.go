package certs

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"codeberg.org/placette/placette/internal/store"
)

func openDB(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "placette.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func newStorage(t testing.TB) *Storage {
	t.Helper()
	s, err := NewStorage(openDB(t))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestStorageFiles(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStorage(t)
	files := map[string]string{
		"certificates/ca/example.org/example.org.crt":  "cert",
		"certificates/ca/example.org/example.org.key":  "key",
		"certificates/ca/example.org/example.org.json": "{}",
		"certificates/ca/other.org/other.org.crt":      "cert2",
		"acme/ca/users/x/x.json":                       "user",
	}
	for k, v := range files {
		if err := s.Store(ctx, k, []byte(v)); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("load", func(t *testing.T) {
		for k, v := range files {
			got, err := s.Load(ctx, k)
			if err != nil || string(got) != v {
				t.Errorf("Load(%s) = %q, %v; want %q", k, got, err, v)
			}
		}
		if _, err := s.Load(ctx, "certificates/nothing"); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Load of a missing key: %v, want fs.ErrNotExist", err)
		}
		if _, err := s.Load(ctx, "certificates/ca"); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Load of a folder: %v, want fs.ErrNotExist", err)
		}
	})
	t.Run("stat", func(t *testing.T) {
		info, err := s.Stat(ctx, "certificates/ca/other.org/other.org.crt")
		if err != nil || !info.IsTerminal || info.Size != 5 || time.Since(info.Modified) > time.Hour {
			t.Errorf("Stat of a file = %+v, %v", info, err)
		}
		info, err = s.Stat(ctx, "/certificates/ca/")
		if err != nil || info.IsTerminal {
			t.Errorf("Stat of a folder = %+v, %v", info, err)
		}
		if _, err := s.Stat(ctx, "certificates/c"); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Stat of a prefix that is no folder: %v, want fs.ErrNotExist", err)
		}
		if !s.Exists(ctx, "acme") || s.Exists(ctx, "acm") {
			t.Error("Exists is wrong about folders")
		}
	})
	t.Run("list", func(t *testing.T) {
		got, err := s.List(ctx, "certificates/ca", false)
		want := []string{"certificates/ca/example.org", "certificates/ca/other.org"}
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("List = %q, %v; want %q", got, err, want)
		}
		got, err = s.List(ctx, "certificates", true)
		want = []string{
			"certificates/ca",
			"certificates/ca/example.org",
			"certificates/ca/example.org/example.org.crt",
			"certificates/ca/example.org/example.org.json",
			"certificates/ca/example.org/example.org.key",
			"certificates/ca/other.org",
			"certificates/ca/other.org/other.org.crt",
		}
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("List recursive = %q, %v; want %q", got, err, want)
		}
		if _, err := s.List(ctx, "nothing", true); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("List of nothing: %v, want fs.ErrNotExist", err)
		}
	})
	t.Run("delete", func(t *testing.T) {
		if err := s.Delete(ctx, "certificates/ca/example.org"); err != nil {
			t.Fatal(err)
		}
		if s.Exists(ctx, "certificates/ca/example.org/example.org.key") || s.Exists(ctx, "certificates/ca/example.org") {
			t.Error("Delete of a folder left files under it")
		}
		if !s.Exists(ctx, "certificates/ca/other.org/other.org.crt") {
			t.Error("Delete removed a neighbour")
		}
		if err := s.Delete(ctx, "certificates/ca/example.org"); err != nil {
			t.Errorf("Delete of what is gone: %v, want nil", err)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if err := s.Store(cctx, "x", nil); err == nil {
			t.Error("Store with a cancelled context succeeded")
		}
	})
}

func TestStorageLock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStorage(t)
	if err := s.Lock(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	// Another name is free.
	if err := s.Lock(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	// The same name waits, and honours its context.
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := s.Lock(short, "a"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Lock of a held name: %v, want the context's error", err)
	}
	var wg sync.WaitGroup
	got := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := s.Lock(ctx, "a"); err != nil {
			t.Error(err)
		}
		close(got)
	}()
	select {
	case <-got:
		t.Fatal("a held lock was taken twice")
	case <-time.After(20 * time.Millisecond):
	}
	if err := s.Unlock(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	<-got
	wg.Wait()
	if err := s.Unlock(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if err := s.Unlock(ctx, "a"); err == nil {
		t.Error("Unlock of a free name succeeded")
	}
}

func FuzzStorageKeys(f *testing.F) {
	for _, k := range []string{"a/b/c", "/a//b/", "", "..", "a\\b", "certificates/x/y.crt"} {
		f.Add(k)
	}
	s := newStorage(f)
	f.Fuzz(func(t *testing.T, key string) {
		ctx := context.Background()
		err := s.Store(ctx, key, []byte("v"))
		if clean(key) == "" {
			if err == nil {
				t.Fatal("Store with an empty key succeeded")
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if v, err := s.Load(ctx, key); err != nil || string(v) != "v" {
			t.Fatalf("Load(%q) = %q, %v", key, v, err)
		}
		if err := s.Delete(ctx, key); err != nil {
			t.Fatal(err)
		}
		if s.Exists(ctx, key) {
			t.Fatalf("%q exists after Delete", key)
		}
	})
}
