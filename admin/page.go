package admin

import (
	_ "embed"
	"html/template"
	"net/http"
	"time"
)

//go:embed page.html
var pageHTML string

// pageTemplate is the read-only status page: every service and instance,
// refreshing itself without script.
var pageTemplate = template.Must(template.New("page").Funcs(template.FuncMap{
	"symbol": stateSymbol,
	"uptime": uptime,
}).Parse(pageHTML))

type pageData struct {
	App      string
	Now      string
	Services []Service
}

func (s *Server) page(w http.ResponseWriter, r *http.Request) error {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	// Nothing on the page loads or runs anything; keep it that way.
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	return pageTemplate.Execute(w, pageData{App: s.opts.App, Now: time.Now().Format("15:04:05"), Services: s.services()})
}

// stateSymbol makes a state readable without colour, as the dashboard does.
func stateSymbol(state string) string {
	switch state {
	case "ready":
		return "●"
	case "starting", "draining":
		return "◐"
	case "stopped":
		return "○"
	case "backoff":
		return "↻"
	}
	return "✗" // crashed, build-failed
}

func uptime(started time.Time) string {
	if started.IsZero() {
		return "–"
	}
	d := time.Since(started)
	switch {
	case d < time.Minute:
		return d.Truncate(time.Second).String()
	case d < time.Hour:
		return d.Truncate(time.Minute).String()
	}
	return d.Truncate(time.Hour).String()
}
