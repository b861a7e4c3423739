#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ with clang-14 (ASan + UBSan + libFuzzer) and runs
# every target for FUZZ_SECONDS on a scratch copy of its committed seed corpus
# (fuzz/corpus/<target>/) plus its saved crash inputs (fuzz/regressions/<target>/).
# Prints, per target, the executions run and the result; exits non-zero when any target
# crashes, leaks, trips a sanitizer, times out, runs out of memory or does not run.
#
#   scripts/fuzz.sh                                  # every target, 60 s each
#   FUZZ_SECONDS=3600 FUZZ_TARGETS="json model" scripts/fuzz.sh
#   FUZZ_PARALLEL=2 scripts/fuzz.sh                  # two targets at a time
#   FUZZ_KEEP_CORPUS=1 scripts/fuzz.sh               # grow fuzz/corpus/ in place (then
#                                                    # minimise before committing, see
#                                                    # docs/HARDENING.md)
#
# Environment: BUILD_DIR (build-fuzz), JOBS (ninja jobs, 2), FUZZ_SECONDS (60),
# FUZZ_TARGETS (space-separated names without _fuzz; default all), FUZZ_PARALLEL (1),
# FUZZ_KEEP_CORPUS (0), FUZZ_OUT (where logs and crash artifacts go; $BUILD_DIR/fuzz-out),
# CC/CXX (clang-14/clang++-14).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

BUILD_DIR=${BUILD_DIR:-build-fuzz}
JOBS=${JOBS:-2}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
FUZZ_PARALLEL=${FUZZ_PARALLEL:-1}
FUZZ_KEEP_CORPUS=${FUZZ_KEEP_CORPUS:-0}
FUZZ_OUT=${FUZZ_OUT:-$BUILD_DIR/fuzz-out}
export CC=${CC:-clang-14}
export CXX=${CXX:-clang++-14}

cmake -S . -B "$BUILD_DIR" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DREGISTRY_FUZZ=ON \
  -DREGISTRY_SANITIZE=fuzzer-no-link,address,undefined \
  -DREGISTRY_BUILD_TESTS=OFF -DREGISTRY_BUILD_BENCH=OFF >/dev/null
ninja -C "$BUILD_DIR" -j "$JOBS" fuzz

if [ -z "${FUZZ_TARGETS:-}" ]; then
  FUZZ_TARGETS=$(cd "$BUILD_DIR/fuzz" && ls -- *_fuzz | sed 's/_fuzz$//' | sort | tr '\n' ' ')
fi

# A crash, a sanitizer report, a leak, a timeout or an out-of-memory stops libFuzzer with a
# non-zero exit and an artifact. UBSan reports count: halt on the first one.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

rm -rf "$FUZZ_OUT"
mkdir -p "$FUZZ_OUT"

run_target() {
  local name=$1
  local bin=$BUILD_DIR/fuzz/${name}_fuzz
  local out=$FUZZ_OUT/$name
  mkdir -p "$out/artifacts"
  if [ ! -x "$bin" ]; then
    echo "fuzz: $name: no binary $bin" >"$out/log"
    echo 1 >"$out/rc"
    return
  fi
  local corpus=$out/corpus
  if [ "$FUZZ_KEEP_CORPUS" = 1 ]; then
    corpus=$ROOT/fuzz/corpus/$name
    mkdir -p "$corpus"
  else
    mkdir -p "$corpus"
    if [ -d "fuzz/corpus/$name" ]; then cp -R "fuzz/corpus/$name/." "$corpus/"; fi
  fi
  local dirs=("$corpus")
  if [ -d "fuzz/regressions/$name" ]; then dirs+=("fuzz/regressions/$name"); fi
  local dict=()
  if [ -f "fuzz/dict/$name.dict" ]; then dict=(-dict="fuzz/dict/$name.dict"); fi
  local rc=0
  "$bin" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$out/artifacts/" "${dict[@]}" "${dirs[@]}" \
    >"$out/log" 2>&1 || rc=$?
  echo "$rc" >"$out/rc"
}

start=$(date +%s)
running=0
for name in $FUZZ_TARGETS; do
  run_target "$name" &
  running=$((running + 1))
  if [ "$running" -ge "$FUZZ_PARALLEL" ]; then
    wait -n || true
    running=$((running - 1))
  fi
done
wait || true

failed=0
printf '%-14s %14s %10s  %s\n' target executions exec/s result
for name in $FUZZ_TARGETS; do
  out=$FUZZ_OUT/$name
  rc=$(cat "$out/rc" 2>/dev/null || echo 1)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/log" | tail -n1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$out/log" | tail -n1)
  result=ok
  if [ "$rc" != 0 ] || [ -z "$execs" ]; then
    result="FAILED (exit $rc; log $out/log; artifacts $out/artifacts/)"
    failed=1
  fi
  printf '%-14s %14s %10s  %s\n' "$name" "${execs:-?}" "${rate:-?}" "$result"
done
for name in $FUZZ_TARGETS; do
  out=$FUZZ_OUT/$name
  if [ "$(cat "$out/rc" 2>/dev/null || echo 1)" != 0 ]; then
    echo "---- $name: last lines of $out/log"
    tail -n 60 "$out/log"
    ls -l "$out/artifacts/" 2>/dev/null || true
  fi
done
echo "fuzz: ${FUZZ_SECONDS}s per target, wall time $(($(date +%s) - start))s"
exit "$failed"
