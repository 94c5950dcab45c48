package runtimes

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/appdeck/appdeck/config"
)

// goRuntime builds the service with the local go tool into the cache
// directory and runs the binary, handing it the port in $PORT.
type goRuntime struct{}

func (goRuntime) Name() string { return "go" }

func (goRuntime) Build(ctx context.Context, b Build, out io.Writer) (Artifact, error) {
	svc := b.Service
	if err := os.MkdirAll(b.CacheDir, 0o755); err != nil {
		return Artifact{}, fmt.Errorf("creating cache directory: %w", err)
	}
	bin := filepath.Join(b.CacheDir, "app")
	args, err := goBuildArgs(svc, bin)
	if err != nil {
		return Artifact{}, err
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = svc.Dir
	var buf bytes.Buffer
	cmd.Stdout = io.MultiWriter(&buf, out)
	cmd.Stderr = cmd.Stdout
	err = cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case errors.Is(err, exec.ErrNotFound):
		return Artifact{}, fmt.Errorf("go not found on PATH: install Go from https://go.dev/dl/ to run runtime %s", svc.Runtime)
	case errors.As(err, &exitErr):
		return Artifact{}, &BuildError{Runtime: "Go", Command: "go " + strings.Join(args, " "), Output: buf.String()}
	case err != nil:
		return Artifact{}, fmt.Errorf("running go build: %w", err)
	}
	return Artifact{Binary: bin}, nil
}

// goBuildArgs builds the service's main package: `main:` from app.yaml, or
// the service directory. Outside any module (no go.mod above the service)
// the directory's .go files are named one by one, which the go tool accepts
// without a module.
func goBuildArgs(svc *config.Service, bin string) ([]string, error) {
	args := []string{"build", "-o", bin}
	pkg := "."
	if svc.Main != "" {
		pkg = "./" + filepath.ToSlash(filepath.Clean(svc.Main))
	}
	if findUp(svc.Dir, "go.mod") != "" {
		return append(args, pkg), nil
	}
	files, err := filepath.Glob(filepath.Join(svc.Dir, filepath.FromSlash(pkg), "*.go"))
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		if !strings.HasSuffix(f, "_test.go") {
			rel, _ := filepath.Rel(svc.Dir, f)
			args = append(args, rel)
		}
	}
	if len(args) == 3 {
		return nil, &BuildError{Runtime: "Go", Command: "go build",
			Output: fmt.Sprintf("no .go files in %s: a Go service needs package main with func main()", filepath.Join(svc.Dir, pkg))}
	}
	return args, nil
}

// findUp returns the path of name in dir or the nearest parent that has
// it, or "".
func findUp(dir, name string) string {
	for {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

func (goRuntime) Launch(svc *config.Service, art Artifact, inst Instance) (LaunchSpec, error) {
	env, warnings := Environ(svc, inst)
	return LaunchSpec{Argv: []string{art.Binary}, Dir: svc.Dir, Env: env, Warnings: warnings}, nil
}
