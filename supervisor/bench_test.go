package supervisor

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/appdeck/appdeck/config"
	"github.com/appdeck/appdeck/proxy"
)

// BenchmarkExecToReady measures what appdeck adds to a process's own
// start, for the Go example (examples/demo/default): each iteration
// starts the example directly and waits for its port (polled every
// 100 µs: the process's own start), then stops and starts the appdeck
// instance running the same build and times it from launch to ready. Both are
// measured in the same run, interleaved, so machine load affects both;
// overhead-µs is the difference (goal: at most 2 ms).
func BenchmarkExecToReady(b *testing.B) {
	requireTools(b, "go")
	src, err := filepath.Abs("../examples/demo/default")
	if err != nil {
		b.Fatal(err)
	}
	svc := &config.Service{Name: "default", Runtime: "go125", Dir: src, Scaling: config.Scaling{
		Kind: config.Automatic, Automatic: config.AutomaticScaling{MaxConcurrentRequests: 10,
			MinInstances: 1, MaxInstances: 1, MaxIdleInstances: 1000}}}
	sup, err := New(Options{App: &config.App{Services: []*config.Service{svc}}, CacheDir: b.TempDir(), Grace: 5 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	sup.Start()
	defer sup.Stop()
	events, unsubscribe := sup.Subscribe()
	defer unsubscribe()
	ready := func() time.Time {
		for {
			select {
			case e := <-events:
				if e.Kind == StateChanged && e.State == Ready {
					return e.Time
				}
			case <-time.After(60 * time.Second):
				b.Fatal("no instance became ready")
			}
		}
	}
	ready()
	svc0 := sup.service("default")
	svc0.mu.Lock()
	bin := svc0.art.Argv[0]
	svc0.mu.Unlock()

	var direct, appdeck time.Duration
	for b.Loop() {
		direct += startDirect(b, bin)
		// Stop and start rather than Restart: a restart is rolling, its
		// new process takes over without a starting → ready transition.
		if err := sup.StopInstance("default", "0"); err != nil {
			b.Fatal(err)
		}
		if err := sup.StartInstance("default", "0"); err != nil {
			b.Fatal(err)
		}
		end := ready()
		// The last launch: the first transition of the new process.
		var launched time.Time
		for _, tr := range instanceInfo(sup, "default", "0").History {
			if tr.Reason == "launching" {
				launched = tr.Time
			}
		}
		appdeck += end.Sub(launched)
	}
	n := float64(b.N)
	b.ReportMetric(float64(direct.Microseconds())/n, "direct-µs")
	b.ReportMetric(float64(appdeck.Microseconds())/n, "appdeck-µs")
	b.ReportMetric(float64((appdeck-direct).Microseconds())/n, "overhead-µs")
}

// startDirect starts bin, waits until it accepts connections and stops it;
// it returns the time from exec to the first accepted connection.
func startDirect(b *testing.B, bin string) time.Duration {
	port, err := freePort()
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "PORT="+strconv.Itoa(port))
	addr := net.JoinHostPort(instanceHost, strconv.Itoa(port))
	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	for {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return time.Since(start)
		}
		if time.Since(start) > 30*time.Second {
			b.Fatal("the example never listened")
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// BenchmarkLease measures what the pool adds to every request: Acquire
// and the lease's Done on a ready instance, with no HTTP, one request at a
// time and from parallel goroutines (within the instance's capacity), for
// a manual-scaling service and an automatic one whose scaler follows
// every request:
//
//	go test -run X -bench Lease -benchmem ./supervisor
func BenchmarkLease(b *testing.B) {
	requireTools(b, "python3")
	for _, sc := range []struct {
		name    string
		scaling config.Scaling
	}{
		{"manual", manual(1)},
		{"automatic", config.Scaling{Kind: config.Automatic, Automatic: config.AutomaticScaling{
			MaxConcurrentRequests: 64, MinInstances: 1, MaxInstances: 1, MaxIdleInstances: 1000}}},
	} {
		b.Run(sc.name, func(b *testing.B) {
			svc := &config.Service{Name: "web", Runtime: "custom", Dir: b.TempDir(), Entrypoint: pyServer, Scaling: sc.scaling}
			sup, err := New(Options{App: &config.App{Services: []*config.Service{svc}}, CacheDir: b.TempDir(),
				Grace: 2 * time.Second, ReadyTimeout: 20 * time.Second})
			if err != nil {
				b.Fatal(err)
			}
			sup.Start()
			defer sup.Stop()
			for deadline := time.Now().Add(20 * time.Second); instanceInfo(sup, "web", "0").State != Ready; time.Sleep(10 * time.Millisecond) {
				if time.Now().After(deadline) {
					b.Fatal("the instance never became ready")
				}
			}
			pool := sup.Pool("web")
			lease := func() {
				l, err := pool.Acquire(context.Background())
				if err != nil {
					b.Fatal(err)
				}
				l.Done(proxy.Outcome{Status: 200})
			}
			b.Run("serial", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					lease()
				}
			})
			b.Run("parallel", func(b *testing.B) {
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						lease()
					}
				})
			})
		})
	}
}
