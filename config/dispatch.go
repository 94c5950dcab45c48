package config

import (
	"strings"

	"gopkg.in/yaml.v3"
)

// maxDispatchURL is App Engine's limit on the length of a dispatch url.
const maxDispatchURL = 100

const dispatchHint = `a dispatch.yaml needs a "dispatch" list of url and service pairs`

// ParseDispatch parses one dispatch.yaml held in memory. file names it in
// positions, and made absolute it gives Dispatch.File. Whether the
// services it names exist is checked by [Load].
//
// The result is nil only when data is not a YAML mapping at all.
func ParseDispatch(file string, data []byte) (*Dispatch, Diagnostics) {
	p := &parser{file: file}
	root := p.document(data, dispatchHint)
	if root == nil {
		return nil, p.diags
	}
	d := &Dispatch{File: absPath(file)}
	found := false
	p.fields(root, "dispatch.yaml", map[string]func(entry){
		"dispatch": func(e entry) {
			found = true
			for _, n := range p.list(e.v, e.key) {
				if r := p.rule(n); r != nil {
					d.Rules = append(d.Rules, *r)
				}
			}
		},
	})
	if !found {
		p.errorf(root, "%s", dispatchHint)
	}
	p.diags.Sort()
	return d, p.diags
}

func (p *parser) rule(n *yaml.Node) *DispatchRule {
	if !p.isMapping(n, "a dispatch rule") {
		return nil
	}
	r := &DispatchRule{Pos: p.pos(n)}
	var urlKey, serviceKey string
	service := func(e entry) {
		if serviceKey != "" {
			p.errorf(e.k, "%s and %s are the same setting; keep only service", serviceKey, e.key)
			return
		}
		serviceKey = e.key
		r.Service, r.ServicePos = p.nonEmpty(e), p.pos(e.v)
	}
	p.fields(n, "dispatch rule", map[string]func(entry){
		"url":     func(e entry) { urlKey = e.key; p.dispatchURL(e.v, r) },
		"service": service,
		"module":  service,
	})
	if urlKey == "" {
		p.errorf(n, `dispatch rule needs a url, e.g. "url: */api/*"`)
	}
	if serviceKey == "" {
		p.errorf(n, "dispatch rule needs a service")
	}
	return r
}

// dispatchURL splits a rule's url into host and path. A "*" may only
// start the host or end the path, which keeps matching a plain prefix or
// suffix comparison, as in App Engine.
func (p *parser) dispatchURL(n *yaml.Node, r *DispatchRule) {
	url, ok := p.str(n, "url")
	if !ok {
		return
	}
	r.URL = url
	host, path, hasPath := strings.Cut(url, "/")
	path = "/" + path
	switch {
	case len(url) > maxDispatchURL:
		p.errorf(n, "url is %d characters long; App Engine allows at most %d", len(url), maxDispatchURL)
	case strings.Contains(url, "://"):
		p.errorf(n, `url must not have a scheme; write the host and path, e.g. "example.com/api/*"`)
	case !hasPath:
		p.errorf(n, `url must contain a path, e.g. "*/api/*"`)
	case host == "*." || host != "*" && strings.Contains(strings.TrimPrefix(host, "*."), "*"):
		p.errorf(n, `"*" may only start the host, as in "*/api/*" or "*.example.com/api/*"`)
	case strings.Contains(strings.TrimSuffix(path, "*"), "*"):
		p.errorf(n, `"*" may only end the path, as in "*/api/*"`)
	default:
		r.Host, r.Path = host, path
	}
}
