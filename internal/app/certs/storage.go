package certs

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"time"

	"codeberg.org/placette/placette/internal/store"
	"github.com/caddyserver/certmagic"
	bolt "go.etcd.io/bbolt"
)

var (
	bucketFiles = []byte("certs/files")
	bucketCA    = []byte("certs/ca")
)

// migrations create the package's buckets. Append only.
var migrations = []store.Migration{
	{Name: "create certificate storage and local authority", Up: func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketFiles, bucketCA} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	}},
}

// Migrate brings the package's buckets up to date in db.
func Migrate(db *store.DB) error { return db.Migrate("certs", migrations) }

// Storage is a certmagic.Storage kept in placette's database, so that
// certificates, keys and the ACME account are in every backup. It is safe
// for concurrent use.
//
// Locks are kept in memory: bbolt lets one process at most open the
// database, so no other process can share this storage.
type Storage struct {
	db  *store.DB
	now func() time.Time

	mu    sync.Mutex               // guards locks
	locks map[string]chan struct{} // held locks; each channel is closed on Unlock
}

var _ certmagic.Storage = (*Storage)(nil)

// NewStorage returns the storage of db, creating its bucket if needed.
func NewStorage(db *store.DB) (*Storage, error) {
	if err := Migrate(db); err != nil {
		return nil, err
	}
	return &Storage{db: db, now: time.Now, locks: map[string]chan struct{}{}}, nil
}

// String names the storage in certmagic's logs.
func (s *Storage) String() string { return "placette database" }

// clean turns a certmagic key into the stored one: "/"-separated, with no
// leading, trailing or doubled "/".
func clean(key string) string {
	parts := strings.FieldsFunc(key, func(r rune) bool { return r == '/' || r == '\\' })
	return strings.Join(parts, "/")
}

// Store implements certmagic.Storage.
func (s *Storage) Store(ctx context.Context, key string, value []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	k := clean(key)
	if k == "" {
		return errors.New("certificate storage: empty key")
	}
	v := make([]byte, 8+len(value))
	binary.BigEndian.PutUint64(v, uint64(s.now().UnixNano()))
	copy(v[8:], value)
	err := s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketFiles).Put([]byte(k), v)
	})
	if err != nil {
		return fmt.Errorf("store %s: %w", k, err)
	}
	return nil
}

// Load implements certmagic.Storage; a missing key is fs.ErrNotExist.
func (s *Storage) Load(ctx context.Context, key string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	k := clean(key)
	var out []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketFiles).Get([]byte(k))
		if len(v) < 8 {
			return fs.ErrNotExist
		}
		out = append([]byte(nil), v[8:]...)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", k, err)
	}
	return out, nil
}

// Delete implements certmagic.Storage: key and every key under it.
func (s *Storage) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	k := clean(key)
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketFiles)
		if err := b.Delete([]byte(k)); err != nil {
			return err
		}
		prefix := []byte(k + "/")
		c := b.Cursor()
		for ck, _ := c.Seek(prefix); ck != nil && hasPrefix(ck, prefix); ck, _ = c.Seek(prefix) {
			if err := c.Delete(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete %s: %w", k, err)
	}
	return nil
}

func hasPrefix(b, prefix []byte) bool {
	return len(b) >= len(prefix) && string(b[:len(prefix)]) == string(prefix)
}

// Exists implements certmagic.Storage: key is a file, or a folder holding
// some.
func (s *Storage) Exists(ctx context.Context, key string) bool {
	_, err := s.Stat(ctx, key)
	return err == nil
}

// List implements certmagic.Storage. Without recursive, it returns the
// files and folders right under path; with it, everything under path,
// folders included. A path with nothing under it is fs.ErrNotExist.
func (s *Storage) List(ctx context.Context, path string, recursive bool) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p := clean(path)
	prefix := ""
	if p != "" {
		prefix = p + "/"
	}
	var out []string
	seen := map[string]bool{}
	add := func(k string) {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketFiles).Cursor()
		for k, _ := c.Seek([]byte(prefix)); k != nil && hasPrefix(k, []byte(prefix)); k, _ = c.Next() {
			rest := string(k[len(prefix):])
			if !recursive {
				first, _, _ := strings.Cut(rest, "/")
				add(prefix + first)
				continue
			}
			// Every folder on the way, then the file.
			for i := 0; i < len(rest); i++ {
				if rest[i] == '/' {
					add(prefix + rest[:i])
				}
			}
			add(string(k))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", p, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("list %s: %w", p, fs.ErrNotExist)
	}
	slices.Sort(out)
	return out, nil
}

// Stat implements certmagic.Storage.
func (s *Storage) Stat(ctx context.Context, key string) (certmagic.KeyInfo, error) {
	if err := ctx.Err(); err != nil {
		return certmagic.KeyInfo{}, err
	}
	k := clean(key)
	info := certmagic.KeyInfo{Key: k}
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketFiles)
		if v := b.Get([]byte(k)); len(v) >= 8 {
			info.Modified = time.Unix(0, int64(binary.BigEndian.Uint64(v)))
			info.Size = int64(len(v) - 8)
			info.IsTerminal = true
			return nil
		}
		prefix := []byte(k + "/")
		if ck, _ := b.Cursor().Seek(prefix); ck != nil && hasPrefix(ck, prefix) {
			return nil // a folder
		}
		return fs.ErrNotExist
	})
	if err != nil {
		return certmagic.KeyInfo{}, fmt.Errorf("stat %s: %w", k, err)
	}
	return info, nil
}

// Lock implements certmagic.Locker: it waits until name is free or ctx is
// done.
func (s *Storage) Lock(ctx context.Context, name string) error {
	for {
		s.mu.Lock()
		held, ok := s.locks[name]
		if !ok {
			s.locks[name] = make(chan struct{})
			s.mu.Unlock()
			return nil
		}
		s.mu.Unlock()
		select {
		case <-held:
		case <-ctx.Done():
			return fmt.Errorf("lock %s: %w", name, ctx.Err())
		}
	}
}

// Unlock implements certmagic.Locker; unlocking a name that is not locked
// is an error.
func (s *Storage) Unlock(_ context.Context, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	held, ok := s.locks[name]
	if !ok {
		return fmt.Errorf("unlock %s: not locked", name)
	}
	delete(s.locks, name)
	close(held)
	return nil
}
