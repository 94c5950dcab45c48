package admin

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestStateIsPrivateFoundFromBelowAndRemovedOnlyByItsOwner(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache)
	app := t.TempDir()
	sub := filepath.Join(app, "web", "static")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	st := State{PID: os.Getpid(), Admin: "http://127.0.0.1:8000", Token: "t1", App: "app", Root: app, Started: time.Now()}
	path, err := WriteState(st)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(path, filepath.Join(cache, "appdeck", "run")+string(filepath.Separator)) {
		t.Errorf("state file %s is not in the user's cache directory", path)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("state file mode %v, %v; want 0600", fi.Mode(), err)
	}
	if fi, err := os.Stat(filepath.Dir(path)); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("state directory mode %v, %v; want 0700", fi.Mode(), err)
	}
	if entries, _ := os.ReadDir(app); len(entries) != 1 { // only web/
		t.Errorf("something was written into the app directory: %v", entries)
	}

	for _, dir := range []string{app, sub} {
		got, err := FindStates(dir)
		if err != nil || len(got) != 1 || got[0].Token != "t1" || got[0].Root != Canonical(app) {
			t.Errorf("FindStates(%s) = %+v, %v", dir, got, err)
		}
	}
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(sub, link); err != nil {
		t.Fatal(err)
	}
	if got, err := FindStates(link); err != nil || len(got) != 1 || got[0].Token != "t1" {
		t.Errorf("through a symbolic link: %+v, %v", got, err)
	}
	if _, err := FindStates(t.TempDir()); !errors.Is(err, ErrNoState) {
		t.Errorf("elsewhere: %v, want ErrNoState", err)
	}
	if got := RunningStates(); len(got) != 1 || got[0].Token != "t1" {
		t.Errorf("RunningStates = %+v", got)
	}

	// A second appdeck for the same app: both are found, the newest
	// first, and either one's exit leaves the other's state.
	newer := st
	newer.PID, newer.Token, newer.Started = livePID(t), "t2", st.Started.Add(time.Second)
	newerPath, err := WriteState(newer)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := FindStates(sub); err != nil || len(got) != 2 || got[0].Token != "t2" || got[1].Token != "t1" {
		t.Errorf("FindStates with two appdecks = %+v, %v; want t2 then t1", got, err)
	}
	if got := StatesOf(app); len(got) != 2 {
		t.Errorf("StatesOf = %+v, want both", got)
	}
	RemoveState(newerPath, newer)
	if got, err := FindStates(app); err != nil || len(got) != 1 || got[0].Token != "t1" {
		t.Errorf("after the newer one stopped: %+v, %v; want the older one's state", got, err)
	}
	RemoveState(path, st)
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("state file still there after RemoveState: %v", err)
	}
}

// livePID returns the pid of a process that lives until the test ends.
func livePID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("sleep", "600")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd.Process.Pid
}

func TestStateOfADeadProcessIsIgnoredAndRemoved(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	app := t.TempDir()
	path, err := WriteState(State{PID: cmd.Process.Pid, Token: "x", Root: app})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := FindStates(app); !errors.Is(err, ErrNoState) {
		t.Errorf("FindStates: %v, want ErrNoState", err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("stale state file kept: %v", err)
	}
}

func TestExitRecordReplacesOnlyItsOwnState(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	app := t.TempDir()
	sub := filepath.Join(app, "web")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	live := State{PID: os.Getpid(), Admin: "http://127.0.0.1:8000", Token: "t1", Root: app, Started: time.Now()}
	path, err := WriteState(live)
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now()

	// Another appdeck of the same app failing leaves the running one's state.
	other := State{PID: os.Getpid() + 1_000_000, Root: app, Exited: time.Now(), Status: 1, Reason: "port in use"}
	otherPath, err := WriteState(other)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := FindStates(app); err != nil || len(got) != 1 || got[0].Token != "t1" {
		t.Errorf("the running appdeck's state was replaced: %+v, %v", got, err)
	}
	os.Remove(otherPath)

	failed := live
	failed.Exited, failed.Status, failed.Reason = time.Now(), 1, `service "default" could not be built`
	if _, err := WriteState(failed); err != nil {
		t.Fatal(err)
	}
	if _, err := FindStates(sub); !errors.Is(err, ErrNoState) {
		t.Errorf("FindStates after the exit: %v, want ErrNoState", err)
	}
	if got := RunningStates(); len(got) != 0 {
		t.Errorf("RunningStates lists an exit: %+v", got)
	}
	if got, ok := FindExit(sub, before.Add(-time.Second)); !ok || got.Status != 1 || got.Reason != failed.Reason {
		t.Errorf("FindExit = %+v, %v", got, ok)
	}
	if _, ok := FindExit(sub, time.Now()); ok {
		t.Error("FindExit returned an exit older than asked for")
	}

	// Old records go.
	failed.Exited = time.Now().Add(-2 * exitKept)
	if _, err := WriteState(failed); err != nil {
		t.Fatal(err)
	}
	if _, ok := FindExit(app, time.Time{}); ok {
		t.Error("FindExit returned a record older than exitKept")
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("old exit record kept: %v", err)
	}
}
