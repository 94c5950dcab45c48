// Command coldstart measures the cold start of a Go app under appdeck —
// from launching appdeck to the first 200 — next to the baseline of
// `go build` of the same app, and next to dev_appserver.py when it is
// installed. The measurements take turns, run after run, so that load
// from other programs on the machine falls on all of them alike. Run it
// through bench/coldstart.sh.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	appdeck := flag.String("appdeck", "", "the appdeck binary")
	app := flag.String("app", "examples/go", "the Go app (a directory with app.yaml)")
	runs := flag.Int("n", 5, "runs of each measurement")
	devAppserver := flag.String("dev-appserver", "dev_appserver.py", `dev_appserver.py to compare with ("" to skip)`)
	flag.Parse()
	if *appdeck == "" {
		fail("-appdeck is required")
	}
	work, err := os.MkdirTemp("", "appdeck-coldstart")
	check(err)
	defer os.RemoveAll(work)
	dir := filepath.Join(work, "app")
	check(os.CopyFS(dir, os.DirFS(*app)))
	appYAML := filepath.Join(dir, "app.yaml")
	gocache, err := exec.Command("go", "env", "GOCACHE").Output()
	check(err)
	// Every run shares the user's Go build cache (warm, as for anyone who
	// has built the app before); no cold run shares appdeck's cache,
	// which would skip the build.
	env := append(os.Environ(), "GOCACHE="+strings.TrimSpace(string(gocache)))
	devPath := ""
	if *devAppserver != "" {
		if p, err := exec.LookPath(*devAppserver); err == nil {
			devPath = p
		}
	}

	r := &results{}
	goBuild(dir, filepath.Join(work, "warmup"), env) // fills the build cache
	for i := range *runs {
		out := filepath.Join(work, "bin", strconv.Itoa(i))
		start := time.Now()
		goBuild(dir, out, env)
		r.add("go build -o <new file> .", time.Since(start))

		xdg := filepath.Join(work, "xdg", strconv.Itoa(i))
		took, log := firstOK(exec.Command(*appdeck, "--headless", "--admin-port", "0", "--port", "{port}", appYAML),
			append(env, "XDG_CACHE_HOME="+xdg))
		r.add("appdeck, empty cache (builds)", took)
		if built := builtIn(log); built > 0 {
			r.add("  of which its go build", built)
			r.add("  the rest (start, exec, ready, proxy)", took-built)
		}
		took, _ = firstOK(exec.Command(*appdeck, "--headless", "--admin-port", "0", "--port", "{port}", appYAML),
			append(env, "XDG_CACHE_HOME="+xdg))
		r.add("appdeck, sources unchanged", took)

		if devPath != "" {
			storage := filepath.Join(work, "storage", strconv.Itoa(i))
			check(os.MkdirAll(storage, 0o755))
			took, _ := firstOK(exec.Command("/usr/bin/python3", devPath, "--port={port}", "--admin_port=0",
				"--api_port=0", "--skip_sdk_update_check=true", "--storage_path="+storage, appYAML),
				append(env, "CLOUDSDK_PYTHON=/usr/bin/python3"))
			r.add("dev_appserver.py", took)
		}
	}

	fmt.Printf("cold start of %s, launch to first 200: median (min) of %d runs\n\n", *app, *runs)
	build := r.median("go build -o <new file> .")
	for _, name := range r.order {
		ds := r.runs[name]
		line := fmt.Sprintf("%-40s %7.3fs (%.3fs)", name, median(ds).Seconds(), ds[0].Seconds())
		if name != "go build -o <new file> ." && !strings.HasPrefix(name, " ") {
			line += fmt.Sprintf("   %+.3fs vs go build", (median(ds) - build).Seconds())
		}
		fmt.Println(line)
	}
	fmt.Printf("\nappdeck empty cache − go build: %+.3fs (goal: at most +0.200s)\n", (r.median("appdeck, empty cache (builds)") - build).Seconds())
	if devPath == "" {
		fmt.Println("dev_appserver.py: not installed, not measured")
		return
	}
	fmt.Printf("dev_appserver.py / appdeck empty cache: %.1fx\n",
		r.median("dev_appserver.py").Seconds()/r.median("appdeck, empty cache (builds)").Seconds())
}

// results holds each measurement's runs, in the order first seen.
type results struct {
	order []string
	runs  map[string][]time.Duration
}

func (r *results) add(name string, d time.Duration) {
	if r.runs == nil {
		r.runs = map[string][]time.Duration{}
	}
	if _, ok := r.runs[name]; !ok {
		r.order = append(r.order, name)
	}
	r.runs[name] = append(r.runs[name], d)
	slices.Sort(r.runs[name])
}

func (r *results) median(name string) time.Duration { return median(r.runs[name]) }

func median(ds []time.Duration) time.Duration { return ds[len(ds)/2] }

func goBuild(dir, out string, env []string) {
	cmd := exec.Command("go", "build", "-o", out, ".")
	cmd.Dir, cmd.Env = dir, env
	if b, err := cmd.CombinedOutput(); err != nil {
		fail(fmt.Sprintf("go build: %v\n%s", err, b))
	}
}

// builtInRE is appdeck's log line after a build.
var builtInRE = regexp.MustCompile(`\[appdeck\] built in (\S+)`)

// builtIn returns the build time appdeck logged, or 0.
func builtIn(log string) time.Duration {
	m := builtInRE.FindStringSubmatch(log)
	if m == nil {
		return 0
	}
	d, _ := time.ParseDuration(m[1])
	return d
}

// firstOK starts cmd, with "{port}" in its arguments replaced by a free
// port, and returns the time from the start to the first 200 on /; then
// it stops the command and everything it started, and returns all the
// command printed too.
func firstOK(cmd *exec.Cmd, env []string) (took time.Duration, log string) {
	port := strconv.Itoa(freePort())
	for i, a := range cmd.Args {
		cmd.Args[i] = strings.ReplaceAll(a, "{port}", port)
	}
	var out bytes.Buffer
	cmd.Env, cmd.Stdout, cmd.Stderr = env, &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	exited := make(chan struct{})
	start := time.Now()
	check(cmd.Start())
	go func() { cmd.Wait(); close(exited) }()
	defer func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
		}
		// dev_appserver.py leaves its instances behind: end the group.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
		log = out.String()
	}()
	url := "http://127.0.0.1:" + port + "/"
	client := &http.Client{Timeout: 10 * time.Second}
	// Polled every 5 ms: often enough to see the first 200 at once, seldom
	// enough not to slow the build that runs meanwhile.
	for deadline := start.Add(5 * time.Minute); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		select {
		case <-exited:
			fail(fmt.Sprintf("%s exited:\n%s", strings.Join(cmd.Args, " "), out.String()))
		default:
		}
		resp, err := client.Get(url)
		if err != nil {
			continue
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return time.Since(start), ""
		}
	}
	fail(fmt.Sprintf("%s never answered 200:\n%s", strings.Join(cmd.Args, " "), out.String()))
	return 0, ""
}

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func check(err error) {
	if err != nil {
		fail(err.Error())
	}
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "coldstart:", msg)
	os.Exit(1)
}
