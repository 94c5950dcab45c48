package config

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
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
