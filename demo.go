package main

import (
	"os"
	"path/filepath"

	"github.com/appdeck/appdeck/examples"
)

// demo extracts the embedded demo app to the cache directory and serves it.
func demo(args []string) error {
	o, paths, err := parseArgs(args)
	if err != nil {
		return err
	}
	if len(paths) > 0 {
		return usageErr("demo runs the built-in demo app and takes no PATH, got %q (to run your app: appdeck [flags] PATH ...)", paths[0])
	}
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	paths, err = examples.ExtractDemo(filepath.Join(base, "appdeck", "demo"))
	if err != nil {
		return err
	}
	return serve(o, paths, "demo")
}
