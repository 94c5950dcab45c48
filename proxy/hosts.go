package proxy

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
)

// hostCheck guards against DNS rebinding: a page on another site that
// makes its own name resolve to 127.0.0.1 could otherwise talk to the
// app. Only names that can only mean this machine, the --host value (for
// a wildcard one, this machine's name and addresses: see MachineHosts)
// and the --allow-host patterns are accepted; the port is ignored.
type hostCheck struct {
	exact    []string // the --host names and --allow-host names without wildcards
	oneLabel []string // "*.x" patterns, stored as ".x": exactly one more label
	anyDepth []string // "**.x" patterns, stored as ".x": one or more labels
}

func newHostCheck(host string, allow []string) (*hostCheck, error) {
	hc := &hostCheck{}
	for _, h := range MachineHosts(host) {
		hc.exact = append(hc.exact, strings.ToLower(strings.Trim(h, "[]")))
	}
	for _, p := range allow {
		if err := CheckAllowHost(p); err != nil {
			return nil, err
		}
		p = strings.ToLower(strings.TrimSpace(p))
		rest, wild := strings.CutPrefix(p, "**.")
		one := false
		if !wild {
			rest, one = strings.CutPrefix(p, "*.")
		}
		switch {
		case wild:
			hc.anyDepth = append(hc.anyDepth, "."+rest)
		case one:
			hc.oneLabel = append(hc.oneLabel, "."+rest)
		default:
			hc.exact = append(hc.exact, rest)
		}
	}
	return hc, nil
}

// CheckAllowHost returns an error saying what is wrong with an
// --allow-host pattern, or nil.
func CheckAllowHost(p string) error {
	p = strings.TrimSpace(p)
	rest, ok := strings.CutPrefix(p, "**.")
	if !ok {
		rest, _ = strings.CutPrefix(p, "*.")
	}
	if rest == "" || strings.ContainsAny(rest, "*/: ") {
		return fmt.Errorf("%q is not a host pattern: want a name (dev.example.com), \"*.\" and a name (one more label) or \"**.\" and a name (any depth)", p)
	}
	return nil
}

// allowed reports whether a request with Host header h may be served.
// An empty h (HTTP/1.0 without Host) is allowed, as in devappserver2;
// net/http already refuses HTTP/1.1 requests without one.
func (hc *hostCheck) allowed(h string) bool {
	name := hostName(h)
	if name == "" {
		return h == ""
	}
	if isLoopbackName(name) {
		return true
	}
	for _, e := range hc.exact {
		if name == e {
			return true
		}
	}
	for _, s := range hc.oneLabel {
		if label, ok := strings.CutSuffix(name, s); ok && label != "" && !strings.Contains(label, ".") {
			return true
		}
	}
	for _, s := range hc.anyDepth {
		if label, ok := strings.CutSuffix(name, s); ok && label != "" && !strings.HasSuffix(label, ".") {
			return true
		}
	}
	return false
}

// MachineHosts lists the Host names, besides localhost and loopback
// addresses, that a server bound to bindHost answers to: the bind
// address itself, and for a wildcard address this machine's name and
// every address of its interfaces. None of them is a name another site
// can point at this machine, so DNS rebinding cannot use them.
func MachineHosts(bindHost string) []string {
	ip := net.ParseIP(strings.Trim(bindHost, "[]"))
	if bindHost != "" && (ip == nil || !ip.IsUnspecified()) {
		return []string{bindHost}
	}
	var hosts []string
	if name, err := os.Hostname(); err == nil {
		hosts = append(hosts, name)
	}
	addrs, _ := net.InterfaceAddrs() // without them, only localhost works: safe
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			hosts = append(hosts, n.IP.String())
		}
	}
	return hosts
}

// hostName returns the Host header's name without the port, lower-cased
// and without an IPv6 literal's brackets.
func hostName(h string) string {
	if strings.HasPrefix(h, "[") {
		end := strings.IndexByte(h, ']')
		if end < 0 {
			return ""
		}
		return strings.ToLower(h[1:end])
	}
	if i := strings.LastIndexByte(h, ':'); i >= 0 {
		h = h[:i]
	}
	return lowerASCII(strings.TrimSuffix(h, "."))
}

// lowerASCII lower-cases s, allocating only when s has upper-case letters.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}

// isLoopbackName reports whether name can only mean this machine:
// localhost, a name under .localhost (RFC 6761), or a loopback address.
func isLoopbackName(name string) bool {
	return strings.HasSuffix(name, ".localhost") || IsLoopbackHost(name)
}

// IsLoopbackHost reports whether host, a name or an address without a
// port, is this machine whatever the resolver says: localhost or a
// loopback address.
func IsLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}

// serviceFromHost returns the service a Host header names, as in App
// Engine's <service>.<app> host names: in "api.localhost:8080" and
// "1.v1.api.localhost" the service is "api", the label just before
// "localhost". It returns "" when the host names no service.
func serviceFromHost(h string) string {
	prefix, ok := strings.CutSuffix(hostName(h), ".localhost")
	if !ok || prefix == "" {
		return ""
	}
	return prefix[strings.LastIndexByte(prefix, '.')+1:]
}

// rejectHost answers a request whose Host failed the check.
func rejectHost(host string) (int, string) {
	name := hostName(host)
	if name == "" {
		name = host
	}
	return 400, fmt.Sprintf("Invalid Host header %q.\n\nappdeck answers only to localhost, loopback addresses, "+
		"the --host value and --allow-host patterns, so that other web sites cannot reach your app through "+
		"DNS rebinding.\nTo use this name, run appdeck with --allow-host %s\n", host, name)
}

// clientIP is the address part of a RemoteAddr.
func clientIP(remote string) string {
	if h, _, err := net.SplitHostPort(remote); err == nil {
		return h
	}
	return remote
}
