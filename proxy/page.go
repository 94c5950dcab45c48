package proxy

import (
	"html/template"
	"net/http"
	"strconv"
)

var pageTmpl = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{{.Title}}</title>
{{if .Refresh}}<meta http-equiv="refresh" content="{{.Refresh}}">{{end}}
<style>body{font:15px/1.5 system-ui,sans-serif;margin:2em auto;max-width:60em;padding:0 1em;color:#222}
h1{font-size:1.3em}pre{background:#f4f4f4;border-left:4px solid #c33;padding:1em;overflow:auto;font:13px/1.4 ui-monospace,monospace;white-space:pre-wrap}
footer{color:#777;font-size:.85em}</style></head>
<body><h1>{{.Title}}</h1>{{if .Detail}}<pre>{{.Detail}}</pre>{{end}}
<footer>{{.Status}} · served by appdeck{{if .Refresh}} · this page reloads itself{{end}}</footer></body></html>
`))

// writePage answers with an HTML page that explains a failure; detail is
// shown preformatted, so compiler output keeps its file:line:col columns.
func writePage(w http.ResponseWriter, status int, title, detail string, retryAfter int) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	if retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(retryAfter))
	}
	w.WriteHeader(status)
	_ = pageTmpl.Execute(w, struct {
		Title, Detail string
		Status        string
		Refresh       int
	}{title, detail, strconv.Itoa(status) + " " + http.StatusText(status), retryAfter})
}

// ErrorPage returns a handler that answers every request with status and a
// page made of title and detail. It stands in for an instance that cannot
// run, such as a Go service whose build failed.
func ErrorPage(status int, title, detail string) http.Handler {
	return &Unavailable{Status: status, Title: title, Detail: detail}
}
