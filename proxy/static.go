package proxy

import (
	"encoding/base64"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/appdeck/appdeck/config"
)

// expiresLongAgo is what devappserver2 sends as Expires for static files
// without an expiration: caches must revalidate, using the ETag.
const expiresLongAgo = "Fri, 01 Jan 1990 00:00:00 GMT"

// staticFile resolves the file a static handler names for path, relative
// to the service directory. ok is false when the request could name a
// file outside what the handler may serve: ".." or "." segments (also
// decoded from %2e%2e), empty segments, dot-files, files skip_files
// hides, and static_files paths that upload does not match.
func staticFile(svc *config.Service, h *config.Handler, reqPath string, m []int) (rel string, ok bool) {
	if h.StaticDir != "" {
		if len(m) < 4 || m[2] < 0 {
			return "", false
		}
		sub := reqPath[m[2]:m[3]]
		if !safeRel(sub) {
			return "", false
		}
		rel = path.Join(path.Clean(h.StaticDir), sub)
	} else {
		rel = strings.TrimPrefix(expand(h.StaticFiles, reqPath, m), "./")
		if !safeRel(rel) || h.Upload != nil && !h.Upload.MatchString(rel) {
			return "", false
		}
	}
	if svc.Skipped(rel) {
		return "", false
	}
	return rel, true
}

// safeRel reports whether p is a relative path of plain, visible names.
func safeRel(p string) bool {
	if p == "" || strings.ContainsAny(p, "\\\x00") {
		return false
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || seg[0] == '.' {
			return false
		}
	}
	return true
}

// serveStatic answers with the file a static handler names. It returns
// false without answering when the handler has require_matching_file
// and the file does not exist, so that matching goes on.
func (s *service) serveStatic(w http.ResponseWriter, r *http.Request, h *config.Handler, m []int) bool {
	rel, ok := staticFile(s.cfg, h, r.URL.Path, m)
	if !ok {
		if h.RequireMatchingFile {
			return false
		}
		staticError(w, http.StatusNotFound, r.URL.Path)
		return true
	}
	f, err := s.root.Open(rel)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && h.RequireMatchingFile {
			return false
		}
		staticError(w, statusForOpen(err), r.URL.Path)
		return true
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		staticError(w, http.StatusForbidden, r.URL.Path)
		return true
	}
	tag, err := s.etags.get(rel, fi, f)
	if err != nil {
		staticError(w, http.StatusForbidden, r.URL.Path)
		return true
	}
	s.staticHeaders(w.Header(), h, rel, tag)
	http.ServeContent(w, r, "", fi.ModTime(), f)
	return true
}

// statusForOpen maps an open error to 404 (no such file) or 403
// (anything else, e.g. a symlink that leads out of the directory).
func statusForOpen(err error) int {
	if errors.Is(err, fs.ErrNotExist) {
		return http.StatusNotFound
	}
	return http.StatusForbidden
}

func staticError(w http.ResponseWriter, status int, p string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	fmt.Fprintf(w, "%s: %s\n", http.StatusText(status), p)
}

// staticHeaders sets Content-Type, ETag, Expires and Cache-Control as
// App Engine does, each unless http_headers sets it, then http_headers.
func (s *service) staticHeaders(hdr http.Header, h *config.Handler, rel, etag string) {
	user := map[string]bool{}
	for _, x := range h.HTTPHeaders {
		user[http.CanonicalHeaderKey(x.Name)] = true
	}
	setDefault := func(k, v string) {
		if !user[k] {
			hdr.Set(k, v)
		}
	}
	setDefault("Content-Type", contentType(h.MimeType, rel))
	setDefault("Etag", etag)
	exp, has := h.Expiration, h.HasExpiration
	if !has && s.cfg.DefaultExpiration > 0 {
		exp, has = s.cfg.DefaultExpiration, true
	}
	if has {
		setDefault("Expires", time.Now().Add(exp).UTC().Format(http.TimeFormat))
		setDefault("Cache-Control", "public, max-age="+strconv.FormatInt(int64(exp/time.Second), 10))
	} else {
		setDefault("Expires", expiresLongAgo)
		setDefault("Cache-Control", "public")
	}
	for _, x := range h.HTTPHeaders {
		hdr.Add(x.Name, x.Value)
	}
}

// contentType is mime_type, else the type for the file's extension,
// else application/octet-stream.
func contentType(mimeType, name string) string {
	if mimeType != "" {
		return mimeType
	}
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t
	}
	return "application/octet-stream"
}

// etagCache remembers each file's ETag while its size and mtime stay the
// same, so a file is hashed once, not on every request.
type etagCache struct {
	mu sync.Mutex
	m  map[string]etagEntry
}

type etagEntry struct {
	size    int64
	modTime time.Time
	tag     string
}

// get returns devappserver2's ETag for the file: the CRC-32 of its
// contents in decimal (unsigned, as Python 3 computes it), base64, quoted.
// f is left at its start.
func (c *etagCache) get(rel string, fi os.FileInfo, f *os.File) (string, error) {
	c.mu.Lock()
	e, ok := c.m[rel]
	c.mu.Unlock()
	if ok && e.size == fi.Size() && e.modTime.Equal(fi.ModTime()) {
		return e.tag, nil
	}
	h := crc32.NewIEEE()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	tag := `"` + base64.StdEncoding.EncodeToString([]byte(strconv.FormatUint(uint64(h.Sum32()), 10))) + `"`
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]etagEntry{}
	}
	c.m[rel] = etagEntry{fi.Size(), fi.ModTime(), tag}
	c.mu.Unlock()
	return tag, nil
}
