package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// stopper turns the signals that stop appdeck into its orderly stop, and
// a second one, while that stop runs, into killing every instance at once.
// It catches them from serve's first line on: a signal before the handler
// is set kills appdeck with the default action, which skips the stop of
// the instances and leaves the state file behind.
type stopper struct {
	ctx   context.Context // ends when the stop begins
	begin context.CancelFunc
}

func catchStopSignals() *stopper {
	c := make(chan os.Signal, 2)
	signal.Notify(c, stopSignals()...)
	ctx, begin := context.WithCancel(context.Background())
	go func() {
		select {
		case <-c:
			begin()
		case <-ctx.Done(): // begun otherwise: the dashboard's quit key
		}
		// Only a person insists: a SIGHUP that follows a SIGTERM (systemd,
		// a closing terminal) must not cut the orderly stop short.
		for sig := range c {
			if sig != syscall.SIGHUP {
				break
			}
		}
		// Exiting closes the watchdog's pipe, and the watchdog kills every
		// instance's process group.
		fmt.Fprintln(os.Stderr, "appdeck: killed every instance")
		os.Exit(exitFailure)
	}()
	return &stopper{ctx, begin}
}

// stopSignals are SIGINT, SIGTERM and SIGHUP (the terminal closed), but
// not SIGHUP when it is ignored: under nohup appdeck must outlive the
// terminal, and catching a signal ends its being ignored.
func stopSignals() []os.Signal {
	sigs := []os.Signal{os.Interrupt, syscall.SIGTERM}
	if !signal.Ignored(syscall.SIGHUP) {
		sigs = append(sigs, syscall.SIGHUP)
	}
	return sigs
}
