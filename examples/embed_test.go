package examples

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestExtractDemoKeepsAnUnchangedCopy: a second extraction leaves an
// unchanged copy as it is (its files keep their modification times, so
// the Go build is not run again), and restores an edited one as shipped,
// without the files added to it.
func TestExtractDemoKeepsAnUnchangedCopy(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	paths, err := ExtractDemo(dir)
	if err != nil {
		t.Fatal(err)
	}
	main := filepath.Join(dir, "default", "main.go")
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	if err := os.Chtimes(main, old, old); err != nil {
		t.Fatal(err)
	}
	if _, err := ExtractDemo(dir); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(main); err != nil || !fi.ModTime().Equal(old) {
		t.Errorf("an unchanged copy was rewritten: %v %v", fi.ModTime(), err)
	}

	shipped, err := os.ReadFile(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(paths[0], []byte("runtime: go99\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	extra := filepath.Join(dir, "default", "extra.go")
	if err := os.WriteFile(extra, []byte("package main\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ExtractDemo(dir); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(paths[0]); string(b) != string(shipped) {
		t.Errorf("an edited file was not restored:\n%s", b)
	}
	if _, err := os.Stat(extra); err == nil {
		t.Error("a file added to the copy was kept")
	}
}
