// Package examples holds runnable sample apps. The demo app is embedded in
// the appdeck binary so that `appdeck demo` works with no files at all.
package examples

import (
	"bytes"
	"embed"
	"io/fs"
	"os"
	"path/filepath"
)

//go:embed all:demo
var demo embed.FS

// ExtractDemo writes the demo app into dir, replacing any earlier copy
// that differs from it, and returns the paths to pass to appdeck, in
// service order.
func ExtractDemo(dir string) ([]string, error) {
	sub, err := fs.Sub(demo, "demo")
	if err != nil {
		return nil, err
	}
	// A copy as shipped, even if an earlier run's files were edited; but
	// an unchanged one is kept as it is: rewritten files get new
	// modification times, and the Go build would run again on every start.
	if !sameFiles(sub, dir) {
		// CopyFS never overwrites, and it would keep files the demo no
		// longer has.
		if err := os.RemoveAll(dir); err != nil {
			return nil, err
		}
		if err := os.CopyFS(dir, sub); err != nil {
			return nil, err
		}
	}
	return []string{
		filepath.Join(dir, "default", "app.yaml"),
		filepath.Join(dir, "api", "app.yaml"),
		filepath.Join(dir, "dispatch.yaml"),
	}, nil
}

// sameFiles reports whether dir holds the files of fsys, with the same
// content, and nothing else.
func sameFiles(fsys fs.FS, dir string) bool {
	want := 0
	err := fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		want++
		a, err := fs.ReadFile(fsys, path)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(path)))
		if err != nil || !bytes.Equal(a, b) {
			return fs.ErrInvalid // differs: stop walking
		}
		return nil
	})
	if err != nil {
		return false
	}
	got := 0
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			got++
		}
		return err
	})
	return err == nil && got == want
}
