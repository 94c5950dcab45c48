package runtimes_test

import (
	"bytes"
	"context"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/appdeck/appdeck/config"
	"github.com/appdeck/appdeck/runtimes"
	"github.com/appdeck/appdeck/supervisor"
)

// BenchmarkExecToReady stops and starts each example's instance and
// measures the time from exec to ready as appdeck sees it (the instance's
// "launching" and ready transitions), next to the baseline of the same
// command started directly and polled for a TCP connection every
// millisecond, interleaved so that machine load weighs on both alike.
// Stop and start rather than Restart: a restart is rolling, its new
// process takes over without a starting → ready transition.
//
//	go test ./runtimes -run '^$' -bench ExecToReady -benchtime 10x
func BenchmarkExecToReady(b *testing.B) {
	for _, ex := range []struct {
		name  string
		tools []string
	}{
		{"go", []string{"go"}},
		{"python", []string{"gunicorn"}},
		{"nodejs", []string{"node", "npm"}},
		{"php", []string{"php"}},
		{"java", []string{"java", "javac", "jar"}},
		{"custom", []string{"python3"}},
	} {
		b.Run(ex.name, func(b *testing.B) {
			requireTools(b, ex.tools...)
			dir := copyApp(b, example(ex.name))
			if ex.name == "java" {
				if out, err := exec.Command(filepath.Join(dir, "build.sh")).CombinedOutput(); err != nil {
					b.Fatalf("build.sh: %v\n%s", err, out)
				}
			}
			app := runApp(b, dir, runtimes.Options{})
			app.getOK("/")
			// Pinned to its one instance: stopping it must not make the
			// scaler start another.
			if err := app.sup.Scale(app.service, 1); err != nil {
				b.Fatal(err)
			}
			direct := directStart(b, dir)
			var viaAppdeck, baseline time.Duration
			for b.Loop() {
				viaAppdeck += app.stopStartToReady()
				baseline += direct()
			}
			n := float64(b.N)
			b.ReportMetric(viaAppdeck.Seconds()*1000/n, "ms-appdeck")
			b.ReportMetric(baseline.Seconds()*1000/n, "ms-direct")
			b.ReportMetric(viaAppdeck.Seconds()/baseline.Seconds(), "ratio")
		})
	}
}

// stopStartToReady stops and starts instance 0 and returns the time
// between its launch and its being ready, from its transitions.
func (r *running) stopStartToReady() time.Duration {
	r.t.Helper()
	if err := r.sup.StopInstance(r.service, "0"); err != nil {
		r.t.Fatal(err)
	}
	if err := r.sup.StartInstance(r.service, "0"); err != nil {
		r.t.Fatal(err)
	}
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		// The last launch, and whether it is ready yet.
		var launched, ready time.Time
		for _, tr := range r.instance().History {
			switch {
			case tr.Reason == "launching":
				launched, ready = tr.Time, time.Time{}
			case tr.To == supervisor.Ready:
				ready = tr.Time
			}
		}
		if !launched.IsZero() && !ready.IsZero() {
			return ready.Sub(launched)
		}
	}
	r.t.Fatalf("instance never became ready again:\n%s", r.log("0"))
	return 0
}

// directStart returns a function that starts the built app of dir the way
// appdeck would, without appdeck, and returns the time until its port
// accepts a connection.
func directStart(b *testing.B, dir string) func() time.Duration {
	app, err := config.Load([]string{filepath.Join(dir, "app.yaml")}, config.Options{CheckRuntime: runtimes.Check})
	if err != nil {
		b.Fatal(err)
	}
	svc := app.Services[0]
	rt, err := runtimes.For(svc)
	if err != nil {
		b.Fatal(err)
	}
	art, err := rt.Build(context.Background(), runtimes.Build{Service: svc, CacheDir: filepath.Join(dir, ".appdeck-cache", svc.Name)}, &bytes.Buffer{})
	if err != nil {
		b.Fatal(err)
	}
	return func() time.Duration {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		spec, err := rt.Launch(svc, art, runtimes.Instance{ID: "0", Port: port})
		if err != nil {
			b.Fatal(err)
		}
		cmd := exec.Command(spec.Argv[0], spec.Argv[1:]...)
		cmd.Dir, cmd.Env = spec.Dir, spec.Env
		// Its own group: npm and gunicorn start children of their own.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		start := time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		defer func() {
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			cmd.Wait()
		}()
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		for deadline := start.Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			if c, err := net.Dial("tcp", addr); err == nil {
				c.Close()
				return time.Since(start)
			}
		}
		b.Fatalf("%v never listened on %d", spec.Argv, port)
		return 0
	}
}
