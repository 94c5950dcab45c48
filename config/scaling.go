package config

import (
	"cmp"
	"strconv"
	"time"

	"gopkg.in/yaml.v3"
)

// ignoredAutomaticKeys are automatic_scaling keys of App Engine (mostly
// of the flexible environment) that mean nothing locally.
var ignoredAutomaticKeys = []string{
	"cool_down_period_sec", "cpu_utilization", "custom_metrics",
	"max_num_instances", "min_num_instances",
	"target_concurrent_requests", "target_request_count_per_second",
	"target_disk_read_bytes_per_second", "target_disk_read_ops_per_second",
	"target_disk_write_bytes_per_second", "target_disk_write_ops_per_second",
	"target_network_received_bytes_per_second", "target_network_received_packets_per_second",
	"target_network_sent_bytes_per_second", "target_network_sent_packets_per_second",
}

// defaultScaling holds App Engine's defaults for every block.
func defaultScaling() Scaling {
	return Scaling{
		Automatic: AutomaticScaling{
			MaxConcurrentRequests:       10,
			MaxInstances:                20,
			MinIdleInstances:            1,
			MaxIdleInstances:            1000,
			MinPendingLatency:           100 * time.Millisecond,
			MaxPendingLatency:           500 * time.Millisecond,
			TargetCPUUtilization:        0.6,
			TargetThroughputUtilization: 0.6,
		},
		Basic:  BasicScaling{MaxInstances: 1, IdleTimeout: 5 * time.Minute},
		Manual: ManualScaling{Instances: 1},
	}
}

func (p *parser) automatic(n *yaml.Node, a *AutomaticScaling) {
	// The entries of the min/max pairs the file gives, nil when defaulted.
	var minI, maxI, minIdle, maxIdle, minLat, maxLat *entry
	given := func(dst **entry, e entry, ok bool) {
		if ok {
			*dst = &e
		}
	}
	p.fields(n, "automatic_scaling", map[string]func(entry){
		"max_concurrent_requests":       func(e entry) { p.integer(e.v, e.key, 1, 1000, &a.MaxConcurrentRequests) },
		"min_instances":                 func(e entry) { given(&minI, e, p.integer(e.v, e.key, 0, maxCount, &a.MinInstances)) },
		"max_instances":                 func(e entry) { given(&maxI, e, p.maxInstances(e, &a.MaxInstances)) },
		"min_idle_instances":            func(e entry) { given(&minIdle, e, p.idleInstances(e, &a.MinIdleInstances)) },
		"max_idle_instances":            func(e entry) { given(&maxIdle, e, p.idleInstances(e, &a.MaxIdleInstances)) },
		"min_pending_latency":           func(e entry) { given(&minLat, e, p.latency(e, &a.MinPendingLatency)) },
		"max_pending_latency":           func(e entry) { given(&maxLat, e, p.latency(e, &a.MaxPendingLatency)) },
		"target_cpu_utilization":        func(e entry) { p.utilization(e, &a.TargetCPUUtilization) },
		"target_throughput_utilization": func(e entry) { p.utilization(e, &a.TargetThroughputUtilization) },
	}, ignoredAutomaticKeys...)
	order(p, &a.MinInstances, &a.MaxInstances, minI, maxI)
	order(p, &a.MinIdleInstances, &a.MaxIdleInstances, minIdle, maxIdle)
	order(p, &a.MinPendingLatency, &a.MaxPendingLatency, minLat, maxLat)
}

// order makes *lo ≤ *hi. Only two values from the file can conflict; when
// one of them is a default it moves to meet the other, so that App
// Engine's defaults never turn a valid file into an invalid one.
func order[T cmp.Ordered](p *parser, lo, hi *T, loE, hiE *entry) {
	switch {
	case *lo <= *hi:
	case loE != nil && hiE != nil:
		p.errorf(loE.v, "%s %s is greater than %s %s", loE.key, deref(loE.v).Value, hiE.key, deref(hiE.v).Value)
	case loE != nil:
		*hi = *lo
	default:
		*lo = *hi
	}
}

// maxInstances reads automatic_scaling's max_instances, where 0 is App
// Engine's "no limit" and keeps the default.
func (p *parser) maxInstances(e entry, dst *int) bool {
	v := *dst
	if !p.integer(e.v, e.key, 0, maxCount, &v) || v == 0 {
		return false
	}
	*dst = v
	return true
}

// idleInstances reads a count of idle instances, where "automatic" keeps
// the default.
func (p *parser) idleInstances(e entry, dst *int) bool {
	if s, ok := p.str(e.v, e.key); !ok || s == "automatic" {
		return false
	}
	return p.integer(e.v, e.key, 0, maxCount, dst)
}

// utilization reads a target utilization, in App Engine's bounds.
func (p *parser) utilization(e entry, dst *float64) {
	s, ok := p.str(e.v, e.key)
	if !ok {
		return
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || !(f >= 0.5 && f <= 0.95) {
		p.errorf(e.v, "%s must be a number between 0.5 and 0.95, not %q", e.key, s)
		return
	}
	*dst = f
}

func (p *parser) basic(n *yaml.Node, b *BasicScaling) {
	p.fields(n, "basic_scaling", map[string]func(entry){
		"max_instances": func(e entry) { p.integer(e.v, e.key, 1, maxCount, &b.MaxInstances) },
		"idle_timeout":  func(e entry) { p.idle(e, &b.IdleTimeout) },
	})
}

func (p *parser) manual(n *yaml.Node, m *ManualScaling) {
	p.fields(n, "manual_scaling", map[string]func(entry){
		"instances": func(e entry) { p.integer(e.v, e.key, 1, maxCount, &m.Instances) },
	})
}

// Setting is one value of a scaling block, in app.yaml's spelling.
type Setting struct{ Key, Value string }

// Settings lists the values of the block of s's kind, in app.yaml's
// spelling and order, to show them (a reload that changed them).
func (s Scaling) Settings() []Setting {
	itoa := strconv.Itoa
	ftoa := func(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
	switch s.Kind {
	case Basic:
		b := s.Basic
		return []Setting{{"max_instances", itoa(b.MaxInstances)}, {"idle_timeout", showDuration(b.IdleTimeout)}}
	case Manual:
		return []Setting{{"instances", itoa(s.Manual.Instances)}}
	}
	a := s.Automatic
	return []Setting{
		{"max_concurrent_requests", itoa(a.MaxConcurrentRequests)},
		{"min_instances", itoa(a.MinInstances)},
		{"max_instances", itoa(a.MaxInstances)},
		{"min_idle_instances", itoa(a.MinIdleInstances)},
		{"max_idle_instances", itoa(a.MaxIdleInstances)},
		{"min_pending_latency", showDuration(a.MinPendingLatency)},
		{"max_pending_latency", showDuration(a.MaxPendingLatency)},
		{"target_cpu_utilization", ftoa(a.TargetCPUUtilization)},
		{"target_throughput_utilization", ftoa(a.TargetThroughputUtilization)},
	}
}

// NonDefault lists the Settings that differ from App Engine's defaults:
// in effect, what the file sets.
func (s Scaling) NonDefault() []Setting {
	d := defaultScaling()
	d.Kind = s.Kind
	var out []Setting
	for i, v := range s.Settings() {
		if v != d.Settings()[i] {
			out = append(out, v)
		}
	}
	return out
}

// showDuration writes d as app.yaml does: "5m", "10s", "100ms".
func showDuration(d time.Duration) string {
	switch {
	case d != 0 && d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	case d%time.Second == 0:
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	case d%time.Millisecond == 0:
		return strconv.FormatInt(int64(d/time.Millisecond), 10) + "ms"
	}
	return d.String()
}
