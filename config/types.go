// Package config loads and validates App Engine style configuration: one
// app.yaml per service and an optional dispatch.yaml. Every value keeps the
// position it came from so that problems can be reported as file:line:col.
//
// The package imports nothing else from appdeck; which runtime names exist is
// asked through [Options.CheckRuntime] so that the list lives with the
// runtimes themselves.
package config

import (
	"regexp"
	"time"
)

// Pos is a 1-based position in a configuration file.
type Pos struct {
	File string
	Line int
	Col  int
}

// App is a whole application: every service and the dispatch rules.
type App struct {
	// ID is the application id from `application`/`project`, or "" when no
	// file names one.
	ID       string
	Services []*Service
	// Dispatch is nil when no dispatch.yaml was given.
	Dispatch *Dispatch
	// AppDir is the app directory read whole (one directory per
	// service), whose dispatch.yaml counts even when it appears later;
	// "" when the services were named one by one.
	AppDir string
	// Warnings are problems that do not stop the app from running, such
	// as keys appdeck does not use.
	Warnings Diagnostics
}

// Service returns the service with the given name, or nil.
func (a *App) Service(name string) *Service {
	for _, s := range a.Services {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// Service is one app.yaml.
type Service struct {
	// File is the absolute path of the app.yaml; Dir is its directory, the
	// application root that instances run in.
	File string
	Dir  string

	Name    string // `service` (or the older `module`); "default" when absent
	NamePos Pos    // line 1, column 1 when the name is defaulted

	// AppID is `application` (or `project`), or "" when absent; Load
	// checks that all services agree on it.
	AppID    string
	AppIDPos Pos

	Runtime    string
	RuntimePos Pos

	// Entrypoint is the shell command that starts an instance, normalized
	// with a leading "exec " as App Engine does, or "" when absent.
	Entrypoint    string
	EntrypointPos Pos

	// Main is the Go main package (`main:`), relative to Dir, or "".
	Main string

	// Env holds env_variables in file order.
	Env []EnvVar

	Handlers          []*Handler
	ErrorHandlers     []ErrorHandler
	DefaultExpiration time.Duration // 0 when unset
	InboundServices   []string
	// InstanceClass defaults to F1 for automatic scaling and B2 for basic
	// and manual scaling, as in App Engine (see FitInstanceClass).
	InstanceClass string
	// InstanceClassPos is where instance_class is; zero when the file
	// leaves it out and the class follows from the scaling.
	InstanceClassPos Pos
	// Threadsafe is nil when the key is absent.
	Threadsafe *bool
	Scaling    Scaling
	// SkipFiles match paths relative to Dir, with forward slashes. Each
	// is anchored at the start only (Python's re.match), so App Engine
	// patterns such as `^(.*/)?.*\.py[co]$` keep their meaning. When
	// skip_files is absent they are App Engine's defaults: Emacs backups
	// (#x#, x~), .pyc/.pyo, RCS directories and dot-files.
	SkipFiles []*regexp.Regexp
}

// EnvVar is one entry of env_variables.
type EnvVar struct {
	Name, Value string
	Pos         Pos
}

// HasInbound reports whether inbound_services lists name.
func (s *Service) HasInbound(name string) bool {
	for _, v := range s.InboundServices {
		if v == name {
			return true
		}
	}
	return false
}

// Skipped reports whether the app-relative path rel (forward slashes)
// matches skip_files.
func (s *Service) Skipped(rel string) bool {
	for _, re := range s.SkipFiles {
		if re.MatchString(rel) {
			return true
		}
	}
	return false
}

// MemoryMB is the memory limit App Engine gives the service's instance
// class, as reported to instances in GAE_MEMORY_MB.
func (s *Service) MemoryMB() int {
	switch s.InstanceClass {
	case "F2", "B2":
		return 256
	case "F4", "B4":
		return 512
	case "F4_1G", "B4_1G", "B8":
		return 1024
	default: // F1, B1
		return 128
	}
}

// Handler is one entry of `handlers`. Fields the file leaves out hold App
// Engine's defaults: login optional, auth_fail_action redirect, secure
// optional.
type Handler struct {
	Pos Pos // the handler's first key
	// URL is the pattern as written. Regexp matches a request path: URL
	// anchored at both ends, except for static_dir, where URL is a
	// directory prefix and Regexp, like devappserver2's, is
	// ^(?:URL)/(.*)$ with group 1 the file's path inside StaticDir.
	URL    string
	Regexp *regexp.Regexp

	// Exactly one of Script, StaticDir and StaticFiles is set.
	Script      string
	StaticDir   string
	StaticFiles string         // may refer to groups of Regexp: \1
	Upload      *regexp.Regexp // anchored at both ends; set with StaticFiles

	MimeType            string
	Expiration          time.Duration
	HasExpiration       bool
	HTTPHeaders         []Header
	Login               Login
	AuthFailAction      AuthFailAction
	Secure              Secure
	RedirectCode        int // redirect_http_response_code; 0 when unset
	RequireMatchingFile bool
}

// Header is one http_headers entry, in file order.
type Header struct{ Name, Value string }

// Login is a handler's `login` value.
type Login string

// Login values.
const (
	LoginOptional Login = "optional"
	LoginRequired Login = "required"
	LoginAdmin    Login = "admin"
)

// AuthFailAction is a handler's `auth_fail_action` value.
type AuthFailAction string

// AuthFailAction values.
const (
	AuthRedirect     AuthFailAction = "redirect"
	AuthUnauthorized AuthFailAction = "unauthorized"
)

// Secure is a handler's `secure` value.
type Secure string

// Secure values.
const (
	SecureOptional Secure = "optional"
	SecureAlways   Secure = "always"
	SecureNever    Secure = "never"
)

// ErrorHandler is one entry of `error_handlers`.
type ErrorHandler struct {
	Pos Pos
	// Code is default (when absent), over_quota, dos_api_denial or
	// timeout.
	Code     string
	File     string // relative to the service directory
	MimeType string
}

// ScalingKind says which scaling block a service uses.
type ScalingKind int

// Scaling kinds. Automatic is the zero value, as in App Engine, where a
// service without a scaling block scales automatically.
const (
	Automatic ScalingKind = iota
	Basic
	Manual
)

func (k ScalingKind) String() string {
	switch k {
	case Basic:
		return "basic"
	case Manual:
		return "manual"
	default:
		return "automatic"
	}
}

// Scaling holds the service's scaling block, with App Engine's defaults
// filled in for the fields the file leaves out. All three blocks hold
// their defaults; Kind says which one applies.
type Scaling struct {
	Kind      ScalingKind
	Pos       Pos // the block's key; zero when absent
	Automatic AutomaticScaling
	Basic     BasicScaling
	Manual    ManualScaling
}

// AutomaticScaling is `automatic_scaling`. "automatic" as the value of an
// idle-instance or pending-latency field means its default. Of a min/max
// pair, only two given values can conflict: when one is left to its
// default and the other is beyond it, the default moves to meet the given
// value (min_instances: 30 raises max_instances to 30), because defaults
// must not make a valid App Engine file invalid.
type AutomaticScaling struct {
	MaxConcurrentRequests int // default 10
	MinInstances          int // default 0
	// MaxInstances defaults to 20, also when the file says 0, which is
	// App Engine's "no limit".
	MaxInstances                int
	MinIdleInstances            int           // default 1, as devappserver2 keeps one instance warm (beyond load that lasts min_pending_latency: supervisor/scale.go)
	MaxIdleInstances            int           // default 1000 ("automatic")
	MinPendingLatency           time.Duration // default 100ms
	MaxPendingLatency           time.Duration // default 500ms
	TargetCPUUtilization        float64       // default 0.6
	TargetThroughputUtilization float64       // default 0.6
}

// BasicScaling is `basic_scaling`.
type BasicScaling struct {
	MaxInstances int           // default 1
	IdleTimeout  time.Duration // default 5m
}

// ManualScaling is `manual_scaling`.
type ManualScaling struct {
	Instances int // default 1
}

// Capacity is the number of requests one instance serves at once.
func (s *Service) Capacity() int {
	if s.Scaling.Kind == Automatic {
		return s.Scaling.Automatic.MaxConcurrentRequests
	}
	return 10 // App Engine's fixed value for basic and manual instances
}

// Dispatch is a dispatch.yaml.
type Dispatch struct {
	File  string // absolute path
	Rules []DispatchRule
}

// DispatchRule is one `dispatch` entry. URL is host and path; a `*` may
// only start the host or end the path.
type DispatchRule struct {
	Pos        Pos // the rule's first key
	URL        string
	Host       string // "" or "*" matches any host; "*.x" any subdomain of x
	Path       string // exact, or a prefix when it ends in "*"
	Service    string // `service` (or the older `module`)
	ServicePos Pos
}
