package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/appdeck/appdeck/admin"
	"github.com/appdeck/appdeck/proxy"
	"github.com/appdeck/appdeck/ui"
)

// exitNotRunning is ctl's exit code when no appdeck answers.
const exitNotRunning = 3

const ctlUsageText = `appdeck ctl drives a running appdeck through its admin API.

Usage:
  appdeck ctl [flags] COMMAND [ARGS]

It finds the appdeck serving the current directory (or a directory above it)
through the state file appdeck keeps in your cache directory, the newest when
several serve it (it says so, with the others' --admin); --admin points it at
another one.

Commands:
  status [SERVICE[/INSTANCE]]        services and instances: state, pid, port, load
  restart SERVICE[/INSTANCE]         restart one instance, or every instance of a
                                     service (instances stopped by hand stay stopped)
  stop SERVICE[/INSTANCE]            stop gracefully (SIGTERM, then SIGKILL after
                                     appdeck's --grace); it stays stopped
  start SERVICE[/INSTANCE]           start what is stopped
  kill SERVICE[/INSTANCE]            SIGKILL at once; it stays stopped
  rebuild SERVICE                    build again and restart the instances;
                                     exit 1 with the compiler output if it fails
  scale SERVICE N|auto               run N instances (0 to 50); auto hands the
                                     number back to app.yaml's scaling
  logs [-f] [SERVICE[/INSTANCE]]     print the log lines held; -f follows new ones
  requests [-f] [SERVICE]            print the requests held; -f follows new ones
  wait --ready [--timeout 30s] [SERVICE]
                                     wait until every service (or SERVICE) has a
                                     ready instance and none starting; exit 1 at
                                     once if a build failed or appdeck ended, or
                                     at --timeout

Examples:
  appdeck ctl status
  appdeck ctl restart default/0
  appdeck ctl scale api 3
  appdeck ctl logs -f --tail 20 api
  appdeck ctl requests -f --tail 0   (only requests from now on)
  appdeck ctl --json status | jq -r '.[].instances[] | "\(.service)/\(.id) \(.state)"'
  appdeck --headless > app.log &  appdeck ctl wait --ready --timeout 60s && go test ./e2e/...

Flags:
`

const ctlUsageFooter = `
Exit codes: 0 done, 1 the action failed (unknown instance, wrong state, failed
build, timeout), 2 bad usage, 3 no appdeck is running.
Environment: APPDECK_ADMIN is the default of --admin; APPDECK_TOKEN is the token
for state-changing calls when --admin names an appdeck whose state file is not
on this machine.
`

type ctlOptions struct {
	admin   string
	json    bool
	follow  bool
	tail    int
	since   string
	ready   bool
	timeout time.Duration
	noColor bool
}

func newCtlFlagSet(o *ctlOptions) *flag.FlagSet {
	fs := flag.NewFlagSet("appdeck ctl", flag.ContinueOnError)
	fs.StringVar(&o.admin, "admin", os.Getenv("APPDECK_ADMIN"), "URL of the admin API, instead of the appdeck serving this directory")
	fs.BoolVar(&o.json, "json", false, "print JSON for scripts: the API's answers; one object per line for logs and requests")
	fs.BoolVar(&o.follow, "f", false, "logs, requests: follow new lines until Ctrl-C or appdeck stops")
	fs.BoolVar(&o.follow, "follow", false, "same as -f")
	fs.IntVar(&o.tail, "tail", -1, "logs, requests: only the last N held (0: none, so -f prints only new ones; -1: all)")
	fs.StringVar(&o.since, "since", "", "logs, requests: only those since a duration ago (5m) or a time (RFC 3339)")
	fs.BoolVar(&o.ready, "ready", false, "wait: until every service is ready")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "wait: give up after this long")
	fs.BoolVar(&o.noColor, "no-color", false, "no colours (also when NO_COLOR is set)")
	fs.Usage = func() { ctlUsage(fs.Output()) }
	return fs
}

func ctlUsage(w io.Writer) {
	var o ctlOptions
	fmt.Fprint(w, ctlUsageText)
	printFlags(w, newCtlFlagSet(&o))
	fmt.Fprint(w, ctlUsageFooter)
}

// ctlCommand is one command: how many arguments it takes and what it does.
type ctlCommand struct {
	min, max int
	flags    []string // command flags it accepts besides --admin, --json, --no-color
	run      func(c *ctlRun, args []string) error
}

var ctlCommands = map[string]ctlCommand{
	"status":   {0, 1, nil, (*ctlRun).status},
	"restart":  {1, 1, nil, (*ctlRun).action},
	"stop":     {1, 1, nil, (*ctlRun).action},
	"start":    {1, 1, nil, (*ctlRun).action},
	"kill":     {1, 1, nil, (*ctlRun).action},
	"rebuild":  {1, 1, nil, (*ctlRun).rebuild},
	"scale":    {2, 2, nil, (*ctlRun).scale},
	"logs":     {0, 1, []string{"f", "follow", "tail", "since"}, (*ctlRun).logs},
	"requests": {0, 1, []string{"f", "follow", "tail", "since"}, (*ctlRun).requests},
	"wait":     {0, 1, []string{"ready", "timeout"}, (*ctlRun).wait},
}

// ctl runs `appdeck ctl`.
func ctl(args []string) error {
	o, cmd, rest, err := parseCtlArgs(args)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	c := &ctlRun{ctx: ctx, opts: o, cmd: cmd, out: os.Stdout}
	return c.explain(ctlCommands[cmd].run(c, rest))
}

// parseCtlArgs parses flags wherever they appear among the arguments and
// checks the command, its arguments and its flags.
func parseCtlArgs(args []string) (ctlOptions, string, []string, error) {
	var o ctlOptions
	fs := newCtlFlagSet(&o)
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if err == flag.ErrHelp {
				ctlUsage(os.Stdout)
				return o, "", nil, &exitError{exitOK, errQuiet}
			}
			return o, "", nil, usageErr("%s (see appdeck ctl --help)", flagError(fs, err))
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(pos) == 0 {
		return o, "", nil, usageErr("ctl needs a command: status, restart, stop, start, kill, rebuild, scale, logs, requests or wait (see appdeck ctl --help)")
	}
	cmd, rest := pos[0], pos[1:]
	if cmd == "help" {
		ctlUsage(os.Stdout)
		return o, "", nil, &exitError{exitOK, errQuiet}
	}
	spec, ok := ctlCommands[cmd]
	if !ok {
		return o, "", nil, usageErr("unknown ctl command %q (see appdeck ctl --help)", cmd)
	}
	if len(rest) < spec.min || len(rest) > spec.max {
		return o, "", nil, usageErr("wrong number of arguments for %s (see appdeck ctl --help)", cmd)
	}
	var bad error
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "admin", "json", "no-color":
		default:
			if !slices.Contains(spec.flags, f.Name) && bad == nil {
				bad = usageErr("%s does not apply to ctl %s (see appdeck ctl --help)", dashed(f.Name), cmd)
			}
		}
	})
	if bad != nil {
		return o, "", nil, bad
	}
	if cmd == "wait" && !o.ready {
		return o, "", nil, usageErr("wait needs a condition: --ready")
	}
	if err := checkFlags(
		flagCheck{o.timeout > 0, "timeout", o.timeout},
		flagCheck{o.tail >= -1, "tail", o.tail},
	); err != nil {
		return o, "", nil, err
	}
	if os.Getenv("NO_COLOR") != "" {
		o.noColor = true
	}
	return o, cmd, rest, nil
}

// ctlRun is one run of a ctl command.
type ctlRun struct {
	ctx    context.Context
	opts   ctlOptions
	cmd    string
	out    io.Writer
	client *admin.Client
	where  string // how the appdeck was found, for messages
	pid    int    // the appdeck's pid, when found through its state file
	// toldSeveral: the user was told that several appdecks serve the
	// directory, and which one ctl talks to.
	toldSeveral bool
}

// notRunningError is an appdeck that could not be found or reached.
type notRunningError struct{ msg string }

func (e *notRunningError) Error() string { return e.msg }

// connect finds the appdeck to talk to: --admin, else the state file of
// the current directory or the nearest one above it.
func (c *ctlRun) connect() error {
	if c.client != nil {
		return nil
	}
	if c.opts.admin != "" {
		base := strings.TrimSuffix(c.opts.admin, "/")
		if !strings.Contains(base, "://") {
			base = "http://" + base
		}
		u, err := url.Parse(base)
		if err != nil || u.Host == "" {
			return usageErr("--admin %q: want a URL such as http://127.0.0.1:8000", c.opts.admin)
		}
		c.client, c.where = &admin.Client{Base: base, Token: tokenFor(u)}, base
		return nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	sts, err := admin.FindStates(wd)
	if err != nil {
		return &notRunningError{notFoundMessage(wd, err)}
	}
	st := sts[0]
	c.client, c.where = &admin.Client{Base: st.Admin, Token: st.Token}, fmt.Sprintf("%s (%s, serving %s)", st.Admin, st.App, st.Root)
	c.pid = st.PID
	if len(sts) > 1 && !c.toldSeveral {
		c.toldSeveral = true // once, though wait connects again
		fmt.Fprint(os.Stderr, severalMessage(sts))
	}
	return nil
}

// severalMessage says which of several appdecks serving one directory
// ctl talks to, the newest (sts[0]), and how to reach the others.
func severalMessage(sts []admin.State) string {
	var b strings.Builder
	fmt.Fprintf(&b, "appdeck ctl: %d appdecks serve %s; this talks to the newest (%s); for another, add its --admin:\n",
		len(sts), sts[0].Root, describeDeck(sts[0]))
	for _, st := range sts[1:] {
		fmt.Fprintf(&b, "  --admin %s  (%s)\n", st.Admin, describeDeck(st))
	}
	return b.String()
}

// describeDeck tells an appdeck from others serving the same directory:
// "pid 4242, port 8080, started 10:31:02".
func describeDeck(st admin.State) string {
	ports := slices.Sorted(maps.Values(st.Ports))
	var ps []string
	for _, p := range ports {
		ps = append(ps, strconv.Itoa(p))
	}
	desc := fmt.Sprintf("pid %d", st.PID)
	switch len(ps) {
	case 0:
	case 1:
		desc += ", port " + ps[0]
	default:
		desc += ", ports " + strings.Join(ps, ", ")
	}
	return desc + ", started " + st.Started.Format(time.TimeOnly)
}

// tokenFor finds the token of the appdeck at u: APPDECK_TOKEN, else the
// state file of a running appdeck with that address.
func tokenFor(u *url.URL) string {
	if t := os.Getenv("APPDECK_TOKEN"); t != "" {
		return t
	}
	for _, st := range admin.RunningStates() {
		if su, err := url.Parse(st.Admin); err == nil && sameHostPort(su.Host, u.Host) {
			return st.Token
		}
	}
	return ""
}

// sameHostPort compares two host:port pairs, taking every address of
// this machine (localhost, loopback, its interfaces' addresses) as one.
func sameHostPort(a, b string) bool {
	ah, ap, _ := net.SplitHostPort(a)
	bh, bp, _ := net.SplitHostPort(b)
	return ap == bp && (ah == bh || isLocalHost(ah) && isLocalHost(bh))
}

func isLocalHost(h string) bool {
	if proxy.IsLoopbackHost(h) {
		return true
	}
	ip := net.ParseIP(h)
	addrs, _ := net.InterfaceAddrs() // without them, only loopback counts: fine
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.Equal(ip) {
			return true
		}
	}
	return false
}

func notFoundMessage(wd string, err error) string {
	if !errors.Is(err, admin.ErrNoState) {
		return err.Error()
	}
	msg := fmt.Sprintf("no appdeck is running for %s or a directory above it", wd)
	var others []string
	for _, st := range admin.RunningStates() {
		others = append(others, fmt.Sprintf("  %s serving %s: appdeck ctl --admin %s", st.App, st.Root, st.Admin))
	}
	if len(others) > 0 {
		msg += "; running elsewhere:\n" + strings.Join(others, "\n")
	}
	return msg
}

// explain turns an error into the exit code scripts rely on, with a
// message that says what to do.
func (c *ctlRun) explain(err error) error {
	var ee *exitError
	var nr *notRunningError
	var ae *admin.Error
	switch {
	case err == nil || errors.As(err, &ee):
		return err
	case errors.As(err, &nr):
		return &exitError{exitNotRunning, err}
	case isDialError(err):
		return &exitError{exitNotRunning, fmt.Errorf("appdeck is not running at %s: %w", c.where, errors.Unwrap(err))}
	case errors.As(err, &ae) && ae.Status == 400:
		return &exitError{exitUsage, err}
	case errors.As(err, &ae) && ae.Status == 401 && c.opts.admin != "":
		return &exitError{exitFailure, fmt.Errorf("%s refused the token: set APPDECK_TOKEN to the token in that appdeck's state file", c.where)}
	}
	return &exitError{exitFailure, err}
}

func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// splitTarget reads SERVICE or SERVICE/INSTANCE.
func splitTarget(s string) (service, instance string, err error) {
	service, instance, _ = strings.Cut(s, "/")
	if service == "" || strings.Contains(instance, "/") {
		return "", "", usageErr("%q: want SERVICE or SERVICE/INSTANCE", s)
	}
	return service, instance, nil
}

func (c *ctlRun) printJSON(v any) error {
	enc := json.NewEncoder(c.out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// jsonLine prints one object on one line, for streams.
func (c *ctlRun) jsonLine(v any) {
	b, _ := json.Marshal(v) // the API's own types: cannot fail
	fmt.Fprintf(c.out, "%s\n", b)
}

func (c *ctlRun) printer(services []admin.Service) *ui.Printer {
	var names []string
	for _, s := range services {
		names = append(names, s.Name)
	}
	return ui.NewPrinter(c.out, ui.TextFormat, renderer(options{noColor: c.opts.noColor}), names)
}

// streamQuery is the query of logs and requests.
func (c *ctlRun) streamQuery() url.Values {
	q := url.Values{}
	if c.opts.tail >= 0 {
		q.Set("tail", strconv.Itoa(c.opts.tail))
	}
	if c.opts.since != "" {
		q.Set("since", c.opts.since)
	}
	return q
}
