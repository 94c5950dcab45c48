package supervisor

import (
	"bytes"
	"context"
	"os"
	"strconv"
	"time"
)

// groupUsage is what a process group uses: CPU time consumed so far (in
// clock ticks, summed over its live members) and resident memory.
type groupUsage struct {
	ticks uint64
	rss   int64 // bytes
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat times: 100 on every
// Linux architecture, whatever the kernel's internal tick rate.
const clockTicks = 100

// readGroups sums /proc/PID/stat over every process whose process group
// is one of groups. Grandchildren count: a server's workers belong to the
// instance. A process that exits between listing and reading is skipped.
func readGroups(groups map[int]bool) map[int]groupUsage {
	out := map[int]groupUsage{}
	dir, err := os.Open("/proc")
	if err != nil {
		return out // not Linux: no numbers
	}
	names, _ := dir.Readdirnames(-1)
	dir.Close()
	page := int64(os.Getpagesize())
	buf := make([]byte, 0, 1024)
	for _, name := range names {
		if name[0] < '0' || name[0] > '9' {
			continue
		}
		pgrp, ticks, rss, ok := readStat("/proc/"+name+"/stat", buf)
		if !ok || !groups[pgrp] {
			continue
		}
		u := out[pgrp]
		u.ticks += ticks
		u.rss += rss * page
		out[pgrp] = u
	}
	return out
}

// readStat returns a process's group, its CPU ticks (user + system) and
// resident pages from its stat file.
func readStat(path string, buf []byte) (pgrp int, ticks uint64, rss int64, ok bool) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, 0, false
	}
	n, _ := f.Read(buf[:cap(buf)])
	f.Close()
	return parseStat(buf[:n])
}

// parseStat reads a /proc/PID/stat line. The command name, in parentheses,
// may itself hold spaces and parentheses, so fields are counted from the
// last ')'.
func parseStat(stat []byte) (pgrp int, ticks uint64, rss int64, ok bool) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, 0, 0, false
	}
	// After ')': state(3) ppid(4) pgrp(5) … utime(14) stime(15) … rss(24),
	// numbered as in proc(5).
	f := bytes.Fields(stat[i+1:])
	if len(f) < 22 {
		return 0, 0, 0, false
	}
	field := func(n int) []byte { return f[n-3] }
	pg, err1 := strconv.Atoi(string(field(5)))
	ut, err2 := strconv.ParseUint(string(field(14)), 10, 64)
	st, err3 := strconv.ParseUint(string(field(15)), 10, 64)
	rs, err4 := strconv.ParseInt(string(field(24)), 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil {
		return 0, 0, 0, false
	}
	return pg, ut + st, rs, true
}

// usageSample is the last reading for one process group, to turn CPU
// ticks into a rate at the next one.
type usageSample struct {
	at    time.Time
	ticks uint64
}

// cpuPercent is the CPU use between two readings, in percent of one core.
// Ticks of members that exited in between are gone from the sum, so a
// negative difference reads as zero.
func cpuPercent(prev usageSample, now time.Time, ticks uint64) float64 {
	dt := now.Sub(prev.at).Seconds()
	if dt <= 0 || ticks < prev.ticks {
		return 0
	}
	return float64(ticks-prev.ticks) / clockTicks / dt * 100
}

// usage is an instance's last resource reading, guarded by the service's
// lock.
type usage struct {
	cpu  float64
	rss  int64
	last usageSample
	pgid int // the group last read: a new process starts a new rate
}

// sampleEvery is how often CPU and memory are read.
const sampleEvery = time.Second

// sampleUsage reads the CPU and memory of every instance's process group
// once a second until ctx ends.
func (s *Supervisor) sampleUsage(ctx context.Context) {
	t := time.NewTicker(sampleEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			s.sampleOnce(time.Now())
		case <-ctx.Done():
			return
		}
	}
}

func (s *Supervisor) sampleOnce(now time.Time) {
	groups := map[int]bool{}
	for _, svc := range s.services {
		svc.mu.Lock()
		for _, in := range svc.instances {
			if in.cur != nil {
				groups[in.cur.proc.pgid] = true
			}
		}
		svc.mu.Unlock()
	}
	if len(groups) == 0 {
		return
	}
	read := readGroups(groups)
	for _, svc := range s.services {
		svc.mu.Lock()
		for _, in := range svc.instances {
			in.usage.update(in.cur, read, now)
		}
		svc.mu.Unlock()
	}
}

// update records a reading for the instance's current process g.
func (u *usage) update(g *generation, read map[int]groupUsage, now time.Time) {
	if g == nil || g.proc.exited() {
		*u = usage{}
		return
	}
	r, ok := read[g.proc.pgid]
	if !ok {
		return
	}
	prev := u.last
	if u.pgid != g.proc.pgid { // first reading of this process: its average so far
		prev = usageSample{at: g.startedAt}
	}
	u.cpu = cpuPercent(prev, now, r.ticks)
	u.rss, u.pgid, u.last = r.rss, g.proc.pgid, usageSample{at: now, ticks: r.ticks}
}
