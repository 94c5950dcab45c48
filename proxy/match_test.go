package proxy

import (
	"regexp"
	"testing"

	"github.com/appdeck/appdeck/config"
)

// compileURL builds a handler the way config does: url anchored at both
// ends, or ^(?:url)/(.*)$ for static_dir.
func compileURL(h *config.Handler) *config.Handler {
	suffix := "$"
	if h.StaticDir != "" {
		suffix = "/(.*)$"
	}
	h.Regexp = regexp.MustCompile("^(?:" + h.URL + ")" + suffix)
	return h
}

var matchTests = []struct {
	h      config.Handler
	path   string
	match  bool
	groups []string // expected submatches after the whole match
}{
	{config.Handler{URL: "/.*", Script: "auto"}, "/anything/at/all", true, nil},
	{config.Handler{URL: "/.*", Script: "auto"}, "/", true, nil},
	{config.Handler{URL: "/.*", Script: "auto"}, "/a\nb", false, nil}, // "." stops at a newline
	{config.Handler{URL: "/about", Script: "auto"}, "/about", true, nil},
	{config.Handler{URL: "/about", Script: "auto"}, "/about/", false, nil},
	{config.Handler{URL: "/about", Script: "auto"}, "/aboutus", false, nil}, // anchored at the end
	{config.Handler{URL: "/about", Script: "auto"}, "/x/about", false, nil}, // and at the start
	{config.Handler{URL: "/(get|post).*", Script: `\1.py`}, "/get request", true, []string{"get"}},
	{config.Handler{URL: "/(get|post).*", Script: `\1.py`}, "/put", false, nil},
	{config.Handler{URL: "/static", StaticDir: "public"}, "/static/css/site.css", true, []string{"css/site.css"}},
	{config.Handler{URL: "/static", StaticDir: "public"}, "/static", false, nil},
	{config.Handler{URL: "/static", StaticDir: "public"}, "/staticx/a", false, nil},
	{config.Handler{URL: "/(.*)\\.(png|gif)", StaticFiles: `img/\1.\2`}, "/a/b.png", true, []string{"a/b", "png"}},
	{config.Handler{URL: "/(.*)\\.(png|gif)", StaticFiles: `img/\1.\2`}, "/a/b.jpg", false, nil},
	{config.Handler{URL: "/(.*)", StaticFiles: `files/\1`}, "/x", true, []string{"x"}},
}

func TestHandlerMatching(t *testing.T) {
	for _, tt := range matchTests {
		h := newHandler(compileURL(&tt.h))
		ok, m := h.match(tt.path, true)
		if ok != tt.match {
			t.Errorf("url %q path %q: match %v, want %v", tt.h.URL, tt.path, ok, tt.match)
			continue
		}
		if !ok || tt.groups == nil {
			continue
		}
		for i, want := range tt.groups {
			g := i + 1
			if got := tt.path[m[2*g]:m[2*g+1]]; got != want {
				t.Errorf("url %q path %q: group %d %q, want %q", tt.h.URL, tt.path, g, got, want)
			}
		}
		// The fast path asks without groups; it must agree.
		if ok2, _ := h.match(tt.path, false); ok2 != ok {
			t.Errorf("url %q path %q: match without groups %v", tt.h.URL, tt.path, ok2)
		}
	}
}

func TestExpandGroups(t *testing.T) {
	re := regexp.MustCompile(`^(?:/(get|post)/(.*))$`)
	path := "/get/x/y"
	m := re.FindStringSubmatchIndex(path)
	for tmpl, want := range map[string]string{
		`\1.py`:        "get.py",
		`files/\2`:     "files/x/y",
		`\2-\1`:        "x/y-get",
		`plain`:        "plain",
		`\9 missing`:   " missing",
		`trailing \`:   `trailing \`,
		`\0`:           "/get/x/y",
		`a\\1`:         `a\get`, // a backslash before a group stays
		`static/\1/\2`: "static/get/x/y",
	} {
		if got := expand(tmpl, path, m); got != want {
			t.Errorf("expand(%q) = %q, want %q", tmpl, got, want)
		}
	}
}

var staticFileTests = []struct {
	h    config.Handler
	path string
	rel  string // "" when refused
}{
	{config.Handler{URL: "/static", StaticDir: "public"}, "/static/site.css", "public/site.css"},
	{config.Handler{URL: "/static", StaticDir: "./public/"}, "/static/a/b.js", "public/a/b.js"},
	{config.Handler{URL: "/static", StaticDir: "public"}, "/static/../app.yaml", ""},
	{config.Handler{URL: "/static", StaticDir: "public"}, "/static/a/../../app.yaml", ""},
	{config.Handler{URL: "/static", StaticDir: "public"}, "/static/.env", ""},
	{config.Handler{URL: "/static", StaticDir: "public"}, "/static/.git/config", ""},
	{config.Handler{URL: "/static", StaticDir: "public"}, "/static//etc/passwd", ""},
	{config.Handler{URL: "/static", StaticDir: "public"}, "/static/", ""},
	{config.Handler{URL: "/static", StaticDir: "public"}, "/static/a\\..\\b", ""},
	{config.Handler{URL: "/static", StaticDir: "public"}, "/static/main.pyc", ""}, // skip_files
	{config.Handler{URL: "/(.*)", StaticFiles: `public/\1`, Upload: regexp.MustCompile(`^(?:public/.*)$`)}, "/index.html", "public/index.html"},
	{config.Handler{URL: "/(.*)", StaticFiles: `public/\1`, Upload: regexp.MustCompile(`^(?:public/.*)$`)}, "/../app.yaml", ""},
	{config.Handler{URL: "/(.*)", StaticFiles: `\1`, Upload: regexp.MustCompile(`^(?:public/.*)$`)}, "/app.yaml", ""}, // upload does not match
	{config.Handler{URL: "/(.*)", StaticFiles: `\1`, Upload: regexp.MustCompile(`^(?:.*)$`)}, "//etc/passwd", ""},
}

func TestStaticFileRefusesEscapes(t *testing.T) {
	svc := &config.Service{SkipFiles: []*regexp.Regexp{regexp.MustCompile(`^(.*/)?.*\.py[co]$`)}}
	for _, tt := range staticFileTests {
		h := compileURL(&tt.h)
		m := h.Regexp.FindStringSubmatchIndex(tt.path)
		if m == nil {
			if tt.rel != "" {
				t.Errorf("%q does not match %q", tt.path, h.URL)
			}
			continue
		}
		rel, ok := staticFile(svc, h, tt.path, m)
		if !ok {
			rel = ""
		}
		if rel != tt.rel {
			t.Errorf("handler %q path %q: file %q, want %q", h.URL, tt.path, rel, tt.rel)
		}
	}
}

func TestCleanPath(t *testing.T) {
	for in, want := range map[string]string{
		"/":               "/",
		"/a/b":            "/a/b",
		"/a/./b":          "/a/b",
		"/a/../b":         "/b",
		"/../../etc":      "/etc",
		"/a/b/..":         "/a/",
		"/a/.":            "/a/",
		"//double//slash": "//double//slash",
		"/a/.hidden":      "/a/.hidden",
		"/a/..b":          "/a/..b",
	} {
		if got := cleanPath(in); got != want {
			t.Errorf("cleanPath(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzMatch checks that the shortcuts for catch-all and literal urls
// agree with the anchored regexp config compiles, for any path.
func FuzzMatch(f *testing.F) {
	for _, tt := range matchTests {
		f.Add(tt.h.URL, tt.path)
	}
	f.Fuzz(func(t *testing.T, url, path string) {
		re, err := regexp.Compile("^(?:" + url + ")$")
		if err != nil {
			return
		}
		h := newHandler(&config.Handler{URL: url, Regexp: re, Script: "auto"})
		got, _ := h.match(path, false)
		if want := re.MatchString(path); got != want {
			t.Fatalf("url %q path %q: match %v, regexp says %v", url, path, got, want)
		}
		if ok, m := h.match(path, true); ok && m != nil {
			_ = expand(`\1/\2\9`, path, m)
		}
	})
}
