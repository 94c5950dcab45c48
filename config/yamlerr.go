package config

import (
	"bytes"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// yaml.v3 reports a syntax error at the line where the enclosing list or
// mapping began (the problem's own line only when that is line 1), never
// with a column, and with the scanner's words. locate asks yaml.v3 itself
// where it stopped: the shortest prefix of the file that fails with the
// same error ends at the offending character. A handful of parses, and
// only for a file that does not parse. An unclosed quote or bracket is
// found by a scan from the line yaml.v3 names instead, with one parse.

// maxSearch caps the size of a file whose error locate finds by the
// prefix search: about 20 parses, some 0.25 s at 64 KiB on 2 shared cores
// (BenchmarkYAMLSyntaxErrors), growing with the size. A bigger file (an
// app.yaml or dispatch.yaml is a few KiB) keeps yaml.v3's own line and
// message, except for unclosed quotes and brackets, which cost one parse
// and a scan at any size.
const maxSearch = 64 << 10

// probe returns yaml.v3's error for data, or "" when data parses. A blank
// line goes first: yaml.v3 leaves out the line of a problem on line 1, so
// without it two prefixes could fail at different places in the same words.
func probe(data []byte) string {
	var n yaml.Node
	if err := yaml.Unmarshal(append([]byte("\n"), data...), &n); err != nil {
		return err.Error()
	}
	return ""
}

// stopAt returns the offset of the character with which data starts
// failing with full, yaml.v3's error for data. Whether a prefix fails with
// that error mostly grows with the prefix (a prefix that ends before the
// problem fails otherwise or not at all), so a binary search finds it;
// whatever the input, the answer is a place where the error appears. (Not
// so for an unclosed quoted string: a prefix ending after a backslash
// inside it fails otherwise, so quoteProblem does without stopAt.)
func stopAt(data []byte, full string) int {
	lo, hi := 0, len(data) // probe(data[:lo]) != full, probe(data[:hi]) == full
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if probe(data[:mid]) == full {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi - 1
}

// source is a file split into lines, to turn offsets into line:col.
type source struct {
	data  []byte
	start []int // the offset where each line starts
}

func newSource(data []byte) source {
	s := source{data: data, start: []int{0}}
	for i, c := range data {
		if c == '\n' {
			s.start = append(s.start, i+1)
		}
	}
	return s
}

// line returns the 1-based line of off: the number of lines that start
// at or before it.
func (s source) line(off int) int { return sort.SearchInts(s.start, off+1) }

// text returns line l without its line break.
func (s source) text(l int) string {
	end := len(s.data)
	if l < len(s.start) {
		end = s.start[l] - 1
	}
	return strings.TrimSuffix(string(s.data[s.start[l-1]:end]), "\r")
}

// col returns the 1-based column of off, counted in characters as yaml.v3
// counts the columns of the nodes.
func (s source) col(off int) int {
	return utf8.RuneCount(s.data[s.start[s.line(off)-1]:off]) + 1
}

func (s source) at(off int) string { return fmt.Sprintf("%d:%d", s.line(off), s.col(off)) }

// content reports whether line l holds more than spaces and a comment.
func (s source) content(l int) bool {
	t := strings.TrimLeft(s.text(l), " ")
	return t != "" && t[0] != '#'
}

// lineAbove returns the nearest line above l with content whose indent
// satisfies ok, stopping at a line with less indent than stop (-1: never),
// or 0.
func (s source) lineAbove(l int, ok func(indent int) bool, stop int) int {
	for a := l - 1; a >= 1; a-- {
		if !s.content(a) {
			continue
		}
		n := len(indent(s.text(a)))
		if ok(n) {
			return a
		}
		if n < stop {
			return 0
		}
	}
	return 0
}

// first returns the offset of the first character of line l after its
// indentation.
func (s source) first(l int) int { return s.start[l-1] + len(indent(s.text(l))) }

// locate says where yaml.v3 stopped on data and why, in words a user can
// act on; msg is yaml.v3's message. ok is false when it cannot be sure,
// and the caller keeps yaml.v3's line and message.
func locate(data []byte, msg string) (line, col int, text string, ok bool) {
	s := newSource(data)
	full := probe(data)
	off := -1
	switch {
	case full == "":
	case strings.HasPrefix(msg, "found unexpected end of stream"),
		strings.HasPrefix(msg, "found unexpected document indicator"):
		off, text = quoteProblem(s, contextLine(full)-1, msg)
	case strings.HasPrefix(msg, "did not find expected ',' or "):
		off, text = flowProblem(s, contextLine(full), msg)
	case len(data) <= maxSearch:
		off, text = searchProblem(s, full, msg)
	}
	if off < 0 {
		return 0, 0, "", false
	}
	return s.line(off), s.col(off), text, true
}

// searchProblem finds where yaml.v3 stopped with stopAt and explains it,
// or returns -1 when the spot is not a character it could stop at.
func searchProblem(s source, full, msg string) (int, string) {
	off := stopAt(s.data, full)
	if off >= len(s.data) || strings.ContainsRune(" \t\r\n", rune(s.data[off])) {
		return -1, ""
	}
	for off > 0 && !utf8.RuneStart(s.data[off]) {
		off-- // a prefix can end inside a character
	}
	return explain(s, off, msg)
}

// explain turns the character yaml.v3 stopped at into the offset to
// report and a message.
func explain(s source, off int, msg string) (int, string) {
	if s.data[off] == ':' && isKeyError(msg) {
		// yaml.v3 saw the key only at its ':'.
		off = keyBefore(s, off)
	}
	c := s.data[off]
	l := s.line(off)
	lineStart := off == s.first(l)
	switch {
	case strings.HasPrefix(msg, "mapping values are not allowed") && c == ':':
		return colonProblem(s, off)
	case strings.HasPrefix(msg, "block sequence entries are not allowed") && c == '-':
		return off, `a list cannot start on the line of its key; put the "- " item on the next line, indented`
	case strings.HasPrefix(msg, "did not find expected node content") && (c == '[' || c == '{') && unclosed(s.data, off):
		// The file ends inside the brackets, before their first item.
		return off, unclosedText(c)
	case strings.HasPrefix(msg, "did not find expected node content"),
		strings.HasPrefix(msg, "found character that cannot start any token"):
		r, _ := utf8.DecodeRune(s.data[off:])
		return off, fmt.Sprintf("a value cannot start with %q; quote the value", string(r))
	case strings.HasPrefix(msg, "could not find expected ':'") && lineStart:
		return off, `this line is at the level of the keys above it but has no ":"; write "key: value", or indent it more if it continues the value above`
	case isKeyError(msg):
		if !lineStart {
			return tokenStart(s, off), "unexpected text after the value; quote the whole value"
		}
		if text := indentProblem(s, l, msg); text != "" {
			return off, text
		}
	}
	off = tokenStart(s, off)
	return off, msg + hint(strings.Split(string(s.data), "\n"), s.line(off), msg)
}

// isKeyError reports whether msg says a block mapping or list met
// something other than its next key or item.
func isKeyError(msg string) bool {
	return strings.HasPrefix(msg, "did not find expected key") || strings.HasPrefix(msg, "did not find expected '-' indicator")
}

// keyBefore returns the start of the key that ends at the ':' at off: after
// the last ": " before it on its line, or after the line's "- ".
func keyBefore(s source, off int) int {
	l := s.line(off)
	before := string(s.data[s.start[l-1]:off])
	if k := strings.LastIndex(before, ": "); k >= 0 {
		return s.start[l-1] + k + 2 + len(indent(before[k+2:]))
	}
	return min(keyStart(s, l), off)
}

// quoteProblem explains a quoted string that runs to the end of the file
// or into a "---" or "..." line; yaml.v3 names l, the line of its opening
// quote. The prefixes of such a file do not fail alike (one that ends
// after a backslash in the string fails otherwise), so stopAt could land
// on an escaped quote; a scan of the quotes finds the opening one.
func quoteProblem(s source, l int, msg string) (int, string) {
	if l < 1 || l > len(s.start) {
		return -1, ""
	}
	if strings.HasPrefix(msg, "found unexpected end of stream") {
		if q := s.openQuote(len(s.data), l); q >= 0 {
			return q, fmt.Sprintf("unclosed quoted string starting here; add the closing %c", s.data[q])
		}
		return -1, ""
	}
	// The string ran into the first "---" or "..." line after l; up to
	// that line, it runs to the end.
	for d := l + 1; d <= len(s.start); d++ {
		t := s.text(d)
		if !strings.HasPrefix(t, "---") && !strings.HasPrefix(t, "...") || len(t) > 3 && !strings.ContainsRune(" \t", rune(t[3])) {
			continue
		}
		if q := s.openQuote(s.start[d-1], l); q >= 0 {
			return q, fmt.Sprintf("unclosed quoted string starting here (it runs into the %q at %d:1); add the closing %c", strings.TrimSpace(t), d, s.data[q])
		}
		break
	}
	return -1, ""
}

// openQuote returns the quote on line l that opens a string never closed
// before end, or -1. It scans from the start of the file, which knows
// whether l starts inside brackets or a string; when that scan goes wrong
// (a quote that is text in a plain value continued from the line above),
// from the start of l.
func (s source) openQuote(end, l int) int {
	if _, q := scanBrackets(s.data[:end]); q >= 0 && s.line(q) == l {
		return q
	}
	from := s.start[l-1]
	if _, q := scanBrackets(s.data[from:end]); q >= 0 && s.line(from+q) == l {
		return from + q
	}
	return -1
}

// tokenStart moves from the character yaml.v3 stopped at (the last one it
// needed to see the token) back to where the token starts: the opening
// quote of a quoted string, the first character of a plain one.
func tokenStart(s source, off int) int {
	switch c := s.data[off]; c {
	case '"', '\'':
		for i := off - 1; i >= 0; i-- {
			if s.data[i] != c {
				continue
			}
			switch {
			case c == '"' && escaped(s.data, i):
			case c == '\'' && i > 0 && s.data[i-1] == '\'':
				i-- // '' is a quote inside the string
			default:
				return i
			}
		}
		return off
	case '[', ']', '{', '}', ',', ':', '-', '?':
		return off
	}
	for off > 0 && !strings.ContainsRune(" \t\r\n[]{},\"'", rune(s.data[off-1])) {
		off--
	}
	return off
}

// escaped reports whether a backslash escapes data[i].
func escaped(data []byte, i int) bool {
	n := 0
	for j := i - 1; j >= 0 && data[j] == '\\'; j-- {
		n++
	}
	return n%2 == 1
}

// flowProblem explains a [list] or {mapping} that yaml.v3 could not
// finish: a bracket is never closed, or two items lack a comma. The
// prefixes of such a file fail alike from the first item on, so stopAt
// cannot tell where; yaml.v3 names ctx, the line of the bracket, and a
// scan of the brackets finds it on that line, or -1 when it cannot.
func flowProblem(s source, ctx int, msg string) (int, string) {
	opener := byte('[')
	kind := "list"
	if strings.HasSuffix(msg, "'}'") {
		opener, kind = '{', "mapping"
	}
	var open, closed []int
	brackets, _ := scanBrackets(s.data)
	for _, b := range brackets {
		switch {
		case s.data[b.off] != opener || s.line(b.off) != ctx:
		case b.closed:
			closed = append(closed, b.off)
		default:
			open = append(open, b.off)
		}
	}
	switch {
	case len(open) > 0:
		return open[len(open)-1], unclosedText(opener) // yaml.v3 was in the innermost
	case len(closed) == 1:
		return closed[0], fmt.Sprintf("two items of the %s that starts here follow each other without a \",\"; add it, or quote the item", kind)
	}
	return -1, ""
}

// contextLine returns the line in a probe's error, or 0: for a [list] or
// {mapping}, the line where it starts; for a quoted string, the line after
// the one where it starts (yaml.v3 adds one to a scanner's lines).
func contextLine(err string) int {
	m := yamlLine.FindStringSubmatch(err)
	n, _ := strconv.Atoi(m[1])
	return n
}

func unclosedText(opener byte) string {
	closer := "]"
	if opener == '{' {
		closer = "}"
	}
	return fmt.Sprintf("unclosed %q: add the closing %q (or quote the value if the %q is text)", string(opener), closer, string(opener))
}

// unclosed reports whether the bracket at off opens a collection that is
// never closed.
func unclosed(data []byte, off int) bool {
	brackets, _ := scanBrackets(data)
	for _, b := range brackets {
		if b.off == off {
			return !b.closed
		}
	}
	return false
}

// bracket is a '[' or '{' that opens a flow collection.
type bracket struct {
	off    int
	closed bool
}

// scanBrackets returns the brackets of data that open a collection, and
// the quote that opens a string never closed (or -1), knowing just enough
// YAML to tell them from text: quoted strings, comments, block scalars,
// anchors and tags, and that a bracket or quote outside brackets opens
// something only where a value starts.
func scanBrackets(data []byte) (all []bracket, openQuote int) {
	var stack []int // indexes in all
	valueStart := true
	for i := 0; i < len(data); i++ {
		switch c := data[i]; {
		case c == '\n':
			valueStart = true
		case c == ' ' || c == '\t' || c == '\r':
		case c == '#' && (i == 0 || strings.IndexByte(" \t\n", data[i-1]) >= 0):
			i = lineEnd(data, i) - 1 // the line break sets valueStart
		case (c == '"' || c == '\'') && valueStart:
			end := closingQuote(data, i)
			if end < 0 {
				return all, i
			}
			i, valueStart = end, false
		case (c == '[' || c == '{') && (valueStart || len(stack) > 0):
			stack = append(stack, len(all))
			all = append(all, bracket{off: i})
			valueStart = true
		case (c == ']' || c == '}') && len(stack) > 0:
			all[stack[len(stack)-1]].closed = true
			stack = stack[:len(stack)-1]
			valueStart = false
		case c == ',' && len(stack) > 0:
			valueStart = true
		case strings.IndexByte("-?:", c) >= 0 && (i+1 == len(data) || strings.IndexByte(" \t\r\n", data[i+1]) >= 0):
			valueStart = true
		case (c == '&' || c == '!') && valueStart:
			// An anchor or a tag goes before the value.
			for i+1 < len(data) && strings.IndexByte(" \t\r\n", data[i+1]) < 0 {
				i++
			}
		case (c == '|' || c == '>') && valueStart && len(stack) == 0:
			i = blockScalarEnd(data, i) - 1
		default:
			valueStart = false
		}
	}
	return all, -1
}

// lineEnd returns the offset of the line break that ends the line of
// data[i], or len(data).
func lineEnd(data []byte, i int) int {
	if n := bytes.IndexByte(data[i:], '\n'); n >= 0 {
		return i + n
	}
	return len(data)
}

// blockScalarEnd returns the offset of the line break that ends the block
// scalar whose "|" or ">" is at data[i], or len(data): its text is the
// lines below indented more than the line of the "|", and blank lines. (A
// scalar under "- key: |" must be indented more than the key; taking the
// "-" instead can only take lines that are text for keys.)
func blockScalarEnd(data []byte, i int) int {
	n := len(indent(string(data[bytes.LastIndexByte(data[:i], '\n')+1 : i])))
	end := lineEnd(data, i)
	for end < len(data) {
		next := lineEnd(data, end+1)
		if t := strings.TrimRight(string(data[end+1:next]), " \t\r"); t != "" && len(indent(t)) <= n {
			break
		}
		end = next
	}
	return end
}

// closingQuote returns the offset of the quote that closes the string
// opened at data[i], or -1 when none does.
func closingQuote(data []byte, i int) int {
	q := data[i]
	for j := i + 1; j < len(data); j++ {
		switch {
		case q == '"' && data[j] == '\\':
			j++
		case data[j] == q && q == '\'' && j+1 < len(data) && data[j+1] == '\'':
			j++
		case data[j] == q:
			return j
		}
	}
	return -1
}

// colonProblem explains ": " where yaml.v3 reads a plain value: either
// inside a value on the line of its key, or on a line indented more than
// the key above it, which YAML reads as more of that key's value.
func colonProblem(s source, off int) (int, string) {
	l := s.line(off)
	before := string(s.data[s.start[l-1]:off])
	if k := strings.Index(before, ": "); k >= 0 {
		value := strings.TrimSpace(s.text(l)[k+2:])
		example := ""
		if !strings.Contains(value, "#") {
			example = ", e.g. " + strconv.Quote(value)
		}
		return off, `":" followed by a space inside a plain value; quote the value` + example
	}
	n := len(indent(s.text(l)))
	key := s.lineAbove(l, func(i int) bool { return i < n }, -1)
	if key == 0 {
		return off, `":" followed by a space inside a plain value; quote the value`
	}
	return s.first(l), fmt.Sprintf("this line is indented more than the key above it at %s, so YAML reads it as more of that key's value; indent the two the same", s.at(keyStart(s, key)))
}

// keyStart returns the offset of the key on line l, after any "- ".
func keyStart(s source, l int) int {
	off := s.first(l)
	for off+1 < len(s.data) && s.data[off] == '-' && s.data[off+1] == ' ' {
		off += 2
		for off < len(s.data) && s.data[off] == ' ' {
			off++
		}
	}
	return off
}

// indentProblem explains a line that starts at an indentation where it
// cannot be, or returns "" when it cannot tell why.
func indentProblem(s source, l int, msg string) string {
	n := len(indent(s.text(l)))
	less := s.lineAbove(l, func(i int) bool { return i < n }, -1)
	more := s.lineAbove(l, func(i int) bool { return i > n }, n)
	same := s.lineAbove(l, func(i int) bool { return i == n }, n)
	item := strings.HasPrefix(s.text(l)[n:], "- ") || s.text(l)[n:] == "-"
	switch {
	case more != 0 && less != 0 && same == 0:
		return fmt.Sprintf("this line is indented %s, less than the line above it at %s (%s) but more than the one at %s (%s); indent it like one of them",
			spaces(n), s.at(s.first(more)), spaces(len(indent(s.text(more)))), s.at(s.first(less)), spaces(len(indent(s.text(less)))))
	case same == 0:
		return ""
	case item && strings.HasPrefix(msg, "did not find expected key"):
		return fmt.Sprintf(`a list item among the keys of a mapping (the key at %s has the same indentation); put the list under a key of its own, indented`, s.at(s.first(same)))
	case !item && strings.HasPrefix(msg, "did not find expected '-' indicator") && strings.HasPrefix(s.text(same)[n:], "-"):
		return fmt.Sprintf(`this line has the indentation of the list item at %s but does not start with "- "; make it an item, or indent it to where it belongs`, s.at(s.first(same)))
	}
	return ""
}

func spaces(n int) string {
	if n == 1 {
		return "1 space"
	}
	return fmt.Sprintf("%d spaces", n)
}
