#!/usr/bin/env bash
# The one command that installs, builds and runs every test (README "Test"):
#   1. the test suite (unit, storage conformance incl. PostgreSQL, fault injection, and
#      integration tests that run the real binaries on port 0);
#   2. the sanitizer runs: the whole suite under ASan+UBSan, the concurrency tests under
#      TSan (scripts/sanitize.sh);
#   3. the fuzz smoke: every libFuzzer target for FUZZ_SECONDS (60) (scripts/fuzz.sh);
#   4. the performance harness smoke (scripts/perf.sh --smoke): every scenario once, briefly;
#      it checks that the harness works, it is not the regression gate (docs/PERFORMANCE.md).
#
#   scripts/test.sh                       # everything (what CI runs)
#   REGISTRY_TEST_QUICK=1 scripts/test.sh # step 1 only, for local iteration
#   BUILD_DIR=build-asan REGISTRY_SANITIZE=address,undefined scripts/test.sh  # step 1 only
#
# Exits non-zero when any step or any test fails.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

BUILD_DIR=${BUILD_DIR:-build}
BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo}
JOBS=${JOBS:-$(nproc)}
started=$SECONDS

echo "==== test: suite ($BUILD_DIR, $BUILD_TYPE)"
cmake -S . -B "$BUILD_DIR" -G Ninja \
  -DCMAKE_BUILD_TYPE="$BUILD_TYPE" \
  -DREGISTRY_SANITIZE="${REGISTRY_SANITIZE:-}" \
  ${CMAKE_ARGS:-}
ninja -C "$BUILD_DIR" -j "$JOBS"
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$JOBS" ${CTEST_ARGS:-}

if [ -n "${REGISTRY_TEST_QUICK:-}" ] || [ -n "${REGISTRY_SANITIZE:-}" ]; then
  exit 0
fi

echo "==== test: sanitizers"
JOBS=$JOBS bash scripts/sanitize.sh

echo "==== test: fuzz smoke (${FUZZ_SECONDS:-60} s per target)"
JOBS=$JOBS FUZZ_PARALLEL=${FUZZ_PARALLEL:-$JOBS} bash scripts/fuzz.sh

echo "==== test: performance harness smoke"
bash scripts/perf.sh --smoke --out "$BUILD_DIR/perf-smoke"

echo "==== test: all steps passed in $((SECONDS - started)) s"
