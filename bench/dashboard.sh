#!/usr/bin/env bash
# Dashboard benchmark: 20 instances each printing 5,000 lines/s (100,000
# lines/s in all). It measures, in one run on this machine:
#   1. ingest alone: the supervisor with no front end (bench/ingest);
#   2. appdeck --headless with its output thrown away;
#   3. appdeck with the dashboard in a 160x48 tmux window, following every
#      service's logs merged ("all" scope), plus the time from a key press
#      to the screen showing it (tmux send-keys → capture-pane).
# and prints CPU (percent of one core, appdeck's own process, not its
# children), resident memory and the lines/s the generators got out.
# Usage: bench/dashboard.sh [SECONDS]   (default 20)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-20}
work=$(mktemp -d)
sock="appdeck-bench-$$"
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  tmux -L "$sock" kill-server 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/appdeck" .
go build -o "$work/ingest" ./bench/ingest
export BENCH_DIR="$work" XDG_CACHE_HOME="$work/cache" GOCACHE="$(go env GOCACHE)"
app=bench/loggen/app.yaml

# cpu_ticks PID: user+system clock ticks of one process.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
# generated: lines the generators have printed so far.
generated() { awk '{s += $1} END {printf "%d\n", s}' "$work"/count-* 2>/dev/null || echo 0; }
wait_generators() {
  for _ in $(seq 600); do
    [ "$(ls "$work"/count-* 2>/dev/null | wc -l)" -ge 20 ] && return
    sleep 0.2
  done
  echo "the 20 instances never started" >&2; exit 1
}
# measure NAME PID: CPU and memory of PID over $secs seconds.
measure() {
  local c0 c1 g0 g1 t0 t1
  c0=$(cpu_ticks "$2"); g0=$(generated); t0=$(date +%s.%N)
  sleep "$secs"
  c1=$(cpu_ticks "$2"); g1=$(generated); t1=$(date +%s.%N)
  awk -v n="$1" -v c=$((c1 - c0)) -v hz="$hz" -v g=$((g1 - g0)) -v t0="$t0" -v t1="$t1" \
    -v rss="$(awk '/VmRSS/ {print int($2/1024)}' "/proc/$2/status")" \
    'BEGIN { d = t1 - t0; printf "%s: %.0f lines/s generated, CPU %.1f%% of one core, RSS %d MiB\n", n, g / d, 100 * c / hz / d, rss }'
}

echo "== 1. ingest alone (supervisor, no front end)"
rm -f "$work"/count-*
"$work/ingest" -for "${secs}s" -cache "$work/cache/ingest" "$app"

echo "== 2. appdeck --headless > /dev/null"
rm -f "$work"/count-*
"$work/appdeck" --headless --port 0 --admin-port 0 "$app" > /dev/null 2>&1 &
pid=$!
wait_generators; sleep 2
measure headless "$pid"
kill -TERM "$pid"; wait "$pid" || true; pid=""

screen() { tmux -L "$sock" capture-pane -p -t bench; }
# dashboard LINES_PER_SEC: start appdeck with the dashboard in tmux and
# wait until every instance is ready; sets pid.
dashboard() {
  rm -f "$work"/count-*
  tmux -L "$sock" -f /dev/null new-session -d -s bench -x 160 -y 48 \
    "env LINES_PER_SEC=$1 BENCH_DIR=$work XDG_CACHE_HOME=$work/cache GOCACHE=$GOCACHE TERM=xterm-256color $work/appdeck --port 0 --admin-port 0 $app"
  pid=$(tmux -L "$sock" list-panes -t bench -F '#{pane_pid}')
  for _ in $(seq 600); do screen | grep -q '20/20 ready' && break; sleep 0.2; done
  screen | grep -q '20/20 ready' || { echo "dashboard never showed 20/20 ready" >&2; screen >&2; exit 1; }
  tmux -L "$sock" send-keys -t bench v v   # every service's logs, merged
  wait_generators; sleep 2
}
# keylat NAME: j and k move the selection; time until the status bar
# shows the new row, tmux round trip included.
keylat() {
  local lat=() before t0 k
  for i in $(seq 20); do
    k=j; [ $((i % 2)) -eq 0 ] && k=k
    before=$(screen | tail -1)
    t0=$(date +%s%N)
    tmux -L "$sock" send-keys -t bench "$k"
    while [ "$(screen | tail -1)" = "$before" ]; do :; done
    lat+=($(( ($(date +%s%N) - t0) / 1000000 )))
    sleep 0.2
  done
  printf '%s\n' "${lat[@]}" | sort -n | awk -v n="$1" '{a[NR] = $1} END {printf "%s: key press to screen: median %d ms, max %d ms over %d presses\n", n, a[int((NR + 1) / 2)], a[NR], NR}'
}
quit_dashboard() {
  tmux -L "$sock" send-keys -t bench C-c
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  pid=""
}

echo "== 3. appdeck with the dashboard, idle instances (1 line/s each): the key latency baseline"
dashboard 1
keylat "idle dashboard"
quit_dashboard

echo "== 4. appdeck with the dashboard (tmux 160x48, all services' logs merged, following)"
dashboard 5000
measure dashboard "$pid"
keylat "dashboard at 100,000 lines/s"
quit_dashboard
