package supervisor

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
)

// watchDebounce is how long the tree must stay quiet before a burst of
// changes is put in service: an editor's save is several events (a
// backup, a rename, a write, a chmod) within a few milliseconds, a git
// checkout many more.
const watchDebounce = 100 * time.Millisecond

// buildSettle is the shorter quiet after which a build starts on the
// changes so far, so that it overlaps the debounce; a later change
// cancels it and the next build starts after the next settle.
const buildSettle = 10 * time.Millisecond

// treeWatcher watches directory trees (inotify watches one directory at a
// time, so each directory gets its own watch, and new ones are added as
// they appear) and reports each changed path.
type treeWatcher struct {
	fs     *fsnotify.Watcher
	ignore func(path string, dir bool) bool
	warn   func(string)
	full   atomic.Bool // the watch limit was hit; warned once
}

func newTreeWatcher(ignore func(path string, dir bool) bool, warn func(string)) (*treeWatcher, error) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watching files: %w", err)
	}
	return &treeWatcher{fs: w, ignore: ignore, warn: warn}, nil
}

// addTree watches root and every directory below it that is not ignored.
func (w *treeWatcher) addTree(root string) {
	_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil // unreadable or a file: nothing to watch
		}
		if path != root && w.ignore(path, true) {
			return filepath.SkipDir
		}
		if err := w.fs.Add(path); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				if w.full.CompareAndSwap(false, true) {
					w.warn(fmt.Sprintf("cannot watch %s and further directories: the inotify watch limit is reached (raise fs.inotify.max_user_watches, or exclude directories with skip_files or --watch-ignore); changes there are not noticed", path))
				}
				return filepath.SkipAll
			}
			if !errors.Is(err, fs.ErrNotExist) {
				w.warn(fmt.Sprintf("cannot watch %s: %v", path, err))
			}
		}
		return nil
	})
}

// run reports each changed path to changed until ctx ends, with whether
// the change created it. Reads and attribute changes are not changes; a
// new directory is watched from then on. changed may block: the kernel
// queues events meanwhile, and an overflow of its queue is reported as a
// change of overflowPath.
func (w *treeWatcher) run(ctx context.Context, changed func(path string, created bool)) {
	defer w.fs.Close()
	for {
		select {
		case ev, ok := <-w.fs.Events:
			if !ok {
				return
			}
			if w.relevant(ev) {
				changed(ev.Name, ev.Has(fsnotify.Create))
			}
		case err, ok := <-w.fs.Errors:
			if !ok {
				return
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				changed(overflowPath, false) // changes were lost: rather rebuild than miss one
				continue
			}
			w.warn("file watching: " + err.Error())
		case <-ctx.Done():
			return
		}
	}
}

// overflowPath stands for changes the kernel could not report one by one.
const overflowPath = "(too many changes at once to list)"

// relevant reports whether ev is a change worth reporting, and watches
// a directory it created.
func (w *treeWatcher) relevant(ev fsnotify.Event) bool {
	if ev.Op == fsnotify.Chmod {
		return false // touch, editors' permission games, indexers
	}
	dir := false
	if ev.Has(fsnotify.Create) {
		if fi, err := os.Lstat(ev.Name); err == nil && fi.IsDir() {
			dir = true
		}
	}
	if w.ignore(ev.Name, dir) {
		return false
	}
	if dir {
		w.addTree(ev.Name) // files may already be inside: the event counts
	}
	return true
}
