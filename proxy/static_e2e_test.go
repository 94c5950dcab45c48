package proxy

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const secret = "SECRET-DO-NOT-SERVE"

const staticApp = `runtime: custom
entrypoint: ./app
# ` + secret + `
default_expiration: 1h
handlers:
- url: /static
  static_dir: public
  http_headers:
    X-Frame-Options: DENY
- url: /img/(.*)\.(png|gif)
  static_files: images/\1.\2
  upload: images/.*
  expiration: 1d 2h 3m 4s
- url: /index\.html
  static_files: index.html
  upload: index\.html
- url: /maybe/(.*)
  static_files: optional/\1
  upload: optional/.*
  require_matching_file: true
- url: /typed
  static_files: public/data.bin
  upload: public/data.bin
  mime_type: application/x-custom
- url: /(.*)
  static_files: \1
  upload: public/.*
- url: /.*
  script: auto
`

func staticFiles(outside string) map[string]string {
	return map[string]string{
		"app.yaml":              staticApp,
		"index.html":            "Hello World!",
		"public/site.css":       "body{}",
		"public/data.bin":       "\x00\x01",
		"public/sub/page.html":  "<p>sub</p>",
		"public/.env":           secret,
		"public/.git/config":    secret,
		"public/main.pyc":       secret,
		"public/backup~":        secret,
		"public/link-out":       "symlink:" + outside,
		"public/link-secret":    "symlink:" + filepath.Join(outside, "passwd"),
		"public/link-inside":    "symlink:site.css",
		"images/logo.png":       "PNG",
		"optional/present.html": "here",
		"secret.txt":            secret,
	}
}

func outsideDir(t *testing.T) string {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "passwd"), []byte(secret), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestStaticFiles(t *testing.T) {
	a := startApp(t, echoBackend(t, nil), staticFiles(outsideDir(t)), Options{})
	get := func(path string, hdr ...string) (*http.Response, string) {
		return raw(t, a.addr, "GET "+path+" HTTP/1.1\r\nHost: localhost\r\n"+strings.Join(hdr, "")+"\r\n")
	}

	// Acceptance 64: index.html holding "Hello World!".
	n := a.count()
	res, body := get("/index.html")
	if res.StatusCode != 200 || body != "Hello World!" || res.Header.Get("Content-Type") != "text/html; charset=utf-8" ||
		res.Header.Get("Content-Length") != "12" || res.Header.Get("Etag") != `"NDcyNDU2MzU1"` {
		t.Errorf("index.html: %d %v %q", res.StatusCode, res.Header, body)
	}
	// default_expiration applies without a handler expiration.
	if cc := res.Header.Get("Cache-Control"); cc != "public, max-age=3600" {
		t.Errorf("Cache-Control %q", cc)
	}
	if exp, err := http.ParseTime(res.Header.Get("Expires")); err != nil || time.Until(exp) < 59*time.Minute {
		t.Errorf("Expires %q", res.Header.Get("Expires"))
	}
	if o := a.record(t, n); o.Route != `/index\.html (static_files)` || o.Status != 200 || o.Instance != "" || o.Bytes != 12 {
		t.Errorf("record %+v", o)
	}

	// Acceptance 66: If-None-Match → 304 with the ETag, no body.
	res, body = get("/index.html", "If-None-Match: W/\"x\", \"NDcyNDU2MzU1\"\r\n")
	if res.StatusCode != 304 || body != "" || res.Header.Get("Etag") != `"NDcyNDU2MzU1"` {
		t.Errorf("If-None-Match: %d %v %q", res.StatusCode, res.Header, body)
	}

	// Acceptance 65: the handler's expiration wins over default_expiration.
	res, body = get("/img/logo.png")
	if res.StatusCode != 200 || body != "PNG" || res.Header.Get("Content-Type") != "image/png" ||
		res.Header.Get("Cache-Control") != "public, max-age=93784" {
		t.Errorf("img: %d %v %q", res.StatusCode, res.Header, body)
	}
	exp, _ := http.ParseTime(res.Header.Get("Expires"))
	if d := time.Until(exp); d < 93700*time.Second || d > 93790*time.Second {
		t.Errorf("Expires %q is not 1d 2h 3m 4s away", res.Header.Get("Expires"))
	}

	// static_dir, http_headers, mime types.
	res, body = get("/static/sub/page.html")
	if res.StatusCode != 200 || body != "<p>sub</p>" || res.Header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("static_dir: %d %v %q", res.StatusCode, res.Header, body)
	}
	res, _ = get("/static/site.css")
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/css") {
		t.Errorf("css Content-Type %q", ct)
	}
	res, _ = get("/typed")
	if ct := res.Header.Get("Content-Type"); ct != "application/x-custom" {
		t.Errorf("mime_type: Content-Type %q", ct)
	}
	res, body = get("/static/link-inside")
	if res.StatusCode != 200 || body != "body{}" {
		t.Errorf("symlink inside the app: %d %q", res.StatusCode, body)
	}
	res, body = raw(t, a.addr, "HEAD /static/site.css HTTP/1.1\r\nHost: localhost\r\n\r\n")
	if res.StatusCode != 200 || body != "" || res.ContentLength != 6 {
		t.Errorf("HEAD: %d %d %q", res.StatusCode, res.ContentLength, body)
	}

	// require_matching_file: a missing file lets the next handlers match;
	// "/(.*)" refuses it (upload is public/ only), and the app gets it.
	res, body = get("/maybe/present.html")
	if res.StatusCode != 200 || body != "here" {
		t.Errorf("require_matching_file, present: %d %q", res.StatusCode, body)
	}
	res, body = get("/maybe/absent.html")
	if res.StatusCode != 404 || strings.Contains(body, "URI") {
		t.Errorf("require_matching_file, absent: %d %q", res.StatusCode, body)
	}
	// A missing file of a static_dir is a 404.
	if res, _ = get("/static/nope.css"); res.StatusCode != 404 {
		t.Errorf("missing file: %d", res.StatusCode)
	}
}

func TestStaticFilesNeverEscape(t *testing.T) {
	a := startApp(t, echoBackend(t, nil), staticFiles(outsideDir(t)), Options{})
	for _, path := range []string{
		"/static/../app.yaml",
		"/static/../secret.txt",
		"/static/%2e%2e/secret.txt",
		"/static/%2E%2E/secret.txt",
		"/static/%2e%2e%2fsecret.txt",
		"/static/..%2fsecret.txt",
		"/static/..%2Fsecret.txt",
		"/static/sub/../../secret.txt",
		"/static/sub/%2e%2e/%2e%2e/secret.txt",
		"/static/%252e%252e/secret.txt",
		"/static/..%5csecret.txt",
		"/static/..\\secret.txt",
		"/static/.env",
		"/static/%2eenv",
		"/static/.git/config",
		"/static/main.pyc",
		"/static/backup~",
		"/static/link-out/passwd",
		"/static/link-secret",
		"/static//etc/passwd",
		"/static/%2fetc/passwd",
		"/static/",
		"/static/sub",
		"/static/sub/",
		"/static/%00",
		"/secret.txt",
		"/../secret.txt",
		"/%2e%2e/secret.txt",
		"/public/../secret.txt",
		"/./secret.txt",
		"/app.yaml",
	} {
		res, body := raw(t, a.addr, "GET "+path+" HTTP/1.1\r\nHost: localhost\r\n\r\n")
		if strings.Contains(body, secret) {
			t.Errorf("%s: served the secret (%d)", path, res.StatusCode)
		}
		switch res.StatusCode {
		case 400, 403, 404:
		case 302:
			// A dot segment: the client is sent to the cleaned path, which
			// is matched afresh (and is no secret either).
			loc := res.Header.Get("Location")
			if strings.Contains(loc, "/.") {
				t.Errorf("%s: redirected to %s", path, loc)
			}
		case 200:
			if decodeSeen(t, body).URI == "" { // only the app may answer 200
				t.Errorf("%s: 200 %q", path, body)
			}
		default:
			t.Errorf("%s: status %d", path, res.StatusCode)
		}
	}
}
