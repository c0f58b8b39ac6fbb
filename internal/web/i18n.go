package web

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/language"
)

// DefaultLang is the language of a page when the reader asked for nothing
// placette speaks: people read French first.
const DefaultLang = "fr"

// LangCookie is the name of the cookie that remembers a reader's choice of
// language.
const LangCookie = "lang"

// A Catalog holds the messages of every language placette ships, loaded from
// JSON files named after their language (fr.json, en.json).
type Catalog struct {
	langs   []string                     // supported languages, DefaultLang first
	msgs    map[string]map[string]string // lang -> key -> format
	matcher language.Matcher
}

// LoadCatalog reads every *.json file at the root of fsys as the catalog of
// the language its name gives. The default language must be among them.
func LoadCatalog(fsys fs.FS) (*Catalog, error) {
	names, err := fs.Glob(fsys, "*.json")
	if err != nil {
		return nil, fmt.Errorf("list catalogs: %w", err)
	}
	c := &Catalog{msgs: map[string]map[string]string{}}
	for _, name := range names {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("read catalog %s: %w", name, err)
		}
		m := map[string]string{}
		if err := json.Unmarshal(data, &m); err != nil {
			return nil, fmt.Errorf("parse catalog %s: %w", name, err)
		}
		c.msgs[strings.TrimSuffix(path.Base(name), ".json")] = m
	}
	if _, ok := c.msgs[DefaultLang]; !ok {
		return nil, fmt.Errorf("catalog for %q is missing", DefaultLang)
	}
	c.langs = append(c.langs, DefaultLang)
	var others []string
	for l := range c.msgs {
		if l != DefaultLang {
			others = append(others, l)
		}
	}
	sort.Strings(others)
	c.langs = append(c.langs, others...)
	tags := make([]language.Tag, len(c.langs))
	for i, l := range c.langs {
		tags[i] = language.Make(l)
	}
	c.matcher = language.NewMatcher(tags)
	return c, nil
}

// Add merges the messages of the *.json files at the root of fsys, one per
// language, into c: a package that serves pages ships its own catalog
// beside its templates. Every file must be for a language c already has,
// and no key may be defined twice. Add must be called before c is used.
func (c *Catalog) Add(fsys fs.FS) error {
	more, err := LoadCatalog(fsys)
	if err != nil {
		return err
	}
	for lang, msgs := range more.msgs {
		into, ok := c.msgs[lang]
		if !ok {
			return fmt.Errorf("catalog for %q: placette does not speak it", lang)
		}
		for k, v := range msgs {
			if _, dup := into[k]; dup {
				return fmt.Errorf("catalog for %q: key %q is defined twice", lang, k)
			}
			into[k] = v
		}
	}
	return nil
}

// Langs returns the languages of the catalog, the default one first.
func (c *Catalog) Langs() []string { return c.langs }

// Keys returns the message keys of lang, sorted.
func (c *Catalog) Keys(lang string) []string {
	keys := make([]string, 0, len(c.msgs[lang]))
	for k := range c.msgs[lang] {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Supports reports whether lang is one of the catalog's languages.
func (c *Catalog) Supports(lang string) bool {
	_, ok := c.msgs[lang]
	return ok
}

// Match returns the language to speak to the person behind r: the one their
// cookie names, else the best match for their Accept-Language header, else
// DefaultLang.
func (c *Catalog) Match(r *http.Request) string {
	if ck, err := r.Cookie(LangCookie); err == nil && c.Supports(ck.Value) {
		return ck.Value
	}
	if al := r.Header.Get("Accept-Language"); al != "" && len(al) < 512 {
		tags, _, err := language.ParseAcceptLanguage(al)
		if err == nil && len(tags) > 0 {
			_, i, conf := c.matcher.Match(tags...)
			if conf != language.No {
				return c.langs[i]
			}
		}
	}
	return DefaultLang
}

// Printer returns the printer for lang, falling back on DefaultLang for an
// unknown language.
func (c *Catalog) Printer(lang string) *Printer {
	if !c.Supports(lang) {
		lang = DefaultLang
	}
	return &Printer{lang: lang, msgs: c.msgs[lang], fallback: c.msgs[DefaultLang]}
}

// A Printer formats the messages of one language. It is safe for concurrent
// use.
type Printer struct {
	lang     string
	msgs     map[string]string
	fallback map[string]string
}

// Lang returns the printer's language code.
func (p *Printer) Lang() string { return p.lang }

// T returns the message for key formatted with args (fmt verbs). A key
// missing from the catalog is returned as is, so that it shows and a test
// can catch it.
func (p *Printer) T(key string, args ...any) string {
	format, ok := p.msgs[key]
	if !ok {
		format, ok = p.fallback[key]
		if !ok {
			return key
		}
	}
	if len(args) == 0 {
		return format
	}
	return fmt.Sprintf(format, args...)
}

// N returns the plural form of key for n: key+".one" or key+".other", with
// n as the first argument. French counts 0 and 1 as singular, English only 1.
func (p *Printer) N(key string, n int, args ...any) string {
	form := ".other"
	if n == 1 || (n == 0 && p.lang == "fr") {
		form = ".one"
	}
	return p.T(key+form, append([]any{n}, args...)...)
}

// Date formats t as a date in the printer's language ("23 novembre 2026",
// "1er décembre 2026", "November 23, 2026"). The catalog's "date.format"
// gets the day (a string: "date.day.1" for the first of the month), the
// month's name and the year.
func (p *Printer) Date(t time.Time) string {
	day := strconv.Itoa(t.Day())
	if t.Day() == 1 {
		day = p.T("date.day.1")
	}
	return p.T("date.format", day, p.T("month."+strconv.Itoa(int(t.Month()))), t.Year())
}

// DateTime formats t as a date and a time of day in the printer's language.
func (p *Printer) DateTime(t time.Time) string {
	return p.T("datetime.format", p.Date(t), t.Hour(), t.Minute())
}
