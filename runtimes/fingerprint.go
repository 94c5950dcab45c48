package runtimes

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// fingerprint hashes what a build step depends on. The step saves it in
// the cache directory when it succeeds and is skipped while the
// fingerprint stays the same: Go builds only when sources changed, pip and
// npm install only when their package files changed.
type fingerprint struct{ h hash.Hash }

func newFingerprint(parts ...string) *fingerprint {
	f := &fingerprint{sha256.New()}
	f.add(parts...)
	return f
}

// add hashes strings, each one delimited.
func (f *fingerprint) add(parts ...string) {
	for _, p := range parts {
		fmt.Fprintf(f.h, "%d:%s\n", len(p), p)
	}
}

// file hashes the content of path, or its absence.
func (f *fingerprint) file(path string) error {
	fh, err := os.Open(path)
	if os.IsNotExist(err) {
		f.add("absent", path)
		return nil
	}
	if err != nil {
		return err
	}
	defer fh.Close()
	f.add("file", path)
	_, err = io.Copy(f.h, fh)
	f.add("")
	return err
}

// stat hashes the name, size, mode and modification time of path, or its
// absence: cheap, and it changes whenever an editor saves.
func (f *fingerprint) stat(path string) {
	fi, err := os.Stat(path)
	if err != nil {
		f.add("absent", path)
		return
	}
	f.add("stat", path, fmt.Sprint(fi.Size(), fi.Mode(), fi.ModTime().UnixNano()))
}

// tree stats every regular file under root, except in the directories
// skipDir rejects.
func (f *fingerprint) tree(root string, skipDir func(path string, name string) bool) error {
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() && path != root && skipDir(path, d.Name()):
			return filepath.SkipDir
		case d.Type().IsRegular():
			info, err := d.Info()
			if err != nil {
				return err
			}
			f.add(path, fmt.Sprint(info.Size(), info.Mode(), info.ModTime().UnixNano()))
		}
		return nil
	})
}

func (f *fingerprint) sum() string { return hex.EncodeToString(f.h.Sum(nil)) }

// fingerprintFile is where the fingerprint of step is kept.
func fingerprintFile(cacheDir, step string) string {
	return filepath.Join(cacheDir, step+".fingerprint")
}

// unchanged reports whether step last succeeded with fingerprint sum.
func unchanged(cacheDir, step, sum string) bool {
	b, err := os.ReadFile(fingerprintFile(cacheDir, step))
	return err == nil && strings.TrimSpace(string(b)) == sum
}

// remember records that step succeeded with fingerprint sum. The step
// may have had nothing to do, before anything made cacheDir.
func remember(cacheDir, step, sum string) error {
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(fingerprintFile(cacheDir, step), []byte(sum+"\n"), 0o644)
}

// forget drops step's fingerprint, before the step changes what it built:
// an interrupted step must run again.
func forget(cacheDir, step string) {
	_ = os.Remove(fingerprintFile(cacheDir, step))
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
