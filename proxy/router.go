package proxy

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/appdeck/appdeck/config"
)

// maxBody is App Engine's limit on a request body: 32 MiB.
const maxBody = 32 << 20

// App Engine's request deadlines: 10 minutes with automatic scaling, 24
// hours with basic and manual scaling.
const (
	automaticDeadline = 10 * time.Minute
	longDeadline      = 24 * time.Hour
)

// Options configures the front servers of an app.
type Options struct {
	App *config.App
	// Pool returns the instance pool of a service.
	Pool func(service string) Pool
	// Record, when set, receives every request's outcome, served or not.
	Record func(Outcome)
	// Host is the --host value, accepted in Host headers with the
	// loopback names; AllowHosts are --allow-host patterns.
	Host       string
	AllowHosts []string
	// HTTPSPort, when set, is where `secure: always` handlers redirect
	// plain HTTP requests; without it they are served with a warning.
	HTTPSPort int
	// Deadline, when positive, replaces App Engine's request deadlines.
	Deadline time.Duration
	// ReadHeaderTimeout is how long a client has to send a request's
	// headers (slowloris; default 10 s); IdleTimeout closes keep-alive
	// connections left idle (default 2 minutes).
	ReadHeaderTimeout, IdleTimeout time.Duration
	// Warn, when set, receives notes for a service's log, such as a
	// `secure: always` handler served over HTTP.
	Warn func(service, msg string)
}

// Router holds what every front port of an app shares: the services'
// handlers, the dispatch rules and the Host check.
type Router struct {
	opts     Options
	hosts    *hostCheck
	services map[string]*service
	dflt     *service // dispatch target when no rule matches; soft routing
	rules    []dispatchRule
	warned   sync.Map
}

// service is one app.yaml as the front serves it.
type service struct {
	name     string
	cfg      *config.Service
	pool     Pool
	root     *os.Root // the service directory: static files never leave it
	handlers []handler
	errFiles map[string]config.ErrorHandler
	deadline time.Duration
	etags    etagCache
}

// New prepares the front of an app. Close releases it.
func New(opts Options) (*Router, error) {
	hc, err := newHostCheck(opts.Host, opts.AllowHosts)
	if err != nil {
		return nil, err
	}
	rt := &Router{opts: opts, hosts: hc, services: map[string]*service{}}
	for _, cfg := range opts.App.Services {
		s, err := newService(cfg, opts)
		if err != nil {
			rt.Close()
			return nil, err
		}
		rt.services[cfg.Name] = s
		if rt.dflt == nil || cfg.Name == "default" {
			rt.dflt = s
		}
	}
	if d := opts.App.Dispatch; d != nil {
		for _, r := range d.Rules {
			rt.rules = append(rt.rules, dispatchRule{DispatchRule: r, route: "dispatch " + r.URL})
		}
	}
	for i := range rt.rules {
		r := &rt.rules[i]
		if s := rt.services[r.Service]; s != nil {
			for j := range s.handlers {
				h := &s.handlers[j]
				if h.viaRule == nil {
					h.viaRule = map[*dispatchRule]string{}
				}
				h.viaRule[r] = r.route + " → " + h.label
			}
		}
	}
	return rt, nil
}

func newService(cfg *config.Service, opts Options) (*service, error) {
	root, err := os.OpenRoot(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("service %q: %w", cfg.Name, err)
	}
	s := &service{name: cfg.Name, cfg: cfg, pool: opts.Pool(cfg.Name), root: root,
		errFiles: map[string]config.ErrorHandler{}, deadline: opts.Deadline}
	for _, h := range cfg.Handlers {
		s.handlers = append(s.handlers, newHandler(h))
	}
	for _, eh := range cfg.ErrorHandlers {
		if _, dup := s.errFiles[eh.Code]; !dup {
			s.errFiles[eh.Code] = eh
		}
	}
	if s.deadline <= 0 {
		s.deadline = automaticDeadline
		if cfg.Scaling.Kind != config.Automatic {
			s.deadline = longDeadline
		}
	}
	return s, nil
}

// Close releases the service directories.
func (rt *Router) Close() error {
	for _, s := range rt.services {
		s.root.Close()
	}
	return nil
}

// port returns the handler of the named service's front port. The
// default service's port (the first service's, when none is named
// "default") also applies dispatch.yaml.
// Handler serves the named service's port with net/http alone, without
// the fast path: for embedding a port in another server, as tests do.
func (rt *Router) Handler(name string) http.Handler { return rt.port(name) }

func (rt *Router) port(name string) *port {
	s := rt.services[name]
	if s == nil {
		panic(fmt.Sprintf("proxy: no service %q", name))
	}
	return &port{rt: rt, svc: s, dispatch: s == rt.dflt && len(rt.rules) > 0}
}

// route picks the service for a request on port p: a service named in
// the host ("api.localhost"), then dispatch rules on the default port,
// then the port's own service. A host naming an unknown service goes to
// the default service, as App Engine's soft routing does.
func (p *port) route(host, path string) (*service, *dispatchRule) {
	if name := serviceFromHost(host); name != "" {
		if s := p.rt.services[name]; s != nil {
			return s, nil
		}
		return p.rt.dflt, nil
	}
	if p.dispatch {
		if r := matchDispatch(p.rt.rules, host, path); r != nil {
			return p.rt.services[r.Service], r
		}
	}
	return p.svc, nil
}

// warnOnce passes msg to Options.Warn the first time key is seen.
func (rt *Router) warnOnce(service, key, msg string) {
	if rt.opts.Warn == nil {
		return
	}
	if _, seen := rt.warned.LoadOrStore(key, true); !seen {
		rt.opts.Warn(service, msg)
	}
}

// cleanPath resolves "." and ".." segments as devappserver2 does before
// matching, keeping repeated slashes; the client is redirected to the
// result, so no handler ever sees a dot segment.
func cleanPath(p string) string {
	if !strings.Contains(p, "/.") || !strings.HasPrefix(p, "/") {
		return p
	}
	segs := strings.Split(p[1:], "/")
	out := make([]string, 0, len(segs))
	for i, s := range segs {
		last := i == len(segs)-1
		switch s {
		case ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, s)
			continue
		}
		if last {
			out = append(out, "")
		}
	}
	return "/" + strings.Join(out, "/")
}
