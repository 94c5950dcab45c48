package runtimes

import (
	"strings"
	"testing"

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

func TestEnvironSetsStandardVariablesAndLayersUserOnes(t *testing.T) {
	t.Setenv("FROM_PARENT", "kept")
	svc := &config.Service{
		Name: "api", Runtime: "python312", InstanceClass: "F2",
		Env: []config.EnvVar{
			{Name: "A", Value: "from-yaml"},
			{Name: "B", Value: "from-yaml"},
			{Name: "GAE_SERVICE", Value: "evil", Pos: config.Pos{File: "app.yaml", Line: 4, Col: 3}},
		},
	}
	env, warnings := Environ(svc, Instance{ID: "3", Port: 4242, Version: "v1", Extra: []string{"B=from-flag", "PORT=1"}})
	got := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		if _, dup := got[k]; dup {
			t.Errorf("%s appears twice", k)
		}
		got[k] = v
	}
	want := map[string]string{
		"GAE_ENV": "localdev", "GAE_INSTANCE": "3", "GAE_SERVICE": "api", "GAE_VERSION": "v1",
		"GAE_RUNTIME": "python312", "GAE_MEMORY_MB": "256", "GAE_DEPLOYMENT_ID": "v1",
		"GOOGLE_CLOUD_PROJECT": "test", "PORT": "4242",
		"A": "from-yaml", "B": "from-flag", "FROM_PARENT": "kept",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s=%q, want %q", k, got[k], v)
		}
	}
	wantWarn := []string{
		"app.yaml:4:3: GAE_SERVICE cannot be set by the app; App Engine sets it (ignored)",
		"--env: PORT cannot be set by the app; App Engine sets it (ignored)",
	}
	if strings.Join(warnings, "\n") != strings.Join(wantWarn, "\n") {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(warnings, "\n"), strings.Join(wantWarn, "\n"))
	}
}

func TestEntrypointLaunchSubstitutesPort(t *testing.T) {
	svc := &config.Service{Name: "x", Runtime: "custom", Entrypoint: "exec server --port={port}", Dir: "/app"}
	rt, err := For(svc)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := rt.Launch(svc, Artifact{}, Instance{ID: "0", Port: 9999})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(spec.Argv, " ") != "/bin/sh -c exec server --port=9999" || spec.Dir != "/app" {
		t.Errorf("spec %q in %s", spec.Argv, spec.Dir)
	}
}

func TestForNeedsEntrypointOutsideGo(t *testing.T) {
	_, err := For(&config.Service{Name: "api", Runtime: "python312", File: "api/app.yaml"})
	if err == nil || !strings.Contains(err.Error(), "add an `entrypoint:` line to api/app.yaml") {
		t.Errorf("err = %v", err)
	}
}
