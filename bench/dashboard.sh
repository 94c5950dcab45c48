#!/usr/bin/env bash
# Dashboard benchmark: 20 instances each printing 5,000 lines/s (100,000
# lines/s in all, bench/loggen). It measures, in one run on this machine
# (bench/dashboard, which says how):
#   1. ingest alone: the supervisor with no front end (bench/ingest);
#   2. appdeck --headless with its output thrown away;
#   3. appdeck with the dashboard on a 160x48 pseudo-terminal, idle
#      instances (1 line/s each), all services' logs merged;
#   4. the same at 5,000 lines/s per instance;
# and prints CPU (percent of one core, appdeck's own process, not its
# children), resident memory and the lines/s the generators got out, and
# for 3 and 4 the time from a key press to the status bar showing it
# (p50/p90/p99/max over PRESSES presses) and the CPU while pressing.
# Usage: bench/dashboard.sh [SECONDS] [PRESSES]   (default 20 200)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-20}
presses=${2:-200}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

go build -o "$work/appdeck" .
go build -o "$work/ingest" ./bench/ingest
go build -o "$work/dashboard" ./bench/dashboard
# The instances' build cache is the benchmark's own, Go's is the user's.
export XDG_CACHE_HOME="$work/cache" GOCACHE="$(go env GOCACHE)"
"$work/dashboard" -appdeck "$work/appdeck" -ingest "$work/ingest" -for "${secs}s" -presses "$presses" -app bench/loggen/app.yaml
