package proxy

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/appdeck/appdeck/config"
)

// TestReloadKeepsTheSetOfServices checks that Reload takes a new
// configuration of the same services and refuses one whose services
// differ: ports and pools are made once.
func TestReloadKeepsTheSetOfServices(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"app.yaml": scriptApp})
	file := filepath.Join(dir, "app.yaml")
	load := func() *config.App {
		t.Helper()
		app, err := config.Load([]string{file}, config.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return app
	}
	rt, err := New(Options{App: load(), Pool: func(string) Pool { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	writeFiles(t, dir, map[string]string{"app.yaml": scriptApp + "default_expiration: 1h\n"})
	if err := rt.Reload(load()); err != nil {
		t.Fatalf("Reload of the same service: %v", err)
	}
	if got := rt.table.Load().services["default"].cfg.DefaultExpiration.String(); got != "1h0m0s" {
		t.Errorf("default_expiration in force %s, want 1h", got)
	}
	writeFiles(t, dir, map[string]string{"app.yaml": "service: other\n" + scriptApp})
	err = rt.Reload(load())
	if err == nil || !strings.Contains(err.Error(), `service "other"`) {
		t.Errorf("Reload of a renamed service: %v, want an error naming it", err)
	}
	if rt.table.Load().services["default"] == nil {
		t.Error("a refused Reload changed the configuration in force")
	}
}
