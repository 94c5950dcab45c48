package proxy

import (
	"regexp"
	"strings"

	"github.com/appdeck/appdeck/config"
)

// handler is an app.yaml handler ready for matching. Patterns that are
// plain literals or match everything are compared without the regexp
// engine, which keeps the common catch-all "/.*" free on the hot path.
type handler struct {
	*config.Handler
	kind    matchKind
	literal string // the whole path, for kind matchLiteral
	// label names the handler in request records; viaRule names it after
	// the dispatch rule that led to it. Both are made once, so that
	// records cost no allocation.
	label   string
	viaRule map[*dispatchRule]string
}

type matchKind int

const (
	matchRegexp  matchKind = iota
	matchAll               // "/.*" or ".*": every path
	matchLiteral           // no metacharacters: one path
)

func newHandler(h *config.Handler) handler {
	hd := handler{Handler: h, label: routeLabel(h)}
	if h.StaticDir != "" || h.Regexp == nil {
		return hd // static_dir needs its group; nil only in hand-made configs
	}
	switch h.URL {
	case "/.*", ".*", "/(.*)", "(.*)":
		if h.StaticFiles == "" { // static_files may refer to the group
			hd.kind = matchAll
		}
		return hd
	}
	if regexp.QuoteMeta(h.URL) == h.URL {
		hd.kind, hd.literal = matchLiteral, h.URL
	}
	return hd
}

// match reports whether the handler serves path. With groups it also
// returns the submatch indices that static_files and static_dir expand.
func (h *handler) match(path string, groups bool) (bool, []int) {
	switch h.kind {
	case matchAll:
		// "." does not match a newline, which a decoded %0a can put
		// in a path; leave such paths to the regexp.
		if strings.IndexByte(path, '\n') < 0 {
			return strings.HasPrefix(path, "/") || h.URL[0] != '/', nil
		}
	case matchLiteral:
		return path == h.literal, nil
	}
	if !groups {
		return h.Regexp.MatchString(path), nil
	}
	m := h.Regexp.FindStringSubmatchIndex(path)
	return m != nil, m
}

// expand substitutes \1…\9 in tmpl with the groups of path matched by m,
// as App Engine does for static_files and script.
func expand(tmpl, path string, m []int) string {
	if !strings.Contains(tmpl, `\`) {
		return tmpl
	}
	var b strings.Builder
	for i := 0; i < len(tmpl); i++ {
		c := tmpl[i]
		if c == '\\' && i+1 < len(tmpl) && '0' <= tmpl[i+1] && tmpl[i+1] <= '9' {
			g := int(tmpl[i+1] - '0')
			if 2*g+1 < len(m) && m[2*g] >= 0 {
				b.WriteString(path[m[2*g]:m[2*g+1]])
			}
			i++
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// routeName is what a request record says matched: the dispatch rule
// and the handler, either, or "" for the catch-all on the service's
// own port.
func routeName(rule *dispatchRule, h *handler) string {
	switch {
	case h == nil && rule == nil:
		return ""
	case h == nil:
		return rule.route
	case rule == nil:
		return h.label
	}
	return h.viaRule[rule]
}

// routeLabel names a handler in request records.
func routeLabel(h *config.Handler) string {
	switch {
	case h.StaticDir != "":
		return h.URL + " (static_dir)"
	case h.StaticFiles != "":
		return h.URL + " (static_files)"
	}
	return h.URL
}
