// Command appdeck runs App Engine style apps locally: it reads app.yaml
// files, builds and starts each service's instances, proxies requests to
// them, and shows everything live in a terminal dashboard.
package main

import (
	"errors"
	"fmt"
	"os"

	_ "github.com/appdeck/appdeck/internal/termquery" // before Bubble Tea: no terminal query at start
)

// version is set at release time with -ldflags "-X main.version=…".
var version = "dev"

// Exit codes scripts can rely on.
const (
	exitOK      = 0
	exitFailure = 1 // the app could not run: a port in use, a crash at start
	exitUsage   = 2 // bad flags or bad configuration
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	cmd := ""
	if len(args) > 0 {
		cmd = args[0]
	}
	var err error
	switch cmd {
	case "version":
		if err = noArgs(args); err == nil {
			fmt.Println("appdeck", version)
		}
	case "validate":
		err = validate(args[1:])
	case "demo":
		err = demo(args[1:])
	case "ctl":
		err = ctl(args[1:])
	case "help":
		if err = noArgs(args); err == nil {
			usage(os.Stdout)
		}
	default:
		err = serveArgs(args)
	}
	return report(err)
}

// noArgs rejects arguments after a command that takes none.
func noArgs(args []string) error {
	if len(args) > 1 {
		return usageErr("%s takes no arguments, got %q (see appdeck --help)", args[0], args[1])
	}
	return nil
}

// exitError carries an exit code with the message.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }

func (e *exitError) Unwrap() error { return e.err }

func usageErr(format string, a ...any) error {
	return &exitError{exitUsage, fmt.Errorf(format, a...)}
}

// report prints err, if any, and returns the exit code it calls for.
func report(err error) int {
	var printed printedError
	if err != nil && !errors.Is(err, errQuiet) && !errors.As(err, &printed) {
		fmt.Fprintln(os.Stderr, "appdeck:", err)
	}
	return exitCode(err)
}

// exitCode is the exit status err calls for.
func exitCode(err error) int {
	var ee *exitError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ee):
		return ee.code
	}
	return exitFailure
}

// errQuiet marks an exit whose message has already been printed.
var errQuiet = errors.New("")

// printedError is an error appdeck has already printed in its own words;
// its message is kept for the record `appdeck ctl wait` reads.
type printedError struct{ error }
