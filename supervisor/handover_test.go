package supervisor

import (
	"testing"

	"github.com/appdeck/appdeck/runtimes"
)

// A reported port is a port, alone or after a loopback host and a tab
// (dev_appserver.py's runtimes print "HOST\tPORT").
func TestHandoverParse(t *testing.T) {
	h := &handover{how: runtimes.HandoverStdout}
	for text, want := range map[string]int{
		"30001\n":            30001,
		"127.0.0.1\t30001\n": 30001,
		"::1\t30001":         30001,
		"localhost\t30001":   30001,
		"10.0.0.5\t30001":    0, // appdeck reaches instances on loopback only
		"hello 30001":        0,
		"0":                  0,
		"70000":              0,
	} {
		port, err := h.parse(text)
		if port != want || (err == nil) != (want != 0) {
			t.Errorf("parse(%q) = %d, %v; want %d", text, port, err, want)
		}
	}
}
