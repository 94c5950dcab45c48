package config

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// addSeeds adds every YAML file under testdata to the corpus.
func addSeeds(f *testing.F) {
	err := filepath.WalkDir("testdata", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !slices.Contains([]string{".yaml", ".yml"}, filepath.Ext(path)) {
			return err
		}
		data, err := os.ReadFile(path)
		f.Add(data)
		return err
	})
	if err != nil {
		f.Fatal(err)
	}
}

// checkDiagnostics checks what every result must satisfy: diagnostics
// name the file, say something, and come sorted.
func checkDiagnostics(t *testing.T, file string, diags Diagnostics) {
	for _, d := range diags {
		if d.Pos.File != file || d.Msg == "" || d.Pos.Line < 0 || d.Pos.Col < 0 {
			t.Fatalf("bad diagnostic %#v", d)
		}
	}
	if !slices.IsSortedFunc(diags, func(a, b Diagnostic) int { return a.Pos.Line*1e6 + a.Pos.Col - b.Pos.Line*1e6 - b.Pos.Col }) {
		t.Fatalf("diagnostics out of order:\n%v", diags)
	}
}

func FuzzParseService(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		s, diags := ParseService("app.yaml", data, testOptions)
		checkDiagnostics(t, "app.yaml", diags)
		if s == nil {
			if !diags.HasErrors() {
				t.Fatal("no service and no error")
			}
			return
		}
		if diags.HasErrors() {
			return
		}
		// A valid service is complete: what later packages rely on is set.
		if s.Runtime == "" || s.InstanceClass == "" || s.Name == "" {
			t.Fatalf("valid service lacks runtime, class or name: %+v", s)
		}
		for _, h := range s.Handlers {
			if h.Regexp == nil || (h.StaticFiles != "") != (h.Upload != nil) {
				t.Fatalf("valid handler without regexps: %+v", h)
			}
		}
	})
}

func FuzzParseDispatch(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		d, diags := ParseDispatch("dispatch.yaml", data)
		checkDiagnostics(t, "dispatch.yaml", diags)
		if d == nil {
			if !diags.HasErrors() {
				t.Fatal("no dispatch and no error")
			}
			return
		}
		if diags.HasErrors() {
			return
		}
		for _, r := range d.Rules {
			if r.Service == "" || len(r.Path) == 0 || r.Path[0] != '/' {
				t.Fatalf("valid rule without service or path: %+v", r)
			}
		}
	})
}

// FuzzYAMLSyntaxErrors feeds broken YAML to the code that places syntax
// errors: it must never panic, a column it gives must be inside the file,
// and an unclosed quoted string must start at a quote that is not escaped.
func FuzzYAMLSyntaxErrors(f *testing.F) {
	for _, s := range []string{
		"a:\n  - url: /\n    b: 1\n   c: [x\n", "a: \"x\n", "a: 'x\n---\n", "a: [x, y\nb: 2\n",
		"a: {x: 1\n", "a: [\"x\" \"y\"]\n", "a: 1\n  b: 2\n", "a: b: c\n", "a: - b\n", "a: 1\n- b\n",
		"a: 1\nfoo\nb: 2\n", "a: @b\n", "a: *b\n", "a: [b]]\n", "a: \"b\" c\n", "a:\n  - x\n  b: 2\n",
		"a: [[x], [\"y\n", "\"É\": \"x\r\n", "a: 'it''s\n", "a: \"\\\"\n",
		"a: \"" + strings.Repeat(`a\"`, 6) + "\n", "a: \"" + strings.Repeat(`a\n`, 6) + "\n---\n",
		"a: |\n  \"b\nc: \"d\n", "a: b\n  \"c\nd: \"e\n", "a: !!str &x \"b\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, diags := ParseService("app.yaml", data, testOptions)
		checkDiagnostics(t, "app.yaml", diags)
		lines := strings.Split(string(data), "\n")
		for _, d := range diags {
			if d.Pos.Col == 0 || !strings.HasPrefix(d.Msg, "invalid YAML") {
				continue
			}
			if d.Pos.Line > len(lines) || d.Pos.Col > utf8.RuneCountInString(lines[d.Pos.Line-1])+1 {
				t.Fatalf("%v is outside the file %q", d, data)
			}
			if q, ok := strings.CutPrefix(d.Msg, "invalid YAML: unclosed quoted string starting here"); ok {
				off := offset(data, d.Pos.Line, d.Pos.Col)
				if off >= len(data) || !strings.HasSuffix(q, string(data[off])) || escaped(data, off) {
					t.Fatalf("%v is not at an opening quote in %q", d, data)
				}
			}
		}
	})
}

// offset returns the offset in data of a 1-based line and column, the
// column counted in characters as utf8.RuneCount counts them.
func offset(data []byte, line, col int) int {
	off := 0
	for range line - 1 {
		off += bytes.IndexByte(data[off:], '\n') + 1
	}
	for range col - 1 {
		_, n := utf8.DecodeRune(data[off:])
		off += n
	}
	return off
}
