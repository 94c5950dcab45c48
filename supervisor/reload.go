package supervisor

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// alwaysIgnored are names never watched, whatever skip_files says: version
// control, dependency trees too big to watch, and caches that runtimes
// write while running (a .pyc written on import must not restart the
// instance that wrote it).
var alwaysIgnored = map[string]bool{
	".git": true, ".hg": true, ".svn": true,
	"node_modules": true, "__pycache__": true,
	"4913": true, // vim's probe file when saving
}

// ignoredName reports whether a base name is never a change: hidden files
// (as dev_appserver.py always ignored them), editor backups and swap
// files, compiled Python.
func ignoredName(base string) bool {
	if alwaysIgnored[base] || strings.HasPrefix(base, ".") {
		return true
	}
	for _, suffix := range []string{"~", "#", ".swp", ".swo", ".swx", ".pyc", ".pyo"} {
		if strings.HasSuffix(base, suffix) {
			return true
		}
	}
	return false
}

// goInputs are the files outside a Go service's directory (elsewhere in
// its module) that change what it builds.
func goInput(base string) bool {
	return strings.HasSuffix(base, ".go") || base == "go.mod" || base == "go.sum" ||
		base == "go.work" || base == "go.work.sum"
}

// ignored reports whether a change at path (absolute) is not worth a
// restart. skip_files and --watch-ignore are matched against the path
// relative to the service directory, with forward slashes (and, for a
// directory, with a trailing slash too, so that "^vendor/.*" prunes it).
func (s *Service) ignored(path string, dir bool) bool {
	if ignoredName(filepath.Base(path)) || within(path, s.sup.opts.CacheDir) {
		return true
	}
	rel, err := filepath.Rel(s.cfg.Dir, path)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		// Elsewhere in a Go module: only Go sources and module files.
		return !dir && !goInput(filepath.Base(path))
	}
	rel = filepath.ToSlash(rel)
	candidates := []string{rel}
	if dir {
		candidates = append(candidates, rel+"/")
	}
	for _, c := range candidates {
		if s.cfg.Skipped(c) {
			return true
		}
		for _, re := range s.sup.opts.WatchIgnore {
			if re.MatchString(c) {
				return true
			}
		}
	}
	return false
}

func within(path, dir string) bool {
	if dir == "" {
		return false
	}
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// watchRoots are the trees whose changes concern the service: its
// directory and, for Go, the module it belongs to (packages of the
// module outside the service directory are built into it).
func (s *Service) watchRoots() []string {
	roots := []string{s.cfg.Dir}
	if s.rt.Name() == "go" {
		if mod := moduleRoot(s.cfg.Dir); mod != "" && mod != s.cfg.Dir {
			roots = append(roots, mod)
		}
	}
	return roots
}

// moduleRoot returns the nearest directory at or above dir holding a
// go.mod, or "".
func moduleRoot(dir string) string {
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// watchFiles watches the service's files until ctx ends and reloads the
// service after each burst of changes. Changes during a reload are
// gathered and handled by one more reload right after it.
func (s *Service) watchFiles(ctx context.Context) {
	w, err := newTreeWatcher(s.ignored, func(msg string) { s.Logs.Add(System, "warning: "+msg) })
	if err != nil {
		s.Logs.Add(System, "warning: "+err.Error()+"; changes are not noticed")
		return
	}
	for _, root := range s.watchRoots() {
		w.addTree(root)
	}
	s.mu.Lock()
	s.watching = true
	s.mu.Unlock()

	var mu sync.Mutex
	var pending []string
	kick := make(chan struct{}, 1)
	s.sup.wg.Add(1)
	go func() {
		defer s.sup.wg.Done()
		for {
			select {
			case <-kick:
				mu.Lock()
				paths := pending
				pending = nil
				mu.Unlock()
				s.reload(ctx, paths)
			case <-ctx.Done():
				return
			}
		}
	}()
	w.run(ctx, watchDebounce, func(paths []string) {
		mu.Lock()
		pending = append(pending, paths...)
		mu.Unlock()
		select {
		case kick <- struct{}{}:
		default: // a reload is already due
		}
	})
}

// dependencyFiles are the manifests whose change calls for the runtime's
// build step (installing dependencies) before a restart.
var dependencyFiles = map[string]bool{
	"requirements.txt": true, "pyproject.toml": true, "Pipfile.lock": true,
	"package.json": true, "package-lock.json": true, "yarn.lock": true, "pnpm-lock.yaml": true,
	"composer.json": true, "composer.lock": true,
	"pom.xml": true, "build.gradle": true,
}

// changePolicy decides what changed files call for, by runtime family:
// compiled runtimes rebuild on any change; the others rebuild (install)
// only when a dependency manifest changed, and restart, except PHP, which
// reads its files on every request.
func changePolicy(family string, paths []string) (build, restart bool) {
	deps := false
	for _, p := range paths {
		deps = deps || dependencyFiles[filepath.Base(p)]
	}
	switch family {
	case "go", "java":
		return true, true
	case "php":
		return deps, deps
	}
	return deps, true
}

// configFile reports whether path is appdeck configuration, which is read
// only at start.
func configFile(path string) bool {
	base := filepath.Base(path)
	return base == "app.yaml" || base == "dispatch.yaml"
}

// reload rebuilds and restarts the service as its runtime's policy says
// after paths changed. The restart is rolling, so requests keep being
// served throughout; a failed build switches the service to its error
// page.
func (s *Service) reload(ctx context.Context, paths []string) {
	var code []string
	for _, p := range paths {
		if configFile(p) {
			s.Logs.Add(System, fmt.Sprintf("%s changed: restart appdeck to apply configuration changes", p))
			continue
		}
		code = append(code, p)
	}
	if len(code) == 0 {
		return
	}
	s.Logs.Add(System, "files changed: "+s.describe(code))
	s.sup.events.publish(Event{Kind: Changed, Service: s.Name, Reason: s.describe(code)})
	build, restart := changePolicy(s.rt.Name(), code)
	if !restart {
		s.Logs.Add(System, "no restart needed: the runtime reads its files on every request")
		return
	}
	s.scaleMu.Lock()
	defer s.scaleMu.Unlock()
	if build {
		s.build(ctx)
	}
	if ctx.Err() != nil {
		return
	}
	if err := s.replaceAll("files changed"); err != nil && err != ErrStopping {
		s.Logs.Add(System, "restart after the change: "+err.Error())
	}
}

// describe lists changed paths relative to the service directory, at most
// a handful of them.
func (s *Service) describe(paths []string) string {
	const most = 5
	var names []string
	for i, p := range paths {
		if i == most {
			names = append(names, fmt.Sprintf("and %d more", len(paths)-most))
			break
		}
		if rel, err := filepath.Rel(s.cfg.Dir, p); err == nil && filepath.IsAbs(p) {
			p = filepath.ToSlash(rel)
		}
		names = append(names, p)
	}
	return strings.Join(names, ", ")
}
