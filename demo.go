package main

import (
	"os"
	"path/filepath"

	"github.com/appdeck/appdeck/examples"
)

// demo extracts the embedded demo app to the cache directory and serves it.
func demo(args []string) error {
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	paths, err := examples.ExtractDemo(filepath.Join(base, "appdeck", "demo"))
	if err != nil {
		return err
	}
	return serve(append(args, paths...), "demo")
}
