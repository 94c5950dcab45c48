package admin

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// State is what a running appdeck writes so that `appdeck ctl` can find
// it: where its admin API listens and the token that state-changing calls
// need. The file lives in the user's cache directory, named after the
// app's directory and the process, readable by the user only; nothing goes
// into the app. Each appdeck has its own file, so that two serving the
// same directory can both be found, and one that stops leaves the other's.
type State struct {
	PID     int            `json:"pid"`
	Admin   string         `json:"admin"` // the API's base URL: http://127.0.0.1:8000
	Token   string         `json:"token"`
	App     string         `json:"app"`             // the app's name
	Root    string         `json:"root"`            // the app's directory, canonical
	Ports   map[string]int `json:"ports,omitempty"` // each service's front port
	Started time.Time      `json:"started"`

	// An appdeck that ends with a failure leaves a record of it in place
	// of its state (WriteState with these set), so that `appdeck ctl wait`, started
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

// rootPrefix starts the names of the state files of the appdecks
// serving root: a hash of the directory, then "-" and the pid.
func rootPrefix(root string) string {
	sum := sha256.Sum256([]byte(Canonical(root)))
	return fmt.Sprintf("%x-", sum[:8])
}

// statePath is the state file of the appdeck with that pid serving root.
func statePath(root string, pid int) (string, error) {
	dir, err := stateDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, rootPrefix(root)+strconv.Itoa(pid)+".json"), nil
}

// WriteState writes st, mode 0600, for st.Root and st.PID and returns the
// file's path. Other appdecks serving the same directory keep theirs.
func WriteState(st State) (string, error) {
	st.Root = Canonical(st.Root)
	path, err := statePath(st.Root, st.PID)
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

// RemoveState removes the state file at path if it is still st's: a
// later process with the same pid may have written it.
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

// FindStates returns the states of the running appdecks that serve dir
// or the nearest directory above it that one serves, the newest first;
// usually one. A file left by an appdeck that died without cleaning up is
// removed on the way.
func FindStates(dir string) ([]State, error) {
	sts, err := findUp(dir, func(st State) bool { return st.Exited.IsZero() })
	if err == nil && len(sts) == 0 {
		err = ErrNoState
	}
	return sts, err
}

// FindExit returns the record of an appdeck for dir or a directory above
// it that ended with a failure after since, the nearest first.
func FindExit(dir string, since time.Time) (State, bool) {
	sts, _ := findUp(dir, func(st State) bool { return !st.Exited.IsZero() && st.Exited.After(since) })
	if len(sts) == 0 {
		return State{}, false
	}
	return sts[0], true
}

// StatesOf returns the states of the running appdecks that serve root
// itself, the newest first.
func StatesOf(root string) []State {
	sts, _ := statesOf(Canonical(root), func(st State) bool { return st.Exited.IsZero() })
	return sts
}

// findUp returns the states that match accepts of the nearest of dir and
// the directories above it that has any, the newest first.
func findUp(dir string, match func(State) bool) ([]State, error) {
	for d := Canonical(dir); ; d = filepath.Dir(d) {
		sts, err := statesOf(d, match)
		if err != nil || len(sts) > 0 || filepath.Dir(d) == d {
			return sts, err
		}
	}
}

// statesOf reads the state files of the appdecks serving root and returns
// those that match accepts, the newest first, removing on the way the
// files of appdecks that died and records of exits older than exitKept.
func statesOf(root string, match func(State) bool) ([]State, error) {
	dir, err := stateDir()
	if err != nil {
		return nil, err
	}
	entries, _ := os.ReadDir(dir) // none yet: no appdeck ever ran
	prefix := rootPrefix(root)
	var out []State
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), prefix) || !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		p := filepath.Join(dir, e.Name())
		if st, err := readState(p); err == nil && current(p, st) && match(st) {
			out = append(out, st)
		}
	}
	slices.SortFunc(out, func(a, b State) int { return b.Started.Compare(a.Started) })
	return out, nil
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
