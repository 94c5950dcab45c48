package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Options tunes loading.
type Options struct {
	// CheckRuntime returns an error when a runtime name is not supported;
	// its message is reported as is, at the runtime value's position. nil
	// accepts any runtime.
	CheckRuntime func(name string) error
}

const pathHint = "pass the path of an app.yaml, a service directory or a dispatch.yaml"

// Load reads app.yaml files, service directories (holding exactly one of
// app.yaml and app.yml), app directories (holding neither, but */app.yaml)
// and dispatch files (named dispatch.yaml or dispatch.yml). With no paths
// it reads the current directory as an app directory, or ./app.yaml if it
// exists. Services keep the order of paths; those found in an app
// directory come default first, then by name, and its dispatch.yaml
// comes with them.
//
// Positions name files as the paths do, so relative paths stay relative.
// Load reports every problem at once: on any error it returns nil and the
// [Diagnostics], errors and warnings, sorted by position; on success the
// warnings are in App.Warnings.
func Load(paths []string, opts Options) (*App, error) {
	l := &loader{opts: opts, app: &App{}}
	if len(paths) == 0 {
		l.discover(".")
	}
	for _, path := range paths {
		l.add(path)
	}
	l.check()
	l.diags.Sort()
	if l.diags.HasErrors() {
		return nil, l.diags
	}
	l.app.Warnings = l.diags
	return l.app, nil
}

type loader struct {
	opts     Options
	app      *App
	diags    Diagnostics
	dispatch string // the path of the dispatch file, "" when none
	// unreadable is set when a service file could not be parsed, so its
	// name is unknown and dispatch targets cannot be checked.
	unreadable bool
}

func (l *loader) errorAt(pos Pos, format string, args ...any) {
	l.diags = append(l.diags, Diagnostic{Pos: pos, Msg: fmt.Sprintf(format, args...)})
}

// discover reads the app in dir: dir/app.yaml if it exists, else every
// dir/*/app.yaml, the default service first (it gets the first port) and
// the others by name, and dir/dispatch.yaml (or .yml) if there is one.
func (l *loader) discover(dir string) {
	if file := filepath.Join(dir, "app.yaml"); isFile(file) {
		l.addService(file)
		return
	}
	matches, _ := filepath.Glob(filepath.Join(dir, "*", "app.yaml")) // the pattern is valid
	if len(matches) == 0 {
		// Only for the current directory: add checks other directories first.
		l.errorAt(Pos{}, "no app.yaml in the current directory nor in its subdirectories; %s", pathHint)
		return
	}
	first := len(l.app.Services)
	for _, m := range matches {
		l.addService(m)
	}
	slices.SortStableFunc(l.app.Services[first:], defaultFirst)
	if abs, err := filepath.Abs(dir); err == nil {
		l.app.AppDir = abs
	}
	for _, name := range []string{"dispatch.yaml", "dispatch.yml"} {
		if file := filepath.Join(dir, name); isFile(file) {
			l.addDispatch(file)
			return
		}
	}
}

// defaultFirst orders services: default, then the others by name.
func defaultFirst(a, b *Service) int {
	switch {
	case a.Name == b.Name:
		return 0
	case a.Name == "default":
		return -1
	case b.Name == "default":
		return 1
	}
	return strings.Compare(a.Name, b.Name)
}

// isAppDir reports whether dir holds services in subdirectories rather
// than being one.
func isAppDir(dir string) bool {
	if isFile(filepath.Join(dir, "app.yaml")) || isFile(filepath.Join(dir, "app.yml")) {
		return false
	}
	matches, _ := filepath.Glob(filepath.Join(dir, "*", "app.yaml")) // the pattern is valid
	return len(matches) > 0
}

func (l *loader) add(path string) {
	info, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		l.errorAt(Pos{File: path}, "no such file or directory; %s", pathHint)
	case err != nil:
		l.errorAt(Pos{File: path}, "%s", cause(err))
	case info.IsDir() && isAppDir(path):
		l.discover(path)
	case info.IsDir():
		if file := l.serviceFile(path); file != "" {
			l.addService(file)
		}
	case isDispatch(path):
		l.addDispatch(path)
	default:
		l.addService(path)
	}
}

// cause drops the operation and path from a *fs.PathError: positions
// already name the file.
func cause(err error) error {
	if pe, ok := errors.AsType[*fs.PathError](err); ok {
		return pe.Err
	}
	return err
}

func isDispatch(path string) bool {
	base := filepath.Base(path)
	return base == "dispatch.yaml" || base == "dispatch.yml"
}

// serviceFile returns the one app.yaml or app.yml in dir, or "" after
// reporting why there is none.
func (l *loader) serviceFile(dir string) string {
	yamlFile, ymlFile := filepath.Join(dir, "app.yaml"), filepath.Join(dir, "app.yml")
	hasYAML, hasYML := isFile(yamlFile), isFile(ymlFile)
	switch {
	case hasYAML && hasYML:
		l.errorAt(Pos{File: dir}, "the directory holds both app.yaml and app.yml; remove one")
	case hasYAML:
		return yamlFile
	case hasYML:
		return ymlFile
	default:
		l.errorAt(Pos{File: dir}, "the directory holds no app.yaml or app.yml; %s", pathHint)
	}
	return ""
}

func isFile(path string) bool {
	info, err := os.Stat(path)
	return err == nil && !info.IsDir()
}

func (l *loader) read(path string) ([]byte, bool) {
	data, err := os.ReadFile(path)
	if err != nil {
		l.errorAt(Pos{File: path}, "%s", cause(err))
		return nil, false
	}
	return data, true
}

func (l *loader) addService(path string) {
	data, ok := l.read(path)
	if !ok {
		l.unreadable = true
		return
	}
	svc, diags := ParseService(path, data, l.opts)
	l.diags = append(l.diags, diags...)
	if svc == nil {
		l.unreadable = true
		return
	}
	l.diags = append(l.diags, missingFiles(svc)...)
	l.app.Services = append(l.app.Services, svc)
}

func (l *loader) addDispatch(path string) {
	if l.dispatch != "" {
		l.errorAt(Pos{File: path}, "more than one dispatch file; the first is %s", l.dispatch)
		return
	}
	l.dispatch = path
	data, ok := l.read(path)
	if !ok {
		return
	}
	d, diags := ParseDispatch(path, data)
	l.diags = append(l.diags, diags...)
	l.app.Dispatch = d
}

// check runs the checks that span files.
func (l *loader) check() {
	if len(l.app.Services) == 0 {
		switch {
		case l.diags.HasErrors():
		case l.dispatch != "":
			l.errorAt(Pos{File: l.dispatch}, "a dispatch file routes requests to services but runs none; pass the app.yaml files or directories of its services with it")
		default:
			l.errorAt(Pos{}, "no service to run; %s", pathHint)
		}
		return
	}
	l.checkNames()
	l.checkAppIDs()
	l.checkDispatch()
}

func (l *loader) checkNames() {
	first := map[string]*Service{}
	for _, s := range l.app.Services {
		if f := first[s.Name]; f != nil {
			hint := `give one of them another name with "service: NAME"`
			if s.Name == "default" {
				hint += ` (an app.yaml without "service:" is the default service)`
			}
			l.errorAt(s.NamePos, "duplicate service %q; first defined at %s; %s", s.Name, f.NamePos, hint)
			continue
		}
		first[s.Name] = s
	}
}

func (l *loader) checkAppIDs() {
	for _, s := range l.app.Services {
		switch {
		case s.AppID == "":
		case l.app.ID == "":
			l.app.ID = s.AppID
		case s.AppID != l.app.ID:
			l.errorAt(s.AppIDPos, "more than one application id: %s, %s", l.app.ID, s.AppID)
		}
	}
}

func (l *loader) checkDispatch() {
	d := l.app.Dispatch
	if d == nil || l.unreadable {
		return
	}
	if l.app.Service("default") == nil {
		l.errorAt(Pos{File: l.dispatch}, `dispatch rules need a service named "default", but no app.yaml defines one`)
	}
	names := make([]string, len(l.app.Services))
	for i, s := range l.app.Services {
		names[i] = s.Name
	}
	for _, r := range d.Rules {
		if r.Service != "" && l.app.Service(r.Service) == nil {
			l.errorAt(r.ServicePos, "no app.yaml defines service %q; the services are %s", r.Service, strings.Join(names, ", "))
		}
	}
}
