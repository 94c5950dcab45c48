package runtimes

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/appdeck/appdeck/config"
)

func TestCheck(t *testing.T) {
	for _, name := range []string{"go111", "go125", "python37", "python313", "nodejs20", "php55", "php83", "java8", "java21", "custom"} {
		if err := Check(name); err != nil {
			t.Errorf("Check(%q) = %v", name, err)
		}
	}
	for _, name := range []string{"", "go", "go110", "go126", "go1", "go0125", "go+125", "python27", "python3", "php80", "java9", "custom1", "ruby32"} {
		err := Check(name)
		if err == nil {
			t.Errorf("Check(%q) accepted an unsupported runtime", name)
			continue
		}
		if !strings.Contains(err.Error(), "supported runtimes are go111…go125, python37…python313") {
			t.Errorf("Check(%q) error does not list what is supported: %v", name, err)
		}
	}
}

func envMap(t *testing.T, env []string) map[string]string {
	t.Helper()
	got := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		if _, dup := got[k]; dup {
			t.Errorf("%s appears twice", k)
		}
		got[k] = v
	}
	return got
}

func TestEnvironSetsStandardVariablesAndLayersUserOnes(t *testing.T) {
	t.Setenv("FROM_PARENT", "kept")
	t.Setenv("TZ", "Europe/Berlin")
	svc := &config.Service{
		Name: "api", Runtime: "python312", InstanceClass: "F2",
		Env: []config.EnvVar{
			{Name: "A", Value: "from-yaml"},
			{Name: "B", Value: "from-yaml"},
			{Name: "R", Value: "from-yaml"},
			{Name: "GAE_SERVICE", Value: "evil", Pos: config.Pos{File: "app.yaml", Line: 4, Col: 3}},
			{Name: "GAE_MODULE_NAME", Value: "evil", Pos: config.Pos{File: "app.yaml", Line: 5, Col: 3}},
			{Name: "SERVER_SOFTWARE", Value: "Google App Engine/x"},
		},
	}
	inst := Instance{ID: "3", Port: 4242, ServerPort: 8080, Project: "proj", Version: "20250102t030405", Extra: []string{"B=from-flag", "PORT=1"}}
	env, warnings := Environ(svc, inst, "R=from-runtime", "S=from-runtime")
	got := envMap(t, env)
	want := map[string]string{
		"GAE_APPLICATION": "dev~proj", "GAE_ENV": "localdev", "GAE_INSTANCE": "3", "GAE_SERVICE": "api",
		"GAE_VERSION": "20250102t030405", "GAE_RUNTIME": "python312", "GAE_MEMORY_MB": "256",
		"GOOGLE_CLOUD_PROJECT": "proj", "PORT": "4242",
		"GAE_MODULE_NAME": "api", "GAE_MODULE_VERSION": "20250102t030405", "GAE_MODULE_INSTANCE": "3",
		"GAE_PARTITION": "dev", "GAE_LONG_APP_ID": "proj", "GAE_SERVER_PORT": "8080",
		"RUN_WITH_DEVAPPSERVER": "1", "TZ": "UTC", "SERVER_SOFTWARE": "Google App Engine/x",
		"A": "from-yaml", "B": "from-flag", "R": "from-yaml", "S": "from-runtime", "FROM_PARENT": "kept",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s=%q, want %q", k, got[k], v)
		}
	}
	if id := got["GAE_DEPLOYMENT_ID"]; len(id) != 18 || id != got["GAE_MINOR_VERSION"] {
		t.Errorf("GAE_DEPLOYMENT_ID=%q GAE_MINOR_VERSION=%q, want the same 18 digits", id, got["GAE_MINOR_VERSION"])
	}
	// config warned about the env_variables entries when it loaded them.
	wantWarn := []string{
		"--env: PORT cannot be set by the app; App Engine sets it (ignored)",
	}
	if strings.Join(warnings, "\n") != strings.Join(wantWarn, "\n") {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(warnings, "\n"), strings.Join(wantWarn, "\n"))
	}
}

// standard sets every variable config reserves, and only those.
func TestStandardSetsTheReservedVariables(t *testing.T) {
	svc := &config.Service{Name: "api", Runtime: "go125"}
	var got []string
	for _, kv := range standard(svc, Instance{ID: "0", Port: 1, ServerPort: 8080}) {
		got = append(got, kv[0])
	}
	if !slices.Equal(got, config.ReservedEnv) {
		t.Errorf("standard sets %v\nconfig reserves %v", got, config.ReservedEnv)
	}
}

// The project comes from --project, else the app id (both in
// Instance.Project), else $GOOGLE_CLOUD_PROJECT, else "test", as in
// dev_appserver.py.
func TestEnvironProject(t *testing.T) {
	svc := &config.Service{Name: "default", Runtime: "go125"}
	for _, c := range []struct{ flag, parent, want string }{
		{"p1", "p2", "p1"},
		{"", "p2", "p2"},
		{"", "", "test"},
	} {
		t.Setenv("GOOGLE_CLOUD_PROJECT", c.parent)
		env, _ := Environ(svc, Instance{ID: "0", Project: c.flag})
		if got := envMap(t, env); got["GOOGLE_CLOUD_PROJECT"] != c.want || got["GAE_APPLICATION"] != "dev~"+c.want {
			t.Errorf("project %q, parent %q: GOOGLE_CLOUD_PROJECT=%q GAE_APPLICATION=%q, want %q",
				c.flag, c.parent, got["GOOGLE_CLOUD_PROJECT"], got["GAE_APPLICATION"], c.want)
		}
	}
}

func TestLaunchSubstitutesPortAndChoosesHandover(t *testing.T) {
	svc := &config.Service{Name: "x", Runtime: "custom", Entrypoint: "exec server --port={port}", Dir: "/app",
		Env: []config.EnvVar{{Name: HandoverVar, Value: "file"}}}
	art := Artifact{Argv: shell(svc.Entrypoint), Env: []string{"FROM_RUNTIME=1"}}
	spec, err := custom{}.Launch(svc, art, Instance{ID: "0", Port: 9999})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(spec.Argv, " ") != "/bin/sh -c exec server --port=9999" || spec.Dir != "/app" {
		t.Errorf("spec %q in %s", spec.Argv, spec.Dir)
	}
	if spec.Handover != HandoverFile || envMap(t, spec.Env)["FROM_RUNTIME"] != "1" {
		t.Errorf("handover %v, env %v", spec.Handover, spec.Env)
	}
	spec, err = custom{}.Launch(svc, art, Instance{ID: "0", Port: 9999, Extra: []string{HandoverVar + "=stdout"}})
	if err != nil || spec.Handover != HandoverStdout {
		t.Errorf("--env did not choose the stdout handover: %v %v", spec.Handover, err)
	}
}

func TestForErrors(t *testing.T) {
	pos := config.Pos{File: "api/app.yaml", Line: 2, Col: 10}
	_, err := For(&config.Service{Name: "api", Runtime: "custom", RuntimePos: pos})
	if err == nil || !strings.Contains(err.Error(), "api/app.yaml:2:10: service \"api\" (runtime custom) has no entrypoint") {
		t.Errorf("custom without entrypoint: %v", err)
	}
	_, err = For(&config.Service{Name: "api", Runtime: "python312",
		Env: []config.EnvVar{{Name: HandoverVar, Value: "pipe", Pos: config.Pos{File: "app.yaml", Line: 7, Col: 26}}}})
	if err == nil || !strings.Contains(err.Error(), `app.yaml:7:26: APPDECK_PORT_HANDOVER="pipe" is not a port handover; use env`) {
		t.Errorf("bad handover: %v", err)
	}
	for rt, name := range map[string]string{"go125": "go", "python312": "python", "nodejs22": "nodejs", "php83": "php", "java21": "java"} {
		r, err := For(&config.Service{Runtime: rt})
		if err != nil || r.Name() != name {
			t.Errorf("For(%s) = %v, %v; want the %s adapter", rt, r, err, name)
		}
	}
}

func TestCommandProgram(t *testing.T) {
	for cmd, want := range map[string]string{
		"exec gunicorn -b :$PORT main:app":    "gunicorn",
		"exec FOO=1 BAR=2 python3 main.py":    "python3",
		"exec ./bin/server --port={port}":     "./bin/server",
		"exec $HOME/bin/server":               "",
		`exec "my server"`:                    "",
		"exec java -Dx=y -jar app.jar":        "java",
		"exec env A=1 node server.js":         "env",
		"cd web && exec php -S 0.0.0.0:$PORT": "cd",
	} {
		if got := commandProgram(cmd); got != want {
			t.Errorf("commandProgram(%q) = %q, want %q", cmd, got, want)
		}
	}
}

func TestMissingEntrypointProgramNamesItAndTheFix(t *testing.T) {
	dir := t.TempDir()
	svc := &config.Service{Name: "x", Runtime: "custom", Dir: dir, File: filepath.Join(dir, "app.yaml"),
		Entrypoint: "exec ./server --port {port}", EntrypointPos: config.Pos{File: "app.yaml", Line: 2, Col: 13}}
	_, err := custom{}.Build(context.Background(), Build{Service: svc, CacheDir: t.TempDir()}, &bytes.Buffer{})
	var be *BuildError
	if !errors.As(err, &be) {
		t.Fatalf("err = %v, want a *BuildError", err)
	}
	title, detail := be.Page()
	if title != "The custom application cannot start: ./server was not found." ||
		detail != "./server not found in "+dir+": build or create it, or change the entrypoint (app.yaml:2:13)." {
		t.Errorf("page:\n%s\n%s", title, detail)
	}
	if err := os.WriteFile(filepath.Join(dir, "server"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := (custom{}).Build(context.Background(), Build{Service: svc}, &bytes.Buffer{}); err != nil {
		t.Errorf("with ./server present: %v", err)
	}
}

func TestNodeCommand(t *testing.T) {
	dir := t.TempDir()
	svc := &config.Service{Dir: dir, File: filepath.Join(dir, "app.yaml")}
	withStart := &packageJSON{Scripts: map[string]string{"start": "node app.js"}}
	cases := []struct {
		entrypoint string
		pkg        *packageJSON
		serverJS   bool
		want       string
	}{
		{"exec node a.js", withStart, true, "exec node a.js"},
		{"", withStart, true, "exec npm start"},
		{"", &packageJSON{}, true, "exec node server.js"},
		{"", nil, true, "exec node server.js"},
		{"", nil, false, ""},
	}
	for _, c := range cases {
		os.Remove(filepath.Join(dir, "server.js"))
		if c.serverJS {
			os.WriteFile(filepath.Join(dir, "server.js"), nil, 0o644)
		}
		svc.Entrypoint = c.entrypoint
		got, err := nodeCommand(svc, c.pkg)
		if got != c.want || (c.want == "") != (err != nil) {
			t.Errorf("%+v: %q, %v; want %q", c, got, err, c.want)
		}
	}
}

func TestLocalDirs(t *testing.T) {
	dir := t.TempDir()
	mod := filepath.Join(dir, "go.mod")
	os.WriteFile(mod, []byte(`module example.com/a

replace example.com/b => ../b // a local copy
replace (
	example.com/c v1.0.0 => ./third_party/c
	example.com/d => example.com/d2 v1.2.0
	example.com/e => /abs/e
)
`), 0o644)
	want := []string{filepath.Join(filepath.Dir(dir), "b"), filepath.Join(dir, "third_party/c"), "/abs/e"}
	if got := localDirs(mod); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("go.mod: %q, want %q", got, want)
	}
	work := filepath.Join(dir, "go.work")
	os.WriteFile(work, []byte("go 1.22\n\nuse .\nuse (\n\t./svc\n\t../lib\n)\n"), 0o644)
	want = []string{dir, filepath.Join(dir, "svc"), filepath.Join(filepath.Dir(dir), "lib")}
	if got := localDirs(work); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("go.work: %q, want %q", got, want)
	}
}

func TestModuleRoot(t *testing.T) {
	dir := t.TempDir()
	svc := filepath.Join(dir, "services", "api")
	if err := os.MkdirAll(svc, 0o755); err != nil {
		t.Fatal(err)
	}
	if got := ModuleRoot(svc); got != "" {
		t.Errorf("outside a module: %q, want \"\"", got)
	}
	os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/a\n"), 0o644)
	if got := ModuleRoot(svc); got != dir {
		t.Errorf("below go.mod: %q, want %q", got, dir)
	}
	os.WriteFile(filepath.Join(svc, "go.mod"), []byte("module example.com/api\n"), 0o644)
	if got := ModuleRoot(svc); got != svc {
		t.Errorf("nested module: %q, want %q", got, svc)
	}
}

func requireGo(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go is not installed")
	}
}

// goBuild runs the Go adapter's Build and returns its output.
func goBuild(t *testing.T, svc *config.Service, cache string) (string, error) {
	t.Helper()
	_, out, err := goBuildNext(t, svc, cache, Artifact{})
	return out, err
}

// goBuildNext runs the Go adapter's Build while instances run running and
// returns the artifact and the output.
func goBuildNext(t *testing.T, svc *config.Service, cache string, running Artifact) (Artifact, string, error) {
	t.Helper()
	var out bytes.Buffer
	art, err := goRuntime{}.Build(context.Background(), Build{Service: svc, CacheDir: cache, Running: running}, &out)
	return art, out.String(), err
}

func TestGoBuildsOnlyWhenSourcesChange(t *testing.T) {
	requireGo(t)
	dir := t.TempDir()
	files := map[string]string{
		"go.mod":   "module example.com/fp\n\ngo 1.22\n",
		"main.go":  "package main\n\nimport _ \"embed\"\n\n//go:embed msg.txt\nvar msg string\n\nfunc main() { println(msg) }\n",
		"msg.txt":  "hello\n",
		"notes.md": "",
	}
	for name, content := range files {
		os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644)
	}
	svc := &config.Service{Name: "default", Runtime: "go125", Dir: dir}
	cache := t.TempDir()
	const reused = "sources unchanged since the last build; not rebuilding"
	var last Artifact
	step := func(what string, wantBuild bool) {
		t.Helper()
		art, out, err := goBuildNext(t, svc, cache, last)
		if err != nil {
			t.Fatalf("%s: %v\n%s", what, err, out)
		}
		if built := !strings.Contains(out, reused); built != wantBuild || art.Built != wantBuild {
			t.Errorf("%s: built=%v, Artifact.Built=%v, want %v; output:\n%s", what, built, art.Built, wantBuild, out)
		}
		last = art
	}
	step("first build", true)
	step("nothing changed", false)
	touch := func(name, content string) {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(content), 0o644)
		later := time.Now().Add(time.Second) // mtime resolution never hides an edit
		os.Chtimes(p, later, later)
	}
	touch("msg.txt", "hello again\n")
	step("an embedded file changed", true)
	step("nothing changed again", false)
	os.MkdirAll(filepath.Join(dir, ".git"), 0o755)
	touch(".git/index", "x")
	step("only .git changed", false)
	os.Remove(last.Argv[0])
	step("the binary is gone", true)
}

// TestGoBuildLeavesTheRunningBinary checks that a build never writes over
// the binary instances run (a crash-restart before the new build is
// applied launches it), and that binaries of older builds go.
func TestGoBuildLeavesTheRunningBinary(t *testing.T) {
	requireGo(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/keep\n\ngo 1.22\n"), 0o644)
	svc := &config.Service{Name: "default", Runtime: "go125", Dir: dir}
	cache := t.TempDir()
	build := func(msg string, running Artifact) Artifact {
		t.Helper()
		p := filepath.Join(dir, "main.go")
		os.WriteFile(p, []byte("package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Print(\""+msg+"\") }\n"), 0o644)
		later := time.Now().Add(time.Second) // mtime resolution never hides an edit
		os.Chtimes(p, later, later)
		art, out, err := goBuildNext(t, svc, cache, running)
		if err != nil {
			t.Fatalf("building %q: %v\n%s", msg, err, out)
		}
		return art
	}
	says := func(art Artifact) string {
		t.Helper()
		b, err := exec.Command(art.Argv[0]).Output()
		if err != nil {
			t.Fatalf("running %s: %v", art.Argv[0], err)
		}
		return string(b)
	}
	binaries := func() []string {
		t.Helper()
		m, _ := filepath.Glob(filepath.Join(cache, goBinPrefix+"*"))
		return m
	}
	a := build("one", Artifact{})
	b := build("two", a) // a runs: b is built next to it
	if a.Argv[0] == b.Argv[0] || says(a) != "one" || says(b) != "two" {
		t.Fatalf("the build of new sources changed the running binary: %s says %q, %s says %q", a.Argv[0], says(a), b.Argv[0], says(b))
	}
	c := build("three", b) // b applied and running: a goes
	if got := binaries(); len(got) != 2 || !slices.Contains(got, b.Argv[0]) || !slices.Contains(got, c.Argv[0]) {
		t.Errorf("binaries after the third build %q, want only the running %s and the new %s", got, b.Argv[0], c.Argv[0])
	}
	if says(b) != "two" || says(c) != "three" {
		t.Errorf("%q, %q", says(b), says(c))
	}
	if tmp, _ := filepath.Glob(filepath.Join(cache, ".build-*")); len(tmp) > 0 {
		t.Errorf("build directories left behind: %q", tmp)
	}
}

func TestGoBuildErrorKeepsCompilerPositions(t *testing.T) {
	requireGo(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/bad\n\ngo 1.22\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\n\nfunc main() {\n\tx :=\n}\n"), 0o644)
	out, err := goBuild(t, &config.Service{Name: "default", Runtime: "go125", Dir: dir}, t.TempDir())
	var be *BuildError
	if !errors.As(err, &be) {
		t.Fatalf("err = %v, want a *BuildError; output:\n%s", err, out)
	}
	title, detail := be.Page()
	if title != "The Go application could not be built." || !strings.Contains(detail, "(Executed command: go build -o ") ||
		!strings.Contains(detail, "main.go:5:1: syntax error") {
		t.Errorf("page:\n%s\n%s", title, detail)
	}
}

// TestGoBuildNotesAreApartFromTheCompilerOutput: appdeck's own lines (the
// command, a skipped build) go to Notes, the compiler's to the output, so
// that the log tells them apart.
func TestGoBuildNotesAreApartFromTheCompilerOutput(t *testing.T) {
	requireGo(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/notes\n\ngo 1.22\n"), 0o644)
	main := filepath.Join(dir, "main.go")
	svc := &config.Service{Name: "default", Runtime: "go125", Dir: dir}
	cache := t.TempDir()
	build := func(src string) (out, notes string) {
		t.Helper()
		if src != "" {
			os.WriteFile(main, []byte(src), 0o644)
		}
		var o, n bytes.Buffer
		goRuntime{}.Build(context.Background(), Build{Service: svc, CacheDir: cache, Notes: &n}, &o)
		return o.String(), n.String()
	}
	out, notes := build("package main\n\nfunc main() { broken() }\n")
	if !strings.HasPrefix(notes, "go build -o ") || strings.Contains(out, "go build") || !strings.Contains(out, "undefined: broken") {
		t.Errorf("failed build: output %q, notes %q", out, notes)
	}
	build("package main\n\nfunc main() {}\n")
	out, notes = build("") // the same sources again
	if out != "" || notes != "sources unchanged since the last build; not rebuilding\n" {
		t.Errorf("unchanged sources: output %q, notes %q", out, notes)
	}
	var o, n bytes.Buffer
	art, err := goRuntime{}.Build(context.Background(), Build{Service: svc, CacheDir: cache, Notes: &n, Force: true}, &o)
	if err != nil || !strings.HasPrefix(n.String(), "sources unchanged since the last build; building anyway, as asked\ngo build -o ") {
		t.Errorf("forced build of unchanged sources: %v, notes %q", err, n.String())
	}
	if out, notes := build(""); notes != "sources unchanged since the last build; not rebuilding\n" || !exists(art.Argv[0]) {
		t.Errorf("after a forced build: output %q, notes %q; want the forced build reused", out, notes)
	}
}

// TestNpmInstallsAgainWhenForced: node_modules up to date is not installed
// again, also after the first install wrote the lock file, unless the
// build is forced.
func TestNpmInstallsAgainWhenForced(t *testing.T) {
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	dir := t.TempDir()
	// A local package: npm installs it without the registry.
	os.MkdirAll(filepath.Join(dir, "lib"), 0o755)
	os.WriteFile(filepath.Join(dir, "lib", "package.json"), []byte(`{"name": "lib", "version": "1.0.0"}`), 0o644)
	os.WriteFile(filepath.Join(dir, "package.json"), []byte(`{"name": "app", "version": "1.0.0", "dependencies": {"lib": "file:./lib"}}`), 0o644)
	os.WriteFile(filepath.Join(dir, "server.js"), []byte("\n"), 0o644)
	svc := &config.Service{Name: "default", Runtime: "nodejs22", Dir: dir}
	cache := t.TempDir()
	build := func(force bool) (string, bool) {
		t.Helper()
		var out, notes bytes.Buffer
		art, err := (nodejs{}).Build(context.Background(), Build{Service: svc, CacheDir: cache, Notes: &notes, Force: force}, &out)
		if err != nil {
			t.Fatalf("build: %v\n%s%s", err, notes.String(), out.String())
		}
		return notes.String(), art.Built
	}
	if notes, built := build(false); notes != "npm install --no-audit --no-fund\n" || !built {
		t.Errorf("first build: notes %q, Built %v", notes, built)
	}
	// npm install wrote the lock file, which the next build compares.
	if notes, built := build(false); notes != "node_modules is up to date; not installing\n" || built {
		t.Errorf("unchanged: notes %q, Built %v", notes, built)
	}
	if notes, built := build(true); !strings.HasPrefix(notes, "node_modules is up to date; installing anyway, as asked\nnpm ") || !built {
		t.Errorf("forced: notes %q, Built %v", notes, built)
	}
	// The packages installed by the user before appdeck's first start, its
	// cache directory not made yet: nothing to install, and the service runs.
	cache = filepath.Join(t.TempDir(), "not", "made", "yet")
	if notes, built := build(false); notes != "node_modules is up to date; not installing\n" || built {
		t.Errorf("installed before the first start: notes %q, Built %v", notes, built)
	}
}
