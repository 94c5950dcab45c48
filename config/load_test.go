package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// inTree writes files (path → content; a path ending in "/" is an empty
// directory) into a new directory and makes it the working directory, so
// that positions are short and stable.
func inTree(t *testing.T, files map[string]string) {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		path := filepath.Join(dir, name)
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(path, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(dir)
}

// loadErrors loads paths, which must fail, and returns its diagnostics.
func loadErrors(t *testing.T, paths ...string) Diagnostics {
	t.Helper()
	app, err := Load(paths, testOptions)
	if err == nil {
		t.Fatalf("Load(%q) succeeded: %+v", paths, app)
	}
	diags, ok := err.(Diagnostics)
	if !ok {
		t.Fatalf("Load returned %T, want Diagnostics", err)
	}
	return diags
}

func TestLoadMulti(t *testing.T) {
	app, err := Load([]string{"testdata/multi/default", "testdata/multi/api", "testdata/multi/dispatch.yaml"}, testOptions)
	if err != nil {
		t.Fatal(err)
	}
	if len(app.Services) != 2 || app.Services[0].Name != "default" || app.Services[1].Name != "api" {
		t.Fatalf("services %+v, want default and api in the order given", app.Services)
	}
	api := app.Service("api")
	if !strings.HasSuffix(api.File, "testdata/multi/api/app.yml") || api.NamePos != (Pos{"testdata/multi/api/app.yml", 1, 10}) {
		t.Errorf("api File %q at %v", api.File, api.NamePos)
	}
	if api.Scaling.Kind != Manual || api.Scaling.Manual.Instances != 3 || api.InstanceClass != "B2" || api.MemoryMB() != 256 {
		t.Errorf("api scaling %+v, class %s", api.Scaling, api.InstanceClass)
	}
	if app.ID != "shop" || app.Dispatch == nil || len(app.Dispatch.Rules) != 3 || app.Warnings != nil {
		t.Errorf("ID %q, dispatch %+v, warnings %v", app.ID, app.Dispatch, app.Warnings)
	}
	if app.Service("nope") != nil {
		t.Error(`Service("nope") != nil`)
	}
}

func TestLoadWarnings(t *testing.T) {
	inTree(t, map[string]string{
		"app.yaml":     "runtime: go122\nlibraries: []\n",
		"api/app.yaml": "service: api\nruntime: go122\nhandlers:\n- url: /.*\n  script: auto\n  scrpt: x\n",
	})
	app, err := Load([]string{"api", "app.yaml"}, testOptions)
	if err != nil {
		t.Fatal(err)
	}
	checkLines(t, app.Warnings, []string{
		`api/app.yaml:6:3: warning: unknown key "scrpt" in handler (did you mean "script"?); appdeck ignores it`,
		`app.yaml:2:1: warning: key "libraries" in app.yaml does nothing locally; appdeck ignores it`,
	})
}

func TestLoadDiscover(t *testing.T) {
	t.Chdir("testdata/discover")
	app, err := Load(nil, testOptions)
	if err != nil {
		t.Fatal(err)
	}
	if len(app.Services) != 2 || app.Services[0].Name != "default" || app.Services[1].Name != "api" {
		t.Fatalf("services %+v, want web/app.yaml (default) then api/app.yaml", app.Services)
	}
	if app.Services[0].NamePos.File != filepath.Join("web", "app.yaml") {
		t.Errorf("positions name %q, want the relative path", app.Services[0].NamePos.File)
	}
}

// TestLoadAppDirectory: the standard multi-service layout, found with no
// path, with "." or with the directory's path, gives the default service
// first, then the others by service name (not directory), and the
// dispatch file beside them.
func TestLoadAppDirectory(t *testing.T) {
	inTree(t, map[string]string{
		"shop/api/app.yaml":     "service: zeta\nruntime: go122\n",
		"shop/b/app.yaml":       "service: admin\nruntime: go122\n",
		"shop/default/app.yaml": "runtime: go122\n",
		"shop/dispatch.yaml":    "dispatch:\n- url: \"*/api/*\"\n  service: zeta\n",
	})
	for _, tc := range []struct {
		dir      string
		paths    []string
		dispatch string
	}{
		{"shop", nil, "dispatch.yaml"},
		{"shop", []string{"."}, "dispatch.yaml"},
		{".", []string{"shop"}, filepath.Join("shop", "dispatch.yaml")},
	} {
		t.Run(fmt.Sprint(tc.dir, tc.paths), func(t *testing.T) {
			t.Chdir(tc.dir)
			app, err := Load(tc.paths, testOptions)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, s := range app.Services {
				names = append(names, s.Name)
			}
			if strings.Join(names, " ") != "default admin zeta" {
				t.Errorf("services %v, want default admin zeta", names)
			}
			if app.Dispatch == nil || app.Dispatch.Rules[0].Pos.File != tc.dispatch {
				t.Errorf("dispatch %+v, want %s", app.Dispatch, tc.dispatch)
			}
		})
	}
}

func TestLoadDiscoverCurrentDir(t *testing.T) {
	inTree(t, map[string]string{"app.yaml": "runtime: go122\n", "other/app.yaml": "service: other\nruntime: go122\n"})
	app, err := Load(nil, testOptions)
	if err != nil {
		t.Fatal(err)
	}
	if len(app.Services) != 1 || app.Services[0].NamePos.File != "app.yaml" {
		t.Errorf("services %+v, want ./app.yaml only", app.Services)
	}
}

func TestLoadErrors(t *testing.T) {
	const hint = "pass the path of an app.yaml, a service directory or a dispatch.yaml"
	tests := []struct {
		name  string
		files map[string]string
		paths []string
		want  []string
	}{
		{"nothing to discover", map[string]string{"README": "x"}, nil, []string{
			"no app.yaml in the current directory nor in its subdirectories; " + hint}},
		{"missing path", nil, []string{"nope"}, []string{"nope: no such file or directory; " + hint}},
		{"empty file", map[string]string{"app.yaml": ""}, []string{"app.yaml"}, []string{
			`app.yaml: file is empty; an app.yaml needs at least a runtime, e.g. "runtime: go122"`}},
		{"both app.yaml and app.yml", map[string]string{"svc/app.yaml": "runtime: go122\n", "svc/app.yml": "runtime: go122\n"}, []string{"svc"},
			[]string{"svc: the directory holds both app.yaml and app.yml; remove one"}},
		{"neither app.yaml nor app.yml", map[string]string{"svc/": ""}, []string{"svc"},
			[]string{"svc: the directory holds no app.yaml or app.yml; " + hint}},
		{"only a dispatch file", map[string]string{"dispatch.yaml": "dispatch: []\n"}, []string{"dispatch.yaml"},
			[]string{"dispatch.yaml: a dispatch file routes requests to services but runs none; pass the app.yaml files or directories of its services with it"}},
		{"duplicate service", map[string]string{
			"other/app.yaml": "service: api\nruntime: go122\n",
			"api/app.yaml":   "runtime: go122\nservice: api\n",
		}, []string{"other", "api"}, []string{
			`api/app.yaml:2:10: duplicate service "api"; first defined at other/app.yaml:1:10; give one of them another name with "service: NAME"`}},
		{"two default services", map[string]string{"a/app.yaml": "runtime: go122\n", "b/app.yaml": "runtime: go122\n"},
			[]string{"a", "b"}, []string{`b/app.yaml:1:1: duplicate service "default"; first defined at a/app.yaml:1:1; give one of them another name with "service: NAME" (an app.yaml without "service:" is the default service)`}},
		{"two application ids", map[string]string{
			"a/app.yaml": "application: one\nruntime: go122\n",
			"b/app.yaml": "service: b\nruntime: go122\nproject: two\n",
		}, []string{"a", "b"}, []string{`b/app.yaml:3:10: more than one application id: one, two`}},
		{"two dispatch files", map[string]string{
			"app.yaml": "runtime: go122\n", "a/dispatch.yaml": "dispatch: []\n", "b/dispatch.yml": "dispatch: []\n",
		}, []string{"app.yaml", "a/dispatch.yaml", "b/dispatch.yml"}, []string{
			"b/dispatch.yml: more than one dispatch file; the first is a/dispatch.yaml"}},
		{"dispatch without default", map[string]string{
			"api/app.yaml": "service: api\nruntime: go122\n", "dispatch.yaml": "dispatch:\n- url: '*/api/*'\n  service: api\n",
		}, []string{"api", "dispatch.yaml"}, []string{
			`dispatch.yaml: dispatch rules need a service named "default", but no app.yaml defines one`}},
		{"dispatch to an unknown service", map[string]string{
			"app.yaml": "runtime: go122\n", "api/app.yaml": "service: api\nruntime: go122\n",
			"dispatch.yaml": "dispatch:\n- url: '*/api/*'\n  service: api\n- url: '*/web/*'\n  service: web\n",
		}, []string{"app.yaml", "api", "dispatch.yaml"}, []string{
			`dispatch.yaml:5:12: no app.yaml defines service "web"; the services are default, api`}},
		// A service file that cannot be read leaves its name unknown, so
		// dispatch targets are not checked against the others.
		{"unparsable service and dispatch", map[string]string{
			"app.yaml": "runtime: go122\n", "api/app.yaml": "service: [\n",
			"dispatch.yaml": "dispatch:\n- url: '*/api/*'\n  service: api\n",
		}, []string{"app.yaml", "api", "dispatch.yaml"}, []string{
			`api/app.yaml:1:10: invalid YAML: unclosed "[": add the closing "]" (or quote the value if the "[" is text)`}},
		// Every file's problems, errors and warnings, sorted by file and
		// position.
		{"problems in several files", map[string]string{
			"b/app.yaml":    "runtime: go122\nservice: b\nfoo: 1\nthreadsafe: 3\n",
			"a/app.yaml":    "runtime: ruby\n",
			"dispatch.yaml": "dispatch:\n- url: nope\n  service: b\n",
		}, []string{"dispatch.yaml", "b", "a"}, []string{
			`a/app.yaml:1:10: unknown runtime "ruby"; use go122 or python312`,
			`b/app.yaml:3:1: warning: unknown key "foo" in app.yaml; appdeck ignores it`,
			`b/app.yaml:4:13: threadsafe must be true or false, not "3"`,
			`dispatch.yaml:2:8: url must contain a path, e.g. "*/api/*"`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inTree(t, tt.files)
			checkLines(t, loadErrors(t, tt.paths...), tt.want)
		})
	}
}

// TestMissingFilesWarn: error handler files, static_dir directories and
// literal static_files that are not there warn at the entry, saying what
// answers until they exist; those that are there, and static_files with
// a group reference, do not.
func TestMissingFilesWarn(t *testing.T) {
	inTree(t, map[string]string{
		"app/app.yaml": `runtime: python312
error_handlers:
- file: errors/default.html
- error_code: timeout
  file: errors/nonexist.html
handlers:
- url: /s
  static_dir: nosuchdir
- url: /assets
  static_dir: assets
- url: /f
  static_files: nosuch.txt
  upload: nosuch.txt
- url: /(.*)\.png
  static_files: img/\1.png
  upload: img/.*\.png
- url: /errors/default.html
  static_files: errors/default.html
  upload: errors/default.html
- url: /errors
  static_dir: errors/default.html
`,
		"app/errors/default.html": "oops",
		"app/assets/":             "",
	})
	app, err := Load([]string{"app"}, testOptions)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range app.Warnings {
		got = append(got, w.String())
	}
	want := []string{
		`app/app.yaml:4:3: warning: error handler file errors/nonexist.html does not exist: timeout errors get 500 "Failed to load error handler"; create the file or correct the path (relative to the directory of app.yaml)`,
		`app/app.yaml:7:3: warning: static_dir nosuchdir is not a directory: its URLs answer 404; create it or correct the path (relative to the directory of app.yaml)`,
		`app/app.yaml:11:3: warning: static_files nosuch.txt does not exist: /f answers 404; create the file or correct the path (relative to the directory of app.yaml)`,
		`app/app.yaml:20:3: warning: static_dir errors/default.html is not a directory: its URLs answer 404; create it or correct the path (relative to the directory of app.yaml)`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
