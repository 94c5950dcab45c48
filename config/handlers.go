package config

import (
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// maxHandlers is App Engine's limit on the length of `handlers`.
const maxHandlers = 100

var (
	// ignoredHandlerKeys are handler keys of App Engine that mean nothing
	// locally: every file is readable, and endpoints v1 is gone.
	ignoredHandlerKeys = []string{"api_endpoint", "application_readable", "position"}

	errorCodes = []string{"default", "over_quota", "dos_api_denial", "timeout"}

	// serverHeaders are set by App Engine's front end, whatever a handler
	// says, so it rejects them in http_headers; so does appdeck.
	serverHeaders = []string{"content-encoding", "content-length", "date", "server"}
	// hopByHop headers concern one connection, not the response.
	hopByHop = []string{
		"connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
		"proxy-connection", "te", "trailer", "trailers", "transfer-encoding", "upgrade",
	}
)

func (sp *serviceParser) handlers(e entry) {
	for i, n := range sp.list(e.v, e.key) {
		if i == maxHandlers {
			sp.errorf(n, "more than %d handlers; App Engine allows at most %d", maxHandlers, maxHandlers)
		}
		if h := sp.handler(n); h != nil {
			sp.s.Handlers = append(sp.s.Handlers, h)
		}
	}
}

// handlerKeys are the keys of a handler that are checked together, once
// the whole handler is read.
type handlerKeys struct {
	url, upload *entry
	kinds       []entry    // script, static_dir and static_files, as given
	contentType *yaml.Node // a Content-Type in http_headers
}

func (p *parser) handler(n *yaml.Node) *Handler {
	if !p.isMapping(n, "a handler") {
		return nil
	}
	h := &Handler{Pos: p.pos(n), Login: LoginOptional, AuthFailAction: AuthRedirect, Secure: SecureOptional}
	var k handlerKeys
	kind := func(dst *string) func(entry) {
		return func(e entry) { k.kinds = append(k.kinds, e); *dst = p.nonEmpty(e) }
	}
	p.fields(n, "handler", map[string]func(entry){
		"url":                         func(e entry) { k.url = &e },
		"script":                      kind(&h.Script),
		"static_dir":                  kind(&h.StaticDir),
		"static_files":                kind(&h.StaticFiles),
		"upload":                      func(e entry) { k.upload = &e },
		"mime_type":                   func(e entry) { h.MimeType, _ = p.str(e.v, e.key) },
		"expiration":                  func(e entry) { h.Expiration, h.HasExpiration = p.expiration(e.v, e.key) },
		"http_headers":                func(e entry) { h.HTTPHeaders, k.contentType = p.headers(e.v) },
		"login":                       func(e entry) { enum(p, e, &h.Login, LoginOptional, LoginRequired, LoginAdmin) },
		"auth_fail_action":            func(e entry) { enum(p, e, &h.AuthFailAction, AuthRedirect, AuthUnauthorized) },
		"secure":                      func(e entry) { enum(p, e, &h.Secure, SecureOptional, SecureAlways, SecureNever) },
		"redirect_http_response_code": func(e entry) { p.redirectCode(e, &h.RedirectCode) },
		"require_matching_file":       func(e entry) { h.RequireMatchingFile, _ = p.boolean(e.v, e.key) },
	}, ignoredHandlerKeys...)
	p.handlerKind(n, k.kinds)
	p.handlerURL(n, h, k.url)
	p.handlerUpload(h, &k)
	if k.contentType != nil && h.MimeType != "" {
		p.errorf(k.contentType, "http_headers sets Content-Type and mime_type is %q; keep only one", h.MimeType)
	}
	return h
}

// nonEmpty reads a string that must not be empty.
func (p *parser) nonEmpty(e entry) string {
	s, ok := p.str(e.v, e.key)
	if ok && s == "" {
		p.errorf(e.v, "%s must not be empty", e.key)
	}
	return s
}

func (p *parser) handlerKind(n *yaml.Node, kinds []entry) {
	if len(kinds) == 0 {
		p.errorf(n, "handler must have one of script, static_dir or static_files")
		return
	}
	for _, e := range kinds[1:] {
		p.errorf(e.k, "handler has both %s and %s; it must have only one of script, static_dir or static_files", kinds[0].key, e.key)
	}
}

// handlerURL compiles url. A static_dir url is a directory: its Regexp
// captures the path below it, as devappserver2's does.
func (p *parser) handlerURL(n *yaml.Node, h *Handler, url *entry) {
	if url == nil {
		p.errorf(n, `handler needs a url, e.g. "url: /.*"`)
		return
	}
	s, ok := p.str(url.v, url.key)
	if !ok {
		return
	}
	if s == "" {
		p.errorf(url.v, `url must not be empty, e.g. "url: /.*"`)
		return
	}
	h.URL = s
	suffix := "$"
	switch {
	case h.StaticDir != "" && strings.HasSuffix(s, "/"):
		suffix = "(.*)$"
	case h.StaticDir != "":
		suffix = "/(.*)$"
	}
	h.Regexp = p.compile(url.v, "url", s, suffix)
}

func (p *parser) handlerUpload(h *Handler, k *handlerKeys) {
	files := slices.IndexFunc(k.kinds, func(e entry) bool { return e.key == "static_files" })
	switch {
	case files >= 0 && k.upload == nil:
		p.errorf(k.kinds[files].k, `static_files needs "upload", a regexp of the files it may serve, e.g. "upload: static/.*"`)
	case files < 0 && k.upload != nil:
		p.errorf(k.upload.k, "upload is only allowed with static_files")
	case k.upload != nil:
		if s, ok := p.str(k.upload.v, k.upload.key); ok {
			h.Upload = p.compile(k.upload.v, "upload", s, "$")
		}
	}
}

func (p *parser) redirectCode(e entry, dst *int) {
	var code string
	if enum(p, e, &code, "301", "302", "303", "307") {
		*dst, _ = strconv.Atoi(code)
	}
}

// headers reads http_headers in file order, returning also the key of a
// Content-Type header, which must not meet mime_type.
func (p *parser) headers(n *yaml.Node) (hs []Header, contentType *yaml.Node) {
	for _, e := range p.mapping(n, "http_headers") {
		value, ok := p.str(e.v, "the value of "+e.key)
		if !ok || !p.headerOK(e, value) {
			continue
		}
		if strings.EqualFold(e.key, "Content-Type") {
			contentType = e.k
		}
		hs = append(hs, Header{Name: e.key, Value: value})
	}
	return hs, contentType
}

func (p *parser) headerOK(e entry, value string) bool {
	lower := strings.ToLower(e.key)
	switch {
	case e.key == "" || strings.ContainsFunc(e.key, notTokenChar):
		p.errorf(e.k, "invalid header name %q: use letters, digits and hyphens", e.key)
	case strings.HasPrefix(lower, "x-appengine"):
		p.errorf(e.k, "header %q cannot be set: X-Appengine-* headers belong to App Engine", e.key)
	case slices.Contains(serverHeaders, lower):
		p.errorf(e.k, "header %q cannot be set: App Engine sets it", e.key)
	case slices.Contains(hopByHop, lower):
		p.errorf(e.k, "header %q cannot be set: it is a hop-by-hop header", e.key)
	case strings.ContainsFunc(value, func(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f }):
		p.errorf(e.v, "the value of header %s contains a control character", e.key)
	default:
		return true
	}
	return false
}

// notTokenChar reports whether r cannot appear in an HTTP token (RFC 9110),
// the syntax of header names.
func notTokenChar(r rune) bool {
	switch {
	case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9':
		return false
	}
	return !strings.ContainsRune("!#$%&'*+-.^_`|~", r)
}

func (sp *serviceParser) errorHandlers(e entry) {
	for _, n := range sp.list(e.v, e.key) {
		if eh, ok := sp.errorHandler(n); ok {
			sp.s.ErrorHandlers = append(sp.s.ErrorHandlers, eh)
		}
	}
}

func (p *parser) errorHandler(n *yaml.Node) (ErrorHandler, bool) {
	eh := ErrorHandler{Pos: p.pos(n), Code: "default"}
	if !p.isMapping(n, "an error handler") {
		return eh, false
	}
	hasFile := false
	p.fields(n, "error handler", map[string]func(entry){
		"file":       func(e entry) { hasFile = true; eh.File = p.nonEmpty(e) },
		"error_code": func(e entry) { enum(p, e, &eh.Code, errorCodes...) },
		"mime_type":  func(e entry) { eh.MimeType, _ = p.str(e.v, e.key) },
	})
	if !hasFile {
		p.errorf(n, `error handler needs a file, e.g. "file: errors/default.html"`)
	}
	return eh, eh.File != ""
}
