package runtimes

import (
	"cmp"
	"fmt"
	"hash/fnv"
	"os"
	"strconv"
	"strings"

	"github.com/appdeck/appdeck/config"
)

// Environ builds an instance's environment, each layer over the one
// before: appdeck's own environment (so PATH, HOME and the like reach the
// app); the runtime's variables (runtimeEnv, KEY=VALUE); App Engine's
// standard variables; the app's env_variables; --env values. Entries that
// try to replace a standard variable are ignored, as in production; it
// returns a warning for each from --env (config warns about
// env_variables when it loads them).
func Environ(svc *config.Service, inst Instance, runtimeEnv ...string) (env []string, warnings []string) {
	vals := map[string]string{}
	var order []string
	set := func(k, v string) {
		if _, ok := vals[k]; !ok {
			order = append(order, k)
		}
		vals[k] = v
	}
	for _, kvs := range [][]string{os.Environ(), runtimeEnv} {
		for _, kv := range kvs {
			if k, v, ok := strings.Cut(kv, "="); ok {
				set(k, v)
			}
		}
	}
	for _, kv := range standard(svc, inst) {
		set(kv[0], kv[1])
	}
	for _, kv := range devServer {
		set(kv[0], kv[1])
	}
	for _, e := range svc.Env {
		if !config.Reserved(e.Name) {
			set(e.Name, e.Value)
		}
	}
	for _, kv := range inst.Extra {
		k, v, _ := strings.Cut(kv, "=")
		if config.Reserved(k) {
			warnings = append(warnings, fmt.Sprintf("--env: %s cannot be set by the app; App Engine sets it (ignored)", k))
			continue
		}
		set(k, v)
	}
	env = make([]string, 0, len(order))
	for _, k := range order {
		env = append(env, k+"="+vals[k])
	}
	return env, warnings
}

// standard returns the values of config.ReservedEnv, the variables App
// Engine sets for every instance (GAE_SERVER_PORT only when there is a
// front port).
func standard(svc *config.Service, inst Instance) [][2]string {
	project := cmp.Or(inst.Project, os.Getenv("GOOGLE_CLOUD_PROJECT"),
		"test") // what dev_appserver.py reports when nothing names the project
	deployment := deploymentID(inst.Version)
	vars := [][2]string{
		{"GAE_APPLICATION", "dev~" + project},
		{"GAE_DEPLOYMENT_ID", deployment},
		{"GAE_ENV", "localdev"},
		{"GAE_INSTANCE", inst.ID},
		{"GAE_MEMORY_MB", strconv.Itoa(svc.MemoryMB())},
		{"GAE_RUNTIME", svc.Runtime},
		{"GAE_SERVICE", svc.Name},
		{"GAE_VERSION", inst.Version},
		{"GOOGLE_CLOUD_PROJECT", project},
		{"PORT", strconv.Itoa(inst.Port)},

		{"GAE_LONG_APP_ID", project},
		{"GAE_MINOR_VERSION", deployment},
		{"GAE_MODULE_INSTANCE", inst.ID},
		{"GAE_MODULE_NAME", svc.Name},
		{"GAE_MODULE_VERSION", inst.Version},
		{"GAE_PARTITION", "dev"},
	}
	if inst.ServerPort != 0 {
		vars = append(vars, [2]string{"GAE_SERVER_PORT", strconv.Itoa(inst.ServerPort)})
	}
	return vars
}

// devServer are the variables by which code recognizes a development
// server, as dev_appserver.py sets them, and production's time zone. An
// app may replace them, to try a production code path for example.
var devServer = [][2]string{
	{"RUN_WITH_DEVAPPSERVER", "1"}, // google.golang.org/appengine's IsDevAppServer
	{"SERVER_SOFTWARE", "Development/2.0"},
	{"TZ", "UTC"},
}

// deploymentID makes a production-looking deployment id (18 digits, like
// GAE_MINOR_VERSION under dev_appserver.py) that is the same for every
// instance of one run.
func deploymentID(version string) string {
	h := fnv.New64a()
	h.Write([]byte(version))
	return fmt.Sprintf("%018d", h.Sum64()%1e18)
}

// Handover is how an instance tells appdeck the port it serves on: the
// process-start flavors of dev_appserver.py.
type Handover int

const (
	// HandoverEnv: appdeck picks the port and passes it in $PORT, and in
	// place of {port} in the command (App Engine's convention).
	HandoverEnv Handover = iota
	// HandoverFile: the process binds a port of its choice and writes
	// it, followed by a newline, to the file named in
	// $APPDECK_PORT_FILE.
	HandoverFile
	// HandoverStdout: the process binds a port of its choice and prints
	// it as its first line on stdout.
	HandoverStdout
)

// HandoverVar is the variable, in env_variables or --env, that chooses
// the Handover: "env" (the default), "file" or "stdout".
const HandoverVar = "APPDECK_PORT_HANDOVER"

var handoverNames = map[string]Handover{"env": HandoverEnv, "file": HandoverFile, "stdout": HandoverStdout}

// handoverOf reads the service's choice of Handover from env_variables and
// then the --env pairs in extra.
func handoverOf(svc *config.Service, extra []string) (Handover, error) {
	h := HandoverEnv
	choose := func(v, from string) error {
		var ok bool
		if h, ok = handoverNames[v]; !ok {
			return fmt.Errorf("%s: %s=%q is not a port handover; use env (the port in $PORT), file (the app writes its port to $APPDECK_PORT_FILE) or stdout (the app prints its port as its first line)",
				from, HandoverVar, v)
		}
		return nil
	}
	for _, e := range svc.Env {
		if e.Name == HandoverVar {
			if err := choose(e.Value, e.Pos.String()); err != nil {
				return 0, err
			}
		}
	}
	for _, kv := range extra {
		if v, ok := strings.CutPrefix(kv, HandoverVar+"="); ok {
			if err := choose(v, "--env"); err != nil {
				return 0, err
			}
		}
	}
	return h, nil
}
