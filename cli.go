package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/appdeck/appdeck/proxy"
	"github.com/appdeck/appdeck/themes"
	"github.com/appdeck/appdeck/ui"
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

	// Dashboard.
	themeArg string       // --theme as given
	theme    themes.Theme // loaded from themeArg; zero when not given
	mouse    bool
	// Control API and headless output.
	adminHost     string
	adminPortSet  bool // --admin-port was given: a busy port is an error, not a fallback
	logFormat     ui.Format
	exitOnFailure bool
	// Runtimes.
	pythonVenv bool
	// Supervision: file watching, scaling limits, log files.
	watch          bool
	noWatch        bool
	watchIgnore    regexpsFlag
	maxInstances   int
	logDir         string
	pendingTimeout time.Duration
	// allowHosts are --allow-host patterns: Host names the front accepts
	// besides loopback names and --host.
	allowHosts hostsFlag
}

const usageText = `appdeck runs App Engine style apps locally, with a live dashboard.

Usage:
  appdeck [flags] [PATH ...]     run the app; PATHs are app.yaml files, service
                                 directories, app directories (*/app.yaml and a
                                 dispatch.yaml) or a dispatch.yaml (default:
                                 ./app.yaml, else . as an app directory)
  appdeck demo [flags]           run the built-in demo app (no files needed)
  appdeck validate [PATH ...]    check the configuration, print every problem;
                                 exit 0 when valid, 2 when not
  appdeck ctl COMMAND ...        drive a running appdeck: status, restart, logs, …
                                 (see appdeck ctl --help)
  appdeck version                print the version

Examples:
  appdeck                                  run ./app.yaml with the dashboard
  appdeck web/app.yaml api/ dispatch.yaml  three files: two services and routing
  appdeck --port 9000 --env DEBUG=1 .      services on 9000, 9001, …; extra variable
  appdeck --headless > run.log             plain "service/instance | line" logs
  appdeck validate app.yaml                list problems as file:line:col
  appdeck --log-format json --exit-on-failure
                                           CI: JSON lines; exit 1 if a build fails

Flags:
`

const usageFooter = `
Exit codes: 0 stopped normally, 1 the app could not run (or --exit-on-failure
stopped it, or a second Ctrl-C killed the instances), 2 bad flags or config.
NO_COLOR=1 in the environment has the same effect as --no-color.
`

func newFlagSet(o *options) *flag.FlagSet {
	fs := flag.NewFlagSet("appdeck", flag.ContinueOnError)
	fs.StringVar(&o.host, "host", "127.0.0.1", "address the service ports listen on")
	fs.IntVar(&o.port, "port", 8080, "port of the first service (the default service when appdeck finds the services itself); the next services take the ports after it (0 = any free port)")
	fs.IntVar(&o.adminPort, "admin-port", 8000, "port of the admin API (0 = any free port)")
	fs.BoolVar(&o.headless, "headless", false, "print prefixed log lines instead of the dashboard (the default when stdout is not a terminal)")
	fs.BoolVar(&o.noColor, "no-color", false, "no colours, in the dashboard or the logs")
	fs.Var(&o.env, "env", "variable for every instance, over env_variables (repeatable)")
	fs.DurationVar(&o.grace, "grace", 5*time.Second, "how long a stopping instance gets between SIGTERM and SIGKILL")
	fs.StringVar(&o.project, "project", "", "GOOGLE_CLOUD_PROJECT for instances (default: the app id, else \"test\")")
	fs.IntVar(&o.logLines, "log-lines", 10000, "log lines kept per instance, 1 to 1000000")
	fs.StringVar(&o.themeArg, "theme", "", "dashboard theme: dark, light, high-contrast, mono, a YAML file, or NAME for $XDG_CONFIG_HOME/appdeck/themes/NAME.yaml (default: dark, or light on a light background)")
	fs.BoolVar(&o.mouse, "mouse", false, "mouse in the dashboard: click to select, wheel to scroll (off: the terminal keeps text selection)")
	// Control API and headless output.
	fs.StringVar(&o.adminHost, "admin-host", "127.0.0.1", "address the admin API listens on; beyond loopback, every API call needs the token")
	fs.Var(&o.logFormat, "log-format", "headless output: text (coloured \"service/instance | line\") or json (one object per line); json implies --headless")
	fs.BoolVar(&o.exitOnFailure, "exit-on-failure", false, "exit with status 1 when a service cannot build or an instance crash-loops; implies --headless")

	// Runtimes.
	fs.BoolVar(&o.pythonVenv, "python-venv", false, "install each Python service's requirements.txt into a virtualenv in appdeck's cache (again only when the file changes)")

	// Supervision.
	fs.BoolVar(&o.watch, "watch", true, "rebuild or restart a service when its files change (rolling: no request fails)")
	fs.BoolVar(&o.noWatch, "no-watch", false, "do not watch files (same as --watch=false)")
	fs.Var(&o.watchIgnore, "watch-ignore", "app-relative paths whose changes are ignored, besides skip_files (repeatable)")
	fs.IntVar(&o.maxInstances, "max-instances", 0, "cap on the instances of every service, whatever its scaling says (0 = no cap)")
	fs.StringVar(&o.logDir, "log-dir", "", "also write each log to a file in DIR: service.log, service-instance.log, service.requests.log (access lines)")
	fs.DurationVar(&o.pendingTimeout, "pending-timeout", 10*time.Second, "how long a request waits for a free instance before a 503")
	fs.Var(&o.allowHosts, "allow-host", "also answer requests for this host (\"*.example.dev\": one more label, \"**.example.dev\": any depth; repeatable)")
	fs.Usage = func() { usage(fs.Output()) }
	return fs
}

// flagArgs name the argument of the flags whose usage text does not:
// what users type after the flag.
var flagArgs = map[string]string{
	"host": "ADDRESS", "port": "PORT", "admin-port": "PORT", "admin-host": "ADDRESS", "log-dir": "DIR",
	"env": "KEY=VALUE", "grace": "DURATION", "project": "ID", "log-lines": "N", "theme": "NAME|FILE",
	"log-format": "text|json", "watch-ignore": "REGEX", "max-instances": "N", "pending-timeout": "DURATION",
	"allow-host": "PATTERN",
	// appdeck ctl
	"admin": "URL", "tail": "N", "since": "DURATION|TIME", "timeout": "DURATION",
}

func usage(w io.Writer) {
	var o options
	fmt.Fprint(w, usageText)
	printFlags(w, newFlagSet(&o))
	fmt.Fprint(w, usageFooter)
}

// printFlags lists flags GNU style (--name, -f for one letter), as users
// type them (the flag package takes one dash or two), with each help
// wrapped in a column so that the list fits 80 columns.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	const col, width = 28, 80
	fs.VisitAll(func(f *flag.Flag) {
		arg, help := flag.UnquoteUsage(f)
		if a, ok := flagArgs[f.Name]; ok {
			arg = a
		}
		name := "  " + dashed(f.Name)
		if arg != "" {
			name += " " + arg
		}
		switch f.DefValue {
		case "", "false", "0", "0s":
		default:
			help += fmt.Sprintf(" (default %s)", f.DefValue)
		}
		if len(name) > col-2 { // no room for the help on the same line
			fmt.Fprintln(w, name)
			name = ""
		}
		for _, line := range wrap(help, width-col) {
			fmt.Fprintf(w, "%-*s%s\n", col, name, line)
			name = ""
		}
	})
}

// wrap breaks text into lines of at most width bytes, between words.
func wrap(text string, width int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(text) {
		if line != "" && len(line)+1+len(word) > width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += word
	}
	return append(lines, line)
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
			return o, nil, usageErr("%s (see appdeck --help)", flagError(fs, err))
		}
		if fs.NArg() == 0 {
			break
		}
		paths = append(paths, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if err := o.check(); err != nil {
		return o, nil, err
	}
	if os.Getenv("NO_COLOR") != "" {
		o.noColor = true
	}
	if o.themeArg != "" {
		t, err := themes.Load(o.themeArg)
		if err != nil {
			return o, nil, usageErr("--theme: %v", err)
		}
		o.theme = t
	}
	fs.Visit(func(f *flag.Flag) { o.adminPortSet = o.adminPortSet || f.Name == "admin-port" })
	o.headless = o.headless || o.exitOnFailure || o.logFormat == ui.JSONFormat
	return o, paths, nil
}

// maxLogLines bounds --log-lines: each instance's ring is allocated at
// its full size up front.
const maxLogLines = 1_000_000

// check validates the values that the flags' types let through. Every
// rule lives here so that each message names the flag and what it takes.
func (o *options) check() error {
	return checkFlags(
		flagCheck{validPort(o.port), "port", o.port},
		flagCheck{validPort(o.adminPort), "admin-port", o.adminPort},
		flagCheck{o.grace > 0, "grace", o.grace},
		flagCheck{o.logLines >= 1 && o.logLines <= maxLogLines, "log-lines", o.logLines},
		flagCheck{o.maxInstances >= 0, "max-instances", o.maxInstances},
		flagCheck{o.pendingTimeout > 0, "pending-timeout", o.pendingTimeout},
	)
}

func validPort(p int) bool { return p >= 0 && p <= 65535 }

// flagWants says what the flags with a rule beyond their type take, for
// a value that breaks the rule and for one the type cannot parse alike.
var flagWants = map[string]string{
	"port":            "a port number, 0 to 65535 (0 picks free ports)",
	"admin-port":      "a port number, 0 to 65535 (0 picks a free port)",
	"grace":           "a positive duration such as 5s",
	"log-lines":       "1 to 1000000 lines",
	"max-instances":   "0 (no cap) or more",
	"pending-timeout": "a positive duration such as 10s",
	// appdeck ctl
	"tail":    "a number of lines: 0 (none) or more, or -1 (all)",
	"timeout": "a positive duration such as 30s",
}

// flagCheck is a rule a flag's value must follow.
type flagCheck struct {
	ok    bool
	flag  string // its name in flagWants
	value any
}

// checkFlags returns a usage error for the first rule broken.
func checkFlags(checks ...flagCheck) error {
	for _, c := range checks {
		if !c.ok {
			return usageErr("%s %v: want %s", dashed(c.flag), c.value, flagWants[c.flag])
		}
	}
	return nil
}

// badValue matches the flag package's error for a value the flag's type
// cannot parse: the value, quoted, and the flag's name.
var badValue = regexp.MustCompile(`^invalid (?:boolean )?value (".*") for (?:flag )?-([a-z][a-z-]*): (?:parse error|value out of range)$`)

// flagError rewrites the flag package's parse errors: a value the type
// cannot parse gets what the flag wants, as checkFlags says it ("--port
// abc: want a port number, …"), and flags get the two dashes users type.
func flagError(fs *flag.FlagSet, err error) string {
	if m := badValue.FindStringSubmatch(err.Error()); m != nil {
		if want := flagWant(fs.Lookup(m[2])); want != "" {
			value, _ := strconv.Unquote(m[1]) // quoted by the flag package
			if value == "" || strings.ContainsAny(value, " \t\n\"'") {
				value = m[1]
			}
			return fmt.Sprintf("%s %s: want %s", dashed(m[2]), value, want)
		}
	}
	return longFlag.ReplaceAllString(err.Error(), "$1--$2")
}

// flagWant says what f takes: its rule, else what its type parses; ""
// when f is of no type flagWant knows.
func flagWant(f *flag.Flag) string {
	if f == nil {
		return ""
	}
	if w, ok := flagWants[f.Name]; ok {
		return w
	}
	g, ok := f.Value.(flag.Getter)
	if !ok {
		return ""
	}
	switch g.Get().(type) {
	case bool:
		return "true or false"
	case time.Duration:
		return "a duration such as 5s, 2m or 1h30m"
	case int, int64, uint, uint64:
		return "a whole number"
	}
	return ""
}

// dashed spells a flag's name as users type it: -f, --follow.
func dashed(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

var longFlag = regexp.MustCompile(`(flag |for |defined: |argument: )-([a-z][a-z-]+)`)

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

// regexpsFlag collects repeated --watch-ignore patterns, checked as they
// are parsed so that a bad one is reported with the reason.
type regexpsFlag []*regexp.Regexp

func (r *regexpsFlag) String() string {
	var s []string
	for _, re := range *r {
		s = append(s, re.String())
	}
	return strings.Join(s, ",")
}

func (r *regexpsFlag) Set(v string) error {
	re, err := regexp.Compile(v)
	if err != nil {
		return fmt.Errorf("invalid regular expression: %v", err)
	}
	*r = append(*r, re)
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
