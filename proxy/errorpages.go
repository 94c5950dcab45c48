package proxy

import (
	"net/http"
	"strconv"

	"github.com/appdeck/appdeck/config"
)

// Error codes of error_handlers, and which of appdeck's own failures
// each one covers.
const (
	codeDefault = "default" // instance crashed, not started, any other failure
	codeTimeout = "timeout" // the request deadline passed, or no instance freed up in time
)

// errorFile returns the error handler for code, falling back to the
// default one, as App Engine does.
func (s *service) errorFile(code string) (config.ErrorHandler, bool) {
	if eh, ok := s.errFiles[code]; ok {
		return eh, true
	}
	eh, ok := s.errFiles[codeDefault]
	return eh, ok
}

// fail answers with one of appdeck's own errors: the app's error handler
// file for code when it has one, else a page explaining what happened.
func (s *service) fail(w http.ResponseWriter, status int, code, title, detail string, retryAfter int) {
	if eh, ok := s.errorFile(code); ok {
		if retryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
		}
		s.serveErrorFile(w, status, eh)
		return
	}
	writePage(w, status, title, detail, retryAfter)
}

// serveErrorFile answers with an error handler's file. A file that
// cannot be read gives devappserver2's message.
func (s *service) serveErrorFile(w http.ResponseWriter, status int, eh config.ErrorHandler) {
	data, err := s.root.ReadFile(eh.File)
	h := w.Header()
	h.Set("Cache-Control", "no-cache")
	if err != nil {
		h.Set("Content-Type", "text/html")
		h.Set("Content-Length", "28")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte("Failed to load error handler"))
		return
	}
	ct := eh.MimeType
	if ct == "" {
		ct = contentType("", eh.File)
		if ct == "application/octet-stream" {
			ct = "text/html"
		}
	}
	h.Set("Content-Type", ct)
	h.Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(status)
	_, _ = w.Write(data)
}
