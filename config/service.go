package config

import (
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// ignoredAppKeys are app.yaml keys App Engine knows that have no effect in
// appdeck. They only warn, so a file that deploys also runs locally.
var ignoredAppKeys = []string{
	"admin_console", "api_config", "api_version", "app_engine_apis", "backends",
	"beta_settings", "build_env_variables", "builtins", "code_lock",
	"derived_file_type", "endpoints_api_service", "env", "flexible_runtime_settings",
	"health_check", "includes", "libraries", "liveness_check", "network",
	"nobuild_files", "pagespeed", "readiness_check", "resources", "runtime_channel",
	"runtime_config", "service_account", "source_language", "standard_websocket",
	"version", "vm", "vm_health_check", "vm_settings", "vpc_access_connector",
	"vpc_egress", "zones",
}

// defaultSkipFiles is App Engine's skip_files when the file has none.
var defaultSkipFiles = []*regexp.Regexp{
	regexp.MustCompile(`^(?:^(.*/)?#.*#$)`),
	regexp.MustCompile(`^(?:^(.*/)?.*~$)`),
	regexp.MustCompile(`^(?:^(.*/)?.*\.py[co]$)`),
	regexp.MustCompile(`^(?:^(.*/)?.*/RCS/.*$)`),
	regexp.MustCompile(`^(?:^(.*/)?\..*$)`),
}

// The instance classes of automatic scaling, and of basic and manual
// scaling.
var (
	frontendClasses = []string{"F1", "F2", "F4", "F4_1G"}
	backendClasses  = []string{"B1", "B2", "B4", "B4_1G", "B8"}
)

// instanceClasses returns the classes that go with a kind of scaling, and
// App Engine's default among them.
func instanceClasses(k ScalingKind) (classes []string, def string) {
	if k == Automatic {
		return frontendClasses, "F1"
	}
	return backendClasses, "B2"
}

// ParseService parses one app.yaml held in memory. file names it in
// positions, and made absolute it gives Service.File and Service.Dir.
//
// The service is nil only when data is not a YAML mapping at all;
// otherwise it holds everything that could be read, even when the
// diagnostics, sorted by position, hold errors.
func ParseService(file string, data []byte, opts Options) (*Service, Diagnostics) {
	sp := &serviceParser{parser: parser{file: file}, opts: opts}
	root := sp.document(data, `an app.yaml needs at least a runtime, e.g. "runtime: go122"`)
	if root == nil {
		return nil, sp.diags
	}
	sp.s = newService(file)
	sp.fields(root, "app.yaml", sp.setters(), ignoredAppKeys...)
	sp.finish(root)
	sp.diags.Sort()
	return sp.s, sp.diags
}

// serviceParser holds what must be known across the keys of one app.yaml.
type serviceParser struct {
	parser
	opts Options
	s    *Service

	nameKey      string // "service" or "module", whichever came first
	scalingKey   string // the first scaling block
	runtimeGiven bool
	skipGiven    bool
}

func newService(file string) *Service {
	abs := absPath(file)
	return &Service{
		File:    abs,
		Dir:     filepath.Dir(abs),
		Name:    "default",
		NamePos: Pos{File: file, Line: 1, Col: 1},
		Scaling: defaultScaling(),
	}
}

// absPath is filepath.Abs, falling back to path when the working directory
// is gone.
func absPath(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return path
}

func (sp *serviceParser) setters() map[string]func(entry) {
	s := sp.s
	return map[string]func(entry){
		"service":            sp.name,
		"module":             sp.name,
		"application":        sp.appID,
		"project":            sp.appID,
		"runtime":            sp.runtime,
		"entrypoint":         sp.entrypoint,
		"main":               func(e entry) { s.Main, _ = sp.str(e.v, e.key) },
		"env_variables":      sp.env,
		"handlers":           sp.handlers,
		"error_handlers":     sp.errorHandlers,
		"default_expiration": func(e entry) { s.DefaultExpiration, _ = sp.expiration(e.v, e.key) },
		"inbound_services":   sp.inbound,
		"instance_class":     sp.instanceClass,
		"threadsafe":         sp.threadsafe,
		"automatic_scaling":  sp.scaling(Automatic),
		"basic_scaling":      sp.scaling(Basic),
		"manual_scaling":     sp.scaling(Manual),
		"skip_files":         sp.skipFiles,
	}
}

// finish checks what needs the whole file and fills in the defaults that
// depend on other keys.
func (sp *serviceParser) finish(root *yaml.Node) {
	s := sp.s
	if !sp.runtimeGiven {
		sp.errorf(root, `runtime is required, e.g. "runtime: go122"`)
	}
	if !sp.skipGiven {
		s.SkipFiles = slices.Clone(defaultSkipFiles)
	}
	if !s.FitInstanceClass() {
		classes, _ := instanceClasses(s.Scaling.Kind)
		sp.errorAt(s.InstanceClassPos, "instance class %s does not go with %s scaling; use %s",
			s.InstanceClass, s.Scaling.Kind, orList(classes))
	}
}

// FitInstanceClass gives s the default instance class of its scaling
// when the file names none (a live reload that keeps the scaling in force
// calls it again, so that the class follows the scaling kept), and
// reports whether the class goes with the scaling.
func (s *Service) FitInstanceClass() bool {
	classes, def := instanceClasses(s.Scaling.Kind)
	if s.InstanceClassPos == (Pos{}) {
		s.InstanceClass = def
	}
	return slices.Contains(classes, s.InstanceClass)
}

// name reads `service` or its older name `module`.
func (sp *serviceParser) name(e entry) {
	if sp.nameKey != "" {
		sp.errorf(e.k, "%s and %s are the same setting; keep only service", sp.nameKey, e.key)
		return
	}
	sp.nameKey = e.key
	if name, ok := sp.str(e.v, e.key); ok {
		// An invalid name is still kept: checks across files then talk
		// about the name the user wrote.
		sp.s.Name, sp.s.NamePos = name, sp.pos(e.v)
		sp.checkName(e.v, name)
	}
}

// appID reads `application` or `project`; when a file has both they
// must agree.
func (sp *serviceParser) appID(e entry) {
	id, ok := sp.str(e.v, e.key)
	switch {
	case !ok || id == "":
	case sp.s.AppID == "":
		sp.s.AppID, sp.s.AppIDPos = id, sp.pos(e.v)
	case sp.s.AppID != id:
		sp.errorf(e.v, "more than one application id: %s, %s", sp.s.AppID, id)
	}
}

func (sp *serviceParser) runtime(e entry) {
	sp.runtimeGiven = true
	rt, ok := sp.str(e.v, e.key)
	switch {
	case !ok:
	case rt == "":
		sp.errorf(e.v, `runtime must not be empty, e.g. "runtime: go122"`)
	default:
		sp.s.Runtime, sp.s.RuntimePos = rt, sp.pos(e.v)
		if sp.opts.CheckRuntime == nil {
			return
		}
		if err := sp.opts.CheckRuntime(rt); err != nil {
			sp.errorf(e.v, "%s", err)
		}
	}
}

// entrypoint is normalized as App Engine does: the shell replaces itself
// with the server ("exec "), so signals reach the server, not the shell.
func (sp *serviceParser) entrypoint(e entry) {
	ep, ok := sp.str(e.v, e.key)
	ep = strings.TrimSpace(ep)
	if !ok || ep == "" {
		return
	}
	if !strings.HasPrefix(ep, "exec ") {
		ep = "exec " + ep
	}
	// dev_appserver.py also filled these in, for its API server, which
	// appdeck does not run: say so rather than pass the braces on.
	for _, api := range []string{"{api_port}", "{api_host}"} {
		if strings.Contains(ep, api) {
			sp.warnf(e.v, "%s stays as it is: appdeck runs no API server for the bundled services; use the Cloud emulators and client libraries", api)
		}
	}
	sp.s.Entrypoint, sp.s.EntrypointPos = ep, sp.pos(e.v)
}

// ReservedEnv are the variables App Engine sets for every instance, which
// env_variables cannot replace: production's, then the older names
// dev_appserver.py sets, which libraries such as
// google.golang.org/appengine still read. runtimes gives them their values.
var ReservedEnv = []string{
	"GAE_APPLICATION", "GAE_DEPLOYMENT_ID", "GAE_ENV", "GAE_INSTANCE", "GAE_MEMORY_MB",
	"GAE_RUNTIME", "GAE_SERVICE", "GAE_VERSION", "GOOGLE_CLOUD_PROJECT", "PORT",

	"GAE_LONG_APP_ID", "GAE_MINOR_VERSION", "GAE_MODULE_INSTANCE", "GAE_MODULE_NAME",
	"GAE_MODULE_VERSION", "GAE_PARTITION", "GAE_SERVER_PORT",
}

// Reserved reports whether App Engine reserves the variable name.
func Reserved(name string) bool { return slices.Contains(ReservedEnv, name) }

func (sp *serviceParser) env(e entry) {
	for _, v := range sp.mapping(e.v, e.key) {
		value, ok := sp.str(v.v, "the value of "+v.key)
		switch {
		case !ok:
		case v.key == "" || strings.ContainsAny(v.key, "=\x00"):
			sp.errorf(v.k, "invalid environment variable name %q: it must not be empty nor contain = or a NUL byte", v.key)
		case strings.Contains(value, "\x00"):
			sp.errorf(v.v, "the value of %s contains a NUL byte, which the environment cannot hold", v.key)
		default:
			if Reserved(v.key) {
				// Kept in Env as written; runtimes leaves it out.
				sp.warnf(v.k, "%s cannot be set in env_variables: App Engine sets it for every instance; appdeck ignores this entry", v.key)
			}
			sp.s.Env = append(sp.s.Env, EnvVar{Name: v.key, Value: value, Pos: sp.pos(v.k)})
		}
	}
}

func (sp *serviceParser) inbound(e entry) {
	for _, n := range sp.list(e.v, e.key) {
		if name, ok := sp.str(n, "an inbound service"); ok && name != "" {
			sp.s.InboundServices = append(sp.s.InboundServices, name)
		}
	}
}

func (sp *serviceParser) instanceClass(e entry) {
	if enum(&sp.parser, e, &sp.s.InstanceClass, slices.Concat(frontendClasses, backendClasses)...) {
		sp.s.InstanceClassPos = sp.pos(e.v)
	}
}

func (sp *serviceParser) threadsafe(e entry) {
	if b, ok := sp.boolean(e.v, e.key); ok {
		sp.s.Threadsafe = &b
	}
}

// skipFiles reads a regexp or a list of them. Each is anchored at the
// start only, like Python's re.match, which App Engine uses.
func (sp *serviceParser) skipFiles(e entry) {
	if isNull(e.v) {
		return
	}
	sp.skipGiven = true
	var items []*yaml.Node
	switch v := deref(e.v); v.Kind {
	case yaml.ScalarNode:
		items = []*yaml.Node{e.v}
	case yaml.SequenceNode:
		items = v.Content
	default:
		sp.errorf(e.v, "skip_files must be a regexp or a list of them, not %s", describe(v))
	}
	for _, n := range items {
		pattern, ok := sp.str(n, "a skip_files entry")
		if !ok {
			continue
		}
		if re := sp.compile(n, "skip_files", pattern, ""); re != nil {
			sp.s.SkipFiles = append(sp.s.SkipFiles, re)
		}
	}
}

// scaling returns the reader of one scaling block. A second block is an
// error, but its content is still checked so every problem shows at once.
func (sp *serviceParser) scaling(kind ScalingKind) func(entry) {
	return func(e entry) {
		sc := &sp.s.Scaling
		if sp.scalingKey != "" {
			sp.errorf(e.k, "only one of automatic_scaling, basic_scaling or manual_scaling may be given")
			scratch := defaultScaling()
			sc = &scratch
		} else {
			sp.scalingKey = e.key
			sc.Kind, sc.Pos = kind, sp.pos(e.k)
		}
		switch kind {
		case Automatic:
			sp.automatic(e.v, &sc.Automatic)
		case Basic:
			sp.basic(e.v, &sc.Basic)
		case Manual:
			sp.manual(e.v, &sc.Manual)
		}
	}
}
