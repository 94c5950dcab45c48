package runtimes

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/appdeck/appdeck/config"
)

// standardNames are the variables App Engine sets for every instance; an
// app may not replace them (production ignores such env_variables too).
var standardNames = map[string]bool{
	"GAE_ENV": true, "GAE_INSTANCE": true, "GAE_SERVICE": true, "GAE_VERSION": true,
	"GAE_RUNTIME": true, "GAE_MEMORY_MB": true, "GAE_DEPLOYMENT_ID": true,
	"GOOGLE_CLOUD_PROJECT": true, "PORT": true,
}

// Environ builds an instance's environment: appdeck's own environment
// (so PATH, HOME and the like reach the app), then App Engine's standard
// variables, then env_variables, then --env values. It returns warnings for
// entries that tried to replace a standard variable, which are ignored.
func Environ(svc *config.Service, inst Instance) (env []string, warnings []string) {
	vals := map[string]string{}
	var order []string
	set := func(k, v string) {
		if _, ok := vals[k]; !ok {
			order = append(order, k)
		}
		vals[k] = v
	}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			set(k, v)
		}
	}
	for _, kv := range standard(svc, inst) {
		set(kv[0], kv[1])
	}
	user := func(k, v, from string) {
		if standardNames[k] {
			warnings = append(warnings, fmt.Sprintf("%s: %s cannot be set by the app; App Engine sets it (ignored)", from, k))
			return
		}
		set(k, v)
	}
	for _, e := range svc.Env {
		user(e.Name, e.Value, e.Pos.String())
	}
	for _, kv := range inst.Extra {
		k, v, _ := strings.Cut(kv, "=")
		user(k, v, "--env")
	}
	env = make([]string, 0, len(order))
	for _, k := range order {
		env = append(env, k+"="+vals[k])
	}
	return env, warnings
}

func standard(svc *config.Service, inst Instance) [][2]string {
	project := inst.Project
	if project == "" {
		project = "test" // what dev_appserver.py reports when nothing names the project
	}
	return [][2]string{
		{"GAE_ENV", "localdev"},
		{"GAE_INSTANCE", inst.ID},
		{"GAE_SERVICE", svc.Name},
		{"GAE_VERSION", inst.Version},
		{"GAE_RUNTIME", svc.Runtime},
		{"GAE_MEMORY_MB", strconv.Itoa(svc.MemoryMB())},
		{"GAE_DEPLOYMENT_ID", inst.Version},
		{"GOOGLE_CLOUD_PROJECT", project},
		{"PORT", strconv.Itoa(inst.Port)},
	}
}
