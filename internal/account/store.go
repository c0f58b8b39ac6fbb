package account

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"codeberg.org/placette/placette/internal/store"
	"codeberg.org/placette/placette/internal/web"
	bolt "go.etcd.io/bbolt"
	"golang.org/x/crypto/bcrypt"
)

const bucketUsers = "account/users"

// migrations are the package's schema. Append only.
var migrations = []store.Migration{
	{Name: "create users", Up: func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists([]byte(bucketUsers))
		return err
	}},
}

// Errors of the account store. Each carries the catalog key of its message
// for the forms that show it.
var (
	ErrNotFound     = fmt.Errorf("account %w", web.ErrNotFound)
	ErrExists       = errors.New("an account with this login exists already")
	ErrBadLogin     = errors.New("a login is 2 to 40 lower-case letters, digits, '.', '_' or '-', beginning with a letter or a digit")
	ErrWeakPassword = fmt.Errorf("a password has at least %d characters", MinPasswordLen)
	ErrLongPassword = fmt.Errorf("a password has at most %d bytes", maxPasswordBytes)
	ErrWrongLogin   = errors.New("wrong login or password")
	ErrLastAdmin    = errors.New("the last administrator cannot be removed or demoted")
)

// MinPasswordLen is the shortest password accepted, in characters.
const MinPasswordLen = 10

const maxPasswordBytes = 1024

// bcryptCost is bcrypt's work factor: about 0.1 s on a Raspberry Pi 4 core.
const bcryptCost = 10

// Account is a person who logs in.
type Account struct {
	Login     string    `json:"login"`
	Hash      []byte    `json:"hash"`
	Admin     bool      `json:"admin"`
	Moderator bool      `json:"moderator"`
	Created   time.Time `json:"created"`
}

// User returns the account as the web shell knows people.
func (a *Account) User() *web.User {
	return &web.User{Login: a.Login, Admin: a.Admin, Moderator: a.Moderator}
}

// Store keeps accounts in bbolt. It is safe for concurrent use.
type Store struct {
	db    *store.DB
	dummy []byte // a hash to compare with when the login is unknown
	now   func() time.Time
}

var _ web.UserSource = (*Store)(nil)

// NewStore opens the account store over db, running its migrations.
func NewStore(db *store.DB) (*Store, error) {
	if err := db.Migrate("account", migrations); err != nil {
		return nil, err
	}
	dummy, err := hashPassword("placette-dummy-password")
	if err != nil {
		return nil, err
	}
	return &Store{db: db, dummy: dummy, now: time.Now}, nil
}

// NormalizeLogin returns login in lower case and checks its shape. A login
// begins with a letter or a digit: ".." would be a path segment in the
// administration's URLs, and "-x" a flag on the command line.
func NormalizeLogin(login string) (string, error) {
	login = strings.ToLower(strings.TrimSpace(login))
	if len(login) < 2 || len(login) > 40 {
		return "", ErrBadLogin
	}
	for i, c := range login {
		alnum := c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || c != '.' && c != '_' && c != '-') {
			return "", ErrBadLogin
		}
	}
	return login, nil
}

// CheckPassword tells whether password is acceptable.
func CheckPassword(password string) error {
	if len(password) > maxPasswordBytes {
		return ErrLongPassword
	}
	if !utf8.ValidString(password) || utf8.RuneCountInString(strings.TrimSpace(password)) < MinPasswordLen {
		return ErrWeakPassword
	}
	return nil
}

func prehash(password string) []byte {
	sum := sha256.Sum256([]byte(password))
	return []byte(base64.StdEncoding.EncodeToString(sum[:]))
}

func hashPassword(password string) ([]byte, error) {
	h, err := bcrypt.GenerateFromPassword(prehash(password), bcryptCost)
	if err != nil {
		return nil, fmt.Errorf("hash password: %w", err)
	}
	return h, nil
}

// Create adds an account. The first administrator can be made this way
// too.
func (s *Store) Create(login, password string, admin, moderator bool) (*Account, error) {
	login, err := NormalizeLogin(login)
	if err != nil {
		return nil, err
	}
	if err := CheckPassword(password); err != nil {
		return nil, err
	}
	hash, err := hashPassword(password)
	if err != nil {
		return nil, err
	}
	a := &Account{Login: login, Hash: hash, Admin: admin, Moderator: moderator, Created: s.now().UTC()}
	err = s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketUsers))
		if b.Get([]byte(login)) != nil {
			return ErrExists
		}
		return put(b, a)
	})
	if err != nil {
		return nil, fmt.Errorf("create account %q: %w", login, err)
	}
	return a, nil
}

func put(b *bolt.Bucket, a *Account) error {
	v, err := json.Marshal(a)
	if err != nil {
		return err
	}
	return b.Put([]byte(a.Login), v)
}

func get(b *bolt.Bucket, login string) (*Account, error) {
	v := b.Get([]byte(login))
	if v == nil {
		return nil, ErrNotFound
	}
	var a Account
	if err := json.Unmarshal(v, &a); err != nil {
		return nil, fmt.Errorf("decode account %q: %w", login, err)
	}
	return &a, nil
}

// Get returns the account called login, or ErrNotFound.
func (s *Store) Get(login string) (*Account, error) {
	var a *Account
	err := s.db.View(func(tx *bolt.Tx) (err error) {
		a, err = get(tx.Bucket([]byte(bucketUsers)), strings.ToLower(login))
		return err
	})
	return a, err
}

// LookupUser implements web.UserSource.
func (s *Store) LookupUser(_ context.Context, login string) (*web.User, error) {
	a, err := s.Get(login)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return a.User(), nil
}

// List returns every account, by login.
func (s *Store) List() ([]*Account, error) {
	var out []*Account
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bucketUsers)).ForEach(func(k, v []byte) error {
			var a Account
			if err := json.Unmarshal(v, &a); err != nil {
				return fmt.Errorf("decode account %q: %w", k, err)
			}
			out = append(out, &a)
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Login < out[j].Login })
	return out, err
}

// HasAdmin reports whether at least one administrator exists.
func (s *Store) HasAdmin() (bool, error) {
	list, err := s.List()
	if err != nil {
		return false, err
	}
	for _, a := range list {
		if a.Admin {
			return true, nil
		}
	}
	return false, nil
}

// Authenticate returns the account whose login and password these are, or
// ErrWrongLogin. It takes the same time whether the login exists or not.
func (s *Store) Authenticate(login, password string) (*Account, error) {
	a, err := s.Get(login)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	if a == nil || len(password) > maxPasswordBytes {
		bcrypt.CompareHashAndPassword(s.dummy, prehash(password))
		return nil, ErrWrongLogin
	}
	if bcrypt.CompareHashAndPassword(a.Hash, prehash(password)) != nil {
		return nil, ErrWrongLogin
	}
	return a, nil
}

// SetPassword changes the password of login.
func (s *Store) SetPassword(login, password string) error {
	if err := CheckPassword(password); err != nil {
		return err
	}
	hash, err := hashPassword(password)
	if err != nil {
		return err
	}
	return s.update(login, func(_ *bolt.Bucket, a *Account) error {
		a.Hash = hash
		return nil
	})
}

// SetRoles changes the roles of login. The last administrator keeps the
// role.
func (s *Store) SetRoles(login string, admin, moderator bool) error {
	return s.update(login, func(b *bolt.Bucket, a *Account) error {
		if a.Admin && !admin {
			if err := otherAdmin(b, a.Login); err != nil {
				return err
			}
		}
		a.Admin, a.Moderator = admin, moderator
		return nil
	})
}

// Delete removes the account login. The last administrator stays.
func (s *Store) Delete(login string) error {
	login = strings.ToLower(login)
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketUsers))
		a, err := get(b, login)
		if err != nil {
			return err
		}
		if a.Admin {
			if err := otherAdmin(b, login); err != nil {
				return err
			}
		}
		return b.Delete([]byte(login))
	})
	if err != nil {
		return fmt.Errorf("delete account %q: %w", login, err)
	}
	return nil
}

func otherAdmin(b *bolt.Bucket, except string) error {
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		var a Account
		if string(k) != except && json.Unmarshal(v, &a) == nil && a.Admin {
			return nil
		}
	}
	return ErrLastAdmin
}

func (s *Store) update(login string, fn func(*bolt.Bucket, *Account) error) error {
	login = strings.ToLower(login)
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketUsers))
		a, err := get(b, login)
		if err != nil {
			return err
		}
		if err := fn(b, a); err != nil {
			return err
		}
		return put(b, a)
	})
	if err != nil {
		return fmt.Errorf("update account %q: %w", login, err)
	}
	return nil
}
