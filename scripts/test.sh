#!/usr/bin/env bash
# The one command that installs, builds and runs every test (README "Test").
#
#   scripts/test.sh            # install packages, configure, build, run ctest
#   BUILD_DIR=build-asan REGISTRY_SANITIZE=address,undefined scripts/test.sh
#
# Exits non-zero when any step or any test fails. Ends with ctest's summary.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

BUILD_DIR=${BUILD_DIR:-build}
BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo}
JOBS=${JOBS:-$(nproc)}

cmake -S . -B "$BUILD_DIR" -G Ninja \
  -DCMAKE_BUILD_TYPE="$BUILD_TYPE" \
  -DREGISTRY_SANITIZE="${REGISTRY_SANITIZE:-}" \
  ${CMAKE_ARGS:-}
ninja -C "$BUILD_DIR" -j "$JOBS"
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$JOBS" ${CTEST_ARGS:-}
