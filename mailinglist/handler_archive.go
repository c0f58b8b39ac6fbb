package mailinglist

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"codeberg.org/placette/placette/internal/web"
	"codeberg.org/placette/placette/mailinglist/mailmsg"
	bolt "go.etcd.io/bbolt"
)

// threadsPerPage is how many threads a list's page shows.
const threadsPerPage = 30

// maxDepth is the deepest a reply is indented on a thread page.
const maxDepth = 6

// threadView is a thread as the list's and month's pages show it.
type threadView struct {
	Thread
	URL     string
	Replies int
}

// loginForm is what a person typed in the "send me a login link" form.
type loginForm struct {
	Addr   string
	Errors fieldErrors
}

// listPageData is what the list's own page shows.
type listPageData struct {
	List         *List
	Reader       readerOf
	Threads      []threadView
	Page         int
	PrevURL      string
	NextURL      string
	Months       []monthView
	AtomURL      string
	Form         subscribeForm
	Login        loginForm
	CSS          string
	NoThread     bool   // the archive is readable and empty
	SessionLabel string // the member session's address, obfuscated
}

// monthView is a month of the archive's index.
type monthView struct {
	Month
	Label string // "mars 2026"
	URL   string
}

// archivePage is what every page of a readable archive starts with.
type archivePage struct {
	List   *List
	Reader readerOf
	CSS    string
}

// archiveOf returns the list of r and what its visitor may do, or answers
// 404 when there is no such list or the visitor may not read its archive.
func (s *Service) archiveOf(w http.ResponseWriter, r *http.Request) (*List, readerOf, bool) {
	l, err := s.List(r.PathValue("list"))
	if err != nil {
		s.fail(w, r, err)
		return nil, readerOf{}, false
	}
	rd := s.reader(r, l)
	if !rd.Read {
		s.cfg.Shell.NotFound(w, r)
		return nil, rd, false
	}
	return l, rd, true
}

// renderArchive renders an archive page: a private list's pages are not
// for search engines nor shared caches.
func (s *Service) renderArchive(w http.ResponseWriter, r *http.Request, l *List, status int, name string, data any) {
	if l.Private {
		w.Header().Set("Cache-Control", "private, no-cache")
		s.render(w, r, status, name, data)
		return
	}
	s.renderPublic(w, r, status, name, data)
}

// listPage serves /lists/{list}/: the list's title, description and
// address, its threads by newest activity when the visitor may read them,
// the months of its archive, and the forms to subscribe and, for a
// private list, to be sent a login link.
func (s *Service) listPage(w http.ResponseWriter, r *http.Request) {
	l, err := s.List(r.PathValue("list"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.showListPage(w, r, l, http.StatusOK, loginForm{})
}

// showListPage renders l's page with the login form as given.
func (s *Service) showListPage(w http.ResponseWriter, r *http.Request, l *List, status int, login loginForm) {
	rd := s.reader(r, l)
	page := listPageData{List: l, Reader: rd, Login: login, CSS: archiveCSSPath}
	if rd.Read {
		n, _ := strconv.Atoi(r.URL.Query().Get("page"))
		n = max(1, min(n, 100000))
		ths, more, err := s.ThreadsPage(l.Name, (n-1)*threadsPerPage, threadsPerPage)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, th := range ths {
			if rd.Obfuscate {
				th.Subject = obfuscateText(th.Subject)
			}
			page.Threads = append(page.Threads, threadView{Thread: th, URL: listPath(l.Name, "t", strconv.FormatUint(th.Root, 10)), Replies: th.Count - 1})
		}
		page.Page = n
		if n > 1 {
			page.PrevURL = listPath(l.Name) + "?page=" + strconv.Itoa(n-1)
		}
		if more {
			page.NextURL = listPath(l.Name) + "?page=" + strconv.Itoa(n+1)
		}
		ms, err := s.Months(l.Name)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for i := len(ms) - 1; i >= 0; i-- {
			page.Months = append(page.Months, monthViewOf(s.cfg.Shell.Printer(r), l.Name, ms[i]))
		}
		page.AtomURL = "/lists/" + url.PathEscape(l.Name) + ".atom"
		page.NoThread = len(ths) == 0 && n == 1
		page.SessionLabel = obfuscateAddr(rd.Addr, "…")
	}
	s.renderArchive(w, r, l, status, "list.html", page)
}

// monthViewOf returns the index entry of month m of list.
func monthViewOf(p *web.Printer, list string, m Month) monthView {
	return monthView{Month: m, Label: monthLabel(p, m.Year, m.Month),
		URL: listPath(list, fmt.Sprintf("%04d", m.Year), fmt.Sprintf("%02d", int(m.Month))) + "/"}
}

// monthLabel returns a month's name and year in p's language.
func monthLabel(p *web.Printer, y int, m time.Month) string {
	return p.T("list.archive.month", p.T("month."+strconv.Itoa(int(m))), y)
}

// monthPageData is what a month's page shows.
type monthPageData struct {
	archivePage
	Month   string // its name and year
	Threads []monthThread
	Prev    *monthView
	Next    *monthView
	MboxURL string
}

// monthThread is a thread with the messages a month holds of it.
type monthThread struct {
	Subject  string
	URL      string
	Messages []messageLink
}

// messageLink is a message in a list of links.
type messageLink struct {
	From string
	Date time.Time
	URL  string
}

// monthPage serves /lists/{list}/{yyyy}/{mm}/: the month's messages by
// thread, threads in order of their first message that month.
func (s *Service) monthPage(w http.ResponseWriter, r *http.Request) {
	y, err1 := strconv.Atoi(r.PathValue("yyyy"))
	m, err2 := strconv.Atoi(r.PathValue("mm"))
	if err1 != nil || err2 != nil || y < 1970 || y > 9999 || m < 1 || m > 12 || len(r.PathValue("mm")) != 2 {
		s.cfg.Shell.NotFound(w, r)
		return
	}
	l, rd, ok := s.archiveOf(w, r)
	if !ok {
		return
	}
	from := time.Date(y, time.Month(m), 1, 0, 0, 0, 0, time.UTC)
	msgs, err := s.MessagesBetween(l.Name, from, from.AddDate(0, 1, 0), 0)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	page := monthPageData{archivePage: archivePage{List: l, Reader: rd, CSS: archiveCSSPath}, Month: monthLabel(s.cfg.Shell.Printer(r), y, time.Month(m)),
		MboxURL: listPath(l.Name, "mbox", from.Format("2006-01"))}
	byThread := map[uint64]int{}
	subjects, err := s.threadSubjects(l.Name, msgs)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, a := range msgs {
		i, ok := byThread[a.Thread]
		if !ok {
			i = len(page.Threads)
			byThread[a.Thread] = i
			subject := subjects[a.Thread]
			if rd.Obfuscate {
				subject = obfuscateText(subject)
			}
			page.Threads = append(page.Threads, monthThread{Subject: subject, URL: listPath(l.Name, "t", strconv.FormatUint(a.Thread, 10))})
		}
		page.Threads[i].Messages = append(page.Threads[i].Messages, messageLink{From: displayName(a.FromName, a.FromAddr), Date: a.Date, URL: messagePath(l.Name, a.MessageID)})
	}
	ms, err := s.Months(l.Name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, mo := range ms {
		d := time.Date(mo.Year, mo.Month, 1, 0, 0, 0, 0, time.UTC)
		v := monthViewOf(s.cfg.Shell.Printer(r), l.Name, mo)
		if d.Before(from) {
			page.Prev = &v
		} else if d.After(from) && page.Next == nil {
			page.Next = &v
		}
	}
	if len(msgs) == 0 {
		s.cfg.Shell.NotFound(w, r)
		return
	}
	s.renderArchive(w, r, l, http.StatusOK, "month.html", page)
}

// threadSubjects returns the subjects of the threads of msgs.
func (s *Service) threadSubjects(list string, msgs []Archived) (map[uint64]string, error) {
	out := map[uint64]string{}
	for _, a := range msgs {
		if _, ok := out[a.Thread]; ok {
			continue
		}
		th, _, err := s.threadSummary(list, a.Thread)
		if err != nil {
			return nil, err
		}
		out[a.Thread] = a.Subject
		if th != nil {
			out[a.Thread] = th.Subject
		}
	}
	return out, nil
}

// messagePath returns the permalink of message id of list.
func messagePath(list, id string) string {
	return "/lists/" + url.PathEscape(list) + "/m/" + url.PathEscape(id)
}

// messageView is a message as a thread or message page shows it.
type messageView struct {
	Seq       uint64
	ID        string
	Subject   string
	From      string
	Date      time.Time
	URL       string
	RawURL    string
	Depth     int
	Parent    uint64 // Seq of the message it answers within the page; 0 when none
	ReplyTo   string // the name of the author it answers
	Body      *renderedBody
	ReplyLink string // mailto link for members; "" otherwise
	EraseURL  string // for moderators; "" otherwise
	// HTML is the whole <article>, built by articleHTML: a thread page
	// of many messages renders far faster than through the template.
	HTML template.HTML
}

// articleHTML returns v as the <article> of a thread or message page.
// Everything that comes from a message is escaped here; the URLs are the
// archive's own paths and a mailto link.
func articleHTML(v *messageView, p *web.Printer) template.HTML {
	esc := template.HTMLEscapeString
	var b strings.Builder
	b.Grow(len(v.Body.HTML) + 1024)
	seq := strconv.FormatUint(v.Seq, 10)
	b.WriteString(`<article class="msg depth-` + strconv.Itoa(v.Depth) + `" id="m` + seq + `" aria-labelledby="h` + seq + `">` + "\n<header>\n")
	b.WriteString(`<h2 id="h` + seq + `">` + esc(v.From) + "</h2>\n")
	b.WriteString(`<p class="meta"><a href="` + esc(v.URL) + `"><time datetime="` + v.Date.UTC().Format(time.RFC3339) + `">` + esc(p.DateTime(v.Date)) + `</time></a>`)
	if v.Parent != 0 {
		b.WriteString(` · <a href="#m` + strconv.FormatUint(v.Parent, 10) + `">` + esc(p.T("list.archive.answers", v.ReplyTo)) + `</a>`)
	}
	b.WriteString("</p>\n</header>\n")
	b.WriteString(string(v.Body.HTML))
	if len(v.Body.Attachments) > 0 {
		b.WriteString("\n<p>" + esc(p.T("list.archive.attachments")) + "</p>\n" + `<ul class="attachments">`)
		for _, a := range v.Body.Attachments {
			name := a.Filename
			if name == "" {
				name = p.T("list.archive.attachment", a.N)
			}
			b.WriteString(`<li><a href="` + esc(v.URL) + "/a/" + strconv.Itoa(a.N) + `" download>` + esc(name) + `</a> <span class="meta">(` + esc(a.ContentType) + ", " + esc(a.Human) + ")</span></li>")
		}
		b.WriteString("</ul>")
	}
	b.WriteString("\n" + `<p class="actions"><a href="` + esc(v.URL) + `">` + esc(p.T("list.archive.permalink")) + `</a> <a href="` + esc(v.RawURL) + `">` + esc(p.T("list.archive.raw")) + `</a>`)
	if v.ReplyLink != "" {
		b.WriteString(` <a href="` + esc(v.ReplyLink) + `">` + esc(p.T("list.archive.reply")) + `</a>`)
	}
	if v.EraseURL != "" {
		b.WriteString(` <a href="` + esc(v.EraseURL) + `">` + esc(p.T("list.archive.erase")) + `</a>`)
	}
	b.WriteString("</p>\n</article>\n")
	return template.HTML(b.String())
}

// threadPageData is what a thread's page, or a message's, shows.
type threadPageData struct {
	archivePage
	Thread    *Thread
	Messages  []messageView
	Articles  template.HTML // the messages' <article>s
	Single    bool          // one message's permalink page
	ThreadURL string
	AtomURL   string
}

// threadPage serves /lists/{list}/t/{thread}: the thread's messages as a
// tree, replies under what they answer; and {thread}.atom, its feed.
func (s *Service) threadPage(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("thread")
	feed := false
	if t, ok := strings.CutSuffix(id, ".atom"); ok {
		id, feed = t, true
	}
	root, err := strconv.ParseUint(id, 10, 64)
	if err != nil || root == 0 {
		s.cfg.Shell.NotFound(w, r)
		return
	}
	l, rd, ok := s.archiveOf(w, r)
	if !ok {
		return
	}
	p := s.cfg.Shell.Printer(r)
	key := pageKey{list: l.Name, root: root, obfuscate: rd.Obfuscate, member: rd.Member, moderator: rd.Moderator, lang: p.Lang()}
	gen := s.threads.gen(l.Name)
	cached := s.threads.get(key, gen)
	if cached == nil || feed {
		th, msgs, err := s.Thread(l.Name, root)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if feed {
			slices.Reverse(msgs)
			s.serveAtom(w, r, l, th.Subject, listPath(l.Name, "t", id), msgs)
			return
		}
		if rd.Obfuscate {
			th.Subject = obfuscateText(th.Subject)
		}
		cached = &renderedThread{gen: gen, thread: th, html: s.articles(l, rd, p, msgs)}
		s.threads.put(key, cached)
	}
	page := threadPageData{
		archivePage: archivePage{List: l, Reader: rd, CSS: archiveCSSPath},
		Thread:      cached.thread,
		Articles:    cached.html,
		ThreadURL:   listPath(l.Name, "t", id),
		AtomURL:     listPath(l.Name, "t", id+".atom"),
	}
	s.renderArchive(w, r, l, http.StatusOK, "thread.html", page)
}

// articles returns the <article> of each of msgs, a thread's messages in
// order of date, as a tree.
func (s *Service) articles(l *List, rd readerOf, p *web.Printer, msgs []Archived) template.HTML {
	views := make([]messageView, 0, len(msgs))
	for _, a := range treeOrder(msgs) {
		views = append(views, s.messageView(l, rd, p, a.Archived, a.depth))
	}
	names := map[uint64]string{}
	for _, m := range views {
		names[m.Seq] = m.From
	}
	var b strings.Builder
	for i := range views {
		views[i].ReplyTo = names[views[i].Parent]
		if views[i].ReplyTo == "" {
			views[i].Parent = 0
		}
		b.WriteString(string(articleHTML(&views[i], p)))
	}
	return template.HTML(b.String())
}

// treeNode is a message placed in a thread's tree.
type treeNode struct {
	*Archived
	depth int
}

// treeOrder returns msgs (in order of date) depth first: each message
// followed by its replies, in order of date; messages whose parent is not
// in the thread (unknown, or erased) are at the top level.
func treeOrder(msgs []Archived) []treeNode {
	in := make(map[uint64]bool, len(msgs))
	for _, a := range msgs {
		in[a.Seq] = true
	}
	children := map[uint64][]*Archived{}
	var tops []*Archived
	for i := range msgs {
		a := &msgs[i]
		if a.Parent != 0 && a.Parent != a.Seq && in[a.Parent] {
			children[a.Parent] = append(children[a.Parent], a)
		} else {
			tops = append(tops, a)
		}
	}
	out := make([]treeNode, 0, len(msgs))
	seen := make(map[uint64]bool, len(msgs))
	var walk func(a *Archived, depth int)
	walk = func(a *Archived, depth int) {
		if seen[a.Seq] {
			return
		}
		seen[a.Seq] = true
		out = append(out, treeNode{a, min(depth, maxDepth)})
		for _, c := range children[a.Seq] {
			walk(c, depth+1)
		}
	}
	for _, a := range tops {
		walk(a, 0)
	}
	// Parents that loop leave messages unreached: they go at the end.
	for i := range msgs {
		if !seen[msgs[i].Seq] {
			walk(&msgs[i], 0)
		}
	}
	return out
}

// messageView returns how a's page shows it to rd.
func (s *Service) messageView(l *List, rd readerOf, p *web.Printer, a *Archived, depth int) messageView {
	path := messagePath(l.Name, a.MessageID)
	v := messageView{
		Seq: a.Seq, ID: a.MessageID, From: displayName(a.FromName, a.FromAddr), Date: a.Date,
		URL: path, RawURL: path + "/raw", Depth: depth, Parent: a.Parent,
		Subject: a.Subject, Body: s.body(l, a.Seq, rd.Obfuscate, p),
	}
	if rd.Obfuscate {
		v.Subject = obfuscateText(v.Subject)
	}
	if rd.Member {
		v.ReplyLink = replyLink(l, a)
	}
	if rd.Moderator {
		v.EraseURL = path + "/erase"
	}
	return v
}

// replyLink returns the mailto link that answers a on l (RFC 6068).
func replyLink(l *List, a *Archived) string {
	subject := a.Subject
	if _, reply := normaliseSubject(subject); !reply {
		subject = "Re: " + subject
	}
	q := func(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }
	return "mailto:" + l.Address() + "?In-Reply-To=" + q("<"+a.MessageID+">") + "&subject=" + q(subject)
}

// body returns the rendered body of message seq of l.
func (s *Service) body(l *List, seq uint64, obfuscate bool, p *web.Printer) *renderedBody {
	k := bodyKey{list: l.Name, seq: seq, obfuscate: obfuscate, lang: p.Lang()}
	if b := s.bodies.get(k); b != nil {
		return b
	}
	raw := s.rawOf(l.Name, seq)
	b := &renderedBody{}
	msg, err := mailmsg.Parse(raw)
	if err != nil {
		b.HTML = template.HTML(`<div class="mail-text"><p>` + template.HTMLEscapeString(p.T("list.archive.unreadable")) + `</p></div>`)
	} else {
		b.HTML = renderText(msg.Text, obfuscate, textLabels{
			Quote:     func(n int) string { return p.N("list.archive.quote", n) },
			Signature: p.T("list.archive.signature"),
		})
		for i, at := range msg.Attachments {
			name := at.Filename
			if obfuscate {
				name = obfuscateText(name)
			}
			b.Attachments = append(b.Attachments, attachmentView{N: i + 1, Filename: name, ContentType: at.ContentType, Size: at.Size, Human: humanSize(p, at.Size)})
		}
	}
	s.bodies.put(k, b)
	return b
}

// humanSize returns n bytes in p's language.
func humanSize(p *web.Printer, n int) string {
	switch {
	case n < 1000:
		return p.T("list.archive.size.b", n)
	case n < 1000*1000:
		return p.T("list.archive.size.kb", (n+500)/1000)
	}
	return p.T("list.archive.size.mb", float64(n)/1e6)
}

// messagePage serves /lists/{list}/m/{message-id}, a message's permalink:
// the message alone, with a link to its thread; 410 Gone once erased.
func (s *Service) messagePage(w http.ResponseWriter, r *http.Request) {
	l, rd, ok := s.archiveOf(w, r)
	if !ok {
		return
	}
	a, _, ok := s.archivedOr410(w, r, l, rd)
	if !ok {
		return
	}
	th, _, err := s.threadSummary(l.Name, a.Thread)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if th != nil && rd.Obfuscate {
		th.Subject = obfuscateText(th.Subject)
	}
	threadURL := listPath(l.Name, "t", strconv.FormatUint(a.Thread, 10))
	page := threadPageData{
		archivePage: archivePage{List: l, Reader: rd, CSS: archiveCSSPath},
		Thread:      th,
		Single:      true,
		ThreadURL:   threadURL,
		Messages:    []messageView{s.messageView(l, rd, s.cfg.Shell.Printer(r), a, 0)},
	}
	page.Messages[0].Parent = 0
	page.Articles = articleHTML(&page.Messages[0], s.cfg.Shell.Printer(r))
	s.renderArchive(w, r, l, http.StatusOK, "thread.html", page)
}

// threadSummary returns the summary of thread root; ok is false when
// there is none.
func (s *Service) threadSummary(list string, root uint64) (*Thread, bool, error) {
	var th Thread
	var ok bool
	err := s.cfg.DB.View(func(tx *bolt.Tx) (err error) {
		ok, err = getJSON(sub(tx, bucketThreads, list), u64(root), &th)
		return err
	})
	if err != nil || !ok {
		return nil, false, err
	}
	return &th, true, nil
}

// erasedPage is what the permalink of an erased message says.
type erasedPage struct {
	archivePage
	Erased    time.Time
	ThreadURL string
}

// archivedOr410 returns the message of r's {id}, or answers 404, or 410
// Gone with a short explanation when it was erased.
func (s *Service) archivedOr410(w http.ResponseWriter, r *http.Request, l *List, rd readerOf) (*Archived, []byte, bool) {
	a, raw, ts, err := s.message(l.Name, r.PathValue("id"))
	if errors.Is(err, ErrErased) {
		page := erasedPage{archivePage: archivePage{List: l, Reader: rd, CSS: archiveCSSPath}, Erased: ts.Erased}
		if th, ok, _ := s.threadSummary(l.Name, ts.Thread); ok && th != nil {
			page.ThreadURL = listPath(l.Name, "t", strconv.FormatUint(ts.Thread, 10))
		}
		s.render(w, r, http.StatusGone, "erased.html", page)
		return nil, nil, false
	}
	if err != nil {
		s.fail(w, r, err)
		return nil, nil, false
	}
	return a, raw, true
}

// rawMessage serves /lists/{list}/m/{message-id}/raw: the message as
// archived, as text; addresses obfuscated in a public archive.
func (s *Service) rawMessage(w http.ResponseWriter, r *http.Request) {
	l, rd, ok := s.archiveOf(w, r)
	if !ok {
		return
	}
	_, raw, ok := s.archivedOr410(w, r, l, rd)
	if !ok {
		return
	}
	if rd.Obfuscate {
		raw = obfuscateMIME(raw)
	}
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	h.Set("X-Robots-Tag", "noindex")
	if l.Private {
		h.Set("Cache-Control", "private, no-cache")
	}
	w.Write(raw)
}

// sniffedTypes are the media types an attachment is served with when its
// bytes are of that type; anything else is application/octet-stream.
var sniffedTypes = []string{"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf"}

// attachment serves /lists/{list}/m/{message-id}/a/{n}: the message's
// n-th attachment (from 1) as a download. In a public archive, a text
// attachment (text/*, JSON, XML…: what obfuscateMIME reads as text) has
// its addresses obfuscated like the raw message; other attachments are
// served byte for byte.
func (s *Service) attachment(w http.ResponseWriter, r *http.Request) {
	l, rd, ok := s.archiveOf(w, r)
	if !ok {
		return
	}
	_, raw, ok := s.archivedOr410(w, r, l, rd)
	if !ok {
		return
	}
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil || n < 1 {
		s.cfg.Shell.NotFound(w, r)
		return
	}
	msg, err := mailmsg.Parse(raw)
	if err != nil || n > len(msg.Attachments) {
		s.cfg.Shell.NotFound(w, r)
		return
	}
	mt, name, body, err := mailmsg.Part(raw, msg.Attachments[n-1].Part)
	if err != nil && body == nil {
		s.cfg.Shell.NotFound(w, r)
		return
	}
	if rd.Obfuscate && textual(mt) {
		body = publicText(raw, msg.Attachments[n-1].Part, body)
	}
	ct := "application/octet-stream"
	sniffed, _, _ := strings.Cut(http.DetectContentType(body), ";")
	if slices.Contains(sniffedTypes, sniffed) {
		ct = sniffed
	}
	if rd.Obfuscate {
		name = obfuscateText(name)
	}
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("Content-Disposition", contentDisposition(name, n))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	h.Set("X-Robots-Tag", "noindex")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if l.Private {
		h.Set("Cache-Control", "private, no-cache")
	}
	w.Write(body)
}

// publicText returns the text attachment at path of raw, whose decoded
// bytes are body, as a public archive serves it: read from the message
// obfuscateMIME returns, so that an address is obfuscated whatever the
// part's transfer encoding and charset, then with obfuscateRaw's rule on
// its bytes should the walk have left anything (a part it could not
// read).
func publicText(raw []byte, path []int, body []byte) []byte {
	if _, _, b, err := mailmsg.Part(obfuscateMIME(raw), path); b != nil && (err == nil || len(b) > 0) {
		body = b
	}
	return obfuscateBody(body)
}

// contentDisposition returns the Content-Disposition of a download named
// name (or "attachment-N" when it has none): always an attachment, the
// name reduced to safe characters in its ASCII form and given whole in
// RFC 5987's UTF-8 form.
func contentDisposition(name string, n int) string {
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || strings.ContainsRune(`/\:*?"<>|`, r) {
			return '_'
		}
		return r
	}, strings.TrimSpace(name))
	name = strings.TrimLeft(name, ".")
	if len(name) > 200 {
		name = name[:200]
		name = strings.ToValidUTF8(name, "")
	}
	if name == "" {
		name = "attachment-" + strconv.Itoa(n)
	}
	ascii := strings.Map(func(r rune) rune {
		if r > 0x7e || r == '%' || r == ';' || r == ',' || r == '\'' {
			return '_'
		}
		return r
	}, name)
	return `attachment; filename="` + ascii + `"; filename*=UTF-8''` + url.PathEscape(name)
}

// eraseForm serves the confirmation of a message's erasure, for
// moderators.
func (s *Service) eraseForm(w http.ResponseWriter, r *http.Request) {
	l, rd, ok := s.archiveOf(w, r)
	if !ok {
		return
	}
	if !rd.Moderator {
		s.cfg.Shell.Error(w, r, web.ErrForbidden)
		return
	}
	a, _, ok := s.archivedOr410(w, r, l, rd)
	if !ok {
		return
	}
	page := threadPageData{
		archivePage: archivePage{List: l, Reader: rd, CSS: archiveCSSPath},
		Single:      true,
		ThreadURL:   listPath(l.Name, "t", strconv.FormatUint(a.Thread, 10)),
		Messages:    []messageView{s.messageView(l, rd, s.cfg.Shell.Printer(r), a, 0)},
	}
	s.render(w, r, http.StatusOK, "erase.html", page)
}

// erase removes a message from the archive (RGPD erasure), for
// moderators, and goes back to its thread.
func (s *Service) erase(w http.ResponseWriter, r *http.Request) {
	l, rd, ok := s.archiveOf(w, r)
	if !ok {
		return
	}
	if !rd.Moderator {
		s.cfg.Shell.Error(w, r, web.ErrForbidden)
		return
	}
	a, _, ok := s.archivedOr410(w, r, l, rd)
	if !ok {
		return
	}
	if err := s.Erase(l.Name, a.MessageID); err != nil {
		s.fail(w, r, err)
		return
	}
	to := listPath(l.Name)
	if _, ok, _ := s.threadSummary(l.Name, a.Thread); ok {
		to = listPath(l.Name, "t", strconv.FormatUint(a.Thread, 10))
	}
	web.Redirect(w, r, to)
}
