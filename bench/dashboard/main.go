// Command dashboard is the dashboard benchmark: an app whose instances
// each print -rate log lines a second (bench/loggen) measured, in one
// run, in four ways:
//
//  1. ingest alone: bench/ingest, the supervisor with no front end, whose
//     CPU is what taking in the logs costs (the baseline);
//  2. appdeck --headless with its output thrown away;
//  3. appdeck with the dashboard over idle instances (1 line/s each);
//  4. appdeck with the dashboard at full rate;
//
// with the dashboard following every service's logs merged. For each it
// prints appdeck's CPU (its own process, not the instances, from
// /proc/PID/stat), its RSS and the lines/s the generators got out. On the
// dashboard it also measures key press to screen, with no terminal
// emulator in the way: appdeck runs on a pseudo-terminal this program
// opens (-cols×-rows), which types j and k in turn on the master and
// timestamps the read that brings the status bar's new selection. Each
// phase also reports the machine's CPU pressure (the share of time some
// task waited for a core, /proc/pressure/cpu): on a shared machine the
// other work shows in the latency's tail, idle dashboard included. Run it
// through bench/dashboard.sh.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type config struct {
	appdeck, ingest, app string
	instances, rate      int
	window               time.Duration
	presses              int
	cols, rows           int
	counts               string // $BENCH_DIR: the generators' line counts
	env                  []string
}

func main() {
	var c config
	flag.StringVar(&c.appdeck, "appdeck", "", "the appdeck binary (required)")
	flag.StringVar(&c.ingest, "ingest", "", "the bench/ingest binary (required)")
	flag.StringVar(&c.app, "app", "bench/loggen/app.yaml", "the app")
	flag.IntVar(&c.instances, "instances", 20, "instances the app runs (as its app.yaml says)")
	flag.IntVar(&c.rate, "rate", 5000, "log lines per second per instance")
	flag.DurationVar(&c.window, "for", 20*time.Second, "how long CPU is measured in each phase")
	flag.IntVar(&c.presses, "presses", 200, "key presses timed in each dashboard phase")
	flag.IntVar(&c.cols, "cols", 160, "terminal width")
	flag.IntVar(&c.rows, "rows", 48, "terminal height")
	flag.Parse()
	if c.appdeck == "" || c.ingest == "" {
		fail(errors.New("-appdeck and -ingest are required"))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, c); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench/dashboard:", err)
	os.Exit(1)
}

func run(ctx context.Context, c config) error {
	work, err := os.MkdirTemp("", "appdeck-bench-dashboard")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	c.counts = work
	c.env = append(os.Environ(), "BENCH_DIR="+work)

	fmt.Println("== 1. ingest alone (bench/ingest: the supervisor, no front end)")
	ingestCPU, err := runIngest(ctx, c, filepath.Join(work, "ingest-cache"))
	if err != nil {
		return err
	}
	fmt.Println("== 2. appdeck --headless > /dev/null")
	headless, err := runHeadless(ctx, c)
	if err != nil {
		return err
	}
	headless.print("headless")
	fmt.Println("== 3. dashboard, idle instances (1 line/s each): the key latency baseline")
	idle, err := runDashboard(ctx, c, 1)
	if err != nil {
		return err
	}
	idle.print("idle dashboard")
	fmt.Printf("== 4. dashboard, %d instances × %d lines/s, all logs merged, following\n", c.instances, c.rate)
	load, err := runDashboard(ctx, c, c.rate)
	if err != nil {
		return err
	}
	load.print("loaded dashboard")
	summary(idle, load, ingestCPU)
	return nil
}

var ingestCPURE = regexp.MustCompile(`CPU ([0-9.]+)%`)

// runIngest runs bench/ingest for the window and returns its CPU, in
// percent of one core.
func runIngest(ctx context.Context, c config, cache string) (float64, error) {
	cmd := exec.CommandContext(ctx, c.ingest, "-for", c.window.String(), "-cache", cache, c.app)
	cmd.Env = append(c.env, "LINES_PER_SEC="+strconv.Itoa(c.rate))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return 0, fmt.Errorf("bench/ingest: %w", err)
	}
	fmt.Print(string(out))
	m := ingestCPURE.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("bench/ingest printed no CPU: %q", out)
	}
	return strconv.ParseFloat(string(m[1]), 64)
}

// runHeadless measures appdeck --headless with its output thrown away.
func runHeadless(ctx context.Context, c config) (result, error) {
	clearCounts(c.counts)
	cmd := exec.Command(c.appdeck, "--headless", "--port", "0", "--admin-port", "0", c.app)
	cmd.Env = append(c.env, "LINES_PER_SEC="+strconv.Itoa(c.rate))
	if err := cmd.Start(); err != nil {
		return result{}, err
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	defer stop(cmd, exited, syscall.SIGTERM)
	if err := waitGenerators(ctx, c, exited); err != nil {
		return result{}, err
	}
	if err := sleep(ctx, 2*time.Second); err != nil { // let start-up settle
		return result{}, err
	}
	var r result
	err := r.measure(ctx, c, cmd.Process.Pid, nil)
	return r, err
}

// summary compares the phases with the limits: a key press shows
// within 50 ms, and the dashboard costs at most 15 % of one core above
// ingesting the logs.
func summary(idle, load result, ingestCPU float64) {
	fmt.Println("== summary")
	fmt.Printf("key press to screen, p90: %.1f ms idle, %.1f ms loaded (limit 50 ms); loaded/idle p50 %.2f\n",
		ms(idle.percentile(0.9)), ms(load.percentile(0.9)), ms(load.percentile(0.5))/ms(idle.percentile(0.5)))
	fmt.Printf("loaded dashboard CPU above ingest alone: %+.1f points of one core without key presses, %+.1f while pressing (limit +15)\n",
		load.cpu-ingestCPU, load.cpuKeys-ingestCPU)
}

// result is what one phase measured.
type result struct {
	linesPerSec  float64 // the generators' output over the CPU window
	cpu, cpuKeys float64 // percent of one core: the window, while pressing keys
	rssMiB       int     // at the end of the window
	outKiBps     float64 // terminal output over the window
	// pressure is the share of the window, and pressureKeys of the
	// presses, in which some task on the machine waited for a core: how
	// busy the machine was with everything else too (-1: unknown).
	pressure, pressureKeys float64

	lats   []time.Duration // key press to screen, sorted
	missed int             // presses the screen never showed within the timeout
}

// measure takes CPU, RSS and generated lines of process pid over the
// window, and with out (the bytes written to the terminal so far, or
// nil) the terminal output.
func (r *result) measure(ctx context.Context, c config, pid int, out func() int64) error {
	if out == nil {
		out = func() int64 { return 0 }
	}
	c0, g0, b0, p0, t0 := cpuTicks(pid), generated(c.counts), out(), cpuPressure(), time.Now()
	if err := sleep(ctx, c.window); err != nil {
		return err
	}
	c1, g1, b1, p1, t1 := cpuTicks(pid), generated(c.counts), out(), cpuPressure(), time.Now()
	secs := t1.Sub(t0).Seconds()
	r.cpu = cpuPercent(c1-c0, secs)
	r.pressure = pressurePercent(p0, p1, secs)
	r.linesPerSec = float64(g1-g0) / secs
	r.outKiBps = float64(b1-b0) / 1024 / secs
	r.rssMiB = rssMiB(pid)
	return nil
}

func (r result) percentile(p float64) time.Duration {
	if len(r.lats) == 0 {
		return 0
	}
	i := int(float64(len(r.lats))*p+0.999999) - 1 // nearest rank
	return r.lats[max(min(i, len(r.lats)-1), 0)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func (r result) print(name string) {
	fmt.Printf("%s: %.0f lines/s generated, appdeck CPU %.1f%% of one core, RSS %d MiB",
		name, r.linesPerSec, r.cpu, r.rssMiB)
	if r.outKiBps > 0 {
		fmt.Printf(", terminal output %.0f KiB/s", r.outKiBps)
	}
	fmt.Printf("; machine CPU pressure %s\n", pressureText(r.pressure))
	if len(r.lats)+r.missed == 0 {
		return
	}
	fmt.Printf("%s: key press to screen over %d presses: p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms",
		name, len(r.lats), ms(r.percentile(0.5)), ms(r.percentile(0.9)), ms(r.percentile(0.99)), ms(r.percentile(1)))
	if r.missed > 0 {
		fmt.Printf(", %d never shown", r.missed)
	}
	fmt.Printf("; while pressing: appdeck CPU %.1f%%, machine CPU pressure %s\n", r.cpuKeys, pressureText(r.pressureKeys))
}

// runDashboard runs appdeck with the dashboard on a pty, every instance
// printing rate lines/s, and measures it.
func runDashboard(ctx context.Context, c config, rate int) (result, error) {
	var r result
	clearCounts(c.counts)
	master, slave, err := openPTY(c.cols, c.rows)
	if err != nil {
		return r, err
	}
	defer master.Close()
	cmd := exec.Command(c.appdeck, "--port", "0", "--admin-port", "0", c.app)
	cmd.Env = append(c.env, "LINES_PER_SEC="+strconv.Itoa(rate), "TERM=xterm-256color", "COLORTERM=truecolor")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	// Its own session with the pty as controlling terminal, as a shell
	// would start it. Should this program die, closing the master hangs
	// the terminal up, and appdeck quits on SIGHUP.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	err = cmd.Start()
	slave.Close()
	if err != nil {
		return r, err
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t := newTerm(master, fmt.Sprintf("%d/%d ready", c.instances, c.instances))
	defer func() {
		_, _ = master.WriteString("\x03") // ctrl+c quits, as a user would
		stop(cmd, exited, 0, syscall.SIGTERM)
	}()
	if err := settle(ctx, c, t, exited); err != nil {
		return r, err
	}
	pid := cmd.Process.Pid
	if err := r.measure(ctx, c, pid, t.written.Load); err != nil {
		return r, err
	}
	c0, p0, t0 := cpuTicks(pid), cpuPressure(), time.Now()
	if err := presses(ctx, c, t, &r); err != nil {
		return r, err
	}
	secs := time.Since(t0).Seconds()
	r.cpuKeys = cpuPercent(cpuTicks(pid)-c0, secs)
	r.pressureKeys = pressurePercent(p0, cpuPressure(), secs)
	slices.Sort(r.lats)
	return r, nil
}

// settle waits for every instance to be ready and printing, and turns
// the log pane to every service's logs merged.
func settle(ctx context.Context, c config, t *term, exited <-chan struct{}) error {
	select {
	case <-t.readyCh:
	case <-exited:
		return errors.New("appdeck ended before the dashboard showed every instance ready")
	case <-time.After(5 * time.Minute):
		return fmt.Errorf("the dashboard never showed %s", t.ready)
	case <-ctx.Done():
		return ctx.Err()
	}
	for _, k := range []string{"v", "v"} { // instance › service › all
		if _, err := t.master.WriteString(k); err != nil {
			return err
		}
		if err := sleep(ctx, 200*time.Millisecond); err != nil {
			return err
		}
	}
	if err := waitGenerators(ctx, c, exited); err != nil {
		return err
	}
	// Let start-up settle, and v's note in the status bar (4 s) fade:
	// it covers the selection.
	return sleep(ctx, 5*time.Second)
}

// presses moves the selection down and up, j and k in turn, and times
// each. A pause of 30–130 ms between presses falls at random in the
// dashboard's 50 ms frame and Bubble Tea's 16.7 ms render tick.
func presses(ctx context.Context, c config, t *term, r *result) error {
	// A first j, not counted, so that the status bar shows an instance
	// whatever row the selection starts on (a service row has no pid).
	if _, ok, err := t.press("j", 10*time.Second); err != nil || !ok {
		return fmt.Errorf("the status bar never showed the selection move (err %v)", err)
	}
	for i := range c.presses {
		key := "j"
		if i%2 == 1 {
			key = "k"
		}
		d, ok, err := t.press(key, 5*time.Second)
		if err != nil {
			return err
		}
		if ok {
			r.lats = append(r.lats, d)
		} else {
			r.missed++
		}
		if err := sleep(ctx, time.Duration(30+rand.IntN(100))*time.Millisecond); err != nil {
			return err
		}
	}
	return nil
}

// stop sends cmd each signal in turn (0: none, only wait) until it
// exits, waiting 30 s after each, then SIGKILL; it returns once cmd has
// exited.
func stop(cmd *exec.Cmd, exited <-chan struct{}, sigs ...syscall.Signal) {
	for _, s := range sigs {
		if s != 0 {
			_ = cmd.Process.Signal(s)
		}
		select {
		case <-exited:
			return
		case <-time.After(30 * time.Second):
		}
	}
	_ = cmd.Process.Kill()
	<-exited
}

// waitGenerators waits until every generator has reported its count.
func waitGenerators(ctx context.Context, c config, exited <-chan struct{}) error {
	for i := 0; countFiles(c.counts) < c.instances; i++ {
		select {
		case <-exited:
			return errors.New("appdeck ended before the instances printed")
		default:
		}
		if i == 1500 {
			return fmt.Errorf("the %d generators never reported", c.instances)
		}
		if err := sleep(ctx, 200*time.Millisecond); err != nil {
			return err
		}
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-time.After(d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// clockTicks is Linux's USER_HZ, the unit of /proc/PID/stat's times:
// 100 on every architecture Go supports.
const clockTicks = 100

// cpuTicks returns user+system time of process pid (not its children).
func cpuTicks(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name, which is in parentheses and may hold
	// spaces: state is field 3, utime 14, stime 15.
	_, rest, _ := strings.Cut(string(b), ") ")
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[14-3], 10, 64)
	s, _ := strconv.ParseInt(f[15-3], 10, 64)
	return u + s
}

func cpuPercent(ticks int64, secs float64) float64 {
	return 100 * float64(ticks) / clockTicks / secs
}

// cpuPressure returns the microseconds in which some task waited for a
// core (Linux's pressure stall information), -1 when not available.
func cpuPressure() int64 {
	b, err := os.ReadFile("/proc/pressure/cpu")
	if err != nil {
		return -1
	}
	some, _, _ := strings.Cut(string(b), "\n")
	_, total, ok := strings.Cut(some, "total=")
	if !ok {
		return -1
	}
	n, err := strconv.ParseInt(strings.TrimSpace(total), 10, 64)
	if err != nil {
		return -1
	}
	return n
}

func pressurePercent(us0, us1 int64, secs float64) float64 {
	if us0 < 0 || us1 < 0 {
		return -1
	}
	return 100 * float64(us1-us0) / 1e6 / secs
}

func pressureText(p float64) string {
	if p < 0 {
		return "unknown"
	}
	return fmt.Sprintf("%.0f%%", p)
}

func rssMiB(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.Atoi(f[1])
			return kb >> 10
		}
	}
	return 0
}

// generated sums the lines the generators (bench/loggen) say they have
// printed; each rewrites its count once a second.
func generated(dir string) int64 {
	var n int64
	for _, f := range countPaths(dir) {
		b, _ := os.ReadFile(f)
		v, _ := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		n += v
	}
	return n
}

func countPaths(dir string) []string {
	files, _ := filepath.Glob(filepath.Join(dir, "count-*"))
	return files
}

func countFiles(dir string) int { return len(countPaths(dir)) }

func clearCounts(dir string) {
	for _, f := range countPaths(dir) {
		_ = os.Remove(f)
	}
}
