package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestAllowHostFlag(t *testing.T) {
	o, paths, err := parseArgs([]string{"--allow-host", "dev.example.com", "app.yaml", "--allow-host", "**.example.dev"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(o.allowHosts, hostsFlag{"dev.example.com", "**.example.dev"}) || !slices.Equal(paths, []string{"app.yaml"}) {
		t.Errorf("allowHosts %q paths %q", o.allowHosts, paths)
	}
	for _, bad := range []string{"*", "*.", "http://x", "a:80", "a*.b"} {
		_, _, err := parseArgs([]string{"--allow-host", bad})
		if err == nil || !strings.Contains(err.Error(), "not a host pattern") {
			t.Errorf("--allow-host %q: %v", bad, err)
		}
	}
}

func TestFlagValuesAreChecked(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--grace", "-1s"}, "--grace -1s: want a positive duration such as 5s"},
		{[]string{"--grace", "0s"}, "--grace 0s: want a positive duration"},
		{[]string{"--log-lines", "-5"}, "--log-lines -5: want 1 to 1000000 lines"},
		{[]string{"--log-lines", "0"}, "--log-lines 0: want 1 to 1000000 lines"},
		{[]string{"--log-lines", "5000000"}, "--log-lines 5000000: want 1 to 1000000 lines"},
		{[]string{"--port", "70000"}, "--port 70000: want a port number, 0 to 65535"},
		{[]string{"--admin-port", "-1"}, "--admin-port -1: want a port number"},
		{[]string{"--max-instances", "-1"}, "--max-instances -1: want 0 (no cap) or more"},
		{[]string{"--pending-timeout", "0s"}, "--pending-timeout 0s: want a positive duration"},
		// Values the flags' types cannot parse say what is wanted too.
		{[]string{"--grace", "soon"}, "--grace soon: want a positive duration such as 5s"},
		{[]string{"--port", "abc"}, "--port abc: want a port number, 0 to 65535 (0 picks free ports)"},
		{[]string{"-port", "99999999999999999999"}, "--port 99999999999999999999: want a port number"},
		{[]string{"--port="}, `--port "": want a port number`},
		{[]string{"--headless=maybe"}, "--headless maybe: want true or false"},
		{[]string{"--env", "X"}, `invalid value "X" for flag --env: want KEY=VALUE, got "X"`},
		{[]string{"--frob"}, "flag provided but not defined: --frob"},
	} {
		_, _, err := parseArgs(tc.args)
		var ee *exitError
		if !errors.As(err, &ee) || ee.code != exitUsage || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want exit 2 with %q", tc.args, err, tc.want)
		}
	}
	if _, _, err := parseArgs([]string{"--grace", "1ms", "--log-lines", "1", "--port", "65535", "--max-instances", "0"}); err != nil {
		t.Errorf("the smallest allowed values: %v", err)
	}
}

func TestCommandsRejectExtraArguments(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"version", "extra"}, `appdeck: version takes no arguments, got "extra"`},
		{[]string{"help", "extra"}, `appdeck: help takes no arguments, got "extra"`},
		{[]string{"demo", "extra"}, `appdeck: demo runs the built-in demo app and takes no PATH, got "extra"`},
		{[]string{"demo", "--log-lines", "0"}, "appdeck: --log-lines 0: want 1 to 1000000 lines"},
		{[]string{"validate", "--port", "9", "app.yaml"}, "appdeck: validate takes only PATHs, not --port"},
		{[]string{"ctl", "--timeout", "-1s", "wait", "--ready"}, "appdeck: --timeout -1s: want a positive duration"},
		{[]string{"ctl", "--tail", "some", "logs"}, "appdeck: --tail some: want a number of lines"},
		{[]string{"ctl", "--tail", "-5", "logs"}, "appdeck: --tail -5: want a number of lines: 0 (none) or more, or -1 (all)"},
		{[]string{"ctl", "--tail", "3", "status"}, "appdeck: --tail does not apply to ctl status"},
	} {
		out, err := appdeckCmd(t, "none", tc.args...).CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != exitUsage || !strings.Contains(string(out), tc.want) {
			t.Errorf("appdeck %s: %v, want exit 2 with %q; output:\n%s", strings.Join(tc.args, " "), err, tc.want, out)
		}
	}
}

// TestHelpListsFlagsAlike checks both flag lists: GNU style names, one
// column for the help, 80 columns, each default once.
func TestHelpListsFlagsAlike(t *testing.T) {
	var main, ctl strings.Builder
	usage(&main)
	ctlUsage(&ctl)
	for name, text := range map[string]string{"appdeck --help": main.String(), "appdeck ctl --help": ctl.String()} {
		_, flags, ok := strings.Cut(text, "\nFlags:\n")
		if !ok {
			t.Fatalf("%s has no Flags section:\n%s", name, text)
		}
		flags, _, _ = strings.Cut(flags, "\n\n")
		for _, l := range strings.Split(flags, "\n") {
			switch {
			case len(l) > 80:
				t.Errorf("%s: line longer than 80 columns: %q", name, l)
			case strings.HasPrefix(l, "  -") && !strings.HasPrefix(l, "  --") && !regexp.MustCompile(`^  -\w( |$)`).MatchString(l):
				t.Errorf("%s: a long flag with one dash: %q", name, l)
			case strings.Count(l, "(default") > 1:
				t.Errorf("%s: default given twice: %q", name, l)
			case len(l) > 28 && l[27] != ' ' || len(l) > 28 && l[28] == ' ':
				t.Errorf("%s: help not in its column: %q", name, l)
			}
		}
	}
	for _, want := range []string{"  --theme NAME|FILE", "  --pending-timeout DURATION\n", "  --log-format text|json "} {
		if !strings.Contains(main.String(), want) {
			t.Errorf("appdeck --help lacks %q", want)
		}
	}
	for _, want := range []string{"  --admin URL ", "  -f  ", "  --timeout DURATION "} {
		if !strings.Contains(ctl.String(), want) {
			t.Errorf("appdeck ctl --help lacks %q", want)
		}
	}
}

// TestPathMessages: a path that is not there is an error like the
// others (appdeck's prefix), and validate checks a dispatch file alone as
// far as it can.
func TestPathMessages(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "dispatch.yaml"), "dispatch:\n- url: \"*/api/*\"\n  service: api\n")
	if err := os.Mkdir(filepath.Join(dir, "bad"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "bad", "dispatch.yaml"), "dispatch:\n- url: \"*/api/*\"\n")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"nosuchdir2"}, exitUsage,
			"appdeck: nosuchdir2: no such file or directory; pass the path of an app.yaml, a service directory or a dispatch.yaml\n"},
		{[]string{"validate", "dispatch.yaml"}, exitOK,
			"1 dispatch rule(s) OK; to check the services they name too, pass their app.yaml files or directories with it\n"},
		{[]string{"validate", "bad/dispatch.yaml"}, exitUsage, "bad/dispatch.yaml:2:3: dispatch rule needs a service\n"},
		{[]string{"--port", "0", "dispatch.yaml"}, exitUsage,
			"appdeck: dispatch.yaml: a dispatch file routes requests to services but runs none; pass the app.yaml files or directories of its services with it\n"},
	} {
		cmd := appdeckCmd(t, "none", tc.args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		}
		if code != tc.code || string(out) != tc.want {
			t.Errorf("appdeck %s: exit %d, output:\n%q\nwant exit %d and:\n%q", strings.Join(tc.args, " "), code, out, tc.code, tc.want)
		}
	}
}
