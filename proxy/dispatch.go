package proxy

import (
	"strings"

	"github.com/appdeck/appdeck/config"
)

// dispatchRule is a dispatch.yaml rule ready for matching.
type dispatchRule struct {
	config.DispatchRule
	route string // for request records
}

// matchDispatch returns the first rule matching host and path, or nil.
// Rules apply only to dispatchable paths: App Engine never dispatches
// /_ah/ paths except task queue's deferred handler and /_ah/api.
func matchDispatch(rules []dispatchRule, host, path string) *dispatchRule {
	if !dispatchable(path) {
		return nil
	}
	name := ""
	for i := range rules {
		r := &rules[i]
		if r.Host != "" && r.Host != "*" {
			if name == "" {
				name = hostName(host)
			}
			if !hostMatches(r.Host, name) {
				continue
			}
		}
		if pathMatches(r.Path, path) {
			return r
		}
	}
	return nil
}

func dispatchable(path string) bool {
	if !strings.HasPrefix(path, "/_ah/") {
		return true
	}
	return strings.HasPrefix(path, "/_ah/queue/deferred") || strings.HasPrefix(path, "/_ah/api")
}

// hostMatches matches a rule's host: "*.x" is any name ending in ".x",
// anything else must be equal.
func hostMatches(pattern, name string) bool {
	if suffix, ok := strings.CutPrefix(pattern, "*"); ok {
		return strings.HasSuffix(name, suffix)
	}
	return strings.EqualFold(pattern, name)
}

// pathMatches matches a rule's path: a prefix when it ends in "*",
// otherwise the whole path.
func pathMatches(pattern, path string) bool {
	if prefix, ok := strings.CutSuffix(pattern, "*"); ok {
		return strings.HasPrefix(path, prefix)
	}
	return pattern == path
}
