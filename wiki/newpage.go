package wiki

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"codeberg.org/placette/placette/internal/web"
	"codeberg.org/placette/placette/wiki/markup"
)

// ficheTemplate is the built-in template of a fiche atelier; TITLE is
// replaced by the page's title.
const ficheTemplate = `---
title: TITLE
tags: [fiche]
public: 
duree: 
niveau: 
materiel: 
objectifs: 
---

# TITLE

Une phrase qui dit ce que l’atelier apporte.

## Déroulé

1. Accueil et tour de table (10 min)
2. 
3. 

## Astuces

- 

## Pour aller plus loin

- 
`

// builtinFiche names the built-in template in forms.
const builtinFiche = "-fiche"

// templateTags are the tags that make a page a template for new pages.
var templateTags = []string{"template", "modèle", "modele"}

// templates returns the pages offered as templates, by title.
func (w *Wiki) templatePages() []*Page {
	var out []*Page
	for _, p := range w.store.all() {
		for _, t := range templateTags {
			if p.HasTag(t) {
				out = append(out, p)
				break
			}
		}
	}
	return out
}

// templateText returns the text a new page titled title starts with, from
// the template name ("" for none).
func (w *Wiki) templateText(name, title string) (string, error) {
	quoted, _ := json.Marshal(title)
	switch name {
	case "":
		return "# " + title + "\n\n", nil
	case builtinFiche:
		s := strings.Replace(ficheTemplate, "title: TITLE", "title: "+string(quoted), 1)
		return strings.Replace(s, "# TITLE", "# "+title, 1), nil
	}
	p := w.store.page(name)
	if !p.Live() {
		return "# " + title + "\n\n", nil
	}
	src, err := w.store.source(p)
	if err != nil {
		return "", err
	}
	src = retitle(src, p.Title, title)
	// The copy is not itself a template.
	for _, t := range templateTags {
		src = strings.Replace(src, ", "+t+"]", "]", 1)
		src = strings.Replace(src, "["+t+", ", "[", 1)
		src = strings.Replace(src, "["+t+"]", "[]", 1)
	}
	return src, nil
}

type newForm struct {
	Title     string
	Template  string
	Templates []pageLink
	Error     string
	Existing  string // the slug of the page that exists already
}

func (w *Wiki) newForm(rw http.ResponseWriter, r *http.Request) {
	if a, _ := w.access(r, nil); a != accessEdit {
		w.refuse(rw, r, a)
		return
	}
	data := newForm{Title: strings.ToValidUTF8(r.URL.Query().Get("title"), ""), Template: r.URL.Query().Get("template")}
	w.renderNew(rw, r, http.StatusOK, data)
}

func (w *Wiki) renderNew(rw http.ResponseWriter, r *http.Request, status int, data newForm) {
	for _, p := range w.templatePages() {
		data.Templates = append(data.Templates, pageLink{Slug: p.Slug, Title: p.Title})
	}
	w.shell.RenderNoIndex(rw, r, status, w.pages, "new.html", data)
}

// newPage sends the person to the edit form of the new page.
func (w *Wiki) newPage(rw http.ResponseWriter, r *http.Request) {
	if a, _ := w.access(r, nil); a != accessEdit {
		w.refuse(rw, r, a)
		return
	}
	data := newForm{Title: strings.TrimSpace(r.PostFormValue("title")), Template: r.PostFormValue("template")}
	if !utf8.ValidString(data.Title) {
		data.Title = strings.ToValidUTF8(data.Title, "\uFFFD")
		data.Error = "wiki.error.encoding"
		w.renderNew(rw, r, http.StatusBadRequest, data)
		return
	}
	slug := markup.Slug(data.Title)
	if data.Title == "" || len(data.Title) > 200 || !validSlug(slug) {
		data.Error = "wiki.error.title"
		w.renderNew(rw, r, http.StatusUnprocessableEntity, data)
		return
	}
	if w.store.page(slug).Live() {
		data.Error = "wiki.error.exists"
		data.Existing = slug
		w.renderNew(rw, r, http.StatusConflict, data)
		return
	}
	q := url.Values{"title": {data.Title}}
	if data.Template != "" {
		q.Set("template", data.Template)
	}
	web.Redirect(rw, r, pageURL(slug)+"/edit?"+q.Encode())
}
