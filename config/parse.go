package config

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// parser walks a yaml.Node tree by hand and collects every problem with
// its position instead of stopping at the first, so that one run of
// `appdeck validate` shows everything there is to fix.
type parser struct {
	file  string
	diags Diagnostics
}

func (p *parser) pos(n *yaml.Node) Pos { return Pos{File: p.file, Line: n.Line, Col: n.Column} }

func (p *parser) errorAt(pos Pos, format string, args ...any) {
	p.diags = append(p.diags, Diagnostic{Pos: pos, Msg: fmt.Sprintf(format, args...)})
}

func (p *parser) errorf(n *yaml.Node, format string, args ...any) {
	p.errorAt(p.pos(n), format, args...)
}

func (p *parser) warnf(n *yaml.Node, format string, args ...any) {
	p.diags = append(p.diags, Diagnostic{Pos: p.pos(n), Msg: fmt.Sprintf(format, args...), Warning: true})
}

// document parses data and returns its top-level mapping, or nil after
// reporting why there is none. hint says what the file needs at least.
func (p *parser) document(data []byte, hint string) *yaml.Node {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		p.yamlError(err, data)
		return nil
	}
	if len(doc.Content) == 0 || isNull(doc.Content[0]) {
		p.errorAt(Pos{File: p.file}, "file is empty; %s", hint)
		return nil
	}
	root := deref(doc.Content[0])
	if root.Kind != yaml.MappingNode {
		p.errorf(doc.Content[0], "the file must be a mapping of keys to values, not %s; %s", describe(root), hint)
		return nil
	}
	return root
}

// yamlLine matches yaml.v3's syntax errors, "yaml: line 3: msg"; the
// line is left out for some errors. (Unmarshalling into a yaml.Node never
// gives a *yaml.TypeError.)
var yamlLine = regexp.MustCompile(`^(?:yaml: )?(?:line (\d+): )?(.*)$`)

// parserProblems start the messages of yaml.v3's parser, as opposed to
// its scanner. It reports their lines counted from 0.
var parserProblems = []string{
	"did not find expected <", "did not find expected node content",
	"did not find expected '-' indicator", "did not find expected key",
	"did not find expected ',' or ", "found duplicate %", "found incompatible YAML document",
	"found undefined tag handle",
}

// yamlError turns an error of yaml.Unmarshal into diagnostics. yaml.v3
// gives a line for most errors but never a column: locate finds both,
// and where it cannot, yaml.v3's line and message stay.
func (p *parser) yamlError(err error, data []byte) {
	lines := strings.Split(string(data), "\n")
	for _, line := range strings.Split(err.Error(), "\n") {
		m := yamlLine.FindStringSubmatch(line)
		pos := Pos{File: p.file}
		pos.Line, _ = strconv.Atoi(m[1])
		if pos.Line > 0 && slices.ContainsFunc(parserProblems, func(s string) bool { return strings.HasPrefix(m[2], s) }) {
			pos.Line++
		}
		pos.Line, pos.Col = tabAt(lines, pos.Line, m[2])
		if pos.Col == 0 {
			if line, col, msg, ok := locate(data, m[2]); ok {
				p.errorAt(Pos{File: p.file, Line: line, Col: col}, "invalid YAML: %s", msg)
				continue
			}
		}
		p.errorAt(pos, "invalid YAML: %s%s", m[2], hint(lines, pos.Line, m[2]))
	}
}

// tabAt finds the tab an error is about, returning its line and column,
// or line and no column for other errors. yaml.v3 reports a tab that
// breaks indentation at the line where the value it was reading began,
// which may be lines above the tab, and a tab that starts a line at the
// tab's line; it leaves out line 1.
func tabAt(lines []string, line int, msg string) (int, int) {
	from, to := max(line, 1), max(line, 1)
	if strings.Contains(msg, "tab character") {
		to = len(lines)
	}
	for l := from; l <= min(to, len(lines)); l++ {
		if col := strings.IndexByte(indent(lines[l-1]), '\t'); col >= 0 {
			return l, col + 1
		}
	}
	return line, 0
}

// indent returns the spaces and tabs that start text.
func indent(text string) string { return text[:len(text)-len(strings.TrimLeft(text, " \t"))] }

// hint explains yaml.v3 messages that are cryptic for two common
// mistakes: a tab used for indentation, and an unquoted value starting
// with "*", which YAML reads as an alias.
func hint(lines []string, line int, msg string) string {
	if line < 1 || line > len(lines) {
		return ""
	}
	text := lines[line-1]
	switch {
	case strings.Contains(indent(text), "\t"):
		return " (YAML is indented with spaces, not tabs)"
	case (strings.Contains(msg, "alphabetic or numeric") || strings.HasPrefix(msg, "unknown anchor")) && (strings.Contains(text, ": *") || strings.Contains(text, "- *")):
		return ` (quote a value that starts with "*", e.g. "*/api/*")`
	}
	return ""
}

// deref follows an alias to the node it names. Positions are still taken
// from the alias, where the value is used.
func deref(n *yaml.Node) *yaml.Node {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		return n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	n = deref(n)
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// describe names a node for "must be X, not Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "an empty value"
		}
		return strconv.Quote(n.Value)
	}
	return "an alias"
}

// entry is one key/value pair of a mapping.
type entry struct {
	key  string
	k, v *yaml.Node
}

// mapping returns the entries of n, which must be a mapping; null is an
// empty one. Entries with a repeated key, a key that is not a string, or a
// merge key are reported and left out.
func (p *parser) mapping(n *yaml.Node, what string) []entry {
	if isNull(n) || !p.isMapping(n, what) {
		return nil
	}
	m := deref(n)
	var entries []entry
	first := map[string]*yaml.Node{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		switch dk := deref(k); {
		case dk.Kind != yaml.ScalarNode:
			p.errorf(k, "a key in %s must be a string, not %s", what, describe(dk))
		case dk.Tag == "!!merge":
			// App Engine reads YAML as a stream of events, without
			// PyYAML's merge-key support, so "<<" never worked there.
			p.errorf(k, "merge keys (<<) are not supported; write the keys out")
		case first[dk.Value] != nil:
			p.errorf(k, "key %q is repeated; first at line %d", dk.Value, first[dk.Value].Line)
		default:
			first[dk.Value] = k
			entries = append(entries, entry{dk.Value, k, v})
		}
	}
	return entries
}

// isMapping reports whether n is a mapping, reporting it when not.
func (p *parser) isMapping(n *yaml.Node, what string) bool {
	if deref(n).Kind == yaml.MappingNode {
		return true
	}
	p.errorf(n, "%s must be a mapping, not %s", what, describe(deref(n)))
	return false
}

// list returns the items of n, which must be a list; null is an empty one.
func (p *parser) list(n *yaml.Node, what string) []*yaml.Node {
	l := deref(n)
	if isNull(l) {
		return nil
	}
	if l.Kind != yaml.SequenceNode {
		p.errorf(n, "%s must be a list, not %s", what, describe(l))
		return nil
	}
	return l.Content
}

// str returns the text of the scalar n; null is "". Scalars of every kind
// are kept as written, so `PORT: 8080` gives "8080".
func (p *parser) str(n *yaml.Node, what string) (string, bool) {
	s := deref(n)
	if s.Kind != yaml.ScalarNode {
		p.errorf(n, "%s must be a string, not %s", what, describe(s))
		return "", false
	}
	if s.Tag == "!!null" {
		return "", true
	}
	return s.Value, true
}

// boolean accepts YAML 1.1's spellings too (yes, on…), as PyYAML, which
// App Engine uses, does.
func (p *parser) boolean(n *yaml.Node, what string) (bool, bool) {
	s, ok := p.str(n, what)
	if !ok {
		return false, false
	}
	switch strings.ToLower(s) {
	case "true", "yes", "on":
		return true, true
	case "false", "no", "off":
		return false, true
	}
	p.errorf(n, "%s must be true or false, not %q", what, s)
	return false, false
}

// integer parses a whole number in [lo, hi] into *dst, leaving *dst alone
// when the value is not valid.
func (p *parser) integer(n *yaml.Node, what string, lo, hi int, dst *int) bool {
	s, ok := p.str(n, what)
	if !ok {
		return false
	}
	v, err := strconv.Atoi(s)
	switch {
	case err != nil && !errors.Is(err, strconv.ErrRange):
		p.errorf(n, "%s must be a whole number, not %q", what, s)
	case err != nil || v < lo || v > hi:
		p.errorf(n, "%s must be %s, not %s", what, rangeText(lo, hi), s)
	default:
		*dst = v
		return true
	}
	return false
}

// maxCount bounds instance counts, as App Engine does.
const maxCount = 1<<31 - 1

func rangeText(lo, hi int) string {
	if hi == maxCount {
		return fmt.Sprintf("%d or more", lo)
	}
	return fmt.Sprintf("between %d and %d", lo, hi)
}

// enum sets *dst to the value of e when it is one of allowed.
func enum[T ~string](p *parser, e entry, dst *T, allowed ...T) bool {
	s, ok := p.str(e.v, e.key)
	if !ok {
		return false
	}
	if !slices.Contains(allowed, T(s)) {
		p.errorf(e.v, "invalid %s %q: use %s", e.key, s, orList(allowed))
		return false
	}
	*dst = T(s)
	return true
}

// orList writes "a, b or c".
func orList[T ~string](words []T) string {
	var b strings.Builder
	for i, w := range words {
		switch {
		case i == 0:
		case i == len(words)-1:
			b.WriteString(" or ")
		default:
			b.WriteString(", ")
		}
		b.WriteString(string(w))
	}
	return b.String()
}

// fields walks the mapping n of a section (what: "app.yaml", "handler"…),
// calling set[key] for each key appdeck uses. Keys App Engine knows that
// mean nothing locally (ignored) and unknown keys are warnings, never
// errors, so that a file deployed today still runs.
func (p *parser) fields(n *yaml.Node, what string, set map[string]func(entry), ignored ...string) {
	for _, e := range p.mapping(n, what) {
		switch {
		case set[e.key] != nil:
			set[e.key](e)
		case slices.Contains(ignored, e.key):
			p.warnf(e.k, "key %q in %s does nothing locally; appdeck ignores it", e.key, what)
		default:
			known := append(slices.Sorted(maps.Keys(set)), ignored...)
			p.warnf(e.k, "unknown key %q in %s%s; appdeck ignores it", e.key, what, suggest(e.key, known))
		}
	}
}

// suggest returns ` (did you mean "x"?)` for the known key closest to key
// when it is at most two edits away, else "".
func suggest(key string, known []string) string {
	best, bestDist := "", 3
	for _, k := range known {
		if abs(len(key)-len(k)) >= bestDist {
			continue // too far apart already; spares long keys the quadratic work
		}
		if d := editDistance(key, k); d < bestDist {
			best, bestDist = k, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// editDistance is the Levenshtein distance between a and b, counted in
// bytes, which is enough to suggest ASCII keys.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
