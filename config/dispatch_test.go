package config

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseDispatch(t *testing.T) {
	const file = "testdata/multi/dispatch.yaml"
	d, diags := ParseDispatch(file, readFile(t, file))
	checkLines(t, diags, nil)
	if !strings.HasSuffix(d.File, "/config/"+file) {
		t.Errorf("File = %q, want an absolute path", d.File)
	}
	pos := func(line, col int) Pos { return Pos{File: file, Line: line, Col: col} }
	want := []DispatchRule{
		{Pos: pos(2, 3), URL: "*/api/*", Host: "*", Path: "/api/*", Service: "api", ServicePos: pos(3, 12)},
		{Pos: pos(4, 3), URL: "*.example.com/", Host: "*.example.com", Path: "/", Service: "default", ServicePos: pos(5, 12)},
		{Pos: pos(6, 3), URL: "example.com/static/logo.png", Host: "example.com", Path: "/static/logo.png", Service: "default", ServicePos: pos(7, 11)},
	}
	if !reflect.DeepEqual(d.Rules, want) {
		t.Errorf("rules:\n%+v\nwant:\n%+v", d.Rules, want)
	}
}

func TestParseDispatchHostless(t *testing.T) {
	d, diags := ParseDispatch("dispatch.yaml", []byte("dispatch:\n- {url: /favicon.ico, service: static}\n"))
	checkLines(t, diags, nil)
	if r := d.Rules[0]; r.Host != "" || r.Path != "/favicon.ico" {
		t.Errorf("Host, Path = %q, %q; want \"\", /favicon.ico", r.Host, r.Path)
	}
}

func TestParseDispatchErrors(t *testing.T) {
	long := "*/" + strings.Repeat("a", 99)
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{"empty", "", []string{`dispatch.yaml: file is empty; a dispatch.yaml needs a "dispatch" list of url and service pairs`}},
		{"syntax", "dispatch:\n- url: [\n", []string{`dispatch.yaml:2:8: invalid YAML: unclosed "[": add the closing "]" (or quote the value if the "[" is text)`}},
		{"no dispatch key", "rules: []\n", []string{
			`dispatch.yaml:1:1: warning: unknown key "rules" in dispatch.yaml; appdeck ignores it`,
			`dispatch.yaml:1:1: a dispatch.yaml needs a "dispatch" list of url and service pairs`}},
		{"unquoted star", "dispatch:\n- service: a\n  url: */api/*\n", []string{
			`dispatch.yaml:3:8: invalid YAML: did not find expected alphabetic or numeric character (quote a value that starts with "*", e.g. "*/api/*")`}},
		{"not a list", "dispatch: {url: /, service: a}\n", []string{`dispatch.yaml:1:11: dispatch must be a list, not a mapping`}},
		{"rule not a mapping", "dispatch:\n- /api/*\n", []string{`dispatch.yaml:2:3: a dispatch rule must be a mapping, not "/api/*"`}},
		{"missing fields", "dispatch:\n- servce: api\n", []string{
			`dispatch.yaml:2:3: warning: unknown key "servce" in dispatch rule (did you mean "service"?); appdeck ignores it`,
			`dispatch.yaml:2:3: dispatch rule needs a url, e.g. "url: */api/*"`,
			`dispatch.yaml:2:3: dispatch rule needs a service`}},
		{"empty service", "dispatch:\n- url: '*/a'\n  service: ''\n", []string{`dispatch.yaml:3:12: service must not be empty`}},
		{"service and module", "dispatch:\n- url: '*/a'\n  service: a\n  module: a\n", []string{
			`dispatch.yaml:4:3: service and module are the same setting; keep only service`}},
		{"url too long", "dispatch:\n- url: '" + long + "'\n  service: a\n", []string{
			`dispatch.yaml:2:8: url is 101 characters long; App Engine allows at most 100`}},
		{"no path", "dispatch:\n- url: example.com\n  service: a\n", []string{`dispatch.yaml:2:8: url must contain a path, e.g. "*/api/*"`}},
		{"scheme", "dispatch:\n- url: https://example.com/*\n  service: a\n", []string{
			`dispatch.yaml:2:8: url must not have a scheme; write the host and path, e.g. "example.com/api/*"`}},
		{"star inside host", "dispatch:\n- url: 'api.*.com/*'\n  service: a\n- url: '*api.com/*'\n  service: a\n- url: '*./*'\n  service: a\n", []string{
			`dispatch.yaml:2:8: "*" may only start the host, as in "*/api/*" or "*.example.com/api/*"`,
			`dispatch.yaml:4:8: "*" may only start the host, as in "*/api/*" or "*.example.com/api/*"`,
			`dispatch.yaml:6:8: "*" may only start the host, as in "*/api/*" or "*.example.com/api/*"`}},
		{"star inside path", "dispatch:\n- url: '*/api/*/v1'\n  service: a\n", []string{
			`dispatch.yaml:2:8: "*" may only end the path, as in "*/api/*"`}},
		{"url mapping", "dispatch:\n- url: {a: b}\n  service: a\n", []string{`dispatch.yaml:2:8: url must be a string, not a mapping`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, diags := ParseDispatch("dispatch.yaml", []byte(tt.yaml))
			checkLines(t, diags, tt.want)
		})
	}
}
