package runtimes

import (
	"context"
	_ "embed"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/appdeck/appdeck/config"
)

// php runs the service with PHP's built-in web server and a router that
// sends every request that is not for a static file to the front
// controller, as App Engine's PHP runtime does. An entrypoint other than
// App Engine's `serve path/to/index.php` runs as it is.
type php struct{ launch }

func (php) Name() string { return "php" }

// phpRouter is the router script given to `php -S`; appdeck writes it to
// the cache directory with the front controller's path in front.
//
//go:embed router.php
var phpRouter string

func (php) Build(ctx context.Context, b Build, out io.Writer) (Artifact, error) {
	svc := b.Service
	front, err := frontController(svc)
	if err != nil {
		return Artifact{}, err
	}
	if front == "" { // an entrypoint of the user's own
		return entrypointArtifact(svc, "PHP", svc.Entrypoint, nil)
	}
	phpBin, err := checkPHP(ctx, svc, b.notes(out))
	if err != nil {
		return Artifact{}, err
	}
	if err := os.MkdirAll(b.CacheDir, 0o755); err != nil {
		return Artifact{}, err
	}
	router := filepath.Join(b.CacheDir, "router.php")
	script := fmt.Sprintf("<?php function appdeck_front_controller() { return %s; } ?>", phpString(front)) + phpRouter
	if err := os.WriteFile(router, []byte(script), 0o644); err != nil {
		return Artifact{}, err
	}
	return Artifact{Argv: []string{phpBin, "-S", "127.0.0.1:{port}", "-t", filepath.Dir(front), router}}, nil
}

// frontController returns the absolute path of the PHP file that serves
// every dynamic request — from `entrypoint: serve path/to/index.php`, else
// public/index.php, else index.php — or "" when the entrypoint is a
// command of the user's own.
func frontController(svc *config.Service) (string, error) {
	var candidates []string
	if svc.Entrypoint != "" {
		fields := strings.Fields(strings.TrimPrefix(svc.Entrypoint, "exec "))
		if len(fields) == 0 || fields[0] != "serve" {
			return "", nil
		}
		if len(fields) != 2 {
			return "", &BuildError{Runtime: "PHP", Title: "The PHP application's entrypoint is not valid.",
				Output: fmt.Sprintf("%s: App Engine's form is `serve path/to/index.php` (one front controller)", orFile(svc.EntrypointPos, svc.File))}
		}
		candidates = []string{fields[1]}
	} else {
		candidates = []string{"public/index.php", "index.php"}
	}
	for _, c := range candidates {
		p := c
		if !filepath.IsAbs(p) {
			p = filepath.Join(svc.Dir, c)
		}
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, nil
		}
	}
	return "", &BuildError{Runtime: "PHP", Title: "The PHP application has no front controller.",
		Output: fmt.Sprintf("no %s in %s: create it, or name the front controller with `entrypoint: serve path/to/index.php` in %s",
			strings.Join(candidates, " or "), svc.Dir, svc.File)}
}

// checkPHP makes sure php is installed and runs, as dev_appserver.py's PHP
// factory did; otherwise the service gets the "bad PHP environment" page
// with the reason.
func checkPHP(ctx context.Context, svc *config.Service, notes io.Writer) (string, error) {
	bad := func(format string, args ...any) error {
		return &BuildError{Runtime: "PHP", Title: "Bad PHP environment: the PHP application cannot run.",
			Output: fmt.Sprintf(format, args...)}
	}
	phpBin, err := lookPath("php", svc.Dir, pathOf(svc, nil))
	if err != nil {
		return "", bad("php not found on PATH: %s.", installHints["php"])
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	version, err := exec.CommandContext(ctx, phpBin, "-r", "echo PHP_VERSION;").CombinedOutput()
	if err != nil {
		return "", bad("%s does not run (%v):\n%s\n\nFix the PHP installation, or %s.", phpBin, err, strings.TrimSpace(string(version)), installHints["php"])
	}
	v := strings.TrimSpace(string(version))
	fmt.Fprintf(notes, "using %s, PHP %s\n", phpBin, v)
	if want := strings.TrimPrefix(svc.Runtime, "php"); !strings.HasPrefix(strings.ReplaceAll(v, ".", ""), want) {
		fmt.Fprintf(notes, "warning: app.yaml asks for %s but the local php is %s\n", svc.Runtime, v)
	}
	return phpBin, nil
}

// phpString quotes s as a PHP single-quoted string literal.
func phpString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}
