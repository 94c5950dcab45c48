// Package examples holds runnable sample apps. The demo app is embedded in
// the appdeck binary so that `appdeck demo` works with no files at all.
package examples

import (
	"embed"
	"io/fs"
	"os"
	"path/filepath"
)

//go:embed all:demo
var demo embed.FS

// ExtractDemo writes the demo app into dir, replacing any earlier copy,
// and returns the paths to pass to appdeck, in service order.
func ExtractDemo(dir string) ([]string, error) {
	sub, err := fs.Sub(demo, "demo")
	if err != nil {
		return nil, err
	}
	// A fresh copy each run: CopyFS never overwrites, and the demo should
	// start as shipped even if an earlier run's files were edited.
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	if err := os.CopyFS(dir, sub); err != nil {
		return nil, err
	}
	return []string{
		filepath.Join(dir, "default", "app.yaml"),
		filepath.Join(dir, "api", "app.yaml"),
		filepath.Join(dir, "dispatch.yaml"),
	}, nil
}
