package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/appdeck/appdeck/admin"
	"github.com/appdeck/appdeck/proxy"
	"github.com/appdeck/appdeck/supervisor"
	"github.com/appdeck/appdeck/ui"
)

func (c *ctlRun) status(args []string) error {
	if err := c.connect(); err != nil {
		return err
	}
	services, err := c.client.Services(c.ctx)
	if err != nil {
		return err
	}
	if len(args) == 1 {
		if services, err = selectTarget(services, args[0]); err != nil {
			return err
		}
	}
	if c.opts.json {
		return c.printJSON(services)
	}
	c.printStatus(services)
	return nil
}

// selectTarget keeps the service, or the instance, that target names.
func selectTarget(services []admin.Service, target string) ([]admin.Service, error) {
	service, instance, err := splitTarget(target)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, s := range services {
		names = append(names, s.Name)
		if s.Name != service {
			continue
		}
		if instance == "" {
			return []admin.Service{s}, nil
		}
		for _, in := range s.Instances {
			if in.ID == instance {
				s.Instances = []admin.Instance{in}
				return []admin.Service{s}, nil
			}
		}
		return nil, fmt.Errorf("no instance %s/%s", service, instance)
	}
	return nil, fmt.Errorf("no service %q (the services are %s)", service, strings.Join(names, ", "))
}

func (c *ctlRun) printStatus(services []admin.Service) {
	tw := tabwriter.NewWriter(c.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVICE\tURL\tRUNTIME\tSCALING\tREADY\tNOTE")
	for _, s := range services {
		scaling := s.Scaling
		if s.Pinned {
			scaling += " (pinned)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d/%d\t%s\n", s.Name, orDash(s.URL), s.Runtime, scaling,
			countReady(s), len(s.Instances), serviceNote(s))
	}
	tw.Flush()
	fmt.Fprintln(c.out)
	tw = tabwriter.NewWriter(c.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "INSTANCE\tSTATE\tPID\tPORT\tIN-FLIGHT\tREQUESTS\tREQ/S\tP50\tRESTARTS\tUP\tNOTE")
	for _, s := range services {
		for _, in := range s.Instances {
			fmt.Fprintf(tw, "%s/%s\t%s\t%s\t%s\t%d/%d\t%d\t%.1f\t%s\t%d\t%s\t%s\n", in.Service, in.ID, in.State,
				orDash(itoa(in.PID)), orDash(itoa(in.Port)), in.InFlight, in.Capacity, in.Total, in.RPS,
				orDash(latency(in.P50MS)), in.Restarts, orDash(upFor(in.StartedAt)), in.Note("; "))
		}
	}
	tw.Flush()
}

func latency(ms float64) string {
	if ms == 0 {
		return ""
	}
	return ui.FormatLatency(time.Duration(ms * float64(time.Millisecond)))
}

func countReady(s admin.Service) int {
	n := 0
	for _, in := range s.Instances {
		if in.State == admin.Ready {
			n++
		}
	}
	return n
}

func serviceNote(s admin.Service) string {
	switch {
	case s.Building:
		return "building…"
	case s.BuildError != "":
		return "build failed: " + s.BuildError + " (see appdeck ctl logs " + s.Name + ")"
	}
	return ""
}

func itoa(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func upFor(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return time.Since(t).Truncate(time.Second).String()
}

// pastTense names what an action did, for people.
var pastTense = map[string]string{"restart": "restarted", "stop": "stopped", "start": "started", "kill": "killed"}

// action runs restart, stop, start or kill on an instance or a service.
func (c *ctlRun) action(args []string) error {
	service, instance, err := splitTarget(args[0])
	if err != nil {
		return err
	}
	if err := c.connect(); err != nil {
		return err
	}
	before, err := c.client.Service(c.ctx, service)
	if err != nil {
		return err
	}
	var after []admin.Instance
	if instance != "" {
		in, err := c.client.InstanceAction(c.ctx, service, instance, c.cmd)
		if err != nil {
			return err
		}
		after = []admin.Instance{in}
	} else {
		svc, err := c.client.ServiceAction(c.ctx, service, c.cmd)
		if err != nil {
			return err
		}
		after = svc.Instances
	}
	if c.opts.json {
		return c.printJSON(after)
	}
	for _, in := range after {
		fmt.Fprintln(c.out, describeChange(c.cmd, findInstance(before, in.ID), in))
	}
	if len(after) == 0 {
		fmt.Fprintf(c.out, "%s has no instances\n", service)
	}
	return nil
}

func findInstance(s admin.Service, id string) admin.Instance {
	for _, in := range s.Instances {
		if in.ID == id {
			return in
		}
	}
	return admin.Instance{}
}

// describeChange says what happened to an instance: "restarted default/0:
// starting, pid 4242 → 4250".
func describeChange(cmd string, before, after admin.Instance) string {
	name := after.Service + "/" + after.ID
	pid := ""
	switch {
	case before.PID != 0 && after.PID != 0 && before.PID != after.PID:
		pid = fmt.Sprintf(", pid %d → %d", before.PID, after.PID)
	case after.PID != 0:
		pid = fmt.Sprintf(", pid %d", after.PID)
	}
	if before.State == after.State && before.PID == after.PID {
		return fmt.Sprintf("%s: unchanged, %s%s", name, after.State, pid)
	}
	return fmt.Sprintf("%s %s: %s%s", pastTense[cmd], name, after.State, pid)
}

func (c *ctlRun) scale(args []string) error {
	n := supervisor.ScaleAuto
	if args[1] != "auto" {
		var err error
		if n, err = strconv.Atoi(args[1]); err != nil || n < 0 {
			return usageErr("scale %s %q: want a number of instances or auto", args[0], args[1])
		}
	}
	if err := c.connect(); err != nil {
		return err
	}
	svc, err := c.client.Scale(c.ctx, args[0], n)
	if err != nil {
		return err
	}
	if c.opts.json {
		return c.printJSON(svc)
	}
	switch {
	case n == supervisor.ScaleAuto && svc.Scaling == "manual":
		fmt.Fprintf(c.out, "%s scales as app.yaml says (manual scaling): %d instance(s)\n", svc.Name, len(svc.Instances))
	case n == supervisor.ScaleAuto:
		fmt.Fprintf(c.out, "%s scales as app.yaml says (%s scaling): %d instance(s) now, and the scaler decides from here\n",
			svc.Name, svc.Scaling, len(svc.Instances))
	case svc.Pinned:
		fmt.Fprintf(c.out, "scaled %s to %d instance(s), pinned: %s scaling leaves it until `appdeck ctl scale %s auto`\n",
			svc.Name, len(svc.Instances), svc.Scaling, svc.Name)
	default:
		fmt.Fprintf(c.out, "scaled %s to %d instance(s)\n", svc.Name, len(svc.Instances))
	}
	for _, in := range svc.Instances {
		fmt.Fprintf(c.out, "  %s/%s: %s\n", in.Service, in.ID, in.State)
	}
	return nil
}

func (c *ctlRun) rebuild(args []string) error {
	service, instance, err := splitTarget(args[0])
	if err != nil {
		return err
	}
	if instance != "" {
		return usageErr("rebuild builds a whole service: appdeck ctl rebuild %s", service)
	}
	if err := c.connect(); err != nil {
		return err
	}
	start := time.Now()
	svc, err := c.client.ServiceAction(c.ctx, service, "rebuild")
	if err != nil {
		return err
	}
	if c.opts.json {
		if err := c.printJSON(svc); err != nil {
			return err
		}
	}
	if svc.BuildError != "" {
		if !c.opts.json {
			fmt.Fprintln(c.out, svc.BuildOutput)
		}
		return fmt.Errorf("the build of %s failed: %s", service, svc.BuildError)
	}
	if !c.opts.json {
		fmt.Fprintf(c.out, "rebuilt %s in %s; %d instance(s) restarting\n", service, ui.FormatLatency(time.Since(start)), len(svc.Instances))
	}
	return nil
}

// logs prints the log lines held, then follows with -f.
func (c *ctlRun) logs(args []string) error {
	q := c.streamQuery()
	if len(args) == 1 {
		service, instance, err := splitTarget(args[0])
		if err != nil {
			return err
		}
		q.Set("service", service)
		if instance != "" {
			q.Set("instance", instance)
		}
	}
	if err := c.connect(); err != nil {
		return err
	}
	show := func(l admin.LogLine) { c.jsonLine(l) }
	if !c.opts.json {
		services, err := c.client.Services(c.ctx) // for each service's colour
		if err != nil {
			return err
		}
		p := c.printer(services)
		show = func(l admin.LogLine) { p.Log(l.Entry()) }
	}
	if c.opts.follow {
		return c.client.FollowLogs(c.ctx, q, show)
	}
	lines, err := c.client.Logs(c.ctx, q)
	for _, l := range lines {
		show(l)
	}
	return err
}

// requests prints the requests held, then follows with -f.
func (c *ctlRun) requests(args []string) error {
	q := c.streamQuery()
	if len(args) == 1 {
		q.Set("service", args[0])
	}
	if err := c.connect(); err != nil {
		return err
	}
	show := func(r admin.Request) { c.jsonLine(r) }
	if !c.opts.json {
		services, err := c.client.Services(c.ctx)
		if err != nil {
			return err
		}
		p := c.printer(services)
		show = func(r admin.Request) { p.Request(requestRecord(r)) }
	}
	if c.opts.follow {
		return c.client.FollowRequests(c.ctx, q, show)
	}
	reqs, err := c.client.Requests(c.ctx, q)
	for _, r := range reqs {
		show(r)
	}
	return err
}

// requestRecord turns a request of the API back into the supervisor's
// form, for the printer the headless mode uses.
func requestRecord(r admin.Request) supervisor.Request {
	return supervisor.Request{Seq: r.Seq, Outcome: proxy.Outcome{
		Start: r.Time, Service: r.Service, Instance: r.Instance, Method: r.Method, Path: r.Path,
		Status: r.Status, Bytes: r.Bytes, Latency: time.Duration(r.LatencyMS * float64(time.Millisecond)), Route: r.Route,
	}}
}

// wait polls until every service (or the one named) is ready. It also
// waits for appdeck itself to start answering, so that a script can start
// appdeck in the background and wait at once; and it stops waiting as
// soon as that appdeck ends.
func (c *ctlRun) wait(args []string) error {
	start := time.Now()
	deadline := time.NewTimer(c.opts.timeout)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var last error // why it is not ready yet
	answered := false
	for {
		services, err := c.waitOnce(args)
		switch {
		case err == nil:
			if c.opts.json {
				return c.printJSON(services)
			}
			fmt.Fprintf(c.out, "ready after %s: %s\n", time.Since(start).Round(10*time.Millisecond), readySummary(services))
			return nil
		case errors.Is(err, errNotReady):
			answered, last = true, err
		case isNotRunning(err):
			if err := c.ended(start, answered); err != nil {
				return err
			}
			last = err
		default:
			return err // a failed build, an unknown service
		}
		select {
		case <-c.ctx.Done():
			return fmt.Errorf("interrupted before ready: %w", last)
		case <-deadline.C:
			if isNotRunning(last) {
				return c.lastExit(last)
			}
			return fmt.Errorf("not ready after %s: %w", c.opts.timeout, last)
		case <-tick.C:
		}
	}
}

// recentExit is how long before wait started an appdeck may have ended
// for wait to take it as the one it waits for: the two are usually
// started together, and appdeck may fail first (a port in use). Older
// exits belong to an earlier run.
const recentExit = 2 * time.Second

// ended returns why wait cannot succeed when the appdeck it waits for has
// ended: one that left a record of its failure since wait started, or
// one that answered and went away. nil while one may still come, or the
// one found is still running (starting, or stopping and about to leave
// its record).
func (c *ctlRun) ended(start time.Time, answered bool) error {
	if c.pid != 0 && admin.Alive(c.pid) {
		return nil
	}
	if c.opts.admin == "" {
		if wd, err := os.Getwd(); err == nil {
			if st, ok := admin.FindExit(wd, start.Add(-recentExit)); ok {
				return &exitError{exitFailure, fmt.Errorf("the appdeck serving %s exited with status %d before it was ready: %s", st.Root, st.Status, st.Reason)}
			}
		}
	}
	if answered || c.pid != 0 {
		return &exitError{exitFailure, fmt.Errorf("the appdeck at %s stopped before it was ready", c.where)}
	}
	return nil
}

// lastExit adds to wait's "not running" the last failure of an appdeck
// for this directory, when there was one.
func (c *ctlRun) lastExit(notRunning error) error {
	wd, err := os.Getwd()
	if c.opts.admin != "" || err != nil {
		return notRunning
	}
	if st, ok := admin.FindExit(wd, time.Time{}); ok {
		return &notRunningError{fmt.Sprintf("%v\n(an appdeck for %s exited with status %d at %s, before wait started: %s)",
			notRunning, st.Root, st.Status, st.Exited.Format(time.TimeOnly), st.Reason)}
	}
	return notRunning
}

var errNotReady = errors.New("not ready")

func isNotRunning(err error) bool {
	var nr *notRunningError
	return errors.As(err, &nr) || isDialError(err)
}

// waitOnce checks readiness once: nil when ready, errNotReady (wrapped
// with what is missing) while starting, any other error for a failure.
func (c *ctlRun) waitOnce(args []string) ([]admin.Service, error) {
	if err := c.connect(); err != nil {
		c.client = nil // look for the state file again next time
		return nil, err
	}
	services, err := c.client.Services(c.ctx)
	if err != nil {
		if isDialError(err) && c.opts.admin == "" {
			c.client = nil // a stale state file; a new appdeck may write another
		}
		return nil, err
	}
	if len(args) == 1 {
		if services, err = selectTarget(services, args[0]); err != nil {
			return nil, err
		}
	}
	var waiting []string
	for _, s := range services {
		if s.BuildError != "" && !s.Building {
			return nil, fmt.Errorf("service %s could not be built: %s (see appdeck ctl logs %s)", s.Name, s.BuildError, s.Name)
		}
		if why := notReady(s); why != "" {
			waiting = append(waiting, why)
		}
	}
	if len(waiting) > 0 {
		return nil, fmt.Errorf("%w: %s", errNotReady, strings.Join(waiting, "; "))
	}
	return services, nil
}

// notReady says why a service is not ready, or "" when it is: it has a
// ready instance and every other one is ready too, or stopped by hand.
func notReady(s admin.Service) string {
	switch {
	case s.Building:
		return s.Name + " is building"
	case len(s.Instances) == 0:
		return s.Name + " has no instance yet"
	}
	var not []string
	for _, in := range s.Instances {
		if in.State != admin.Ready && in.State != "stopped" {
			desc := in.Service + "/" + in.ID + " is " + in.State
			if note := in.Note("; "); note != "" {
				desc += " (" + note + ")"
			}
			not = append(not, desc)
		}
	}
	if len(not) == 0 && countReady(s) == 0 {
		return s.Name + " has every instance stopped"
	}
	return strings.Join(not, ", ")
}

func readySummary(services []admin.Service) string {
	var parts []string
	for _, s := range services {
		parts = append(parts, fmt.Sprintf("%s (%d/%d)", s.Name, countReady(s), len(s.Instances)))
	}
	return strings.Join(parts, ", ")
}
