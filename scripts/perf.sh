#!/usr/bin/env bash
# The performance harness (issue 6; docs/PERFORMANCE.md): builds Release, runs the
# micro-benchmarks, then per profile starts svc-registry pinned to one core (the load
# generators on the other) and measures reads against an nginx reference serving the same
# bytes, write cycles, the SSE stream, cold start, CPU/RSS at a fixed read rate and overload.
# Writes one JSON report and PNG plots.
#
#   scripts/perf.sh                       # full run, both profiles, 3 runs per read point (~10 min)
#   scripts/perf.sh --smoke               # CI: a short pass over every scenario (< ~2 min)
#   scripts/perf.sh --profile macronode --out /tmp/perf
#   scripts/perf.sh --baseline            # also write bench/baselines/<profile>.json
#   scripts/perf-compare.py bench/baselines/micronode.json <out>/report.json   # the gate
#
# Options: --smoke, --profile micronode|macronode|both (default both), --out DIR (default
# bench/results/<UTC timestamp>), --runs N (read sweep repetitions, default 3; smoke 1),
# --no-build, --baseline.
# Environment: BUILD_DIR (default build-perf), JOBS (default 2), SERVER_CPU (0), LOAD_CPU (1),
# PERF_CMAKE_ARGS (extra cmake arguments, e.g. a -D define for an experiment build),
# REGISTRYCTL (a registryctl binary to use for `init` instead of building one), SVC_BIN (an
# svc-registry binary to measure instead of $BUILD_DIR's, e.g. a deliberately slowed one).
# Needs: wrk, nginx (nginx-light), gnuplot (gnuplot-nox), taskset (util-linux), curl, python3.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

SMOKE=0
PROFILES="micronode macronode"
OUT=""
RUNS=""
BUILD=1
BASELINE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) SMOKE=1 ;;
    --profile)
      shift
      case "$1" in both) PROFILES="micronode macronode" ;; micronode | macronode) PROFILES=$1 ;;
        *) echo "perf: --profile micronode|macronode|both" >&2; exit 2 ;; esac ;;
    --out) shift; OUT=$1 ;;
    --runs) shift; RUNS=$1 ;;
    --no-build) BUILD=0 ;;
    --baseline) BASELINE=1 ;;
    -h | --help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "perf: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

BUILD_DIR=${BUILD_DIR:-build-perf}
JOBS=${JOBS:-2}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=${OUT:-bench/results/$STAMP}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

# Durations and sizes: full run, or the smoke (every scenario, a few seconds each).
if [ "$SMOKE" = 1 ]; then
  RUNS=${RUNS:-1}
  CONCS="1 64"
  WRK_SECONDS=1
  RATE_SECONDS=1
  COMMIT_RATES="5 50 0"
  COMMIT_SECONDS=1
  SUBSCRIBERS="100 1000"
  STREAM_COMMITS=3
  COLD_STARTS=1
  MICRO_ARGS=(--benchmark_min_time=0.02
    "--benchmark_filter=ApprovalVerify|HeadAdvance/backend:0|SseFanout/subscribers:1000|MerkleFrontier|Slope/(256|4096|65536)$")
else
  RUNS=${RUNS:-3}
  CONCS="1 16 64 256"
  WRK_SECONDS=3
  RATE_SECONDS=6
  COMMIT_RATES="5 50 100 0"
  COMMIT_SECONDS=6
  SUBSCRIBERS="1000 10000"
  STREAM_COMMITS=20
  COLD_STARTS=5
  MICRO_ARGS=(--benchmark_min_time=0.2)
fi

say() { printf 'perf: %s\n' "$*" >&2; }

for tool in wrk nginx gnuplot taskset curl python3; do
  command -v "$tool" >/dev/null || {
    say "missing $tool (apt-get install wrk nginx-light gnuplot-nox util-linux curl python3)"
    exit 1
  }
done

if [ "$BUILD" = 1 ]; then
  say "building Release in $BUILD_DIR"
  # -O2 as scripts/run.sh: GCC 12 reports false -Wrestrict errors at -O3 (GCC bug 105651).
  # shellcheck disable=SC2086
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" -DCMAKE_C_FLAGS_RELEASE="-O2 -DNDEBUG" \
    -DREGISTRY_BUILD_TESTS=OFF -DREGISTRY_BUILD_BENCH=ON ${PERF_CMAKE_ARGS:-} >&2
  targets=(svc-registry loadgen perf_micro_bench)
  [ -n "${REGISTRYCTL:-}" ] || targets+=(registryctl)
  ninja -C "$BUILD_DIR" -j "$JOBS" "${targets[@]}" >&2
fi
SVC=${SVC_BIN:-$ROOT/$BUILD_DIR/apps/svc-registry/svc-registry}
# registryctl only runs `init` here; REGISTRYCTL=/path/to/registryctl uses another build of it.
CTL=${REGISTRYCTL:-$ROOT/$BUILD_DIR/apps/registryctl/registryctl}
LOADGEN=$ROOT/$BUILD_DIR/bench/loadgen
MICRO=$ROOT/$BUILD_DIR/bench/perf_micro_bench
LUA=$ROOT/bench/perf/wrk_report.lua

TMP=$(mktemp -d /tmp/perf-XXXXXX)
SERVER_PID=""
NGINX_PID=""
stop_pid() {  # stop_pid PID: SIGTERM, wait up to 10 s for it to go (it may not be our child)
  local pid=$1
  [ -n "$pid" ] || return 0
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 1000); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.01; done
  kill -9 "$pid" 2>/dev/null || true
}
cleanup() {
  stop_pid "$SERVER_PID"
  stop_pid "$NGINX_PID"
  rm -rf "$TMP"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
on_server() { taskset -c "$SERVER_CPU" "$@"; }
on_load() { taskset -c "$LOAD_CPU" "$@"; }

# Both processes may hold 10,000+ sockets (the stream scenario).
ulimit -n "$(ulimit -Hn)"

RAW=$OUT/raw
mkdir -p "$RAW"
python3 - "$OUT/meta.json" "$SMOKE" "$RUNS" "$STAMP" <<'EOF'
import json, os, subprocess, sys
out, smoke, runs, stamp = sys.argv[1:5]
def sh(c):
    try: return subprocess.run(c, shell=True, capture_output=True, text=True).stdout.strip()
    except Exception: return ""
json.dump({"started_utc": stamp, "smoke": smoke == "1", "runs": int(runs),
           "git": sh("git rev-parse --short=12 HEAD"), "git_dirty": sh("git status --porcelain -uno") != "",
           "nproc": os.cpu_count(), "loadavg_at_start": open("/proc/loadavg").read().split()[:3],
           "cpu": sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"),
           "kernel": sh("uname -r"), "wrk": sh("wrk -v 2>&1 | head -1"),
           "nginx": sh("nginx -v 2>&1")}, open(out, "w"), indent=1)
EOF

say "micro-benchmarks (pinned to CPU $SERVER_CPU)"
on_server "$MICRO" --dir="$TMP" "${MICRO_ARGS[@]}" --benchmark_format=json >"$RAW/micro.json"

say "registry directory: 7 signers, quorum 3"
"$CTL" init --dir "$TMP/reg" --signers 7 --quorum 3 >/dev/null

# The nginx reference: one worker, pinned like the server, its own config and files.
NGX=$TMP/nginx
mkdir -p "$NGX/www" "$NGX/tmp"
chmod 755 "$TMP" "$NGX" "$NGX/www"
NGINX_PORT=$(free_port)
sed -e "s|@DIR@|$NGX|g" -e "s|@PORT@|$NGINX_PORT|g" bench/perf/nginx.conf.in >"$NGX/nginx.conf"
NGINX_URL=http://127.0.0.1:$NGINX_PORT
echo '{}' >"$NGX/www/head.json"
cp "$NGX/www/head.json" "$NGX/www/rec1k.json"
cp "$NGX/www/head.json" "$NGX/www/rec64k.json"
on_server nginx -p "$NGX" -c "$NGX/nginx.conf" -e "$NGX/error.log"
for _ in $(seq 500); do [ -s "$NGX/nginx.pid" ] && break; sleep 0.01; done
NGINX_PID=$(cat "$NGX/nginx.pid")
NGINX_WORKER=$(pgrep -P "$NGINX_PID" | head -1)
say "nginx master $NGINX_PID worker $NGINX_WORKER on $NGINX_URL"

wrk_point() {  # wrk_point URL CONC FILE: one wrk run, its WRK_JSON line into FILE
  on_load wrk -t1 -c"$2" -d"${WRK_SECONDS}s" --latency -s "$LUA" "$1" |
    sed -n 's/^WRK_JSON //p' >"$3"
  [ -s "$3" ] || { say "wrk gave no result for $1 -c$2"; exit 1; }
}

for profile in $PROFILES; do
  P=$RAW/$profile
  mkdir -p "$P"
  API_PORT=$(free_port)
  ADMIN_PORT=$(free_port)
  API=http://127.0.0.1:$API_PORT
  export SVCR_BIND_ADDR=127.0.0.1:$API_PORT SVCR_METRICS_ADDR=127.0.0.1:$ADMIN_PORT
  export SVCR_BOOTSTRAP__TRUST_ROOTS_PATH=$TMP/reg/trust_roots.json
  export SVCR_AUTH__ROOT_KEY_PATH=$TMP/reg/root.key
  # One I/O thread, as nginx has one worker; room for 10,000 stream subscribers; no
  # heartbeat bytes in the way of first-byte timing; warnings only in the log.
  export SVCR_THREADS=1 SVCR_MAX_CONNS=20000 SVCR_SSE__HEARTBEAT=1h SVCR_LOG__LEVEL=warn
  if [ "$profile" = micronode ]; then
    export SVCR_STORAGE__KIND=memory SVCR_STORAGE__FSYNC=false
  else
    export SVCR_STORAGE__KIND=sqlite SVCR_STORAGE__FSYNC=true
  fi

  say "$profile: cold start to /readyz, empty store, $COLD_STARTS times"
  for i in $(seq "$COLD_STARTS"); do
    export SVCR_STORAGE__DATA_DIR=$TMP/$profile-data-$i
    on_load "$LOADGEN" coldstart --url "$API" --out "$P/coldstart-$i.json" \
      --log "$P/server-$i.log" -- taskset -c "$SERVER_CPU" "$SVC"
    SERVER_PID=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pid"])' \
      "$P/coldstart-$i.json")
    if [ "$i" != "$COLD_STARTS" ]; then stop_pid "$SERVER_PID"; SERVER_PID=""; fi
  done
  idle_rss=$(awk '/VmRSS/ {print $2}' "/proc/$SERVER_PID/status")

  say "$profile: seeding a ~1 KiB and a ~64 KiB record"
  on_load "$LOADGEN" cycles --url "$API" --dir "$TMP/reg" --cycles 1 --record-bytes 1024 \
    --out "$P/seed-1k.json"
  on_load "$LOADGEN" cycles --url "$API" --dir "$TMP/reg" --cycles 1 --record-bytes 65536 \
    --out "$P/seed-64k.json"
  curl -sSf "$API/registry/1" -o "$NGX/www/rec1k.json"
  curl -sSf "$API/registry/2" -o "$NGX/www/rec64k.json"
  curl -sSf "$API/registry/head" -o "$NGX/www/head.json"
  for f in head rec1k rec64k; do
    cmp -s "$NGX/www/$f.json" <(curl -sSf "$NGINX_URL/registry/${f#rec}") ||
      { say "nginx does not serve the same bytes for $f"; exit 1; }
  done
  python3 - "$P/records.json" "$NGX/www" "$idle_rss" <<'EOF'
import json, os, sys
out, www, rss = sys.argv[1:4]
json.dump({"head_bytes": os.path.getsize(www + "/head.json"),
           "record_1k_bytes": os.path.getsize(www + "/rec1k.json"),
           "record_64k_bytes": os.path.getsize(www + "/rec64k.json"),
           "idle_rss_mib": int(rss) / 1024}, open(out, "w"))
EOF

  say "$profile: read sweeps, ours and nginx, concurrency $CONCS, $RUNS run(s)"
  for run in $(seq "$RUNS"); do
    for c in $CONCS; do
      wrk_point "$API/registry/head" "$c" "$P/wrk-head-ours-c$c-r$run.json"
      wrk_point "$NGINX_URL/registry/head" "$c" "$P/wrk-head-nginx-c$c-r$run.json"
      wrk_point "$API/registry/1" "$c" "$P/wrk-v1k-ours-c$c-r$run.json"
      wrk_point "$NGINX_URL/registry/1k" "$c" "$P/wrk-v1k-nginx-c$c-r$run.json"
      wrk_point "$API/registry/2" "$c" "$P/wrk-v64k-ours-c$c-r$run.json"
      wrk_point "$NGINX_URL/registry/64k" "$c" "$P/wrk-v64k-nginx-c$c-r$run.json"
    done
  done

  say "$profile: CPU and RSS at a steady 2,500 RPS of HEAD (loadgen rate, open loop)"
  on_load "$LOADGEN" rate --url "$API" --target /registry/head --rps 2500 --conns 16 \
    --duration "$RATE_SECONDS" --warmup 1 --pid "$SERVER_PID" --out "$P/steady-ours.json"
  on_load "$LOADGEN" rate --url "$NGINX_URL" --target /registry/head --rps 2500 --conns 16 \
    --duration "$RATE_SECONDS" --warmup 1 --pid "$NGINX_WORKER" --out "$P/steady-nginx.json"

  # Capacity: the best HEAD requests/s of the sweep at the highest concurrency measured.
  cap=$(python3 - "$P" <<'EOF'
import glob, json, sys
best = 0
for f in glob.glob(sys.argv[1] + "/wrk-head-ours-c*-r*.json"):
    best = max(best, json.load(open(f))["rps"])
print(int(best))
EOF
)
  # Before the write cycles, so that the server's memory with K subscribers is measured on
  # a small history (the memory store keeps every version), whatever the cycles commit.
  # As the read sweeps: $RUNS runs per point; the report takes the run of median p99.
  for k in $SUBSCRIBERS; do
    say "$profile: stream, $k subscribers, $STREAM_COMMITS commits, $RUNS run(s)"
    for run in $(seq "$RUNS"); do
      on_load "$LOADGEN" stream --url "$API" --dir "$TMP/reg" --subscribers "$k" \
        --commits "$STREAM_COMMITS" --pid "$SERVER_PID" --out "$P/stream-$k-r$run.json"
    done
  done

  # $RUNS runs per rate, interleaved; the report takes the run of median commit p99 (median
  # cycles/s flat out).
  say "$profile: write cycles (propose, 3 approvals, commit) at ${COMMIT_RATES// /, } cycles/s (0 = flat out), $RUNS run(s)"
  for run in $(seq "$RUNS"); do
    for r in $COMMIT_RATES; do
      on_load "$LOADGEN" cycles --url "$API" --dir "$TMP/reg" --rate "$r" \
        --duration "$COMMIT_SECONDS" --out "$P/cycles-$r-r$run.json"
    done
  done
  awk '/VmHWM/ {print $2}' "/proc/$SERVER_PID/status" >"$P/peak_rss_kib"
  stop_pid "$SERVER_PID"
  SERVER_PID=""

  # Overload. A single I/O thread answers each GET before it parses the next request, so
  # reads never reach the inflight cap (512): the shedding SPEC §7 promises comes from the
  # rate cap. And one core of load generator cannot offer 3 x what one core of server
  # answers. So the admitted capacity is set, not found: the server restarts with
  # limits.rps = a quarter of the measured HEAD capacity, and the loadgen offers 3 x that
  # over 256 connections. Everything past the cap must be a 429 (no error, no 5xx), and the
  # admitted requests keep their latency.
  adm=$((cap / 4))
  say "$profile: overload, limits.rps = $adm (1/4 of the measured $cap), offered 3 x $adm RPS"
  export SVCR_STORAGE__DATA_DIR=$TMP/$profile-data-overload SVCR_LIMITS__RPS=$adm
  on_load "$LOADGEN" coldstart --url "$API" --out "$P/coldstart-overload.json" \
    --log "$P/server-overload.log" -- taskset -c "$SERVER_CPU" "$SVC"
  SERVER_PID=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pid"])' \
    "$P/coldstart-overload.json")
  unset SVCR_LIMITS__RPS
  echo "{\"measured_capacity_rps\": $cap, \"limits_rps\": $adm}" >"$P/overload-setup.json"
  on_load "$LOADGEN" rate --url "$API" --target /registry/head --rps $((adm * 3)) --conns 256 \
    --duration "$RATE_SECONDS" --warmup 1 --pid "$SERVER_PID" --out "$P/overload.json"
  stop_pid "$SERVER_PID"
  SERVER_PID=""
done

say "report and plots"
python3 bench/perf/make_report.py "$OUT" >/dev/null
(cd "$OUT" && gnuplot plots.gp)
if [ "$BASELINE" = 1 ]; then
  mkdir -p bench/baselines
  for profile in $PROFILES; do
    python3 scripts/perf-compare.py --extract "$profile" "$OUT/report.json" \
      >"bench/baselines/$profile.json"
    say "wrote bench/baselines/$profile.json"
  done
fi
say "done: $OUT/report.json, $OUT/goals.md and $OUT/*.png"
echo "$OUT/report.json"
