package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/appdeck/appdeck/admin"
	"github.com/appdeck/appdeck/config"
	"github.com/appdeck/appdeck/proxy"
	"github.com/appdeck/appdeck/runtimes"
	"github.com/appdeck/appdeck/supervisor"
	"github.com/appdeck/appdeck/themes"
	"github.com/appdeck/appdeck/ui"
	"github.com/appdeck/appdeck/ui/common"
)

// loadApp loads and validates the app at paths: at start, and again for
// the supervisor when a configuration file changes.
func loadApp(paths []string) (*config.App, error) {
	return config.Load(paths, config.Options{CheckRuntime: runtimes.Check})
}

// loadConfig loads and validates the app, printing every error to stderr;
// the warnings are left to the caller, in app.Warnings.
func loadConfig(paths []string) (*config.App, error) {
	app, err := loadApp(paths)
	if err != nil {
		var ds config.Diagnostics
		if errors.As(err, &ds) {
			for _, d := range ds {
				printDiagnostic(d)
			}
			return nil, &exitError{exitUsage, printedError{ds}}
		}
		return nil, &exitError{exitUsage, err}
	}
	return app, nil
}

// printDiagnostic prints a config problem; one without a line (none, or
// only a path) gets appdeck's prefix like other errors.
func printDiagnostic(d config.Diagnostic) {
	if d.Pos.Line == 0 {
		fmt.Fprintln(os.Stderr, "appdeck:", d.String())
		return
	}
	fmt.Fprintln(os.Stderr, d.String())
}

func validate(args []string) error {
	for _, a := range args {
		switch {
		case a == "-h" || a == "--help":
			usage(os.Stdout)
			return nil
		case strings.HasPrefix(a, "-"):
			return usageErr("validate takes only PATHs, not %s (see appdeck --help)", a)
		}
	}
	if len(args) == 1 && isDispatchFile(args[0]) {
		return validateDispatch(args[0])
	}
	app, err := loadConfig(args)
	if err != nil {
		return err
	}
	for _, w := range app.Warnings {
		printDiagnostic(w)
	}
	fmt.Printf("%d service(s) OK", len(app.Services))
	if app.Dispatch != nil {
		fmt.Printf(", %d dispatch rule(s)", len(app.Dispatch.Rules))
	}
	fmt.Println()
	return nil
}

func isDispatchFile(path string) bool {
	base := filepath.Base(path)
	fi, err := os.Stat(path)
	return (base == "dispatch.yaml" || base == "dispatch.yml") && err == nil && fi.Mode().IsRegular()
}

// validateDispatch checks a dispatch file given alone, as far as it can
// be: whether its rules name services that exist needs their app.yaml
// files.
func validateDispatch(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return &exitError{exitUsage, err}
	}
	d, ds := config.ParseDispatch(path, data)
	ds.Sort()
	for _, x := range ds {
		printDiagnostic(x)
	}
	if ds.HasErrors() {
		return &exitError{exitUsage, printedError{ds}}
	}
	fmt.Printf("%d dispatch rule(s) OK; to check the services they name too, pass their app.yaml files or directories with it\n", len(d.Rules))
	return nil
}

// serveArgs runs `appdeck [flags] [PATH ...]`.
func serveArgs(args []string) error {
	o, paths, err := parseArgs(args)
	if err != nil {
		return err
	}
	return serve(o, paths, "")
}

// serve runs the app at paths until a signal or the dashboard's quit.
// name, when set, is the app's name in the dashboard. When appdeck ends
// with a failure, a bad configuration included, it leaves a record of it
// for `appdeck ctl wait`.
func serve(o options, paths []string, name string) error {
	stop := catchStopSignals() // first: a signal at any moment stops appdeck in order
	stopWithGoRun()
	st := admin.State{PID: os.Getpid(), App: name, Started: time.Now()}
	app, err := loadConfig(paths)
	st.Root = appRoot(paths, app)
	if err == nil {
		if st.App == "" {
			st.App = appName(app)
		}
		err = serveApp(o, app, st, stop, func() (*config.App, error) { return loadApp(paths) })
	}
	if code := exitCode(err); code != exitOK && st.Root != "" {
		st.Exited, st.Status, st.Reason = time.Now(), code, err.Error()
		_, _ = admin.WriteState(st) // the record; without it, only ctl wait's answer comes later
	}
	return err
}

// serveApp serves app until stop's stop begins; st is what the state file
// for ctl starts from, and reload loads the app again when its
// configuration changes.
func serveApp(o options, app *config.App, st admin.State, stop *stopper, reload func() (*config.App, error)) error {
	leaveCoresToTheApp()
	listeners, ports, err := listen(o, app)
	if err != nil {
		return err
	}
	adminL, err := listenAdmin(o)
	if err != nil {
		closeAll(listeners)
		return err
	}
	var router *proxy.Router // made once the supervisor's pools exist; set before sup.Start
	sup, err := supervisor.New(supervisor.Options{
		App: app, CacheDir: cacheDir(app), Grace: o.grace, Env: o.env,
		Project: o.project, LogLines: o.logLines, Ports: ports,
		Runtimes: runtimes.Options{PythonVenv: o.pythonVenv},
		// Supervision flags.
		Watch: o.watch && !o.noWatch, WatchIgnore: o.watchIgnore, MaxInstances: o.maxInstances,
		LogDir: o.logDir, PendingTimeout: o.pendingTimeout,
		// Live reload of app.yaml and dispatch.yaml: the front first.
		Load: reload, Apply: func(a *config.App) error { return router.Reload(a) },
	})
	if err != nil {
		closeAll(append(listeners, adminL))
		return &exitError{exitUsage, err}
	}
	logWarnings(sup, app)
	router, err = proxy.New(proxy.Options{
		App: app, Pool: sup.Pool, Record: sup.Record,
		Host: o.host, AllowHosts: o.allowHosts,
		Warn: func(service, msg string) { sup.Logs(service, "").Add(supervisor.System, msg) },
	})
	if err != nil {
		closeAll(append(listeners, adminL))
		return &exitError{exitUsage, err}
	}
	servers := make([]*proxy.Server, len(listeners))
	for i, svc := range app.Services {
		servers[i] = router.NewServer(svc.Name)
		go servers[i].Serve(listeners[i])
	}
	st.Ports = ports
	api := startControl(adminL, sup, o, st)
	reqLog := startRequestLog(o.logDir, sup, serviceNames(app))
	watch := newFailureWatch(sup, o.exitOnFailure)
	sup.Start()
	// The headless mode calls shutdown itself, to print its output to the
	// end; the dashboard is gone by then.
	shutdown := sync.OnceFunc(func() {
		api.close() // first: stop answering before the instances go
		// Requests in flight get --grace to finish, as instances do; the
		// ports close at once.
		ctx, cancel := context.WithTimeout(context.Background(), o.grace)
		defer cancel()
		var wg sync.WaitGroup
		for _, s := range servers {
			wg.Go(func() { _ = s.Shutdown(ctx) })
		}
		wg.Wait()
		sup.Stop()
		router.Close()
		reqLog.close() // last, to write also the requests the stop cut short
	})
	defer shutdown()
	r := renderer(o)
	if o.headless || !isTerminal(os.Stdout) {
		return runHeadless(sup, app, o, r, api.url, watch, stop, shutdown)
	}
	return runDashboard(sup, app, o, ui.Header{App: st.App, Host: displayHost(o.host), Admin: api.url}, r, stop, api.notices)
}

// logWarnings puts the configuration's warnings in the log of the service
// whose file holds them (the default service's for dispatch.yaml): the
// dashboard and headless output show them there, as they show those a
// live reload finds.
func logWarnings(sup *supervisor.Supervisor, app *config.App) {
	for _, w := range app.Warnings {
		sup.Logs(serviceOfFile(app, w.Pos.File), "").Add(supervisor.System, w.String())
	}
}

// serviceOfFile names the service whose app.yaml file is: the default
// service (or the first) for any other file.
func serviceOfFile(app *config.App, file string) string {
	abs, _ := filepath.Abs(file) // fails only without a working directory
	for _, svc := range app.Services {
		if svc.File == abs {
			return svc.Name
		}
	}
	if app.Service("default") != nil {
		return "default"
	}
	return app.Services[0].Name
}

// runHeadless prints logs and access lines until a signal, or until a
// service fails when watch is set (--exit-on-failure), and then on
// through shutdown: the drain, /_ah/stop and what the instances print as
// they stop are what a CI log needs when the stop goes wrong.
func runHeadless(sup *supervisor.Supervisor, app *config.App, o options, r *lipgloss.Renderer, adminURL string, watch *failureWatch, stop *stopper, shutdown func()) error {
	p := ui.NewPrinter(os.Stdout, o.logFormat, r, serviceNames(app))
	for _, svc := range app.Services {
		p.Note("service %q on http://%s", svc.Name,
			net.JoinHostPort(displayHost(o.host), strconv.Itoa(portOf(sup, svc.Name))))
	}
	p.Note("admin API and status page on %s (drive it with appdeck ctl)", adminURL)
	ctx, fail := context.WithCancelCause(stop.ctx)
	defer fail(nil)
	if watch != nil {
		go watch.run(ctx, fail)
	}
	f := ui.NewFollower(sup, p)
	f.Run(ctx)
	stop.begin() // when a failure ended it: a signal now kills at once
	var err error
	var failed *serviceFailure
	if errors.As(context.Cause(ctx), &failed) {
		p.Note("stopping with status 1: %v (--exit-on-failure)", failed)
		err = &exitError{exitFailure, printedError{failed}}
	} else {
		p.Note("stopping (press Ctrl-C again to kill at once)")
	}
	stopped, end := context.WithCancel(context.Background())
	printed := make(chan struct{})
	go func() {
		defer close(printed)
		f.Run(stopped)
	}()
	shutdown()
	end()
	<-printed // the lines of the stop's last moments too
	p.Note("stopped")
	return err
}

func runDashboard(sup *supervisor.Supervisor, app *config.App, o options, h ui.Header, r *lipgloss.Renderer, stop *stopper, notices []string) error {
	theme := o.theme
	switch {
	case o.noColor:
		theme, _ = themes.Builtin("mono")
	case theme.Name == "":
		theme, _ = themes.Builtin(themes.Default)
	}
	dark := true
	if !o.noColor && (o.theme.Name == "" || adaptive(theme)) {
		// Ask the terminal for its background before Bubble Tea owns
		// stdin: a late query hangs or leaks its answer into the input.
		dark = r.HasDarkBackground()
		if !dark && o.theme.Name == "" {
			theme, _ = themes.Builtin("light")
		}
	}
	// Explicit, so that nothing asks the terminal later: colours that
	// depend on the background read this.
	r.SetHasDarkBackground(dark)
	lipgloss.SetHasDarkBackground(dark)
	dirs := map[string]string{}
	for _, svc := range app.Services {
		dirs[svc.Name] = svc.Dir
	}
	saveDir := filepath.Join(os.TempDir(), "appdeck-logs")
	if base, err := os.UserCacheDir(); err == nil {
		saveDir = filepath.Join(base, "appdeck", "saved-logs")
	}
	model := ui.New(sup, ui.Options{Header: h, Renderer: r, Theme: theme, NoColor: o.noColor, Dirs: dirs, SaveDir: saveDir})
	defer model.Close()
	// appdeck handles the signals itself. Bubble Tea's handler makes a
	// SIGINT an error (exit 1, where the ctrl+c key exits 0), and next to
	// a handler of ours its send after the program quit blocks forever,
	// and Run with it.
	opts := []tea.ProgramOption{tea.WithAltScreen(), tea.WithoutSignalHandler()}
	if o.mouse {
		opts = append(opts, tea.WithMouseCellMotion(), tea.WithFilter(ui.MouseFilter()))
	}
	p := tea.NewProgram(model, opts...)
	if n := len(app.Warnings); n > 0 {
		// The warnings are in the service's log, which the dashboard does
		// not show first.
		notices = append(notices, common.Plural(n, "configuration warning")+": see the service's log (v)")
	}
	if len(notices) > 0 {
		// The screen covers what stderr said. Send waits for the program
		// to run.
		go p.Send(common.FlashMsg{Text: strings.Join(notices, " · ")})
	}
	go func() {
		<-stop.ctx.Done()
		p.Quit() // returns at once when the program has ended
	}()
	if _, err := p.Run(); err != nil {
		return err
	}
	// After a quit key too: the terminal is back in its normal mode, where
	// ctrl+c sends SIGINT, and a second one must kill the instances.
	stop.begin()
	fmt.Println("appdeck: stopping instances… (press Ctrl-C again to kill them at once)")
	return nil
}

// adaptive reports whether a theme has colours that depend on the
// terminal's background ({light: …, dark: …} pairs).
func adaptive(t themes.Theme) bool {
	for _, tok := range themes.Tokens {
		if _, ok := t.Color(tok).(lipgloss.AdaptiveColor); ok {
			return true
		}
	}
	return false
}

// serviceNames lists the app's services in the order of its files.
func serviceNames(app *config.App) []string {
	var names []string
	for _, svc := range app.Services {
		names = append(names, svc.Name)
	}
	return names
}

func portOf(sup *supervisor.Supervisor, service string) int {
	for _, s := range sup.Snapshot() {
		if s.Name == service {
			return s.Port
		}
	}
	return 0
}

// leaveCoresToTheApp makes appdeck use half the cores (at least one)
// unless GOMAXPROCS is set: the app's instances, and whatever sends the
// requests, run on the same machine, and a Go proxy with every core
// spins and wakes threads that they would use better. With bench/run.sh
// on 2 cores, one P forwards more requests per second than two.
func leaveCoresToTheApp() {
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(max(1, runtime.GOMAXPROCS(0)/2))
	}
}

// listen binds one front port per service, in the order the files were
// given: --port, then the ports after it.
func listen(o options, app *config.App) ([]net.Listener, map[string]int, error) {
	if last := o.port + len(app.Services) - 1; o.port != 0 && last > 65535 {
		return nil, nil, usageErr("--port %d: the app's %d services would need ports up to %d; choose %d or lower", o.port, len(app.Services), last, 65536-len(app.Services))
	}
	var ls []net.Listener
	ports := map[string]int{}
	for i, svc := range app.Services {
		port := 0
		if o.port != 0 {
			port = o.port + i
		}
		l, err := net.Listen("tcp", net.JoinHostPort(o.host, strconv.Itoa(port)))
		if err != nil {
			closeAll(ls)
			return nil, nil, portError(err, port, svc.Name, i)
		}
		ls = append(ls, l)
		ports[svc.Name] = l.Addr().(*net.TCPAddr).Port
	}
	return ls, ports, nil
}

func portError(err error, port int, service string, index int) error {
	if errors.Is(err, syscall.EADDRINUSE) {
		hint := "--port"
		if index > 0 {
			hint = fmt.Sprintf("--port (service %d of the app takes --port+%d)", index+1, index)
		}
		return fmt.Errorf("port %d for service %q is already in use; choose another with %s", port, service, hint)
	}
	return fmt.Errorf("listening for service %q: %w", service, err)
}

func closeAll(ls []net.Listener) {
	for _, l := range ls {
		l.Close()
	}
}

// displayHost turns a wildcard bind address into one a browser can open.
func displayHost(h string) string {
	if h == "" || h == "0.0.0.0" || h == "::" {
		return "localhost"
	}
	return h
}

// appName names the app after the directory holding its first service.
func appName(app *config.App) string {
	if app.ID != "" {
		return app.ID
	}
	dir := app.Services[0].Dir
	if len(app.Services) > 1 {
		dir = filepath.Dir(dir)
	}
	return filepath.Base(dir)
}

// cacheDir is where builds of this app are kept: in the user's cache
// directory, keyed by the app's path, never inside the app itself.
func cacheDir(app *config.App) string {
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	sum := sha256.Sum256([]byte(app.Services[0].File))
	return filepath.Join(base, "appdeck", "apps", fmt.Sprintf("%s-%x", appName(app), sum[:4]))
}

func renderer(o options) *lipgloss.Renderer {
	r := lipgloss.NewRenderer(os.Stdout)
	if o.noColor {
		r.SetColorProfile(termenv.Ascii)
	}
	return r
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
