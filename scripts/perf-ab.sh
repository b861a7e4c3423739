#!/usr/bin/env bash
# A/B of two svc-registry binaries: the binaries alternate for ROUNDS rounds, each on a fresh
# data directory, pinned like scripts/perf.sh (server on SERVER_CPU, load on LOAD_CPU). Per
# round: cold start to /readyz, then
#   SCENARIO=cycles (default): the write path of the macronode profile (SQLite with fsync),
#     `loadgen cycles` at 100 cycles/s and flat out for DUR seconds each;
#   SCENARIO=stream: `loadgen stream` with SUBSCRIBERS subscribers over COMMITS commits, on
#     KIND (sqlite with fsync, or memory): commit -> first byte at every subscriber.
# One line per round and binary; the raw JSON stays in OUT.
#
#   scripts/perf-ab.sh BIN_A BIN_B [OUT]      # e.g. build-perf's binary against another build
#   SCENARIO=stream KIND=memory scripts/perf-ab.sh BIN_A BIN_B
#
# Environment: BUILD_DIR (build-perf: loadgen and registryctl come from it), ROUNDS (3),
# DUR (6), SUBSCRIBERS (1000), COMMITS (20), KIND (sqlite), SERVER_CPU (0), LOAD_CPU (1).
# Loopback only; stops by itself.
set -euo pipefail
[ $# -ge 2 ] || { sed -n '2,18p' "$0"; exit 2; }
A=$(realpath "$1")
B=$(realpath "$2")
OUT=${3:-$(mktemp -d /tmp/perf-ab-XXXXXX)}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-build-perf}
LOADGEN=$ROOT/$BUILD_DIR/bench/loadgen
CTL=$ROOT/$BUILD_DIR/apps/registryctl/registryctl
ROUNDS=${ROUNDS:-3}
DUR=${DUR:-6}
SCENARIO=${SCENARIO:-cycles}
SUBSCRIBERS=${SUBSCRIBERS:-1000}
COMMITS=${COMMITS:-20}
KIND=${KIND:-sqlite}
case $SCENARIO in cycles | stream) ;; *) echo "perf-ab: SCENARIO is cycles or stream" >&2; exit 2 ;; esac
case $KIND in sqlite | memory) ;; *) echo "perf-ab: KIND is sqlite or memory" >&2; exit 2 ;; esac
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
for bin in "$LOADGEN" "$CTL"; do
  [ -x "$bin" ] || { echo "perf-ab: $bin is missing (run scripts/perf.sh once to build it)" >&2; exit 2; }
done
mkdir -p "$OUT"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
"$CTL" init --dir "$OUT/reg" --signers 7 --quorum 3 >/dev/null
API_PORT=$(free_port)
export SVCR_BIND_ADDR=127.0.0.1:$API_PORT SVCR_METRICS_ADDR=127.0.0.1:$(free_port)
export SVCR_BOOTSTRAP__TRUST_ROOTS_PATH=$OUT/reg/trust_roots.json SVCR_AUTH__ROOT_KEY_PATH=$OUT/reg/root.key
export SVCR_THREADS=1 SVCR_LOG__LEVEL=warn
if [ "$SCENARIO" = stream ]; then
  export SVCR_STORAGE__KIND=$KIND SVCR_MAX_CONNS=20000 SVCR_SSE__HEARTBEAT=1h
  export SVCR_STORAGE__FSYNC=false
  if [ "$KIND" = sqlite ]; then export SVCR_STORAGE__FSYNC=true; fi
else
  export SVCR_STORAGE__KIND=sqlite SVCR_STORAGE__FSYNC=true
fi
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; true' EXIT
for r in $(seq "$ROUNDS"); do
  for name in A B; do
    bin=$A
    [ "$name" = B ] && bin=$B
    export SVCR_STORAGE__DATA_DIR=$OUT/data-$name-$r
    taskset -c "$LOAD_CPU" "$LOADGEN" coldstart --url "http://127.0.0.1:$API_PORT" \
      --out "$OUT/cold-$name-$r.json" --log "$OUT/server-$name-$r.log" -- taskset -c "$SERVER_CPU" "$bin" >/dev/null
    pid=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pid"])' "$OUT/cold-$name-$r.json")
    if [ "$SCENARIO" = stream ]; then
      taskset -c "$LOAD_CPU" "$LOADGEN" stream --url "http://127.0.0.1:$API_PORT" --dir "$OUT/reg" \
        --subscribers "$SUBSCRIBERS" --commits "$COMMITS" --pid "$pid" \
        --out "$OUT/stream-$name-$r.json" >/dev/null
    else
      for rate in 100 0; do
        taskset -c "$LOAD_CPU" "$LOADGEN" cycles --url "http://127.0.0.1:$API_PORT" --dir "$OUT/reg" \
          --rate "$rate" --duration "$DUR" --out "$OUT/cycles-$name-$rate-$r.json" >/dev/null
      done
    fi
    kill "$pid"
    while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
    pid=""
    python3 - "$OUT" "$name" "$r" "$SCENARIO" <<'PY'
import json, sys
out, name, r, scenario = sys.argv[1:]
cold = json.load(open(f"{out}/cold-{name}-{r}.json"))["ready_ms"]
if scenario == "stream":
    st = json.load(open(f"{out}/stream-{name}-{r}.json"))
    fb, a = st["first_byte"], st["first_byte_after_201"]
    print(f"{name} round {r}: cold start {cold:.1f} ms | {st['subscribers']} subscribers, "
          f"{st['commits']} commits: first byte p50 {fb['p50_ms']:.2f} p99 {fb['p99_ms']:.2f} "
          f"max {fb['max_ms']:.2f} ms | after the 201: p50 {a['p50_ms']:.2f} ms | "
          f"missed {st['missed']}")
    sys.exit(0)
at = json.load(open(f"{out}/cycles-{name}-100-{r}.json"))
flat = json.load(open(f"{out}/cycles-{name}-0-{r}.json"))
print(f"{name} round {r}: cold start {cold:.1f} ms | 100/s: commit p50 {at['commit']['p50_ms']:.2f} "
      f"p99 {at['commit']['p99_ms']:.2f} ms, cycle p99 {at['cycle']['p99_ms']:.2f} ms | "
      f"flat out {flat['cycles_per_s']:.0f} cycles/s, commit p99 {flat['commit']['p99_ms']:.2f} ms")
PY
  done
done
echo "perf-ab: raw results in $OUT"
