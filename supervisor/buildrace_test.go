package supervisor

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/appdeck/appdeck/config"
)

// gateScript is a go build -toolexec wrapper that holds the first link
// (mkdir is atomic: one run wins) until the gate file is gone, and says
// so by creating the entered file; every other tool run goes through at
// once. It makes the build at launch, its code compiled already, as slow
// as the test wants, and the edit's build quick.
const gateScript = `#!/bin/sh
d=$(dirname "$0")
case "$(basename "$1") $2" in
"link -V=full") ;;
link*) mkdir "$d/held" 2>/dev/null && held=1 ;;
esac
if [ -n "$held" ]; then
	: > "$d/entered"
	while [ -e "$d/gate" ]; do sleep 0.05; done
fi
exec "$@"
`

// TestAnOlderBuildEndingLastIsNotPutInService holds the build at launch,
// breaks the code meanwhile so that the edit's build fails first, then
// lets the first build go on: the newer, failed build must stay in
// service — the instance build-failed, requests get the error page —
// and the launch's build of the old code must not start.
func TestAnOlderBuildEndingLastIsNotPutInService(t *testing.T) {
	requireTools(t, "go")
	tools := t.TempDir()
	wrapper, gate := filepath.Join(tools, "gate.sh"), filepath.Join(tools, "gate")
	if err := os.WriteFile(wrapper, []byte(gateScript), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, gate, "")
	t.Cleanup(func() { os.Remove(gate) }) // a failed test must not leave the wrapper waiting
	t.Setenv("GOFLAGS", "-toolexec="+wrapper)

	dir := t.TempDir()
	main := filepath.Join(dir, "main.go")
	writeFile(t, main, goApp("old code"))
	sup := newSupervisor(t, Options{Watch: true}, &config.Service{Name: "default", Runtime: "go125", Dir: dir, Scaling: manual(1)})
	waitFor(t, "the build at launch held", 60*time.Second, func() bool {
		_, err := os.Stat(filepath.Join(tools, "entered"))
		return err == nil && serviceInfo(sup, "default").Watching
	})

	writeFile(t, main, "package main\n\nfunc main() { broken() }\n")
	waitFor(t, "the edit's build failed", 90*time.Second, func() bool {
		return strings.Contains(serviceInfo(sup, "default").BuildErr, "could not be built")
	})
	if err := os.Remove(gate); err != nil {
		t.Fatal(err)
	}
	// The instance is added once the launch's build has ended, in
	// service or not.
	waitFor(t, "instance 0 settled", 90*time.Second, func() bool {
		st := instanceInfo(sup, "default", "0").State
		return st == Ready || st == BuildFailed
	})
	si := serviceInfo(sup, "default")
	if st := instanceInfo(sup, "default", "0").State; st != BuildFailed || !strings.Contains(si.BuildOutput, "undefined: broken") {
		t.Fatalf("after the older build ended: instance %s, build output %q; want build-failed on the newer build's error\nservice log:\n%s",
			st, si.BuildOutput, strings.Join(logTexts(sup.Logs("default", "")), "\n"))
	}
	if logs := strings.Join(logTexts(sup.Logs("default", "")), "\n"); strings.Contains(logs, "built in") || !strings.Contains(logs, "build discarded") {
		t.Errorf("service log: want the older build discarded, not built:\n%s", logs)
	}
	code, body := fetch(front(t, sup, "default") + "/")
	if code != 500 || !strings.Contains(body, "undefined: broken") {
		t.Errorf("request after the older build ended: %d %q; want the newer build's error page", code, body)
	}
}
