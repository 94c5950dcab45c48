package supervisor

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/appdeck/appdeck/runtimes"
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

// ignoredSuffixes end names that are never a change: editors' backups,
// swap and safe-write files (Emacs, vim, Kate, JetBrains), the copies
// that cp and patch leave (.orig, .bak, .rej), compiled Python.
var ignoredSuffixes = []string{
	"~", "#", ".swp", ".swo", ".swx", ".kate-swp", "___jb_tmp___", "___jb_old___",
	".orig", ".bak", ".rej", ".pyc", ".pyo",
}

// ignoredName reports whether a base name is never a change: hidden files
// (as dev_appserver.py always ignored them) and ignoredSuffixes.
func ignoredName(base string) bool {
	if alwaysIgnored[base] || strings.HasPrefix(base, ".") {
		return true
	}
	for _, suffix := range ignoredSuffixes {
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
	if ignoredName(filepath.Base(path)) || within(path, s.sup.opts.CacheDir) || s.selfWritten(path) {
		return true
	}
	rel, err := filepath.Rel(s.conf().Dir, path)
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
		if s.conf().Skipped(c) {
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

// selfWritten reports whether path is one the service's instances write
// (see reloadLoop.dropSelfWritten).
func (s *Service) selfWritten(path string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ownWrites[path]
}

func (s *Service) ignoreSelfWritten(path string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ownWrites == nil {
		s.ownWrites = map[string]bool{}
	}
	s.ownWrites[path] = true
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
	roots := []string{s.conf().Dir}
	if s.rt.Name() == "go" {
		if mod := runtimes.ModuleRoot(s.conf().Dir); mod != "" && mod != s.conf().Dir {
			roots = append(roots, mod)
		}
	}
	return roots
}

// watchFiles watches the service's files until ctx ends and reloads the
// service after each burst of changes (see reloadLoop).
func (s *Service) watchFiles(ctx context.Context) {
	w, err := newTreeWatcher(s.ignored, func(msg string) { s.Logs.Add(System, "warning: "+msg) })
	if err != nil {
		s.Logs.Add(System, "warning: "+err.Error()+"; changes are not noticed")
		return
	}
	for _, root := range s.watchRoots() {
		w.addTree(root)
	}
	s.watcher.Store(w)
	changes := make(chan change, 256)
	s.sup.wg.Add(1)
	go func() {
		defer s.sup.wg.Done()
		w.run(ctx, func(path string, created bool) {
			select {
			case changes <- change{path, created, time.Now()}:
			case <-ctx.Done():
			}
		})
	}()
	l := &reloadLoop{s: s, paths: map[string]bool{}, results: make(chan buildResult),
		echoes: map[string]bool{}, streak: map[string]int{}}
	l.run(ctx, changes)
}

// reloadLoop turns changed paths into rebuilds and rolling restarts.
// Changes are put in service only once the files have been quiet for
// watchDebounce; the build, when the runtime needs one, starts sooner,
// after buildSettle, and starts over if files change again before it
// ends, so that build and debounce overlap: an edit is served the build
// time after it (plus the instance's start) rather than the debounce
// plus the build.
type reloadLoop struct {
	s *Service
	// paths changed since the last reload; true for those the first
	// change created, which are no change at all if they are gone again
	// (an editor's or sed's temporary file).
	paths   map[string]bool
	quiet   bool             // no change for watchDebounce
	cancel  func()           // ends the running build; nil when none
	gen     int              // counts changes, so that a build of older files is ignored
	results chan buildResult // finished builds, with their gen
	built   *buildResult     // the build of the current changes, once done
	noted   string           // the changed files last logged, so that a build's lines follow them

	// An instance that writes into the app directory would restart
	// itself forever: each restart writes again (at start, or answering
	// /_ah/start). The loop notices paths that change while each restart
	// runs (echoes), selfWriteRestarts times in a row, and stops reacting
	// to them.
	restarted struct{ from, to time.Time } // the last restart the loop did
	echoes    map[string]bool              // paths of this burst that first changed right after it
	streak    map[string]int               // paths that were echoes in the last restarts, how many in a row
}

// change is one changed path.
type change struct {
	path    string
	created bool
	at      time.Time
}

// Self-writing detection: a path is an echo when it changes while a
// restart runs, or within echoAfter of its end (the event may come a
// moment after the write); one that causes selfWriteRestarts restarts in
// a row as an echo is the app's own doing. Code is never taken for it:
// someone who edits and saves quickly, or a script, can land an edit in
// a restart, and the app writing its own code is rare.
const (
	echoAfter         = 250 * time.Millisecond
	selfWriteRestarts = 3
)

// codeExtensions are the source files of the runtimes appdeck runs.
var codeExtensions = map[string]bool{
	".go": true, ".py": true, ".js": true, ".mjs": true, ".cjs": true, ".ts": true,
	".php": true, ".java": true, ".kt": true, ".jar": true,
}

// echo reports whether a change of path at t, after the restart that ran
// from from to to, may be the restarted instances' own write.
func echo(path string, t, from, to time.Time) bool {
	base := filepath.Base(path)
	if codeExtensions[filepath.Ext(base)] || dependencyFiles[base] || configFile(path) {
		return false
	}
	return !t.Before(from) && !t.After(to.Add(echoAfter))
}

func (l *reloadLoop) run(ctx context.Context, changes <-chan change) {
	quiet, settle := stoppedTimer(), stoppedTimer()
	defer quiet.Stop()
	defer settle.Stop()
	defer l.stopBuild()
	for {
		select {
		case c := <-changes:
			if l.s.selfWritten(c.path) {
				continue // found out while the change waited
			}
			if _, seen := l.paths[c.path]; !seen {
				l.paths[c.path] = c.created
				l.echoes[c.path] = echo(c.path, c.at, l.restarted.from, l.restarted.to)
			}
			l.quiet, l.built = false, nil
			l.gen++ // a build under way, or just done, is of older files
			l.stopBuild()
			quiet.Reset(watchDebounce)
			settle.Reset(buildSettle)
		case <-settle.C:
			if l.needsBuild() {
				code, _ := l.sorted()
				l.note(code)
				l.startBuild(ctx)
			}
		case <-quiet.C:
			l.quiet = true
		case r := <-l.results:
			if r.gen == l.gen {
				l.built, l.cancel = &r, nil
			}
		case <-ctx.Done():
			return
		}
		if l.quiet && len(l.paths) > 0 && (l.built != nil || !l.needsBuild()) {
			l.apply(ctx)
		}
	}
}

// note logs the changed files, before the build of them and its output,
// unless they were logged already; a later change that joins them, which
// starts the build over, is logged with them.
func (l *reloadLoop) note(code []string) {
	if d := l.s.describe(code); d != l.noted {
		l.s.Logs.Add(System, "files changed: "+d)
		l.noted = d
	}
}

func stoppedTimer() *time.Timer {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return t
}

func (l *reloadLoop) needsBuild() bool {
	code, _ := l.sorted()
	build, _ := changePolicy(l.s.rt.Name(), code)
	return len(code) > 0 && build
}

// sorted lists the changed paths, code and configuration apart. A file
// created and gone again (an editor's or sed's temporary file) is no
// change.
func (l *reloadLoop) sorted() (code, config []string) {
	for p, created := range l.paths {
		if _, err := os.Lstat(p); created && err != nil {
			continue
		}
		if configFile(p) {
			config = append(config, p)
		} else {
			code = append(code, p)
		}
	}
	sort.Strings(code)
	sort.Strings(config)
	return code, config
}

// startBuild builds the files as they are now, in the background.
func (l *reloadLoop) startBuild(ctx context.Context) {
	gen := l.gen
	bctx, cancel := context.WithCancel(ctx)
	l.cancel = cancel
	l.s.setBuilding()
	l.s.sup.wg.Add(1)
	go func() {
		defer l.s.sup.wg.Done()
		r := l.s.compile(bctx, false)
		if bctx.Err() != nil {
			return // cancelled: a newer change or shutdown
		}
		r.gen = gen
		select {
		case l.results <- r:
		case <-ctx.Done():
		}
	}()
}

func (l *reloadLoop) stopBuild() {
	if l.cancel != nil {
		l.cancel()
		l.cancel = nil
	}
}

// apply puts the changes in service: the build made for them, if any,
// then a rolling restart as the runtime's policy says.
func (l *reloadLoop) apply(ctx context.Context) {
	l.stopBuild() // one may run for files that are gone again
	code, config := l.sorted()
	built := l.built
	echoes := maps.Clone(l.echoes)
	clear(l.paths)
	clear(l.echoes)
	l.built = nil
	s := l.s
	if len(config) > 0 && s.sup.reloadConfig(ctx, s) {
		// The new configuration's build and restart took the changed
		// code in too; the build made before is of the old one.
		l.noted = ""
		s.endBuilding()
		return
	}
	if len(code) == 0 {
		l.noted = ""
		s.endBuilding()
		return
	}
	l.note(code)
	l.noted = "" // the next change is news
	s.sup.events.publish(Event{Kind: Changed, Service: s.Name, Reason: s.describe(code)})
	_, restart := changePolicy(s.rt.Name(), code)
	if !restart {
		s.Logs.Add(System, "no restart needed: "+noRestart(s.rt.Name()))
		s.endBuilding()
		return
	}
	if code = l.dropSelfWritten(code, echoes); len(code) == 0 {
		s.endBuilding() // the build, if any, was of the app's own writes
		return
	}
	s.scaleMu.Lock()
	defer s.scaleMu.Unlock()
	l.restarted.from = time.Now()
	if built != nil {
		s.publish(*built)
	}
	if err := s.replaceAll("files changed: " + s.describe(code)); err != nil && ctx.Err() == nil {
		s.Logs.Add(System, "restart after the change: "+err.Error())
	}
	l.restarted.to = time.Now()
}

// dropSelfWritten counts, for each path about to restart the service,
// how many restarts in a row it changed right after, and returns the
// paths without those that did so selfWriteRestarts times: from then on
// they are ignored, and the user is told once why and how to make it so
// for good.
func (l *reloadLoop) dropSelfWritten(code []string, echoes map[string]bool) []string {
	s := l.s
	streak := map[string]int{}
	var keep []string
	for _, p := range code {
		if echoes[p] {
			streak[p] = l.streak[p] + 1
		}
		if streak[p] < selfWriteRestarts {
			keep = append(keep, p)
			continue
		}
		delete(streak, p)
		s.ignoreSelfWritten(p)
		rel := s.describe([]string{p})
		pattern := "^" + regexp.QuoteMeta(rel) + "$"
		msg := fmt.Sprintf("%s changed right after each of the last %d restarts: an instance writes it in the app directory. "+
			"appdeck ignores its changes from now on; to say so for good, add %s to skip_files in app.yaml or pass --watch-ignore '%s'",
			rel, selfWriteRestarts, pattern, pattern)
		s.Logs.Add(System, "warning: "+msg)
		s.sup.events.publish(Event{Kind: Notice, Service: s.Name, Reason: msg})
	}
	l.streak = streak
	return keep
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
// Go rebuilds on any change; Java, which appdeck does not compile, finds
// its jar again and restarts on a change to a file it may run on (see
// javaRuns); the others
// rebuild (install) only when a dependency manifest changed, and restart,
// except PHP, which reads its files on every request.
func changePolicy(family string, paths []string) (build, restart bool) {
	deps, jar := false, false
	for _, p := range paths {
		deps = deps || dependencyFiles[filepath.Base(p)]
		jar = jar || javaRuns(p)
	}
	switch family {
	case "go":
		return true, true
	case "java":
		return jar, jar
	case "php":
		return deps, deps
	}
	return deps, true
}

// javaRuns reports whether a changed path is one a Java instance may run
// on: a file still there, and not what a build reads or makes on its way
// to the jar (a source, a class, or a directory of them, which a build
// often deletes and makes again).
func javaRuns(path string) bool {
	switch filepath.Ext(path) {
	case ".java", ".class":
		return false
	}
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir()
}

// noRestart says why a change that calls for no restart does not.
func noRestart(family string) string {
	if family == "java" {
		return "Java sources and classes take effect with the jar your build writes (appdeck does not compile Java)"
	}
	return "the runtime reads its files on every request"
}

// configFile reports whether path is appdeck configuration, which
// reloadConfig reads again rather than restarting the instances.
func configFile(path string) bool {
	base := filepath.Base(path)
	return base == "app.yaml" || base == "dispatch.yaml"
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
		if rel, err := filepath.Rel(s.conf().Dir, p); err == nil && filepath.IsAbs(p) {
			p = filepath.ToSlash(rel)
		}
		names = append(names, p)
	}
	return strings.Join(names, ", ")
}
