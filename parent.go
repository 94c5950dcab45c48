package main

import (
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// stopWithGoRun makes appdeck stop, as on SIGTERM, when the go command
// that started it (`go run . demo`) ends. go run does not pass signals on
// to the program, so killing it would otherwise leave appdeck and its
// instances running, holding their ports. Only under the go command: a
// program started by a shell (`nohup appdeck &`) must outlive it.
//
// It waits on a pidfd of the parent, which is readable once the whole
// process has ended. PR_SET_PDEATHSIG would fire when the parent *thread*
// that forked appdeck ends, and the go command's threads come and go.
func stopWithGoRun() {
	ppid := os.Getppid()
	exe, err := os.Readlink("/proc/" + strconv.Itoa(ppid) + "/exe")
	if err != nil || filepath.Base(exe) != "go" {
		return
	}
	fd, err := unix.PidfdOpen(ppid, 0)
	if err != nil {
		return // Linux before 5.3: go run's parent is not watched
	}
	if os.Getppid() != ppid {
		// The parent ended before the pidfd was opened, which may name
		// another process now.
		unix.Close(fd)
		stopSelf()
		return
	}
	go func() {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		for {
			if _, err := unix.Poll(fds, -1); err != unix.EINTR {
				break
			}
		}
		stopSelf()
	}()
}

// stopSelf stops appdeck the way SIGTERM from outside does.
func stopSelf() { _ = syscall.Kill(os.Getpid(), syscall.SIGTERM) }
