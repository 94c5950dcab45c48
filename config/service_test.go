package config

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

// checkRuntime stands in for the runtimes package: it knows go122 and
// python312 only.
func checkRuntime(name string) error {
	if name == "go122" || name == "python312" {
		return nil
	}
	return errors.New(`unknown runtime "` + name + `"; use go122 or python312`)
}

var testOptions = Options{CheckRuntime: checkRuntime}

// lines formats diagnostics one per line, as appdeck validate prints them.
func lines(ds Diagnostics) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.String())
	}
	return out
}

func checkLines(t *testing.T, got Diagnostics, want []string) {
	t.Helper()
	if g := lines(got); !reflect.DeepEqual(g, want) {
		t.Errorf("diagnostics:\n%s\nwant:\n%s", strings.Join(g, "\n"), strings.Join(want, "\n"))
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestParseServiceFull(t *testing.T) {
	const file = "testdata/full/app.yaml"
	s, diags := ParseService(file, readFile(t, file), testOptions)
	checkLines(t, diags, nil)
	if !strings.HasSuffix(s.File, "/config/testdata/full/app.yaml") || !strings.HasSuffix(s.Dir, "/config/testdata/full") {
		t.Errorf("File, Dir = %q, %q; want absolute paths", s.File, s.Dir)
	}
	pos := func(line, col int) Pos { return Pos{File: file, Line: line, Col: col} }
	yes := true
	want := &Service{
		File: s.File, Dir: s.Dir,
		Name: "api", NamePos: pos(2, 10),
		AppID: "my-app", AppIDPos: pos(3, 14),
		Runtime: "python312", RuntimePos: pos(4, 10),
		Entrypoint: "exec gunicorn -b :$PORT main:app", EntrypointPos: pos(5, 13),
		Main: "./cmd/server",
		Env: []EnvVar{
			{"GREETING", "hello", pos(15, 3)},
			{"PORT_HINT", "8080", pos(16, 3)},
			{"RATIO", "1.50", pos(17, 3)},
			{"ENABLED", "true", pos(18, 3)},
			{"EMPTY", "", pos(19, 3)},
		},
		ErrorHandlers: []ErrorHandler{
			{Pos: pos(58, 3), Code: "default", File: "errors/default.html"},
			{Pos: pos(59, 3), Code: "over_quota", File: "errors/quota.html", MimeType: "text/html"},
		},
		DefaultExpiration: 26*time.Hour + 3*time.Minute + 4*time.Second,
		InboundServices:   []string{"warmup", "mail"},
		InstanceClass:     "F2",
		InstanceClassPos:  pos(7, 17),
		Threadsafe:        &yes,
		Scaling: Scaling{
			Kind: Automatic,
			Pos:  pos(21, 1),
			Automatic: AutomaticScaling{
				MaxConcurrentRequests:       50,
				MinInstances:                2,
				MaxInstances:                8,
				MinIdleInstances:            0,
				MaxIdleInstances:            1000,
				MinPendingLatency:           30 * time.Millisecond,
				MaxPendingLatency:           1500 * time.Millisecond,
				TargetCPUUtilization:        0.75,
				TargetThroughputUtilization: 0.9,
			},
			Basic:  BasicScaling{MaxInstances: 1, IdleTimeout: 5 * time.Minute},
			Manual: ManualScaling{Instances: 1},
		},
	}
	got := *s
	got.Handlers, got.SkipFiles = nil, nil // compared below
	if !reflect.DeepEqual(&got, want) {
		t.Errorf("service:\n%+v\nwant:\n%+v", &got, want)
	}
	checkSkipFiles(t, s, []string{`^(?:^(.*/)?\.git/.*$)`, `^(?:^node_modules/)`})
	checkFullHandlers(t, s.Handlers)
}

func checkSkipFiles(t *testing.T, s *Service, want []string) {
	t.Helper()
	var got []string
	for _, re := range s.SkipFiles {
		got = append(got, re.String())
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("SkipFiles = %q, want %q", got, want)
	}
}

func checkFullHandlers(t *testing.T, hs []*Handler) {
	t.Helper()
	const file = "testdata/full/app.yaml"
	if len(hs) != 4 {
		t.Fatalf("got %d handlers, want 4", len(hs))
	}
	// Regexps are compared by their source; everything else as is.
	type view struct {
		Handler
		Regexp, Upload string
	}
	want := []view{
		{Handler{Pos: Pos{file, 37, 3}, URL: "/static", StaticDir: "public",
			Expiration: 10 * time.Minute, HasExpiration: true,
			HTTPHeaders: []Header{{"Cache-Control", "public"}, {"X-Frame-Options", "DENY"}},
			Login:       LoginOptional, AuthFailAction: AuthRedirect, Secure: SecureOptional,
		}, `^(?:/static)/(.*)$`, ""},
		{Handler{Pos: Pos{file, 43, 3}, URL: `/(.*\.(png|gif))$`, StaticFiles: `images/\1`,
			MimeType: "image/png", RequireMatchingFile: true,
			Login: LoginOptional, AuthFailAction: AuthRedirect, Secure: SecureOptional,
		}, `^(?:/(.*\.(png|gif))$)$`, `^(?:images/.*\.(png|gif)$)$`},
		{Handler{Pos: Pos{file, 48, 3}, URL: "/admin/.*", Script: "auto",
			Login: LoginAdmin, AuthFailAction: AuthUnauthorized, Secure: SecureAlways, RedirectCode: 307,
		}, `^(?:/admin/.*)$`, ""},
		{Handler{Pos: Pos{file, 54, 3}, URL: "/.*", Script: "auto",
			Login: LoginOptional, AuthFailAction: AuthRedirect, Secure: SecureOptional,
		}, `^(?:/.*)$`, ""},
	}
	for i, h := range hs {
		got := view{Handler: *h, Regexp: h.Regexp.String()}
		if h.Upload != nil {
			got.Upload = h.Upload.String()
		}
		got.Handler.Regexp, got.Handler.Upload = nil, nil
		if !reflect.DeepEqual(got, want[i]) {
			t.Errorf("handler %d:\n%+v\nwant:\n%+v", i, got, want[i])
		}
	}
}

func TestParseServiceDefaults(t *testing.T) {
	const file = "testdata/minimal/app.yaml"
	s, diags := ParseService(file, readFile(t, file), testOptions)
	checkLines(t, diags, nil)
	if s.Name != "default" || s.NamePos != (Pos{file, 1, 1}) {
		t.Errorf("Name = %q at %v, want default at %s:1:1", s.Name, s.NamePos, file)
	}
	if s.InstanceClass != "F1" || s.MemoryMB() != 128 || s.Capacity() != 10 {
		t.Errorf("InstanceClass %s, MemoryMB %d, Capacity %d; want F1, 128, 10", s.InstanceClass, s.MemoryMB(), s.Capacity())
	}
	if s.Threadsafe != nil || s.Entrypoint != "" || s.AppID != "" || s.DefaultExpiration != 0 {
		t.Errorf("unset fields are set: %+v", s)
	}
	want := defaultScaling()
	want.Automatic = AutomaticScaling{
		MaxConcurrentRequests: 10, MinInstances: 0, MaxInstances: 20,
		MinIdleInstances: 1, MaxIdleInstances: 1000,
		MinPendingLatency: 100 * time.Millisecond, MaxPendingLatency: 500 * time.Millisecond,
		TargetCPUUtilization: 0.6, TargetThroughputUtilization: 0.6,
	}
	want.Basic = BasicScaling{MaxInstances: 1, IdleTimeout: 5 * time.Minute}
	want.Manual = ManualScaling{Instances: 1}
	if s.Scaling != want {
		t.Errorf("Scaling = %+v, want %+v", s.Scaling, want)
	}
	checkSkipFiles(t, s, []string{
		`^(?:^(.*/)?#.*#$)`, `^(?:^(.*/)?.*~$)`, `^(?:^(.*/)?.*\.py[co]$)`,
		`^(?:^(.*/)?.*/RCS/.*$)`, `^(?:^(.*/)?\..*$)`,
	})
}

func TestDefaultSkipFiles(t *testing.T) {
	s, _ := ParseService("app.yaml", []byte("runtime: go122\n"), testOptions)
	for path, want := range map[string]bool{
		"#notes.txt#": true, "src/#a#": true, "main.go~": true, "lib/x.pyc": true, "x.pyo": true,
		"a/RCS/b": true, ".git/config": true, "web/.env": true, ".hidden": true,
		"main.go": false, "static/app.js": false, "RCS/x": false, "a.py": false,
	} {
		if got := s.Skipped(path); got != want {
			t.Errorf("Skipped(%q) = %v, want %v", path, got, want)
		}
	}
}

func TestParseServiceScalingKinds(t *testing.T) {
	tests := []struct {
		yaml     string
		kind     ScalingKind
		class    string
		capacity int
		check    func(Scaling) bool
	}{
		{"basic_scaling:\n  max_instances: 4\n  idle_timeout: 2h\n", Basic, "B2", 10,
			func(s Scaling) bool { return s.Basic == BasicScaling{MaxInstances: 4, IdleTimeout: 2 * time.Hour} }},
		{"basic_scaling:\n", Basic, "B2", 10,
			func(s Scaling) bool { return s.Basic == BasicScaling{MaxInstances: 1, IdleTimeout: 5 * time.Minute} }},
		{"manual_scaling:\n  instances: 5\ninstance_class: B8\n", Manual, "B8", 10,
			func(s Scaling) bool { return s.Manual.Instances == 5 }},
		{"automatic_scaling:\n  max_concurrent_requests: 80\n", Automatic, "F1", 80, nil},
		// A default moves to meet a value given beyond it.
		{"automatic_scaling:\n  min_instances: 30\n  max_idle_instances: 0\n  max_pending_latency: 50ms\n", Automatic, "F1", 10,
			func(s Scaling) bool {
				a := s.Automatic
				return a.MaxInstances == 30 && a.MinIdleInstances == 0 && a.MinPendingLatency == 50*time.Millisecond
			}},
		{"automatic_scaling:\n  max_instances: 0\n  min_pending_latency: 2s\n  min_idle_instances: automatic\n", Automatic, "F1", 10,
			func(s Scaling) bool {
				a := s.Automatic
				return a.MaxInstances == 20 && a.MaxPendingLatency == 2*time.Second && a.MinIdleInstances == 1
			}},
	}
	for _, tt := range tests {
		s, diags := ParseService("app.yaml", []byte("runtime: go122\n"+tt.yaml), testOptions)
		if len(diags) > 0 {
			t.Errorf("%q: %v", tt.yaml, diags)
			continue
		}
		if s.Scaling.Kind != tt.kind || s.Scaling.Pos.Line != 2 || s.InstanceClass != tt.class || s.Capacity() != tt.capacity {
			t.Errorf("%q: kind %v at %v, class %s, capacity %d; want %v at line 2, %s, %d",
				tt.yaml, s.Scaling.Kind, s.Scaling.Pos, s.InstanceClass, s.Capacity(), tt.kind, tt.class, tt.capacity)
		}
		if tt.check != nil && !tt.check(s.Scaling) {
			t.Errorf("%q: scaling %+v", tt.yaml, s.Scaling)
		}
	}
}

func TestParseServiceValues(t *testing.T) {
	tests := []struct {
		yaml string
		ok   func(*Service) bool
	}{
		{"entrypoint: gunicorn main:app", func(s *Service) bool { return s.Entrypoint == "exec gunicorn main:app" }},
		{"entrypoint: exec node server.js", func(s *Service) bool { return s.Entrypoint == "exec node server.js" }},
		{"entrypoint: >\n  python\n  main.py\n", func(s *Service) bool { return s.Entrypoint == "exec python main.py" }},
		{"module: api", func(s *Service) bool { return s.Name == "api" && s.NamePos == Pos{"app.yaml", 2, 9} }},
		{"project: p\napplication: p", func(s *Service) bool { return s.AppID == "p" && s.AppIDPos.Line == 2 }},
		{"threadsafe: false", func(s *Service) bool { return s.Threadsafe != nil && !*s.Threadsafe }},
		{"skip_files: ^vendor/.*$", func(s *Service) bool {
			return len(s.SkipFiles) == 1 && s.Skipped("vendor/a") && !s.Skipped("a/vendor/a")
		}},
		{"skip_files: []", func(s *Service) bool { return len(s.SkipFiles) == 0 && !s.Skipped(".git") }},
		{"skip_files:", func(s *Service) bool { return len(s.SkipFiles) == len(defaultSkipFiles) }},
		{"default_expiration: 30", func(s *Service) bool { return s.DefaultExpiration == 30*time.Second }},
		{"default_expiration: 4D 5H", func(s *Service) bool { return s.DefaultExpiration == 101*time.Hour }},
		{"inbound_services: [warmup]", func(s *Service) bool { return s.HasInbound("warmup") && !s.HasInbound("mail") }},
		// Aliases are followed; the anchor's holder is an unknown key.
		{"x-common: &env {A: 1, B: two}\nenv_variables: *env", func(s *Service) bool {
			return len(s.Env) == 2 && s.Env[1] == EnvVar{"B", "two", Pos{"app.yaml", 2, 23}}
		}},
		{"handlers:\n- url: /s/\n  static_dir: s", func(s *Service) bool {
			re := s.Handlers[0].Regexp
			return re.String() == `^(?:/s/)(.*)$` && re.FindStringSubmatch("/s/a/b.css")[1] == "a/b.css"
		}},
	}
	for _, tt := range tests {
		s, diags := ParseService("app.yaml", []byte("runtime: go122\n"+tt.yaml), testOptions)
		if diags.HasErrors() {
			t.Errorf("%q: %v", tt.yaml, diags)
			continue
		}
		if !tt.ok(s) {
			t.Errorf("%q: wrong service %+v", tt.yaml, s)
		}
	}
}

func TestParseServiceWarnings(t *testing.T) {
	data := `runtime: go122
api_version: go1
handler: []
runtime_config: {python_version: 3}
frobnicate: true
handlers:
- url: /.*
  script: auto
  application_readable: true
  secur: always
automatic_scaling:
  min_num_instances: 2
  max_instnaces: 3
`
	s, diags := ParseService("app.yaml", []byte(data), testOptions)
	if s == nil {
		t.Fatal("nil service")
	}
	checkLines(t, diags, []string{
		`app.yaml:2:1: warning: key "api_version" in app.yaml does nothing locally; appdeck ignores it`,
		`app.yaml:3:1: warning: unknown key "handler" in app.yaml (did you mean "handlers"?); appdeck ignores it`,
		`app.yaml:4:1: warning: key "runtime_config" in app.yaml does nothing locally; appdeck ignores it`,
		`app.yaml:5:1: warning: unknown key "frobnicate" in app.yaml; appdeck ignores it`,
		`app.yaml:9:3: warning: key "application_readable" in handler does nothing locally; appdeck ignores it`,
		`app.yaml:10:3: warning: unknown key "secur" in handler (did you mean "secure"?); appdeck ignores it`,
		`app.yaml:12:3: warning: key "min_num_instances" in automatic_scaling does nothing locally; appdeck ignores it`,
		`app.yaml:13:3: warning: unknown key "max_instnaces" in automatic_scaling (did you mean "max_instances"?); appdeck ignores it`,
	})
	if diags.HasErrors() || s.Handlers[0].Secure != SecureOptional {
		t.Errorf("warnings changed the result: %+v", s.Handlers[0])
	}
}

// env_variables entries naming a variable App Engine reserves are
// warned about where they are written, and kept as written.
func TestReservedEnvVariablesWarn(t *testing.T) {
	data := "runtime: go122\nenv_variables:\n  A: 1\n  GAE_ENV: prod\n  PORT: 9000\n  GAE_MODULE_NAME: x\n  GAE_SERVER_PORT: 1\n  GAE_ENVIRONMENT: ok\n"
	s, diags := ParseService("app.yaml", []byte(data), testOptions)
	warn := " cannot be set in env_variables: App Engine sets it for every instance; appdeck ignores this entry"
	checkLines(t, diags, []string{
		"app.yaml:4:3: warning: GAE_ENV" + warn,
		"app.yaml:5:3: warning: PORT" + warn,
		"app.yaml:6:3: warning: GAE_MODULE_NAME" + warn,
		"app.yaml:7:3: warning: GAE_SERVER_PORT" + warn,
	})
	if s == nil || len(s.Env) != 6 {
		t.Errorf("env %+v", s)
	}
}

// dev_appserver.py's {api_port} and {api_host} in an entrypoint are
// warned about: appdeck has no API server to put there.
func TestAPIServerPlaceholdersWarn(t *testing.T) {
	data := "runtime: go122\nentrypoint: ./server --port {port} --api {api_host}:{api_port}\n"
	s, diags := ParseService("app.yaml", []byte(data), testOptions)
	const why = " stays as it is: appdeck runs no API server for the bundled services; use the Cloud emulators and client libraries"
	checkLines(t, diags, []string{
		"app.yaml:2:13: warning: {api_port}" + why,
		"app.yaml:2:13: warning: {api_host}" + why,
	})
	if s == nil || s.Entrypoint != "exec ./server --port {port} --api {api_host}:{api_port}" {
		t.Errorf("entrypoint %+v", s)
	}
}

// TestParseServiceMany checks that one file with many problems gets every
// one of them, in file order.
func TestParseServiceMany(t *testing.T) {
	const file = "testdata/many/app.yaml"
	_, diags := ParseService(file, readFile(t, file), testOptions)
	checkLines(t, diags, []string{
		file + `:1:10: invalid service name "Bad_Name": use at most 63 lowercase letters, digits and hyphens, starting and ending with a letter or digit`,
		file + `:2:10: unknown runtime "cobol"; use go122 or python312`,
		file + `:3:1: key "runtime" is repeated; first at line 2`,
		file + `:4:13: entrypoint must be a string, not a list`,
		file + `:6:3: env_variables must be a mapping, not a list`,
		file + `:7:1: warning: unknown key "handlerz" in app.yaml (did you mean "handlers"?); appdeck ignores it`,
		file + `:8:1: warning: key "api_version" in app.yaml does nothing locally; appdeck ignores it`,
		file + `:9:13: threadsafe must be true or false, not "maybe"`,
		file + `:10:21: invalid duration "10x": use a number followed by d, h, m or s, e.g. "4d 5h"`,
		file + `:11:17: instance class B4 does not go with automatic scaling; use F1, F2, F4 or F4_1G`,
		file + `:13:28: max_concurrent_requests must be between 1 and 1000, not 0`,
		file + `:14:18: min_instances 5 is greater than max_instances 3`,
		file + `:16:23: min_idle_instances must be 0 or more, not -1`,
		file + `:17:24: min_pending_latency 2s is greater than max_pending_latency 1s`,
		file + `:19:27: target_cpu_utilization must be a number between 0.5 and 0.95, not "1.5"`,
		file + `:20:1: only one of automatic_scaling, basic_scaling or manual_scaling may be given`,
		file + `:21:17: invalid idle_timeout "5x": use a number followed by s, m or h, e.g. "10m"`,
		file + `:22:1: only one of automatic_scaling, basic_scaling or manual_scaling may be given`,
		file + `:23:14: instances must be 1 or more, not 0`,
		file + ":25:3: invalid skip_files regexp `^(.*/)?*.bak$`: invalid nested repetition operator: `?*`",
		file + ":27:8: invalid url regexp `/(foo`: missing closing )",
		file + `:31:3: handler has both script and static_dir; it must have only one of script, static_dir or static_files`,
		file + `:33:3: static_files needs "upload", a regexp of the files it may serve, e.g. "upload: static/.*"`,
		file + `:35:3: upload is only allowed with static_files`,
		file + `:37:3: handler must have one of script, static_dir or static_files`,
		file + `:37:3: handler needs a url, e.g. "url: /.*"`,
		file + `:37:10: invalid login "sometimes": use optional, required or admin`,
		file + `:38:21: invalid auth_fail_action "explode": use redirect or unauthorized`,
		file + `:39:11: invalid secure "maybe": use optional, always or never`,
		file + `:40:32: invalid redirect_http_response_code "308": use 301, 302, 303 or 307`,
		file + `:41:3: warning: key "application_readable" in handler does nothing locally; appdeck ignores it`,
		file + `:45:15: invalid duration "1 week": use a number followed by d, h, m or s, e.g. "4d 5h"`,
		file + `:47:5: header "X-Appengine-Country" cannot be set: X-Appengine-* headers belong to App Engine`,
		file + `:48:5: header "Content-Length" cannot be set: App Engine sets it`,
		file + `:49:5: header "Connection" cannot be set: it is a hop-by-hop header`,
		file + `:50:5: invalid header name "Bad Header": use letters, digits and hyphens`,
		file + `:51:5: http_headers sets Content-Type and mime_type is "text/plain"; keep only one`,
		file + ":54:11: invalid upload regexp `u(`: missing closing )",
		file + `:56:3: error handler needs a file, e.g. "file: errors/default.html"`,
		file + `:56:15: invalid error_code "teapot": use default, over_quota, dos_api_denial or timeout`,
		file + `:58:14: mime_type must be a string, not a mapping`,
	})
}

func TestParseServiceErrors(t *testing.T) {
	manyHandlers := "runtime: go122\nhandlers:\n" + strings.Repeat("- {url: /, script: auto}\n", 101)
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{"empty", "", []string{`app.yaml: file is empty; an app.yaml needs at least a runtime, e.g. "runtime: go122"`}},
		{"only comments", "# nothing yet\n", []string{`app.yaml: file is empty; an app.yaml needs at least a runtime, e.g. "runtime: go122"`}},
		{"null", "~\n", []string{`app.yaml: file is empty; an app.yaml needs at least a runtime, e.g. "runtime: go122"`}},
		{"not a mapping", "- runtime: go122\n", []string{
			`app.yaml:1:1: the file must be a mapping of keys to values, not a list; an app.yaml needs at least a runtime, e.g. "runtime: go122"`}},
		{"syntax error", "runtime: go122\nhandlers:\n- url: /\n  script: [auto\n", []string{
			`app.yaml:4:11: invalid YAML: unclosed "[": add the closing "]" (or quote the value if the "[" is text)`}},
		{"parser error", "runtime: go122\n- b\n", []string{`app.yaml:2:1: invalid YAML: a list item among the keys of a mapping (the key at 1:1 has the same indentation); put the list under a key of its own, indented`}},
		{"scanner error", "runtime: go122\nb: 2\n  c: 3\n", []string{`app.yaml:3:3: invalid YAML: this line is indented more than the key above it at 2:1, so YAML reads it as more of that key's value; indent the two the same`}},
		{"error on line 1", "runtime: go122: x\n", []string{`app.yaml:1:15: invalid YAML: ":" followed by a space inside a plain value; quote the value, e.g. "go122: x"`}},
		{"tab indent", "runtime: go122\nhandlers:\n\t- url: /\n", []string{
			`app.yaml:3:1: invalid YAML: found character that cannot start any token (YAML is indented with spaces, not tabs)`}},
		// yaml.v3 puts these at the line of the value before the tab.
		{"tab after a value", "runtime: go122\nenv_variables:\n  A: 1\n\tB: 2\n", []string{
			`app.yaml:4:1: invalid YAML: found a tab character that violates indentation (YAML is indented with spaces, not tabs)`}},
		{"tab after spaces, blank lines between", "runtime: go122\nenv_variables:\n  A: 1\n\n  \tB: 2\n", []string{
			`app.yaml:5:3: invalid YAML: found a tab character that violates indentation (YAML is indented with spaces, not tabs)`}},
		{"tab in a block scalar", "runtime: go122\nentrypoint: |\n  serve\n\t--port 1\n", []string{
			`app.yaml:4:1: invalid YAML: found a tab character where an indentation space is expected (YAML is indented with spaces, not tabs)`}},
		{"tab on line 1", "\truntime: go122\n", []string{
			`app.yaml:1:1: invalid YAML: found character that cannot start any token (YAML is indented with spaces, not tabs)`}},
		{"unknown anchor", "runtime: *go\n", []string{`app.yaml:1:10: invalid YAML: unknown anchor 'go' referenced (quote a value that starts with "*", e.g. "*/api/*")`}},
		{"missing runtime", "service: api\n", []string{`app.yaml:1:1: runtime is required, e.g. "runtime: go122"`}},
		{"empty runtime", "runtime: ''\n", []string{`app.yaml:1:10: runtime must not be empty, e.g. "runtime: go122"`}},
		{"runtime mapping", "runtime: {name: go}\n", []string{`app.yaml:1:10: runtime must be a string, not a mapping`}},
		{"unknown runtime", "runtime: go1\n", []string{`app.yaml:1:10: unknown runtime "go1"; use go122 or python312`}},
		{"repeated key", "runtime: go122\nservice: a\nservice: b\n", []string{`app.yaml:3:1: key "service" is repeated; first at line 2`}},
		{"service and module", "runtime: go122\nmodule: a\nservice: a\n", []string{`app.yaml:3:1: module and service are the same setting; keep only service`}},
		{"long service name", "runtime: go122\nservice: " + strings.Repeat("a", 64) + "\n", []string{
			`app.yaml:2:10: invalid service name "` + strings.Repeat("a", 64) + `": use at most 63 lowercase letters, digits and hyphens, starting and ending with a letter or digit`}},
		{"hyphen service name", "runtime: go122\nservice: api-\n", []string{
			`app.yaml:2:10: invalid service name "api-": use at most 63 lowercase letters, digits and hyphens, starting and ending with a letter or digit`}},
		{"two app ids", "runtime: go122\napplication: a\nproject: b\n", []string{`app.yaml:3:10: more than one application id: a, b`}},
		{"merge key", "runtime: go122\nenv_variables:\n  <<: {A: 1}\n", []string{`app.yaml:3:3: merge keys (<<) are not supported; write the keys out`}},
		{"list key", "runtime: go122\n? [a]\n: b\n", []string{`app.yaml:2:3: a key in app.yaml must be a string, not a list`}},
		{"handlers not a list", "runtime: go122\nhandlers: /.*\n", []string{`app.yaml:2:11: handlers must be a list, not "/.*"`}},
		{"handler not a mapping", "runtime: go122\nhandlers:\n- /.*\n", []string{`app.yaml:3:3: a handler must be a mapping, not "/.*"`}},
		{"empty handler", "runtime: go122\nhandlers:\n-\n", []string{`app.yaml:3:2: a handler must be a mapping, not an empty value`}},
		{"too many handlers", manyHandlers, []string{`app.yaml:103:3: more than 100 handlers; App Engine allows at most 100`}},
		{"empty url and script", "runtime: go122\nhandlers:\n- url: ''\n  script:\n", []string{
			`app.yaml:3:8: url must not be empty, e.g. "url: /.*"`,
			`app.yaml:4:10: script must not be empty`}},
		{"three handler kinds", "runtime: go122\nhandlers:\n- url: /\n  static_files: a\n  upload: a\n  script: auto\n  static_dir: d\n", []string{
			`app.yaml:6:3: handler has both static_files and script; it must have only one of script, static_dir or static_files`,
			`app.yaml:7:3: handler has both static_files and static_dir; it must have only one of script, static_dir or static_files`}},
		{"perl regexp", "runtime: go122\nhandlers:\n- url: /(?!admin).*\n  script: auto\n", []string{
			"app.yaml:3:8: invalid url regexp `/(?!admin).*`: invalid or unsupported Perl syntax: `(?!`"}},
		{"header value", "runtime: go122\nhandlers:\n- url: /\n  static_dir: s\n  http_headers: {X-A: \"a\\nb\", Date: x, te: y, Content-Encoding: z}\n", []string{
			`app.yaml:5:23: the value of header X-A contains a control character`,
			`app.yaml:5:31: header "Date" cannot be set: App Engine sets it`,
			`app.yaml:5:40: header "te" cannot be set: it is a hop-by-hop header`,
			`app.yaml:5:47: header "Content-Encoding" cannot be set: App Engine sets it`}},
		{"http_headers list", "runtime: go122\nhandlers:\n- url: /\n  static_dir: s\n  http_headers: [a]\n", []string{
			`app.yaml:5:17: http_headers must be a mapping, not a list`}},
		{"env", "runtime: go122\nenv_variables:\n  A=B: 1\n  C: [1]\n  D: \"\\0\"\n", []string{
			`app.yaml:3:3: invalid environment variable name "A=B": it must not be empty nor contain = or a NUL byte`,
			`app.yaml:4:6: the value of C must be a string, not a list`,
			`app.yaml:5:6: the value of D contains a NUL byte, which the environment cannot hold`}},
		{"expiration too long", "runtime: go122\ndefault_expiration: 999999999d\n", []string{
			`app.yaml:2:21: duration "999999999d" is too long`}},
		{"empty expiration", "runtime: go122\ndefault_expiration: ''\n", []string{
			`app.yaml:2:21: invalid duration "": use a number followed by d, h, m or s, e.g. "4d 5h"`}},
		{"latency", "runtime: go122\nautomatic_scaling:\n  min_pending_latency: 5\n  max_pending_latency: 1.2345s\n", []string{
			`app.yaml:3:24: invalid min_pending_latency "5": use "automatic" or a number followed by ms or s, e.g. "30ms" or "1.5s"`,
			`app.yaml:4:24: invalid max_pending_latency "1.2345s": use "automatic" or a number followed by ms or s, e.g. "30ms" or "1.5s"`}},
		{"idle counts", "runtime: go122\nautomatic_scaling:\n  min_idle_instances: 9\n  max_idle_instances: 2\n  max_instances: many\n  min_instances: 99999999999999999999\n", []string{
			`app.yaml:3:23: min_idle_instances 9 is greater than max_idle_instances 2`,
			`app.yaml:5:18: max_instances must be a whole number, not "many"`,
			`app.yaml:6:18: min_instances must be 0 or more, not 99999999999999999999`}},
		{"basic", "runtime: go122\nbasic_scaling:\n  max_instances: 0\n  idle_timeout: 1.5m\n", []string{
			`app.yaml:3:18: max_instances must be 1 or more, not 0`,
			`app.yaml:4:17: invalid idle_timeout "1.5m": use a number followed by s, m or h, e.g. "10m"`}},
		{"scaling block kind", "runtime: go122\nmanual_scaling: 3\n", []string{`app.yaml:2:17: manual_scaling must be a mapping, not "3"`}},
		{"instance class", "runtime: go122\ninstance_class: F3\n", []string{
			`app.yaml:2:17: invalid instance_class "F3": use F1, F2, F4, F4_1G, B1, B2, B4, B4_1G or B8`}},
		{"instance class and scaling", "runtime: go122\ninstance_class: F4\nbasic_scaling: {}\n", []string{
			`app.yaml:2:17: instance class F4 does not go with basic scaling; use B1, B2, B4, B4_1G or B8`}},
		{"skip_files", "runtime: go122\nskip_files: {a: b}\n", []string{`app.yaml:2:13: skip_files must be a regexp or a list of them, not a mapping`}},
		{"skip_files entry", "runtime: go122\nskip_files:\n- [a]\n- x(\n", []string{
			`app.yaml:3:3: a skip_files entry must be a string, not a list`,
			"app.yaml:4:3: invalid skip_files regexp `x(`: missing closing )"}},
		{"inbound", "runtime: go122\ninbound_services: warmup\n", []string{`app.yaml:2:19: inbound_services must be a list, not "warmup"`}},
		{"error handlers", "runtime: go122\nerror_handlers:\n- file: ''\n- x\n", []string{
			`app.yaml:3:9: file must not be empty`,
			`app.yaml:4:3: an error handler must be a mapping, not "x"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, diags := ParseService("app.yaml", []byte(tt.yaml), testOptions)
			checkLines(t, diags, tt.want)
		})
	}
}

func TestParseExpiration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"0": 0, "15": 15 * time.Second, "15s": 15 * time.Second, "3m": 3 * time.Minute,
		"1d 2h 3m 4s": 26*time.Hour + 3*time.Minute + 4*time.Second, "  2h  2h ": 4 * time.Hour,
		"1D": 24 * time.Hour,
	} {
		if got, err := parseExpiration(in); err != nil || got != want {
			t.Errorf("parseExpiration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", " ", "10x", "1h30m", "-1s", "1.5h", "h", "2 days"} {
		if _, err := parseExpiration(in); err == nil {
			t.Errorf("parseExpiration(%q) succeeded", in)
		}
	}
}
