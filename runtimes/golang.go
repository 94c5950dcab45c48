package runtimes

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/appdeck/appdeck/config"
)

// goRuntime builds the service's main package with the local go tool into
// the cache directory, only when its sources changed, and runs the binary,
// handing it the port in $PORT. Each build of other sources is a binary
// of its own, named by the sources' fingerprint, so that a build never
// writes over the binary running instances were launched from.
type goRuntime struct{ launch }

func (goRuntime) Name() string { return "go" }

// goBinPrefix starts the name of every binary the Go runtime builds.
const goBinPrefix = "app-"

func (goRuntime) Build(ctx context.Context, b Build, out io.Writer) (Artifact, error) {
	svc := b.Service
	goTool, err := exec.LookPath("go")
	if err != nil {
		return Artifact{}, missingTool("Go", "go", svc, installHints["go"])
	}
	if err := os.MkdirAll(b.CacheDir, 0o755); err != nil {
		return Artifact{}, fmt.Errorf("creating cache directory: %w", err)
	}
	pkgs, err := goPackages(svc)
	if err != nil {
		return Artifact{}, err
	}
	// A fingerprint that cannot be taken (an unreadable directory) only
	// means building every time; go build reports the real problem.
	sum, fpErr := goFingerprint(svc, goTool, pkgs)
	name := strconv.FormatInt(time.Now().UnixNano(), 36)
	if fpErr == nil {
		name = sum[:16]
	}
	bin := filepath.Join(b.CacheDir, goBinPrefix+name)
	art := Artifact{Argv: []string{bin}}
	switch {
	case fpErr == nil && exists(bin) && b.Force: // only a finished build has this name
		// The new binary takes the name: a process running the old one
		// keeps it, and the next build of these sources finds this one.
		fmt.Fprintln(b.notes(out), "sources unchanged since the last build; building anyway, as asked")
	case fpErr == nil && exists(bin):
		fmt.Fprintln(b.notes(out), "sources unchanged since the last build; not rebuilding")
		pruneGoBins(b, bin)
		return art, nil
	}
	// go build writes into a directory of this build's own, so that a
	// build stopped halfway, or another one at the same time, leaves no
	// partial binary under a fingerprint's name.
	tmp, err := os.MkdirTemp(b.CacheDir, ".build-")
	if err != nil {
		return Artifact{}, fmt.Errorf("creating build directory: %w", err)
	}
	defer os.RemoveAll(tmp)
	built := filepath.Join(tmp, "app")
	args := append([]string{"build", "-o", built}, pkgs...)
	cmdline := "go " + strings.Join(args, " ")
	fmt.Fprintln(b.notes(out), cmdline)
	output, err := runTool(ctx, svc.Dir, nil, out, append([]string{goTool}, args...)...)
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		return Artifact{}, &BuildError{Runtime: "Go", Command: cmdline, Output: output}
	case err != nil:
		return Artifact{}, fmt.Errorf("running go build: %w", err)
	case !exists(built): // go build -o of a package that is not main writes nothing
		return Artifact{}, &BuildError{Runtime: "Go", Command: cmdline, Output: `Your Go app must use "package main" and must provide a func main().`}
	}
	if err := os.Rename(built, bin); err != nil {
		return Artifact{}, fmt.Errorf("keeping the binary: %w", err)
	}
	pruneGoBins(b, bin)
	art.Built = true
	return art, nil
}

// pruneGoBins removes the binaries of earlier builds but bin and the one
// instances run now. A process still running a removed binary is not
// affected: its file lives on until it exits.
func pruneGoBins(b Build, bin string) {
	running := ""
	if len(b.Running.Argv) > 0 {
		running = b.Running.Argv[0]
	}
	entries, _ := os.ReadDir(b.CacheDir)
	for _, e := range entries {
		p := filepath.Join(b.CacheDir, e.Name())
		if strings.HasPrefix(e.Name(), goBinPrefix) && p != bin && p != running {
			_ = os.Remove(p)
		}
	}
}

// goPackages names what go build builds: `main:` from app.yaml, or the
// service directory. Outside any module (no go.mod above the service) the
// directory's .go files are named one by one, which the go tool accepts
// without a module.
func goPackages(svc *config.Service) ([]string, error) {
	pkg := "."
	if svc.Main != "" {
		pkg = "./" + filepath.ToSlash(filepath.Clean(svc.Main))
	}
	if ModuleRoot(svc.Dir) != "" {
		return []string{pkg}, nil
	}
	files, err := filepath.Glob(filepath.Join(svc.Dir, filepath.FromSlash(pkg), "*.go"))
	if err != nil {
		return nil, err
	}
	var args []string
	for _, f := range files {
		if !strings.HasSuffix(f, "_test.go") {
			rel, _ := filepath.Rel(svc.Dir, f)
			args = append(args, rel)
		}
	}
	if len(args) == 0 {
		return nil, &BuildError{Runtime: "Go", Command: "go build",
			Output: fmt.Sprintf("no .go files in %s: a Go service needs package main with func main()", filepath.Join(svc.Dir, pkg))}
	}
	return args, nil
}

// goFingerprint covers everything go build reads that an edit can change:
// every file of the module (embedded files too) and of the directories its
// go.mod replaces modules with or its go.work uses, the go tool itself, the
// variables that steer it, and the packages built. Dependencies from the
// module cache are pinned by go.sum, which is part of the module.
func goFingerprint(svc *config.Service, goTool string, pkgs []string) (string, error) {
	f := newFingerprint(append([]string{"go", goTool}, pkgs...)...)
	f.stat(goTool)
	for _, k := range []string{"GOFLAGS", "GOOS", "GOARCH", "GOAMD64", "CGO_ENABLED", "CC",
		"CGO_CFLAGS", "CGO_LDFLAGS", "GOEXPERIMENT", "GOTOOLCHAIN", "GOWORK"} {
		f.add(k + "=" + os.Getenv(k))
	}
	dirs := []string{svc.Dir}
	if root := ModuleRoot(svc.Dir); root != "" {
		dirs = append([]string{root}, localDirs(filepath.Join(root, "go.mod"))...)
	}
	if work := goWork(svc.Dir); work != "" {
		f.stat(work)
		dirs = append(dirs, localDirs(work)...)
	}
	slices.Sort(dirs)
	for _, d := range slices.Compact(dirs) {
		if err := f.tree(d, skipGoDir); err != nil {
			return "", err
		}
	}
	return f.sum(), nil
}

// skipGoDir reports whether the go tool ignores a directory when it builds
// the module being walked: hidden and _ directories, testdata,
// node_modules, and nested modules.
func skipGoDir(path, name string) bool {
	return strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") ||
		name == "testdata" || name == "node_modules" || exists(filepath.Join(path, "go.mod"))
}

// goWork returns the go.work file go build uses for dir, or "".
func goWork(dir string) string {
	switch w := os.Getenv("GOWORK"); w {
	case "off":
		return ""
	case "":
		return findUp(dir, "go.work")
	default:
		return w
	}
}

// localDirs returns the directories on disk that a go.mod replaces modules
// with (`=> ../lib`) or that a go.work uses.
func localDirs(file string) []string {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil
	}
	var dirs []string
	inUse := false
	for _, line := range strings.Split(string(data), "\n") {
		line, _, _ = strings.Cut(line, "//")
		fields := strings.Fields(line)
		var target string
		switch i := slices.Index(fields, "=>"); {
		case len(fields) == 0:
		case i >= 0 && i+1 < len(fields):
			target = fields[i+1]
		case fields[0] == "use" && len(fields) == 2 && fields[1] == "(":
			inUse = true
		case fields[0] == "use" && len(fields) == 2:
			target = fields[1]
		case fields[0] == ")":
			inUse = false
		case inUse:
			target = fields[0]
		}
		target = strings.Trim(target, "\"`")
		switch {
		case filepath.IsAbs(target):
			dirs = append(dirs, target)
		case strings.HasPrefix(target, "."):
			dirs = append(dirs, filepath.Join(filepath.Dir(file), target))
		}
	}
	return dirs
}

// ModuleRoot returns the directory of the Go module dir belongs to: the
// nearest directory at or above dir holding a go.mod, or "" outside any
// module.
func ModuleRoot(dir string) string {
	if mod := findUp(dir, "go.mod"); mod != "" {
		return filepath.Dir(mod)
	}
	return ""
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
