// Package markup turns a wiki page's markdown into safe HTML: goldmark with
// GFM, footnotes, definition lists and French typography, placette's own
// [[Title]] links, heading anchors, YAML front matter, and bluemonday as a
// second line. It is the wiki's only importer of goldmark. It stores
// nothing.
//
// # What a page may contain
//
//   - CommonMark and GFM: tables (alignment as align="…"), ~~strikethrough~~,
//     bare www. and http(s) links, task lists (disabled checkboxes);
//     footnotes ([^1], ids "fn:1" and "fnref:1"); definition lists.
//   - French typography: "…" and <<…>> become « … » with no-break spaces
//     (U+00A0) inside; a space before ; : ! ? or » becomes U+00A0 (see nbsp
//     for why not U+202F); ... is …, ' between letters is ’. Code and URLs
//     are never changed.
//   - Heading ids from the heading's text folded like Slug ("Étape 2 :
//     déroulé" → "etape-2-deroule"), "-1", "-2"… for repeats, "section"
//     when the text has no letter or digit. They are made of [a-z0-9-] and
//     so never meet footnote ids, which have a colon.
//   - [[Title]] and [[Title|label]] (also [[Title\|label]], as a table cell
//     needs): a link to /wiki/{Slug(Title)}, or to /wiki/{slug}/edit with
//     class="new" and rel="nofollow" when Options.Resolver says the page
//     does not exist. Title and label are text, never markup. A title whose
//     slug is empty, or a [[…]] in code, stays as written.
//   - Front matter: a leading "---" … "---" YAML mapping (see Split).
//
// # What it refuses, and how
//
//   - Raw HTML is shown as escaped text (an HTML block as a <pre
//     class="raw-html">), HTML comments are dropped; nothing is interpreted.
//   - URLs: only http, https, mailto and tel schemes, relative URLs and
//     paths. Any other scheme (javascript:, vbscript:, data:, in any case,
//     with tabs, newlines, control characters or character references in
//     it) makes the link its plain text and the image its alt text.
//     "//host" is read as https://host. Links to other sites get
//     rel="nofollow ugc noopener" and are listed in Result.External with
//     mailto: links; images from other sites become links to them (the
//     Content-Security-Policy would not show them). Images get
//     loading="lazy".
//   - Invalid UTF-8 and NUL bytes become U+FFFD; a source over MaxSize is
//     refused with ErrTooLarge; blocks nest at most maxBlockDepth deep
//     (deeper markers are text), so no input takes more than linear time.
//   - Whatever the above misses, bluemonday removes: the output keeps only
//     the elements and attributes this package writes (see newPolicy).
package markup
