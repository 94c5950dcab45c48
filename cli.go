package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/appdeck/appdeck/proxy"
)

// options are the flags of `appdeck` and `appdeck demo`.
type options struct {
	host      string
	port      int
	adminPort int
	headless  bool
	noColor   bool
	env       envFlag
	grace     time.Duration
	project   string
	logLines  int
	// allowHosts are --allow-host patterns: Host names the front accepts
	// besides loopback names and --host.
	allowHosts hostsFlag
}

const usageText = `appdeck runs App Engine style apps locally, with a live dashboard.

Usage:
  appdeck [flags] [PATH ...]     run the app; PATHs are app.yaml files, service
                                 directories or a dispatch.yaml (default: ./app.yaml,
                                 else every ./*/app.yaml)
  appdeck demo [flags]           run the built-in demo app (no files needed)
  appdeck validate [PATH ...]    check the configuration, print every problem;
                                 exit 0 when valid, 2 when not
  appdeck version                print the version

Examples:
  appdeck                                  run ./app.yaml with the dashboard
  appdeck web/app.yaml api/ dispatch.yaml  three files: two services and routing
  appdeck --port 9000 --env DEBUG=1 .      services on 9000, 9001, …; extra variable
  appdeck --headless > run.log             plain "service/instance | line" logs
  appdeck validate app.yaml                list problems as file:line:col

Flags:
`

const usageFooter = `
Exit codes: 0 stopped normally, 1 the app could not run, 2 bad flags or config.
NO_COLOR=1 in the environment has the same effect as --no-color.
`

func newFlagSet(o *options) *flag.FlagSet {
	fs := flag.NewFlagSet("appdeck", flag.ContinueOnError)
	fs.StringVar(&o.host, "host", "127.0.0.1", "address the service ports listen on")
	fs.IntVar(&o.port, "port", 8080, "port of the first service; the next services take the ports after it (0 = any free port)")
	fs.IntVar(&o.adminPort, "admin-port", 8000, "port of the admin API (0 = any free port)")
	fs.BoolVar(&o.headless, "headless", false, "print prefixed log lines instead of the dashboard (the default when stdout is not a terminal)")
	fs.BoolVar(&o.noColor, "no-color", false, "no colours, in the dashboard or the logs")
	fs.Var(&o.env, "env", "`KEY=VALUE` for every instance, over env_variables (repeatable)")
	fs.DurationVar(&o.grace, "grace", 5*time.Second, "how long a stopping instance gets between SIGTERM and SIGKILL")
	fs.StringVar(&o.project, "project", "", "GOOGLE_CLOUD_PROJECT for instances (default: the app id, else \"test\")")
	fs.IntVar(&o.logLines, "log-lines", 10000, "log lines kept per instance")
	fs.Var(&o.allowHosts, "allow-host", "also answer requests for this `HOST` (\"*.example.dev\": one more label, \"**.example.dev\": any depth; repeatable)")
	fs.Usage = func() { usage(fs.Output()) }
	return fs
}

func usage(w io.Writer) {
	var o options
	fs := newFlagSet(&o)
	fs.SetOutput(w)
	fmt.Fprint(w, usageText)
	fs.PrintDefaults()
	fmt.Fprint(w, usageFooter)
}

// parseArgs parses flags wherever they appear among the paths, so
// `appdeck app.yaml --headless` works as users expect.
func parseArgs(args []string) (options, []string, error) {
	var o options
	fs := newFlagSet(&o)
	fs.SetOutput(io.Discard)
	var paths []string
	for {
		if err := fs.Parse(args); err != nil {
			if err == flag.ErrHelp {
				usage(os.Stdout)
				return o, nil, &exitError{exitOK, errQuiet}
			}
			return o, nil, usageErr("%v (see appdeck --help)", err)
		}
		if fs.NArg() == 0 {
			break
		}
		paths = append(paths, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if o.port < 0 || o.port > 65535 {
		return o, nil, usageErr("--port %d is not a port number", o.port)
	}
	if o.adminPort < 0 || o.adminPort > 65535 {
		return o, nil, usageErr("--admin-port %d is not a port number", o.adminPort)
	}
	if os.Getenv("NO_COLOR") != "" {
		o.noColor = true
	}
	return o, paths, nil
}

// envFlag collects repeated --env KEY=VALUE flags.
type envFlag []string

func (e *envFlag) String() string { return strings.Join(*e, ",") }

func (e *envFlag) Set(v string) error {
	k, _, ok := strings.Cut(v, "=")
	if !ok || k == "" {
		return fmt.Errorf("want KEY=VALUE, got %q", v)
	}
	*e = append(*e, v)
	return nil
}

// hostsFlag collects repeated --allow-host patterns.
type hostsFlag []string

func (s *hostsFlag) String() string { return strings.Join(*s, ",") }

func (s *hostsFlag) Set(v string) error {
	if err := proxy.CheckAllowHost(v); err != nil {
		return err
	}
	*s = append(*s, v)
	return nil
}
