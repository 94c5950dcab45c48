package config

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// compile compiles the user's pattern as ^(?:pattern)suffix. Errors name
// the user's own pattern, not the wrapped one.
func (p *parser) compile(n *yaml.Node, what, pattern, suffix string) *regexp.Regexp {
	re, err := regexp.Compile("^(?:" + pattern + ")" + suffix)
	if err == nil {
		return re
	}
	if _, bare := regexp.Compile(pattern); bare != nil {
		err = bare
	}
	p.errorf(n, "invalid %s regexp `%s`: %s", what, pattern, regexpProblem(err, pattern))
	return nil
}

// regexpProblem shortens Go's "error parsing regexp: code: `expr`",
// leaving out expr when it is the whole pattern, already in the message.
func regexpProblem(err error, pattern string) string {
	se, ok := errors.AsType[*syntax.Error](err)
	if !ok {
		return err.Error()
	}
	if se.Expr == pattern {
		return se.Code.String()
	}
	return fmt.Sprintf("%s: `%s`", se.Code, se.Expr)
}

// expirationTerm is one term of App Engine's expiration format: a number
// and an optional unit, seconds when none.
var expirationTerm = regexp.MustCompile(`^([0-9]+)([dDhHmMsS]?)$`)

var expirationUnits = map[string]time.Duration{
	"d": 24 * time.Hour, "h": time.Hour, "m": time.Minute, "s": time.Second, "": time.Second,
}

// expiration parses `expiration` and `default_expiration`.
func (p *parser) expiration(n *yaml.Node, what string) (time.Duration, bool) {
	s, ok := p.str(n, what)
	if !ok {
		return 0, false
	}
	d, err := parseExpiration(s)
	if err != nil {
		p.errorf(n, "%s", err)
		return 0, false
	}
	return d, true
}

// parseExpiration reads App Engine's "4d 5h 30m 15s": whitespace-separated
// terms that are summed.
func parseExpiration(s string) (time.Duration, error) {
	invalid := fmt.Errorf(`invalid duration %q: use a number followed by d, h, m or s, e.g. "4d 5h"`, s)
	terms := strings.Fields(s)
	if len(terms) == 0 {
		return 0, invalid
	}
	var total time.Duration
	for _, t := range terms {
		m := expirationTerm.FindStringSubmatch(t)
		if m == nil {
			return 0, invalid
		}
		count, err := strconv.ParseInt(m[1], 10, 64)
		unit := expirationUnits[strings.ToLower(m[2])]
		if err != nil || count > int64(math.MaxInt64/unit) || total > math.MaxInt64-time.Duration(count)*unit {
			return 0, fmt.Errorf("duration %q is too long", s)
		}
		total += time.Duration(count) * unit
	}
	return total, nil
}

// pendingLatency is App Engine's format for pending latencies, which
// time.ParseDuration reads once it matches.
var pendingLatency = regexp.MustCompile(`^(?:[0-9]+ms|[0-9]+(?:\.[0-9]{1,3})?s)$`)

// latency parses a pending latency into *dst; "automatic" leaves the
// default. It reports whether the file gave a value of its own.
func (p *parser) latency(e entry, dst *time.Duration) bool {
	s, ok := p.str(e.v, e.key)
	if !ok || s == "automatic" {
		return false
	}
	d, err := time.ParseDuration(s)
	if !pendingLatency.MatchString(s) || err != nil {
		p.errorf(e.v, `invalid %s %q: use "automatic" or a number followed by ms or s, e.g. "30ms" or "1.5s"`, e.key, s)
		return false
	}
	*dst = d
	return true
}

var idleTimeout = regexp.MustCompile(`^[0-9]+[smh]$`)

// idle parses basic_scaling's idle_timeout.
func (p *parser) idle(e entry, dst *time.Duration) {
	s, ok := p.str(e.v, e.key)
	if !ok {
		return
	}
	d, err := time.ParseDuration(s)
	if !idleTimeout.MatchString(s) || err != nil {
		p.errorf(e.v, `invalid %s %q: use a number followed by s, m or h, e.g. "10m"`, e.key, s)
		return
	}
	*dst = d
}

var serviceName = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`)

// checkName reports an invalid service name.
func (p *parser) checkName(n *yaml.Node, name string) {
	if !serviceName.MatchString(name) {
		p.errorf(n, "invalid service name %q: use at most 63 lowercase letters, digits and hyphens, starting and ending with a letter or digit", name)
	}
}
