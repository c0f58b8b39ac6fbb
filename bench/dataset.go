package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// dataset is the generated data: markdown pages and an mbox archive, with
// what the measurements need to know of them.
type dataset struct {
	WikiDir   string `json:"-"`
	Mbox      string `json:"-"`
	Pages     int    `json:"pages"`
	Messages  int    `json:"messages"`
	WikiBytes int64  `json:"wiki_bytes"` // the markdown files, added up
	MboxBytes int64  `json:"mbox_bytes"`

	// Page is the slug of the page measured: the one of median size.
	Page string `json:"page"`
	// ThreadRoot is the Message-ID of the root of the largest thread, as
	// the headers link them, and ThreadSize its number of messages.
	ThreadRoot string `json:"thread_root"`
	ThreadSize int    `json:"thread_size"`
	// Words are the words found in the most pages and messages, most
	// frequent first: the candidates for the common word searched.
	Words []wordCount `json:"-"`
}

// wordCount is how many documents hold a word.
type wordCount struct {
	Word     string
	Pages    int
	Messages int
}

// generate writes the standard data set (or a smaller one) into dir with
// the generators of the shared folder.
func generate(ctx context.Context, shared, dir string, pages, messages int, logf func(string, ...any)) (*dataset, error) {
	d := &dataset{WikiDir: filepath.Join(dir, "wiki"), Mbox: filepath.Join(dir, "archive.mbox")}
	gens := []struct {
		what string
		args []string
	}{
		{fmt.Sprintf("%d wiki pages", pages), []string{filepath.Join(shared, "bench", "gen_wiki.py"), "md", d.WikiDir, fmt.Sprint(pages), "7"}},
		{fmt.Sprintf("%d messages", messages), []string{filepath.Join(shared, "bench", "gen_mbox.py"), d.Mbox, fmt.Sprint(messages), "2024"}},
	}
	for _, g := range gens {
		logf("generating %s", g.what)
		cmd := exec.CommandContext(ctx, "python3", g.args...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("python3 %s: %w\n%s", strings.Join(g.args, " "), err, lastLines(out.String(), 10))
		}
	}
	if err := d.readWiki(); err != nil {
		return nil, err
	}
	if err := d.readMbox(); err != nil {
		return nil, err
	}
	if d.Pages != pages || d.Messages != messages {
		return nil, fmt.Errorf("the generators made %d pages and %d messages, not %d and %d", d.Pages, d.Messages, pages, messages)
	}
	return d, nil
}

// docWords are the words of documents: for each word, in how many.
type docWords map[string]int

// add counts the distinct words of text once.
func (dw docWords) add(text []byte, seen map[string]bool) {
	clear(seen)
	for w := range words(text) {
		if !seen[w] {
			seen[w] = true
			dw[w]++
		}
	}
}

// words yields the lower-cased words of text of six letters or more.
func words(text []byte) func(func(string) bool) {
	return func(yield func(string) bool) {
		start := -1
		for i := 0; i <= len(text); {
			r, size := utf8.RuneError, 1
			if i < len(text) {
				r, size = utf8.DecodeRune(text[i:])
			}
			if i < len(text) && unicode.IsLetter(r) {
				if start < 0 {
					start = i
				}
			} else if start >= 0 {
				w := text[start:i]
				start = -1
				if utf8.RuneCount(w) >= 6 && !yield(strings.ToLower(string(w))) {
					return
				}
			}
			i += size
		}
	}
}

// readWiki counts the pages and their words, and picks the page of median
// size.
func (d *dataset) readWiki() error {
	entries, err := os.ReadDir(d.WikiDir)
	if err != nil {
		return err
	}
	type page struct {
		slug string
		size int64
	}
	var pages []page
	dw := docWords{}
	seen := map[string]bool{}
	for _, e := range entries {
		if !e.Type().IsRegular() || !strings.HasSuffix(e.Name(), ".md") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(d.WikiDir, e.Name()))
		if err != nil {
			return err
		}
		pages = append(pages, page{strings.TrimSuffix(e.Name(), ".md"), int64(len(b))})
		d.WikiBytes += int64(len(b))
		dw.add(b, seen)
	}
	if len(pages) == 0 {
		return fmt.Errorf("no markdown page in %s", d.WikiDir)
	}
	d.Pages = len(pages)
	sort.Slice(pages, func(i, j int) bool {
		if pages[i].size != pages[j].size {
			return pages[i].size < pages[j].size
		}
		return pages[i].slug < pages[j].slug
	})
	d.Page = pages[len(pages)/2].slug
	for w, n := range dw {
		d.Words = append(d.Words, wordCount{Word: w, Pages: n})
	}
	return nil
}

// mboxMessage is what readMbox keeps of a message.
type mboxMessage struct {
	id, parent string
}

// readMbox counts the messages and their words, and finds the largest
// thread by the messages' In-Reply-To and References.
func (d *dataset) readMbox() error {
	f, err := os.Open(d.Mbox)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	d.MboxBytes = fi.Size()
	msgs, dw, err := scanMbox(f)
	if err != nil {
		return fmt.Errorf("%s: %w", d.Mbox, err)
	}
	d.Messages = len(msgs)
	d.ThreadRoot, d.ThreadSize = largestThread(msgs)
	byWord := map[string]int{}
	for i, wc := range d.Words {
		byWord[wc.Word] = i
	}
	for w, n := range dw {
		if i, ok := byWord[w]; ok {
			d.Words[i].Messages = n
		} else {
			d.Words = append(d.Words, wordCount{Word: w, Messages: n})
		}
	}
	// The candidates: words in at least a tenth of the pages and of the
	// messages, by the share of all documents that hold them.
	d.Words = slices.DeleteFunc(d.Words, func(wc wordCount) bool {
		return wc.Pages*10 < d.Pages || wc.Messages*10 < d.Messages
	})
	sort.Slice(d.Words, func(i, j int) bool {
		a, b := d.Words[i], d.Words[j]
		if a.Pages+a.Messages != b.Pages+b.Messages {
			return a.Pages+a.Messages > b.Pages+b.Messages
		}
		return a.Word < b.Word
	})
	return nil
}

// scanMbox reads an mbox (mboxrd: a line starting "From " begins a
// message) and returns its messages' ids and parents, and the words of
// their bodies.
func scanMbox(r io.Reader) ([]mboxMessage, docWords, error) {
	var msgs []mboxMessage
	dw := docWords{}
	seen := map[string]bool{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	var header []string // unfolded header lines of the current message
	var body bytes.Buffer
	inHeader := false
	started := false
	flush := func() {
		if !started {
			return
		}
		msgs = append(msgs, parseHeader(header))
		dw.add(body.Bytes(), seen)
		header, inHeader = header[:0], true
		body.Reset()
	}
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "From ") {
			flush()
			started, inHeader = true, true
			continue
		}
		if !started {
			continue
		}
		if inHeader {
			switch {
			case line == "" || line == "\r":
				inHeader = false
			case (line[0] == ' ' || line[0] == '\t') && len(header) > 0:
				header[len(header)-1] += " " + strings.TrimSpace(line)
			default:
				header = append(header, line)
			}
			continue
		}
		body.WriteString(line)
		body.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		return nil, nil, err
	}
	flush()
	return msgs, dw, nil
}

// parseHeader returns the id of a message and of its parent: In-Reply-To,
// else the last of References.
func parseHeader(lines []string) mboxMessage {
	var m mboxMessage
	var refs []string
	for _, l := range lines {
		name, value, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		switch strings.ToLower(name) {
		case "message-id":
			if ids := msgIDs(value); len(ids) > 0 {
				m.id = ids[0]
			}
		case "in-reply-to":
			if ids := msgIDs(value); len(ids) > 0 {
				m.parent = ids[0]
			}
		case "references":
			refs = msgIDs(value)
		}
	}
	if m.parent == "" && len(refs) > 0 {
		m.parent = refs[len(refs)-1]
	}
	return m
}

// msgIDs returns the <ids> in a header value, without the brackets.
func msgIDs(v string) []string {
	var ids []string
	for {
		i := strings.IndexByte(v, '<')
		if i < 0 {
			return ids
		}
		j := strings.IndexByte(v[i:], '>')
		if j < 0 {
			return ids
		}
		if id := strings.TrimSpace(v[i+1 : i+j]); id != "" {
			ids = append(ids, id)
		}
		v = v[i+j+1:]
	}
}

// largestThread returns the root of the thread with the most messages
// and its size; a message whose parent is not in msgs starts a thread.
// Messages whose parents loop are one thread, started by the first of the
// loop in msgs, as placette never moves a message under its own reply.
func largestThread(msgs []mboxMessage) (string, int) {
	parent := make(map[string]string, len(msgs))
	first := make(map[string]int, len(msgs)) // the index of an id's first message
	for i, m := range msgs {
		if m.id != "" {
			parent[m.id] = m.parent
			if _, ok := first[m.id]; !ok {
				first[m.id] = i
			}
		}
	}
	root := func(id string) string {
		path := map[string]bool{id: true}
		for {
			p := parent[id]
			if _, known := parent[p]; p == "" || !known {
				return id
			}
			if path[p] { // a loop: its first message is the root
				loop := p
				for q := parent[p]; q != p; q = parent[q] {
					if first[q] < first[loop] {
						loop = q
					}
				}
				return loop
			}
			path[p] = true
			id = p
		}
	}
	sizes := map[string]int{}
	best, bestN := "", 0
	for _, m := range msgs {
		if m.id == "" {
			continue
		}
		r := root(m.id)
		sizes[r]++
		if n := sizes[r]; n > bestN || n == bestN && r < best {
			best, bestN = r, n
		}
	}
	return best, bestN
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
