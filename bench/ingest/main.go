// Command ingest is the dashboard benchmark's baseline: it runs an app
// under the supervisor with no front end at all, so that its CPU use is
// what ingesting the instances' logs costs. It waits until every instance
// is ready, measures its own CPU time and the lines taken in over -for,
// and prints them.
package main

import (
	"flag"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/appdeck/appdeck/config"
	"github.com/appdeck/appdeck/runtimes"
	"github.com/appdeck/appdeck/supervisor"
)

func main() {
	d := flag.Duration("for", 20*time.Second, "how long to measure")
	cache := flag.String("cache", os.TempDir(), "build cache directory")
	flag.Parse()
	app, err := config.Load(flag.Args(), config.Options{CheckRuntime: runtimes.Check})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	sup, err := supervisor.New(supervisor.Options{App: app, CacheDir: *cache})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	sup.Start()
	defer sup.Stop()
	for !allReady(sup) {
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(2 * time.Second) // let start-up settle
	lines0, cpu0, t0 := lines(sup), cpuTime(), time.Now()
	time.Sleep(*d)
	lines1, cpu1, elapsed := lines(sup), cpuTime(), time.Since(t0)
	fmt.Printf("ingest: %.0f lines/s, CPU %.1f%% of one core, RSS %d MiB\n",
		float64(lines1-lines0)/elapsed.Seconds(), 100*(cpu1-cpu0).Seconds()/elapsed.Seconds(), rss()>>20)
}

func allReady(sup *supervisor.Supervisor) bool {
	n := 0
	for _, s := range sup.Snapshot() {
		for _, in := range s.Instances {
			if in.State != supervisor.Ready {
				return false
			}
			n++
		}
	}
	return n > 0
}

// lines counts every line the rings have taken in.
func lines(sup *supervisor.Supervisor) uint64 {
	var n uint64
	for _, s := range sup.Snapshot() {
		for _, in := range s.Instances {
			n += sup.Logs(s.Name, in.ID).Next() - 1
		}
	}
	return n
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func rss() int64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Maxrss << 10
}
