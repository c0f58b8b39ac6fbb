package search

import (
	"context"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The standard data set of the budgets is 1,000 pages and 20,000 messages
// (../shared/bench). The benchmarks make a similar synthetic French corpus
// in-process, deterministic:
//
//	go test ./search/ -run XXX -bench . -benchtime 1x      (indexing)
//	go test ./search/ -run XXX -bench Search -benchtime 2000x

const (
	benchPages    = 1000
	benchMessages = 20000
)

var benchVocab = strings.Fields(`atelier ateliers médiation numérique numériques seniors tablette tablettes smartphone
ordinateur ordinateurs usagers usager public publics accompagnement démarches administratives en ligne
bibliothèque médiathèque association associations bénévoles bénévole formation formations inclusion
fracture compétences apprentissage session sessions séance séances durée objectifs matériel déroulé
astuces fiche fiches courriel courriels messagerie mot de passe sécurité données personnelles
navigateur internet recherche logiciel libre imprimante scanner photo photos vidéo visio réunion
jeunes parents enfants familles personnes âgées débutants niveau avancé intermédiaire collectif
réseau partenaires mairie centre social espace tiers-lieu fabrique projet projets financement
subvention bilan évaluation retour expérience questions réponse réponses merci bonjour bonne journée
semaine prochaine mardi jeudi samedi matin après-midi inscription inscriptions salle horaires
accueil café convivialité outils outil ressource ressources guide guides tutoriel exercices
cybersécurité arnaques hameçonnage sauvegarde cloud stockage clé usb applications application
france services caf ameli impots pôle emploi identité numérique franceconnect compte comptes
le la les de des du un une et à en pour par sur avec dans qui que est sont pas plus nous vous ils
l'essentiel l'atelier d'accueil qu'il n'est c'est j'ai aujourd'hui`)

var benchNames = func() []string {
	first := strings.Fields("Clémence Karim Sam Amina Léa Hugo Chloé Mehdi Inès Lucas Manon Théo Sarah Nathan Camille Yanis Jade Louis Zoé Adam")
	last := strings.Fields("Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon Laurent Lefèvre Michel Garcia")
	var out []string
	for _, f := range first {
		for _, l := range last {
			out = append(out, f+" "+l)
		}
	}
	return out
}()

// benchText returns n words drawn from the vocabulary with a Zipf-like
// distribution, with sentences.
func benchText(r *rand.Rand, n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		// Zipf-ish: square of a uniform favours the first words.
		u := r.Float64()
		w := benchVocab[int(u*u*float64(len(benchVocab)))]
		if i%12 == 0 && i > 0 {
			b.WriteString(". ")
			w = strings.ToUpper(w[:1]) + w[1:]
		} else if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(w)
		if r.IntN(40) == 0 {
			b.WriteString(" " + strconv.Itoa(r.IntN(3000)))
		}
	}
	b.WriteByte('.')
	return b.String()
}

// benchCorpus returns the synthetic data set and its raw text size.
func benchCorpus() (map[string]*Doc, int) {
	r := rand.New(rand.NewPCG(7, 2024))
	docs := make(map[string]*Doc, benchPages+benchMessages)
	raw := 0
	start := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	tags := strings.Fields("seniors tablette débutants jeunes parents sécurité démarches smartphone courriel photo")
	for i := 0; i < benchPages; i++ {
		slug := fmt.Sprintf("fiche-%04d", i)
		text := "---\ntitle: Fiche " + strconv.Itoa(i) + "\npublic: " + tags[r.IntN(len(tags))] + "\nduree: 2 h\n---\n# Déroulé\n\n" + benchText(r, 150+r.IntN(500))
		d := &Doc{Kind: KindWiki, Ref: slug, Title: "Atelier " + benchText(r, 3), Text: text, Markdown: true,
			Tags: []string{tags[r.IntN(len(tags))], tags[r.IntN(len(tags))]}, Author: benchNames[r.IntN(len(benchNames))],
			Date: start.Add(time.Duration(r.IntN(5*365*24)) * time.Hour)}
		docs[WikiKey(slug)] = d
		raw += len(d.Title) + len(text)
	}
	lists := []string{"entraide", "annonces", "bureau", "formateurs", "technique"}
	for i := 0; i < benchMessages; i++ {
		list := lists[r.IntN(len(lists))]
		d := &Doc{Kind: KindList, Ref: fmt.Sprintf("m%d@example.org", i), List: list, Title: "Re: " + benchText(r, 5),
			Text: benchText(r, 60+r.IntN(250)), Author: benchNames[r.IntN(len(benchNames))], Private: list == "bureau",
			Date: start.Add(time.Duration(r.IntN(5*365*24)) * time.Hour)}
		docs[MessageKey(list, uint64(i))] = d
		raw += len(d.Title) + len(d.Text)
	}
	return docs, raw
}

// benchIndex builds the index of the corpus through the pending queue, as
// an import does, and returns the fixture and the time it took.
func benchIndex(b testing.TB) (*fixture, time.Duration, int) {
	docs, raw := benchCorpus()
	f := newFixture(b)
	keys := sortedKeys(docs)
	t0 := time.Now()
	for i := 0; i < len(keys); i += 500 {
		enqueue(b, f, docs, keys[i:min(i+500, len(keys))])
		f.drain()
	}
	return f, time.Since(t0), raw
}

// sortedKeys returns the keys of docs in order.
func sortedKeys(docs map[string]*Doc) []string {
	keys := make([]string, 0, len(docs))
	for k := range docs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// enqueue queues the documents of keys in one transaction, as a change
// of content does.
func enqueue(b testing.TB, f *fixture, docs map[string]*Doc, keys []string) {
	err := f.db.Update(func(tx *bolt.Tx) error {
		for _, k := range keys {
			if err := f.idx.Enqueue(tx, k, docs[k]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

func dirSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// rssBytes returns the resident set size of the process, 0 if unknown.
func rssBytes() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// BenchmarkIndex indexes the standard data set: documents per second,
// index size against the raw text, memory after indexing.
func BenchmarkIndex(b *testing.B) {
	for b.Loop() {
		f, took, raw := benchIndex(b)
		n := benchPages + benchMessages
		b.ReportMetric(float64(n)/took.Seconds(), "docs/s")
		size := dirSize(filepath.Join(f.dir, "index"))
		b.ReportMetric(float64(size)/float64(raw), "index/raw")
		b.ReportMetric(float64(size)/(1<<20), "index-MiB")
		b.ReportMetric(float64(raw)/(1<<20), "raw-MiB")
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MiB")
		b.ReportMetric(float64(rssBytes())/(1<<20), "rss-MiB")
		// At rest: the index reopened, as after a restart.
		f.close()
		f.open()
		runtime.GC()
		runtime.ReadMemStats(&ms)
		b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-reopened-MiB")
		b.ReportMetric(float64(dirSize(filepath.Join(f.dir, "index")))/float64(raw), "index/raw-reopened")
	}
}

// BenchmarkSearch searches the standard data set: a common word, a rarer
// word, a phrase, with filters, sorted by date. p50-ms is the median.
func BenchmarkSearch(b *testing.B) {
	f, _, _ := benchIndex(b)
	f.close()
	f.open() // at rest, as after a restart
	for _, tt := range []struct {
		name string
		req  Request
	}{
		{"common", Request{Q: "atelier"}},
		{"common-member", Request{Q: "atelier", Viewer: Visibility{Lists: []string{"bureau"}}}},
		{"two-words", Request{Q: "mediation seniors"}},
		{"phrase", Request{Q: `"mot de passe"`}},
		{"filtered-by-date", Request{Q: "tablette in:lists list:entraide", Sort: SortDate}},
		{"no-match-suggest", Request{Q: "imprimnte"}},
	} {
		b.Run(tt.name, func(b *testing.B) {
			f.idx.noCache = true // the searches themselves, not the cache
			defer func() { f.idx.noCache = false }()
			ctx := context.Background()
			var durs []time.Duration
			for b.Loop() {
				t0 := time.Now()
				res, err := f.idx.Search(ctx, tt.req)
				durs = append(durs, time.Since(t0))
				if err != nil {
					b.Fatal(err)
				}
				_ = res
			}
			slices.Sort(durs)
			b.ReportMetric(float64(durs[len(durs)/2].Microseconds())/1000, "p50-ms")
		})
	}
}

// BenchmarkSearchParallel searches a common word from every CPU at once,
// as a busy server does: searches/s is the throughput.
// "cached" is what visitors asking the same common word get between two
// changes of the index; "uncached" is every search done afresh.
func BenchmarkSearchParallel(b *testing.B) {
	f, _, _ := benchIndex(b)
	f.close()
	f.open()
	ctx := context.Background()
	req := Request{Q: "atelier"}
	for _, cached := range []bool{false, true} {
		name := "uncached"
		if cached {
			name = "cached"
		}
		b.Run(name, func(b *testing.B) {
			f.idx.noCache = !cached
			defer func() { f.idx.noCache = false }()
			t0 := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := f.idx.Search(ctx, req); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(t0).Seconds(), "searches/s")
		})
	}
}

// BenchmarkImport indexes the standard data set as an import through the
// running server does: the writer commits 500 changes a transaction while
// Run drains the queue in the background. docs/s counts until the queue
// is empty (everything searchable and persisted).
func BenchmarkImport(b *testing.B) {
	docs, _ := benchCorpus()
	keys := sortedKeys(docs)
	for b.Loop() {
		f := newFixture(b)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { f.idx.Run(ctx); close(done) }()
		t0 := time.Now()
		for i := 0; i < len(keys); i += 500 {
			enqueue(b, f, docs, keys[i:min(i+500, len(keys))])
		}
		for {
			n, err := f.idx.Pending()
			if err != nil {
				b.Fatal(err)
			}
			if n == 0 {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		took := time.Since(t0)
		cancel()
		<-done
		b.ReportMetric(float64(len(keys))/took.Seconds(), "docs/s")
		b.ReportMetric(took.Seconds(), "s")
	}
}

// BenchmarkSearchPage serves /search?q=atelier from every CPU at once, the
// result cache off: the search, its page's template and the shell's
// middleware, without the network. searches/s is the throughput.
func BenchmarkSearchPage(b *testing.B) {
	f, _, _ := benchIndex(b)
	f.close()
	f.open()
	f.idx.noCache = true
	srv := f.server(b)
	handler := srv.Config.Handler
	t0 := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			rec := httptest.NewRecorder()
			handler.ServeHTTP(rec, httptest.NewRequest("GET", "/search?q=atelier", nil))
			if rec.Code != http.StatusOK {
				b.Errorf("status %d", rec.Code)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(t0).Seconds(), "searches/s")
}
