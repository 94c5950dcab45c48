package admin

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// State is what a running appdeck writes so that `appdeck ctl` can find
// it: where its admin API listens and the token that state-changing calls
// need. The file lives in the user's cache directory, named after the
// app's directory, readable by the user only; nothing goes into the app.
type State struct {
	PID     int       `json:"pid"`
	Admin   string    `json:"admin"` // the API's base URL: http://127.0.0.1:8000
	Token   string    `json:"token"`
	App     string    `json:"app"`  // the app's name
	Root    string    `json:"root"` // the app's directory, canonical
	Started time.Time `json:"started"`

	// An appdeck that ends with a failure leaves a record of it in place
	// of its state (see WriteExit), so that `appdeck ctl wait`, started
	// beside it, can say why it ended instead of waiting in vain.
	Exited time.Time `json:"exited,omitzero"`
	Status int       `json:"status,omitempty"` // its exit status
	Reason string    `json:"reason,omitempty"` // what it printed as the cause
}

// exitKept is how long a record of a failed exit is kept: long enough for
// a wait started with appdeck to read it, short enough not to pile up.
const exitKept = time.Minute

// ErrNoState means no running appdeck serves the directory.
var ErrNoState = errors.New("no appdeck is running for this directory")

// stateDir is where state files are kept.
func stateDir() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("finding the cache directory: %w", err)
	}
	return filepath.Join(base, "appdeck", "run"), nil
}

// Canonical makes a directory comparable: absolute, symbolic links
// resolved (when it exists).
func Canonical(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return filepath.Clean(dir)
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		return real
	}
	return abs
}

// statePath is the state file of the appdeck serving root.
func statePath(root string) (string, error) {
	dir, err := stateDir()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(Canonical(root)))
	return filepath.Join(dir, fmt.Sprintf("%x.json", sum[:8])), nil
}

// WriteState writes st, mode 0600, for st.Root and returns the file's
// path. Another appdeck serving the same directory is replaced: the
// newest one is the one ctl talks to.
func WriteState(st State) (string, error) {
	st.Root = Canonical(st.Root)
	path, err := statePath(st.Root)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", fmt.Errorf("writing the state file: %w", err)
	}
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return "", err
	}
	// Written beside and renamed into place, so that a reader never sees
	// half a file; CreateTemp makes it 0600.
	f, err := os.CreateTemp(filepath.Dir(path), ".state-*")
	if err != nil {
		return "", fmt.Errorf("writing the state file: %w", err)
	}
	_, err = f.Write(append(b, '\n'))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("writing the state file: %w", err)
	}
	return path, nil
}

// WriteExit writes st, which describes an appdeck that ended with a
// failure (Exited, Status and Reason set), in place of its state file. It
// leaves alone the state of another appdeck that is running for the same
// directory.
func WriteExit(st State) error {
	path, err := statePath(st.Root)
	if err != nil {
		return err
	}
	if cur, err := readState(path); err == nil && cur.PID != st.PID && cur.Exited.IsZero() && Alive(cur.PID) {
		return nil
	}
	_, err = WriteState(st)
	return err
}

// RemoveState removes the state file at path if it is still st's: a
// newer appdeck for the same app may have replaced it.
func RemoveState(path string, st State) {
	if cur, err := readState(path); err == nil && cur.Token == st.Token {
		os.Remove(path)
	}
}

func readState(path string) (State, error) {
	var st State
	b, err := os.ReadFile(path)
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, fmt.Errorf("%s: %w", path, err)
	}
	return st, nil
}

// FindState returns the state of the running appdeck that serves dir or
// the nearest directory above it. A file left by an appdeck that died
// without cleaning up is removed on the way.
func FindState(dir string) (State, error) {
	st, ok, err := findUp(dir, func(st State) bool { return st.Exited.IsZero() })
	if err == nil && !ok {
		err = ErrNoState
	}
	return st, err
}

// FindExit returns the record of an appdeck for dir or a directory above
// it that ended with a failure after since, the nearest first.
func FindExit(dir string, since time.Time) (State, bool) {
	st, ok, _ := findUp(dir, func(st State) bool { return !st.Exited.IsZero() && st.Exited.After(since) })
	return st, ok
}

// findUp reads the state files of dir and the directories above it and
// returns the first that match accepts, removing on the way the files of
// appdecks that died and records of exits older than exitKept.
func findUp(dir string, match func(State) bool) (State, bool, error) {
	for d := Canonical(dir); ; d = filepath.Dir(d) {
		path, err := statePath(d)
		if err != nil {
			return State{}, false, err
		}
		if st, err := readState(path); err == nil && current(path, st) && match(st) {
			return st, true, nil
		}
		if filepath.Dir(d) == d {
			return State{}, false, nil
		}
	}
}

// current reports whether a state file still says something: the state
// of a running appdeck, or a recent exit. Others are removed.
func current(path string, st State) bool {
	if st.Exited.IsZero() && Alive(st.PID) || !st.Exited.IsZero() && time.Since(st.Exited) < exitKept {
		return true
	}
	os.Remove(path)
	return false
}

// RunningStates returns the states of every running appdeck, removing the
// files of those that died.
func RunningStates() []State {
	dir, err := stateDir()
	if err != nil {
		return nil
	}
	paths, _ := filepath.Glob(filepath.Join(dir, "*.json")) // the pattern is valid
	var out []State
	for _, p := range paths {
		if st, err := readState(p); err == nil && current(p, st) && st.Exited.IsZero() {
			out = append(out, st)
		}
	}
	return out
}

// Alive reports whether a process with that pid exists.
func Alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
