package main

import (
	"math/rand/v2"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestStartupWarningsShow: the configuration's warnings at start are in
// the service's log, so headless output prints them once among the
// service's lines, and the dashboard flashes that they are there.
func TestStartupWarningsShow(t *testing.T) {
	const app = "runtime: custom\nentrypoint: sleep 600\nenv_varaibles:\n  A: b\n"
	const warning = `app.yaml:3:1: warning: unknown key "env_varaibles" in app.yaml (did you mean "env_variables"?); appdeck ignores it`
	t.Run("headless", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "app.yaml"), app)
		d := startDeck(t, dir, "--headless", "--no-color", "--port", "0", "--admin-port", "0")
		deadline := time.Now().Add(60 * time.Second)
		for !strings.Contains(d.out.String(), "default | [appdeck] "+warning) {
			if time.Now().After(deadline) {
				t.Fatalf("no warning among the service's lines; output:\n%s%s", d.out.String(), d.errs.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
		if strings.Contains(d.errs.String(), warning) {
			t.Errorf("the warning is printed twice, on stderr too:\n%s", d.errs.String())
		}
		if logs := d.mustCtl("logs", "default"); !strings.Contains(logs, warning) {
			t.Errorf("ctl logs lacks the warning:\n%s", logs)
		}
		d.stop()
	})
	t.Run("dashboard", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "app.yaml"), app)
		marker := strconv.FormatUint(rand.Uint64(), 36)
		env := []string{"XDG_CACHE_HOME=" + t.TempDir(), "APPDECK_TEST_MARKER=" + marker, "NO_COLOR=1", "TERM=xterm-256color"}
		s := startTmux(t, 200, 30, env, appdeckBin, "--port", "0", "--admin-port", "0", filepath.Join(dir, "app.yaml"))
		t.Cleanup(func() {
			for _, pid := range markedProcesses(marker) {
				_ = syscallKill(pid)
			}
		})
		s.waitScreen("the flash in the status bar", regexp.MustCompile(`1 configuration warning: see the service's log \(v\)`), 60*time.Second)
		s.keys("v")
		s.waitScreen("the warning in the service's log", regexp.MustCompile(`default +│ .*`+regexp.QuoteMeta(warning)), 10*time.Second)
		s.keys("C-c")
		s.waitEnded("ctrl+c", 30*time.Second)
	})
}

// The dashboard covers what appdeck printed on stderr at start, so it
// shows those notices again: here, that another appdeck serves the app.
func TestDashboardShowsTheStartNotices(t *testing.T) {
	dir := oneServiceApp(t)
	first := startDeck(t, dir, "--headless", "--port", "0", "--admin-port", "0", "--grace", "3s")
	first.mustCtl("wait", "--ready", "--timeout", "90s")
	marker := strconv.FormatUint(rand.Uint64(), 36)
	env := []string{"XDG_CACHE_HOME=" + first.cache, "APPDECK_TEST_MARKER=" + marker, "NO_COLOR=1", "TERM=xterm-256color"}
	s := startTmux(t, 250, 30, env, appdeckBin, "--port", "0", "--admin-port", "0", "--grace", "3s", filepath.Join(dir, "app.yaml"))
	t.Cleanup(func() {
		for _, pid := range markedProcesses(marker) {
			_ = syscallKill(pid)
		}
	})
	s.waitScreen("the notice in the status bar", regexp.MustCompile(`another appdeck already serves`), 60*time.Second)
	s.keys("C-c")
	s.waitEnded("ctrl+c", 30*time.Second)
}
