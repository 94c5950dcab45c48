package supervisor

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/appdeck/appdeck/config"
)

func logTexts(buf *LogBuffer) []string {
	var out []string
	for _, l := range buf.Tail(1000) {
		out = append(out, l.Text)
	}
	return out
}

// TestBuildTimeOnlyWhenSomethingWasBuilt: "built in" follows a build that
// ran a tool, never one reused because its sources did not change, nor a
// runtime with nothing to build.
func TestBuildTimeOnlyWhenSomethingWasBuilt(t *testing.T) {
	requireTools(t, "go", "python3")
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "main.go"), goApp("hello"))
	goSvc := &config.Service{Name: "default", Runtime: "go125", Dir: dir, Scaling: manual(1)}
	pySvc, _ := pyService(t, "api", manual(1))
	sup := newSupervisor(t, Options{}, goSvc, pySvc)
	waitFor(t, "both ready", 90*time.Second, func() bool {
		return instanceInfo(sup, "default", "0").State == Ready && instanceInfo(sup, "api", "0").State == Ready
	})
	first := strings.Join(logTexts(sup.Logs("default", "")), "\n")
	if !strings.Contains(first, "go build -o ") || !strings.Contains(first, "built in ") {
		t.Errorf("the first build's log:\n%s", first)
	}
	if got := strings.Join(logTexts(sup.Logs("api", "")), "\n"); strings.Contains(got, "built in") {
		t.Errorf("a service with nothing to build says it was built:\n%s", got)
	}

	// The same sources again: the runtime reuses its binary and says so.
	svc := sup.service("default")
	before := len(logTexts(svc.Logs))
	svc.build(sup.ctx, false)
	again := strings.Join(logTexts(svc.Logs)[before:], "\n")
	if !strings.Contains(again, "sources unchanged since the last build; not rebuilding") || strings.Contains(again, "built in") {
		t.Errorf("the log of a build of unchanged sources:\n%s", again)
	}
}
