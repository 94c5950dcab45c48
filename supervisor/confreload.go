package supervisor

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/appdeck/appdeck/config"
)

// confState is what live reloading of the configuration keeps: the app in
// force and the errors already logged.
type confState struct {
	mu  sync.Mutex // serializes reloads, which the services' watchers start
	app *config.App
	// logged are the problems of an invalid configuration already
	// logged, so that saving the same mistake again does not repeat
	// them; a valid load forgets them.
	logged map[string]bool
	// pending are the changes that need appdeck restarted, as logged, by
	// file and key: each is logged when it appears or differs, not on
	// every save after.
	pending map[string]string
	// warned are the warnings (unknown keys and the like) logged, or
	// printed at start: a valid file's warnings are news only once.
	warned map[string]bool
}

// liveField is an app.yaml key that takes effect without restarting
// appdeck; restart says whether the instances must restart for it (their
// command or environment depend on it).
type liveField struct {
	key     string
	restart bool
	get     func(*config.Service) any
}

var liveFields = []liveField{
	{"entrypoint", true, func(c *config.Service) any { return c.Entrypoint }},
	{"main", true, func(c *config.Service) any { return c.Main }},
	{"env_variables", true, func(c *config.Service) any { return c.Env }},
	{"instance_class", true, func(c *config.Service) any { return c.InstanceClass }},
	{"skip_files", true, func(c *config.Service) any { return c.SkipFiles }},
	{"handlers", false, func(c *config.Service) any { return c.Handlers }},
	{"error_handlers", false, func(c *config.Service) any { return c.ErrorHandlers }},
	{"default_expiration", false, func(c *config.Service) any { return c.DefaultExpiration }},
	{"inbound_services", false, func(c *config.Service) any { return c.InboundServices }},
	{"threadsafe", false, func(c *config.Service) any { return c.Threadsafe }},
}

// fixedField is an app.yaml key whose change needs appdeck restarted: it
// names the service, picks its runtime, or sets its ports or instances.
// change describes what changed between the value in force and the one
// loaded, "" when nothing did; keep puts the value in force back into a
// reloaded configuration.
type fixedField struct {
	key    string
	change func(inForce, loaded *config.Service) string
	keep   func(dst, inForce *config.Service)
}

var fixedFields = []fixedField{
	{"service", changedValue("service", func(c *config.Service) string { return c.Name }),
		func(d, f *config.Service) { d.Name, d.NamePos = f.Name, f.NamePos }},
	{"application", changedValue("application", func(c *config.Service) string { return c.AppID }),
		func(d, f *config.Service) { d.AppID, d.AppIDPos = f.AppID, f.AppIDPos }},
	{"runtime", changedValue("runtime", func(c *config.Service) string { return c.Runtime }),
		func(d, f *config.Service) { d.Runtime, d.RuntimePos = f.Runtime, f.RuntimePos }},
	{"scaling", scalingChange, keepScaling},
}

// changedValue describes a change of the value get reads, as
// `runtime changed "custom" → "python312"`.
func changedValue(key string, get func(*config.Service) string) func(was, now *config.Service) string {
	return func(was, now *config.Service) string {
		if get(was) == get(now) {
			return ""
		}
		return fmt.Sprintf("%s changed %q → %q", key, get(was), get(now))
	}
}

// scalingChange describes a change of the scaling block in app.yaml's
// words: a change of kind as "scaling changed automatic_scaling →
// manual_scaling (instances: 2)", with the values the new block sets,
// and a change within a kind by the values that changed, as
// "automatic_scaling changed max_instances 1 → 2". An instance class that
// waits for the scaling (it does not go with the one in force) is named.
func scalingChange(was, now *config.Service) string {
	a, b := was.Scaling, now.Scaling
	var desc string
	if a.Kind != b.Kind {
		desc = fmt.Sprintf("scaling changed %s_scaling → %s_scaling", a.Kind, b.Kind)
		if set := b.NonDefault(); len(set) > 0 {
			desc += " (" + showSettings(set, 3) + ")"
		}
	} else {
		var diffs []string
		old := a.Settings()
		for i, v := range b.Settings() {
			if v != old[i] {
				diffs = append(diffs, v.Key+" "+old[i].Value+" → "+v.Value)
			}
		}
		if len(diffs) == 0 {
			return ""
		}
		desc = fmt.Sprintf("%s_scaling changed %s", a.Kind, strings.Join(diffs, ", "))
	}
	kept := *now
	keepScaling(&kept, was)
	if now.InstanceClassPos != (config.Pos{}) && kept.InstanceClass != now.InstanceClass {
		desc += " with instance_class " + now.InstanceClass
	}
	return desc
}

// showSettings writes up to max settings as "key: value, …", so that a
// line that names them stays short.
func showSettings(set []config.Setting, max int) string {
	var parts []string
	for i, v := range set {
		if i == max {
			parts = append(parts, "…")
			break
		}
		parts = append(parts, v.Key+": "+v.Value)
	}
	return strings.Join(parts, ", ")
}

// keepScaling puts the scaling in force back into d with what follows
// from it: the default instance class, when d's file names none, is the
// one of the scaling kept (GAE_MEMORY_MB stays); a class the file names
// that does not go with it waits for the scaling too.
func keepScaling(d, inForce *config.Service) {
	d.Scaling = inForce.Scaling
	if !d.FitInstanceClass() {
		d.InstanceClass, d.InstanceClassPos = inForce.InstanceClass, inForce.InstanceClassPos
	}
}

// reloadConfig loads the app again, as it was loaded at start, after a
// configuration file of from changed, and puts what changed in force:
// handlers and the like in the front at once, what the instances'
// command or environment depend on by a rolling restart. An invalid
// configuration is logged and changes nothing; a change that needs
// appdeck restarted is logged and the value in force kept. It reports
// whether from's instances were restarted (built again and replaced), so
// that its reload loop does not do it a second time for the same edit.
func (s *Supervisor) reloadConfig(ctx context.Context, from *Service) (restarted bool) {
	// The builds and rolling restarts run after the lock: they take
	// seconds, and other services' reloads wait for the lock.
	for _, r := range s.swapConfig(from) {
		r.svc.restartFor(ctx, r.why)
		restarted = restarted || r.svc == from
	}
	return restarted
}

// restart is a service whose instances must restart for a new
// configuration, and why.
type restart struct {
	svc *Service
	why string
}

// swapConfig loads the app again and puts in force what can be without
// restarting instances; it returns the services whose instances must
// restart.
func (s *Supervisor) swapConfig(from *Service) []restart {
	if s.opts.Load == nil {
		from.Logs.Add(System, "configuration changed: restart appdeck to apply it")
		return nil
	}
	c := &s.conf
	c.mu.Lock()
	defer c.mu.Unlock()
	app, err := s.opts.Load()
	if err != nil {
		s.configInvalid(from, err)
		return nil
	}
	clear(c.logged)
	for _, w := range app.Warnings {
		if !c.warned[w.String()] {
			c.warned[w.String()] = true
			s.serviceOfFile(w.Pos.File, from).Logs.Add(System, w.String())
		}
	}
	next, changes, ok := s.merge(app, from)
	if !ok {
		return nil
	}
	if len(changes) == 0 && same(c.app.Dispatch, next.Dispatch) {
		return nil
	}
	if s.opts.Apply != nil {
		if err := s.opts.Apply(next); err != nil {
			from.configProblem("configuration not applied: " + err.Error() + "; the previous configuration stays in force")
			return nil
		}
	}
	if d := next.Dispatch; !same(c.app.Dispatch, d) {
		msg := "dispatch.yaml removed: no dispatch rules from the next request"
		if d != nil {
			msg = filepath.Base(d.File) + " changed: its rules apply from the next request"
		}
		s.dispatchService().Logs.Add(System, msg)
	}
	c.app = next
	var restarts []restart
	for i, svc := range s.services {
		if ch, ok := changes[svc]; ok && svc.reconfigure(next.Services[i], ch) {
			restarts = append(restarts, restart{svc, "configuration changed: " + strings.Join(ch.keys, ", ")})
		}
	}
	return restarts
}

// configInvalid logs each problem of a configuration that does not load,
// once, in the log of the service whose file has it (from's otherwise).
func (s *Supervisor) configInvalid(from *Service, err error) {
	c := &s.conf
	var ds config.Diagnostics
	if !errors.As(err, &ds) {
		ds = config.Diagnostics{{Msg: err.Error()}}
	}
	told := map[*Service][]string{}
	for _, d := range ds {
		if d.Warning || c.logged[d.String()] {
			continue
		}
		c.logged[d.String()] = true
		svc := s.serviceOfFile(d.Pos.File, from)
		svc.Logs.Add(System, d.String())
		told[svc] = append(told[svc], d.String())
	}
	for _, svc := range s.services {
		if problems := told[svc]; len(problems) > 0 {
			svc.Logs.Add(System, "the configuration is not valid: the previous configuration stays in force")
			first := problems[0]
			if len(problems) > 1 {
				first += fmt.Sprintf(" (and %d more in the service's log)", len(problems)-1)
			}
			svc.sup.events.publish(Event{Kind: ConfigProblem, Service: svc.Name,
				Reason: first + "; the previous configuration stays in force"})
		}
	}
}

// configProblem logs msg, a change that did not take, and publishes it
// for the dashboard to show at once.
func (svc *Service) configProblem(msg string) {
	svc.Logs.Add(System, msg)
	svc.sup.events.publish(Event{Kind: ConfigProblem, Service: svc.Name, Reason: msg})
}

// serviceOfFile returns the service whose app.yaml file is, or dflt.
func (s *Supervisor) serviceOfFile(file string, dflt *Service) *Service {
	if abs, err := filepath.Abs(file); err == nil {
		for _, svc := range s.services {
			if svc.conf().File == abs {
				return svc
			}
		}
	}
	return dflt
}

// dispatchService is the service whose log tells about dispatch.yaml: the
// default service, which the rules route from.
func (s *Supervisor) dispatchService() *Service {
	if svc := s.service("default"); svc != nil {
		return svc
	}
	return s.services[0]
}

// serviceChange is what changed in one service's app.yaml.
type serviceChange struct {
	keys    []string // the live keys that changed
	restart bool     // one of them needs the instances restarted
}

// merge matches the loaded app's services with those running, by file,
// and returns the app to put in force: the loaded one, with the values in
// force of the fields that cannot change live. It returns false, after
// logging why, when the set of services changed.
func (s *Supervisor) merge(app *config.App, from *Service) (*config.App, map[*Service]serviceChange, bool) {
	byFile := map[string]*config.Service{}
	for _, cfg := range app.Services {
		byFile[cfg.File] = cfg
	}
	for _, svc := range s.services {
		if byFile[svc.conf().File] == nil || len(app.Services) != len(s.services) {
			const msg = "the app's set of services changed: restart appdeck to apply it; the previous configuration stays in force"
			if s.conf.pending["services"] != msg { // once, not on every save
				from.configProblem(msg)
				s.conf.pending["services"] = msg
			}
			return nil, nil, false
		}
	}
	delete(s.conf.pending, "services")
	next := *app
	next.Services = make([]*config.Service, len(s.services))
	changes := map[*Service]serviceChange{}
	for i, svc := range s.services {
		old := svc.conf()
		loaded := byFile[old.File]
		merged := *loaded
		file := svc.describe([]string{old.File})
		for _, f := range fixedFields {
			key := old.File + " " + f.key
			change := f.change(old, loaded)
			if change == "" {
				delete(s.conf.pending, key)
				continue
			}
			f.keep(&merged, old)
			msg := file + ": " + change + ": restart appdeck to apply it"
			if s.conf.pending[key] != msg {
				svc.configProblem(msg)
				s.conf.pending[key] = msg
			}
		}
		var ch serviceChange
		for _, f := range liveFields {
			if !same(f.get(old), f.get(&merged)) {
				ch.keys = append(ch.keys, f.key)
				ch.restart = ch.restart || f.restart
			}
		}
		if len(ch.keys) > 0 {
			changes[svc] = ch
			next.Services[i] = &merged
		} else {
			next.Services[i] = old
		}
	}
	next.ID = s.conf.app.ID // application is kept with each service's
	return &next, changes, true
}

// reconfigure puts cfg in force for svc (the front already serves it)
// and says whether the instances must restart: ch changed their command
// or environment.
func (svc *Service) reconfigure(cfg *config.Service, ch serviceChange) bool {
	what := svc.describe([]string{cfg.File}) + ": " + strings.Join(ch.keys, ", ") + " changed"
	svc.sup.events.publish(Event{Kind: Changed, Service: svc.Name, Reason: what})
	svc.cfg.Store(cfg)
	if w := svc.watcher.Load(); w != nil && slices.Contains(ch.keys, "skip_files") {
		// Directories skip_files left out are watched now; those it
		// leaves out now are ignored by their events.
		for _, root := range svc.watchRoots() {
			w.addTree(root)
		}
	}
	if !ch.restart {
		svc.Logs.Add(System, what+"; in force from the next request")
		return false
	}
	svc.Logs.Add(System, what+"; restarting the instances")
	return true
}

// restartFor builds the service again, if its runtime needs it, and
// replaces its instances, rolling, for the reason why.
func (svc *Service) restartFor(ctx context.Context, why string) {
	svc.scaleMu.Lock()
	defer svc.scaleMu.Unlock()
	svc.build(ctx, false)
	if err := svc.replaceAll(why); err != nil && ctx.Err() == nil {
		svc.Logs.Add(System, "restart after the change: "+err.Error())
	}
}

// pollDispatch reloads the configuration when dispatch.yaml changes, for
// a dispatch.yaml outside every service's directory, which no watcher
// sees. It checks every second, as dev_appserver.py does.
func (s *Supervisor) pollDispatch(ctx context.Context, file string) {
	stamp := func() (time.Time, int64) {
		fi, err := os.Stat(file)
		if err != nil {
			return time.Time{}, -1
		}
		return fi.ModTime(), fi.Size()
	}
	mod, size := stamp()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
		case <-ctx.Done():
			return
		}
		if m, n := stamp(); !m.Equal(mod) || n != size {
			mod, size = m, n
			s.reloadConfig(ctx, s.dispatchService())
		}
	}
}

// watchedByAService reports whether a service's watcher sees file.
func (s *Supervisor) watchedByAService(file string) bool {
	for _, svc := range s.services {
		for _, root := range svc.watchRoots() {
			if within(file, root) {
				return true
			}
		}
	}
	return false
}

// same reports whether two configuration values are equal, ignoring the
// positions they were read at (an edit elsewhere in the file moves
// them) and comparing patterns by their text.
func same(a, b any) bool {
	return equalValues(reflect.ValueOf(a), reflect.ValueOf(b))
}

var (
	posType    = reflect.TypeFor[config.Pos]()
	regexpType = reflect.TypeFor[*regexp.Regexp]()
)

func equalValues(a, b reflect.Value) bool {
	if a.IsValid() != b.IsValid() {
		return false
	}
	if !a.IsValid() {
		return true
	}
	if a.Type() != b.Type() {
		return false
	}
	switch {
	case a.Type() == posType:
		return true
	case a.Type() == regexpType:
		return a.IsNil() == b.IsNil() && (a.IsNil() || a.Interface().(*regexp.Regexp).String() == b.Interface().(*regexp.Regexp).String())
	}
	switch a.Kind() {
	case reflect.Pointer, reflect.Interface:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		return equalValues(a.Elem(), b.Elem())
	case reflect.Slice:
		if a.Len() != b.Len() {
			return false
		}
		for i := range a.Len() {
			if !equalValues(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Struct:
		for i := range a.NumField() {
			if !equalValues(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	case reflect.Map:
		if a.Len() != b.Len() {
			return false
		}
		for _, k := range a.MapKeys() {
			if !equalValues(a.MapIndex(k), b.MapIndex(k)) {
				return false
			}
		}
		return true
	}
	return a.Equal(b)
}
