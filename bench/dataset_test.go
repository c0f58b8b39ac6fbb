package main

import (
	"slices"
	"strings"
	"testing"
)

// testMbox is an mboxrd of two threads: a root with three answers (one
// an answer to an answer, one linked by References only), and a lone
// message whose parent is not in the archive.
const testMbox = `From alice@example.org Mon Jan  5 14:40:47 2015
Message-ID: <1@example.org>
Subject: Atelier tablette
References:
 

Bonjour, l'atelier tablette commence jeudi à la médiathèque.

From bob@example.org Mon Jan  5 15:00:00 2015
Message-ID: <2@example.org>
In-Reply-To: <1@example.org>
References: <1@example.org>

Merci pour l'atelier, je viendrai avec ma tablette.
>From the archive: an escaped line.

From carole@example.org Mon Jan  5 16:00:00 2015
Message-ID:
 <3@example.org>
References: <1@example.org>
 <2@example.org>

Réponse à Bob : la médiathèque ouvre à neuf heures.

From dan@example.org Mon Jan  5 17:00:00 2015
Message-ID: <4@example.org>
References: <1@example.org>

Atelier noté.

From eve@example.org Tue Jan  6 09:00:00 2015
Message-ID: <5@example.org>
In-Reply-To: <gone@example.org>

Une question sur une ancienne discussion.
`

func TestScanMbox(t *testing.T) {
	msgs, dw, err := scanMbox(strings.NewReader(testMbox))
	if err != nil {
		t.Fatal(err)
	}
	want := []mboxMessage{
		{id: "1@example.org"},
		{id: "2@example.org", parent: "1@example.org"},
		{id: "3@example.org", parent: "2@example.org"},
		{id: "4@example.org", parent: "1@example.org"},
		{id: "5@example.org", parent: "gone@example.org"},
	}
	if !slices.Equal(msgs, want) {
		t.Errorf("messages:\n got %+v\nwant %+v", msgs, want)
	}
	// Words of six letters or more, counted once per message, bodies only.
	for w, n := range map[string]int{"atelier": 3, "médiathèque": 2, "tablette": 2, "question": 1, "bonjour": 1, "example": 0, "subject": 0} {
		if dw[w] != n {
			t.Errorf("%q in %d messages, want %d", w, dw[w], n)
		}
	}
	root, size := largestThread(msgs)
	if root != "1@example.org" || size != 4 {
		t.Errorf("largest thread %q of %d, want 1@example.org of 4", root, size)
	}
}

func TestLargestThreadLoop(t *testing.T) {
	// References that loop must not hang the search for a root, and the
	// messages of the loop are one thread, as placette threads them: the
	// first one archived starts it, the other replies to it, and it is
	// never moved under its own reply.
	msgs := []mboxMessage{{id: "c"}, {id: "b", parent: "a"}, {id: "a", parent: "b"}, {id: "d", parent: "a"}}
	root, size := largestThread(msgs)
	if root != "b" || size != 3 {
		t.Errorf("largest thread %q of %d, want b of 3", root, size)
	}
}

func TestWords(t *testing.T) {
	var got []string
	for w := range words([]byte("L'Atelier « numérique » : 12 tablettes, courriel—ÉCRIRE; ok")) {
		got = append(got, w)
	}
	want := []string{"atelier", "numérique", "tablettes", "courriel", "écrire"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}
