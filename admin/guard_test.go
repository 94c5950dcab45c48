package admin

import (
	"testing"
	"time"
)

func TestHostAllowed(t *testing.T) {
	s := &Server{opts: Options{Hosts: []string{"devbox", "192.168.1.5", "::ffff:10.0.0.1"}}}
	for host, want := range map[string]bool{
		"":                     true, // HTTP/1.0
		"localhost":            true,
		"LOCALHOST:8000":       true,
		"localhost.:8000":      true,
		"127.0.0.1:8000":       true,
		"127.9.9.9":            true,
		"[::1]:8000":           true,
		"devbox:8000":          true,
		"192.168.1.5":          true,
		"[::ffff:10.0.0.1]:80": true,
		"evil.example":         false,
		"localhost.evil.com":   false,
		"127.0.0.1.nip.io":     false,
		"192.168.1.6:8000":     false,
		"0.0.0.0:8000":         false,
	} {
		if got := s.hostAllowed(host); got != want {
			t.Errorf("hostAllowed(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestSameOrigin(t *testing.T) {
	for _, tc := range []struct {
		origin, host string
		want         bool
	}{
		{"http://127.0.0.1:8000", "127.0.0.1:8000", true},
		{"http://127.0.0.1:8001", "127.0.0.1:8000", false},
		{"https://evil.example", "127.0.0.1:8000", false},
		{"null", "127.0.0.1:8000", false},
	} {
		if got := sameOrigin(tc.origin, tc.host); got != tc.want {
			t.Errorf("sameOrigin(%q, %q) = %v", tc.origin, tc.host, got)
		}
	}
}

func TestParseSince(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"5m":                   now.Add(-5 * time.Minute),
		"0s":                   now,
		"2025-06-01T11:00:00Z": now.Add(-time.Hour),
	} {
		if got, err := parseSince(in, now); err != nil || !got.Equal(want) {
			t.Errorf("parseSince(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"-5m", "yesterday", "2025-06-01"} {
		if _, err := parseSince(bad, now); err == nil {
			t.Errorf("parseSince(%q) accepted", bad)
		}
	}
}
