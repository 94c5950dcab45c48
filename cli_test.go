package main

import (
	"slices"
	"strings"
	"testing"
)

func TestAllowHostFlag(t *testing.T) {
	o, paths, err := parseArgs([]string{"--allow-host", "dev.example.com", "app.yaml", "--allow-host", "**.example.dev"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(o.allowHosts, hostsFlag{"dev.example.com", "**.example.dev"}) || !slices.Equal(paths, []string{"app.yaml"}) {
		t.Errorf("allowHosts %q paths %q", o.allowHosts, paths)
	}
	for _, bad := range []string{"*", "*.", "http://x", "a:80", "a*.b"} {
		_, _, err := parseArgs([]string{"--allow-host", bad})
		if err == nil || !strings.Contains(err.Error(), "not a host pattern") {
			t.Errorf("--allow-host %q: %v", bad, err)
		}
	}
}
