#!/usr/bin/env bash
# Proxy benchmark: the same backend process measured, in one run, directly,
# through appdeck, and through nginx with upstream keep-alive; prints
# requests/s, p50/p99 latency and each proxy's ratio to direct, per round,
# then the spread over the rounds. The machine is shared: look at the
# spread, not one number.
#
#   bench/run.sh [ROUNDS] [DURATION]      e.g. bench/run.sh 5 10s
#
# Environment: CONNS (default 32), THREADS (default 2).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
duration=${2:-10s}
conns=${CONNS:-32}
threads=${THREADS:-2}

need=()
command -v wrk >/dev/null || need+=(wrk)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "bench: installing ${need[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

go build -o "$work/appdeck" .
go build -o "$work/backend" ./bench/backend
mkdir -p "$work/app"
cat >"$work/app/app.yaml" <<YAML
runtime: custom
entrypoint: $work/backend
# One instance that takes every connection wrk opens, so that the
# proxy, not the pool, is what is measured (App Engine's default is 10).
automatic_scaling:
  max_concurrent_requests: 100
  max_instances: 1
YAML

front=$(free_port)
"$work/appdeck" --headless --no-color --port "$front" --admin-port 0 "$work/app/app.yaml" >"$work/appdeck.log" 2>&1 &
pids+=($!)
backend=""
for _ in $(seq 1 200); do
  backend=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$work/appdeck.log" | head -1)
  [ -n "$backend" ] && curl -fsS -o /dev/null "http://127.0.0.1:$front/" 2>/dev/null && break
  sleep 0.1
done
[ -n "$backend" ] || { echo "bench: appdeck did not start:"; cat "$work/appdeck.log"; exit 1; }

nport=$(free_port)
hport=$(free_port)
cat >"$work/nginx.conf" <<NGINX
worker_processes auto;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/nginx-body;
  proxy_temp_path $work/nginx-proxy;
  upstream app { server 127.0.0.1:$backend; keepalive 64; }
  server {
    listen 127.0.0.1:$nport;
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$host;
    }
  }
  # The same, adding the headers appdeck adds (App Engine's contract), so
  # that the cost of the app parsing them is on both sides. nginx drops a
  # header whose value is empty: the user headers get one space, which
  # the app reads as empty, as appdeck sends them for a request without
  # a login.
  server {
    listen 127.0.0.1:$hport;
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$host;
      proxy_set_header X-Appengine-Country ZZ;
      proxy_set_header X-Appengine-Request-Log-Id \$request_id;
      proxy_set_header X-Cloud-Trace-Context "\$request_id/\$connection_requests;o=1";
      proxy_set_header X-Appengine-User-Email " ";
      proxy_set_header X-Appengine-User-Id " ";
      proxy_set_header X-Appengine-User-Nickname " ";
      proxy_set_header X-Appengine-User-Organization " ";
      proxy_set_header X-Appengine-User-Is-Admin 0;
      proxy_set_header X-Forwarded-For \$remote_addr;
      proxy_set_header X-Forwarded-Proto \$scheme;
    }
  }
}
NGINX
"$nginx_bin" -c "$work/nginx.conf" -g 'daemon off;' &
pids+=($!)
sleep 0.5

# measure URL [PID...] → "rps p50 p99 cpu bcpu": latencies in ms; cpu is
# the CPU time (user + system) the PIDs spent per request, in µs: unlike
# requests/s it hardly moves with the machine's other load; bcpu is the
# same for the backend, whose share moves with what the proxy sends it.
hz=$(getconf CLK_TCK)
ticks() { local t=0 f; for p in "$@"; do read -r -a f < "/proc/$p/stat"; t=$((t + f[13] + f[14])); done; echo "$t"; }
measure() {
  local url=$1; shift
  local t0 t1 b0 b1 out
  t0=$(ticks "$@"); b0=$(ticks "$backend_pid")
  out=$(wrk -t"$threads" -c"$conns" -d"$duration" --latency "$url")
  t1=$(ticks "$@"); b1=$(ticks "$backend_pid")
  awk -v ticks=$((t1 - t0)) -v bticks=$((b1 - b0)) -v hz="$hz" '
    function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
    /^ +50%/ { p50 = ms($2) } /^ +99%/ { p99 = ms($2) } /^Requests\/sec/ { rps = $2 } / requests in / { n = $1 }
    END { printf "%.0f %.2f %.2f %.1f %.1f\n", rps, p50, p99, (n ? ticks * 1e6 / hz / n : 0), (n ? bticks * 1e6 / hz / n : 0) }' <<<"$out"
}

echo "wrk -t$threads -c$conns -d$duration, 13-byte body; backend :$backend, appdeck :$front, nginx :$nport, nginx+headers :$hport"
echo "each cell: requests/s, p50 and p99 latency (ms); for the proxies also the proxy's CPU µs per request"
echo "and the ratio of its requests/s to direct in the same round"
printf '%-5s | %-19s | %-30s | %-30s | %-30s\n' round direct appdeck nginx nginx+headers
ratio() { awk -v a="$1" -v d="$2" 'BEGIN{printf "%.2f", a/d}'; }
appdeck_pid=${pids[0]}
backend_pid=$(ss -Hltnp "sport = :$backend" | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -1)
nginx_pids() { echo "$(cat "$work/nginx.pid") $(pgrep -P "$(cat "$work/nginx.pid")" | tr '\n' ' ')"; }
ra=(); rn=(); rh=(); rx=(); ry=(); ca=(); cn=(); ch=(); bd=(); ba=(); bn=(); bh=()
for i in $(seq 1 "$rounds"); do
  read -r d dp50 dp99 _ db < <(measure "http://127.0.0.1:$backend/")
  read -r a ap50 ap99 ac ab < <(measure "http://127.0.0.1:$front/" "$appdeck_pid")
  # shellcheck disable=SC2046
  read -r n np50 np99 nc nb < <(measure "http://127.0.0.1:$nport/" $(nginx_pids))
  # shellcheck disable=SC2046
  read -r h hp50 hp99 hc hb < <(measure "http://127.0.0.1:$hport/" $(nginx_pids))
  ar=$(ratio "$a" "$d"); nr=$(ratio "$n" "$d"); hr=$(ratio "$h" "$d")
  ra+=("$ar"); rn+=("$nr"); rh+=("$hr"); rx+=("$(ratio "$a" "$n")"); ry+=("$(ratio "$a" "$h")")
  ca+=("$ac"); cn+=("$nc"); ch+=("$hc"); bd+=("$db"); ba+=("$ab"); bn+=("$nb"); bh+=("$hb")
  printf '%-5s | %6s %5s %6s | %6s %5s %6s %5sus %4s | %6s %5s %6s %5sus %4s | %6s %5s %6s %5sus %4s\n' "$i" \
    "$d" "$dp50" "$dp99" "$a" "$ap50" "$ap99" "$ac" "$ar" "$n" "$np50" "$np99" "$nc" "$nr" "$h" "$hp50" "$hp99" "$hc" "$hr"
done
spread() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END {printf "min %s  median %s  max %s", v[1], v[int((NR+1)/2)], v[NR]}'; }
echo "ratio to direct, appdeck:       $(spread "${ra[@]}")"
echo "ratio to direct, nginx:         $(spread "${rn[@]}")"
echo "ratio to direct, nginx+headers: $(spread "${rh[@]}")"
echo "appdeck/nginx requests/s:       $(spread "${rx[@]}")"
echo "appdeck/nginx+headers:          $(spread "${ry[@]}")"
echo "CPU µs per request, appdeck:       $(spread "${ca[@]}")"
echo "CPU µs per request, nginx:         $(spread "${cn[@]}")"
echo "CPU µs per request, nginx+headers: $(spread "${ch[@]}")"
echo "the backend's CPU µs per request, served directly: $(spread "${bd[@]}")"
echo "  through appdeck:       $(spread "${ba[@]}")"
echo "  through nginx:         $(spread "${bn[@]}")"
echo "  through nginx+headers: $(spread "${bh[@]}")"
