package proxy

import (
	"math/rand/v2"
	"net/http"
	"strconv"
)

// The header contract between the front and an instance. Whatever the
// client sends, the app sees App Engine's identity headers as appdeck
// sets them and never a client's copy: App Engine's front end strips
// X-Appengine-* and X-Google-* headers, and so does appdeck, also when
// spelled with "_" for "-", because Python servers read X_Appengine_User_Email
// and X-Appengine-User-Email as the same variable.

// ownedPrefixes are the header families the front owns, written
// lower-case with "-"; names are compared after mapping "_" to "-".
var ownedPrefixes = []string{"x-appengine-", "x-google-", "x-forwarded-"}

// hopByHop are headers that concern one connection; a proxy must not
// pass them on (RFC 9110 §7.6.1). Trailer is not one: it announces the
// trailers of a chunked response, which the front passes on.
var hopByHop = []string{
	"connection", "keep-alive", "proxy-connection", "proxy-authenticate",
	"proxy-authorization", "te", "transfer-encoding", "upgrade",
}

// owned reports whether a request header belongs to the front: a
// client's copy must never reach the app.
func owned[T string | []byte](name T) bool {
	for _, p := range ownedPrefixes {
		if hasFoldPrefix(name, p) {
			return true
		}
	}
	return false
}

// hop reports whether a header is hop-by-hop.
func hop[T string | []byte](name T) bool {
	for _, h := range hopByHop {
		if foldEqual(name, h) {
			return true
		}
	}
	return false
}

// foldEqual reports whether name equals lower, ignoring ASCII case and
// treating "_" as "-". lower must be lower-case with "-".
func foldEqual[T string | []byte](name T, lower string) bool {
	return len(name) == len(lower) && hasFoldPrefix(name, lower)
}

func hasFoldPrefix[T string | []byte](name T, lower string) bool {
	if len(name) < len(lower) {
		return false
	}
	for i := 0; i < len(lower); i++ {
		c := name[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		} else if c == '_' {
			c = '-'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// identity is what the front tells the app about one request.
type identity struct {
	user     user
	logID    [32]byte // X-Appengine-Request-Log-Id, hex
	traceID  [32]byte // X-Cloud-Trace-Context trace, hex
	spanID   uint64
	clientIP string
	https    bool
}

func newIdentity(u user, clientIP string) identity {
	id := identity{user: u, clientIP: clientIP, spanID: rand.Uint64() >> 1}
	putHex(id.logID[:], rand.Uint64(), rand.Uint64())
	putHex(id.traceID[:], rand.Uint64(), rand.Uint64())
	return id
}

func putHex(dst []byte, a, b uint64) {
	const digits = "0123456789abcdef"
	for i := 15; i >= 0; i-- {
		dst[i], dst[16+i] = digits[a&15], digits[b&15]
		a, b = a>>4, b>>4
	}
}

func (id *identity) proto() string {
	if id.https {
		return "https"
	}
	return "http"
}

// set replaces the app-visible headers in h, whose client copies must
// already be gone (see owned). keepTrace keeps a trace context the
// client sent, as Google's front end does.
func (id *identity) set(h http.Header, keepTrace bool) {
	h["X-Appengine-Country"] = []string{"ZZ"}
	h["X-Appengine-Request-Log-Id"] = []string{string(id.logID[:])}
	if !keepTrace || h.Get("X-Cloud-Trace-Context") == "" {
		h["X-Cloud-Trace-Context"] = []string{string(id.appendTrace(nil))}
	}
	u := id.user
	h["X-Appengine-User-Email"] = []string{u.email}
	h["X-Appengine-User-Id"] = []string{u.id}
	h["X-Appengine-User-Nickname"] = []string{u.nickname()}
	h["X-Appengine-User-Organization"] = []string{u.organization()}
	h["X-Appengine-User-Is-Admin"] = []string{u.isAdmin()}
	h["X-Forwarded-For"] = []string{id.clientIP}
	h["X-Forwarded-Proto"] = []string{id.proto()}
}

// appendHeaders is set for the fast path: the same headers in wire
// format, each line led by CRLF, then the blank line ending the head.
func (id *identity) appendHeaders(b []byte, trace bool) []byte {
	b = append(b, "\r\nX-Appengine-Country: ZZ\r\nX-Appengine-Request-Log-Id: "...)
	b = append(b, id.logID[:]...)
	if trace {
		b = append(b, "\r\nX-Cloud-Trace-Context: "...)
		b = id.appendTrace(b)
	}
	u := id.user
	b = appendHeader(b, "X-Appengine-User-Email", u.email)
	b = appendHeader(b, "X-Appengine-User-Id", u.id)
	b = appendHeader(b, "X-Appengine-User-Nickname", u.nickname())
	b = appendHeader(b, "X-Appengine-User-Organization", u.organization())
	b = appendHeader(b, "X-Appengine-User-Is-Admin", u.isAdmin())
	b = appendHeader(b, "X-Forwarded-For", id.clientIP)
	b = appendHeader(b, "X-Forwarded-Proto", id.proto())
	return append(b, "\r\n\r\n"...)
}

func appendHeader(b []byte, name, value string) []byte {
	b = append(b, "\r\n"...)
	b = append(b, name...)
	b = append(b, ": "...)
	return append(b, value...)
}

func (id *identity) appendTrace(b []byte) []byte {
	b = append(b, id.traceID[:]...)
	b = append(b, '/')
	b = strconv.AppendUint(b, id.spanID, 10)
	return append(b, ";o=1"...)
}
