#!/usr/bin/env bash
# The sanitizer runs of issue 7 point 2 (docs/HARDENING.md):
#   (a) the whole test suite under AddressSanitizer + UndefinedBehaviorSanitizer in
#       build-asan (REGISTRY_SANITIZE=address,undefined);
#   (b) the concurrency tests under ThreadSanitizer in build-tsan (REGISTRY_SANITIZE=thread):
#       stream fan-out, single writer / concurrent commits, shutdown, the event bus and the
#       worker pool (through the in-process service), the audit-log flusher, SQLite group
#       commit, the HTTP server and its streams.
# Any sanitizer report fails the test that triggered it (halt_on_error for UBSan and TSan;
# ASan and LeakSanitizer fail by default); TSan reports are also collected from every
# process, svc-registry children included. Exits non-zero when any build or test fails or
# any TSan report was written. TSan suppressions, each with its reason: scripts/tsan.supp.
#
#   scripts/sanitize.sh              # both
#   scripts/sanitize.sh asan         # (a) only
#   scripts/sanitize.sh tsan         # (b) only
#
# Environment: JOBS (build and ctest parallelism, default 2), ASAN_BUILD_DIR (build-asan),
# TSAN_BUILD_DIR (build-tsan), ASAN_BUILD_TYPE (Debug), TSAN_BUILD_TYPE (RelWithDebInfo),
# TSAN_TESTS (the ctest -R regex of the TSan subset, default below).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

JOBS=${JOBS:-2}
ASAN_BUILD_DIR=${ASAN_BUILD_DIR:-build-asan}
TSAN_BUILD_DIR=${TSAN_BUILD_DIR:-build-tsan}
ASAN_BUILD_TYPE=${ASAN_BUILD_TYPE:-Debug}
TSAN_BUILD_TYPE=${TSAN_BUILD_TYPE:-RelWithDebInfo}

# The TSan subset: every test that runs threads against each other. Test names are
# <executable>.<Suite>.<Case> (gtest_discover_tests).
TSAN_TESTS=${TSAN_TESTS:-'^(core_test\.(AuditLogTest\.|RegistryConcurrencyTest\.|RegistryTest\.Concurrent)|storage_test\.(SqliteStoreTest\.(Concurrent|QueuedCalls|WithoutGroupCommit|AFailingCallInABatch)|Backends/StoreConformanceTest\.ReadersSeeWholeVersions)|fault_test\.|http_test\.(HttpServerTest|HttpStreamTest)\.|http_client_test\.HttpClientTest\.(Stream|Heartbeats)|integration_test\.(ShutdownTest|StreamTest|ConnectionTest|CrashTest|WriteRetryTest\.Concurrent|LimitsTest\.StreamSubscriberCap)|auth_test\.VerifierTest\.Concurrent|tlog_test\.LogSignerTest\.Concurrent|crypto_test\.Ed25519InitTest|bus_test\.|util_test\.ThreadPoolTest\.)'}
# The executables holding them (integration_test also needs the svc-registry binary).
TSAN_TARGETS=${TSAN_TARGETS:-core_test storage_test fault_test http_test http_client_test integration_test svc-registry auth_test tlog_test crypto_test bus_test util_test}

run_asan() {
  echo "==== sanitize: address,undefined, whole suite ($ASAN_BUILD_DIR)"
  cmake -S . -B "$ASAN_BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE="$ASAN_BUILD_TYPE" \
    -DREGISTRY_SANITIZE=address,undefined >/dev/null || return 1
  ninja -C "$ASAN_BUILD_DIR" -j "$JOBS" || return 1
  ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1} \
    UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1} \
    ctest --test-dir "$ASAN_BUILD_DIR" --output-on-failure -j "$JOBS"
}

run_tsan() {
  echo "==== sanitize: thread, concurrency tests ($TSAN_BUILD_DIR)"
  cmake -S . -B "$TSAN_BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE="$TSAN_BUILD_TYPE" \
    -DREGISTRY_SANITIZE=thread -DREGISTRY_BUILD_BENCH=OFF >/dev/null || return 1
  local targets=()
  for t in $TSAN_TARGETS; do
    # Only executables this tree defines (bus_test and the thread pool test may be absent).
    if ninja -C "$TSAN_BUILD_DIR" -t query "$t" >/dev/null 2>&1; then targets+=("$t"); fi
  done
  ninja -C "$TSAN_BUILD_DIR" -j "$JOBS" "${targets[@]}" || return 1
  # Reports go to files, one per process, so that a race in a svc-registry child of an
  # integration test is seen even when the test itself passes (or kills the child).
  local reports=$ROOT/$TSAN_BUILD_DIR/tsan-reports
  rm -rf "$reports"
  mkdir -p "$reports"
  # halt_on_error: the first race fails the process it happens in. Suppressions, each with
  # its reason, are in scripts/tsan.supp.
  local status=0
  TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:suppressions=$ROOT/scripts/tsan.supp:log_path=$reports/tsan} \
    ctest --test-dir "$TSAN_BUILD_DIR" --output-on-failure --no-tests=error -j "$JOBS" \
    -R "$TSAN_TESTS" || status=1
  if compgen -G "$reports/tsan*" >/dev/null; then
    echo "==== sanitize: ThreadSanitizer reports ($reports)"
    cat "$reports"/tsan*
    status=1
  fi
  return "$status"
}

start=$(date +%s)
status=0
case "${1:-all}" in
  asan) run_asan || status=1 ;;
  tsan) run_tsan || status=1 ;;
  all)
    run_asan || status=1
    run_tsan || status=1
    ;;
  *)
    echo "usage: $0 [asan|tsan|all]" >&2
    exit 2
    ;;
esac
echo "sanitize: wall time $(($(date +%s) - start))s, $([ $status = 0 ] && echo passed || echo FAILED)"
exit "$status"
