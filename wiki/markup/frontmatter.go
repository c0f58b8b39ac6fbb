package markup

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// ErrFrontMatter is wrapped by the error of a page whose front matter is
// not a YAML mapping; errors.As finds a *FrontMatterError with the line.
var ErrFrontMatter = errors.New("the front matter is not valid")

// FrontMatterError tells where and why a page's front matter was refused.
// It wraps ErrFrontMatter.
type FrontMatterError struct {
	// Line is the line of the page (1 is the opening "---") where the
	// problem is, or 0 when the YAML parser did not say.
	Line int
	// Reason is the YAML parser's explanation, in English.
	Reason string
}

// Error returns the line and the reason.
func (e *FrontMatterError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("front matter, line %d: %s", e.Line, e.Reason)
	}
	return "front matter: " + e.Reason
}

// Unwrap returns ErrFrontMatter.
func (e *FrontMatterError) Unwrap() error { return ErrFrontMatter }

// maxFieldDepth is how deep nested YAML is flattened into text; deeper
// values are shown as "…".
const maxFieldDepth = 8

// Split separates front matter from the body: src starting with a "---"
// line up to the next "---" (or "...") line. It returns the fields and the
// body; a page without front matter has no fields and its whole source as
// body. The front matter must be a YAML mapping: its keys in the order
// written, each with one value (a scalar), several (a list), or nested
// mappings flattened to "key: value" text; a key given twice, a list or a
// scalar at the top, or YAML that does not parse gives a
// *FrontMatterError (wrapping ErrFrontMatter), along with the body.
func Split(src []byte) (fields []Field, body []byte, err error) {
	fm, body, ok := splitFrontMatter(src)
	if !ok {
		return nil, src, nil
	}
	fields, err = parseFrontMatter(fm)
	return fields, body, err
}

// splitFrontMatter finds the front matter block: fm is what lies between
// the two "---" lines, body what follows the closing one.
func splitFrontMatter(src []byte) (fm, body []byte, ok bool) {
	rest, ok := cutFenceLine(src, "---")
	if !ok {
		return nil, src, false
	}
	for i := 0; i < len(rest); {
		line := rest[i:]
		if j := bytes.IndexByte(line, '\n'); j >= 0 {
			line = line[:j+1]
		}
		if after, ok := cutFenceLine(line, "---"); ok && len(after) == 0 {
			return rest[:i], rest[i+len(line):], true
		}
		if after, ok := cutFenceLine(line, "..."); ok && len(after) == 0 {
			return rest[:i], rest[i+len(line):], true
		}
		i += len(line)
	}
	return nil, src, false
}

// cutFenceLine reports whether s starts with a line made of fence (and
// trailing spaces), and returns what follows that line.
func cutFenceLine(s []byte, fence string) ([]byte, bool) {
	if !bytes.HasPrefix(s, []byte(fence)) {
		return s, false
	}
	i := len(fence)
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	switch {
	case i == len(s):
		return s[i:], true
	case s[i] == '\n':
		return s[i+1:], true
	case s[i] == '\r' && i+1 < len(s) && s[i+1] == '\n':
		return s[i+2:], true
	case s[i] == '\r' && i+1 == len(s):
		return s[i+1:], true
	}
	return s, false
}

// yamlLine finds the line number in a yaml.v3 error message.
var yamlLine = regexp.MustCompile(`line (\d+)`)

// parseFrontMatter parses the text between the "---" lines.
func parseFrontMatter(fm []byte) ([]Field, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(fm, &doc); err != nil {
		e := &FrontMatterError{Reason: strings.TrimPrefix(err.Error(), "yaml: ")}
		if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
			if n, err := strconv.Atoi(m[1]); err == nil && n > 0 {
				e.Line = n + 1
			}
		}
		e.Reason = yamlLine.ReplaceAllString(e.Reason, "")
		e.Reason = strings.TrimLeft(e.Reason, ": ")
		return nil, e
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, nil // empty, or comments only
	}
	top := doc.Content[0]
	if top.Kind == yaml.ScalarNode && top.Tag == "!!null" {
		return nil, nil
	}
	if top.Kind != yaml.MappingNode {
		return nil, &FrontMatterError{Line: top.Line + 1, Reason: "expected keys and values (key: value)"}
	}
	fields := make([]Field, 0, len(top.Content)/2)
	seen := make(map[string]bool, len(top.Content)/2)
	for i := 0; i+1 < len(top.Content); i += 2 {
		k, v := top.Content[i], top.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return nil, &FrontMatterError{Line: k.Line + 1, Reason: "a key must be a simple word"}
		}
		key := strings.ToValidUTF8(strings.TrimSpace(k.Value), "\uFFFD")
		if seen[key] {
			return nil, &FrontMatterError{Line: k.Line + 1, Reason: fmt.Sprintf("the key %q is given twice", key)}
		}
		seen[key] = true
		fields = append(fields, Field{Key: key, Values: fieldValues(v)})
	}
	return fields, nil
}

// fieldValues returns the values of a top-level key: one for a scalar, one
// per item for a list, one "key: value" text per key of a mapping.
func fieldValues(n *yaml.Node) []string {
	n = resolveAlias(n)
	var vs []string
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag != "!!null" {
			vs = append(vs, clean(n.Value))
		}
	case yaml.SequenceNode:
		for _, c := range n.Content {
			if t := flatten(c, 1); t != "" {
				vs = append(vs, t)
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			vs = append(vs, flatten(n.Content[i], 1)+": "+flatten(n.Content[i+1], 1))
		}
	default:
		vs = append(vs, flatten(n, 1))
	}
	return vs
}

// flatten returns a YAML value as one line of text: lists joined by ", ",
// mappings as "key: value" pairs joined by ", ".
func flatten(n *yaml.Node, depth int) string {
	n = resolveAlias(n)
	if depth > maxFieldDepth {
		return "…"
	}
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return ""
		}
		return clean(n.Value)
	case yaml.SequenceNode:
		parts := make([]string, 0, len(n.Content))
		for _, c := range n.Content {
			if t := flatten(c, depth+1); t != "" {
				parts = append(parts, t)
			}
		}
		return strings.Join(parts, ", ")
	case yaml.MappingNode:
		parts := make([]string, 0, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			parts = append(parts, flatten(n.Content[i], depth+1)+": "+flatten(n.Content[i+1], depth+1))
		}
		return strings.Join(parts, ", ")
	case yaml.AliasNode:
		// An alias to a list or mapping is shown as written, never
		// expanded: expanding would let a few lines grow exponentially.
		return "*" + clean(n.Value)
	}
	return ""
}

// resolveAlias follows an alias to a scalar; aliases to anything else are
// left alone (see flatten).
func resolveAlias(n *yaml.Node) *yaml.Node {
	if n.Kind == yaml.AliasNode && n.Alias != nil && n.Alias.Kind == yaml.ScalarNode {
		return n.Alias
	}
	return n
}

// clean trims a value and makes it valid UTF-8.
func clean(s string) string {
	return strings.ToValidUTF8(strings.TrimSpace(s), "\uFFFD")
}

// normaliseTags returns the tags of the front matter "tags" values: split
// at commas, trimmed, spaces collapsed, lower-cased, each once, in order.
func normaliseTags(values []string) []string {
	var tags []string
	for _, v := range values {
		for t := range strings.SplitSeq(v, ",") {
			t = strings.ToLower(strings.Join(strings.Fields(t), " "))
			if t == "" || containsString(tags, t) {
				continue
			}
			tags = append(tags, t)
		}
	}
	return tags
}

// containsString reports whether list holds s.
func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
