package web

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"
)

// DefaultSourceURL is where placette's source code is published: the AGPL
// asks that users of a network service can get it.
const DefaultSourceURL = "https://codeberg.org/placette/placette"

// Settings are the site's settings an administrator edits in /admin/settings.
type Settings struct {
	Name        string `json:"name"`        // the site's name, in every page's header
	Description string `json:"description"` // one line under the name on the home page
	Hoster      string `json:"hoster"`      // who runs this instance (CHATONS transparency)
	HosterURL   string `json:"hoster_url"`  // the hoster's site; can be empty
	Contact     string `json:"contact"`     // how to reach the hoster: an address or a URL
	Terms       string `json:"terms"`       // terms of use, plain text; empty: the built-in text
	Privacy     string `json:"privacy"`     // privacy policy, plain text; empty: the built-in text
	SourceURL   string `json:"source_url"`  // where the running code can be had
}

// Limits of the settings' fields, in characters.
const (
	maxShortSetting = 200
	maxLongSetting  = 50000
)

// DefaultSettings are the settings of a new site.
func DefaultSettings() Settings {
	return Settings{Name: "placette", SourceURL: DefaultSourceURL}
}

// FieldError says which field of a form is wrong and why, as a catalog key.
type FieldError struct {
	Field string
	Key   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Key }

// Normalize trims the fields and checks them. It returns a *FieldError
// naming the first field that is wrong.
func (st *Settings) Normalize() error {
	for _, f := range []struct {
		name string
		p    *string
		max  int
	}{
		{"name", &st.Name, maxShortSetting},
		{"description", &st.Description, maxShortSetting},
		{"hoster", &st.Hoster, maxShortSetting},
		{"hoster_url", &st.HosterURL, maxShortSetting},
		{"contact", &st.Contact, maxShortSetting},
		{"source_url", &st.SourceURL, maxShortSetting},
		{"terms", &st.Terms, maxLongSetting},
		{"privacy", &st.Privacy, maxLongSetting},
	} {
		*f.p = strings.TrimSpace(strings.ReplaceAll(*f.p, "\r\n", "\n"))
		if !utf8.ValidString(*f.p) {
			return &FieldError{f.name, "form.error.encoding"}
		}
		if utf8.RuneCountInString(*f.p) > f.max {
			return &FieldError{f.name, "form.error.too_long"}
		}
	}
	if st.Name == "" {
		return &FieldError{"name", "form.error.required"}
	}
	if st.SourceURL == "" {
		st.SourceURL = DefaultSourceURL
	}
	for _, f := range []struct {
		name string
		v    string
	}{{"hoster_url", st.HosterURL}, {"source_url", st.SourceURL}} {
		if f.v != "" && !isWebURL(f.v) {
			return &FieldError{f.name, "form.error.url"}
		}
	}
	return nil
}

// isWebURL reports whether s is an absolute http or https URL.
func isWebURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// Settings returns the site's current settings.
func (s *Shell) Settings() Settings { return *s.settings.Load() }

func (s *Shell) loadSettings() error {
	st := DefaultSettings()
	err := s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket([]byte(bucketSettings)).Get([]byte("site")); v != nil {
			return json.Unmarshal(v, &st)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("load site settings: %w", err)
	}
	s.settings.Store(&st)
	return nil
}

// SaveSettings checks st, stores it and makes it current.
func (s *Shell) SaveSettings(st Settings) error {
	if err := st.Normalize(); err != nil {
		return err
	}
	v, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("encode site settings: %w", err)
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bucketSettings)).Put([]byte("site"), v)
	})
	if err != nil {
		return fmt.Errorf("save site settings: %w", err)
	}
	s.settings.Store(&st)
	return nil
}
