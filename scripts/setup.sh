#!/usr/bin/env bash
# Installs every Debian 12 package that svc-registry's build, tests and benchmarks need.
# Idempotent: packages already present are left as they are. Needs root (or sudo).
set -euo pipefail

packages=(
  # Toolchain.
  build-essential cmake ninja-build ccache pkg-config git clang-format clang-14
  libclang-rt-14-dev
  # Libraries (DEVELOPERS.md: the chosen dependencies).
  libboost1.81-dev libsodium-dev libsimdjson-dev libsqlite3-dev sqlite3 libspdlog-dev
  libtomlplusplus-dev libcli11-dev prometheus-cpp-dev libmacaroons-dev zlib1g-dev
  librust-blake3-dev
  # The postgres storage backend (libpq), and a throwaway PostgreSQL 15 server for its tests
  # (initdb/postgres under /usr/lib/postgresql/15/bin; the tests start their own cluster).
  libpq-dev postgresql
  # Tests and benchmarks.
  libgtest-dev libgmock-dev libbenchmark-dev curl python3 prometheus wrk
  # The performance harness (scripts/perf.sh): nginx as the in-run reference, plots,
  # CPU pinning, profiles.
  nginx-light gnuplot-nox util-linux linux-perf
  # Go interoperability test of the transparency log (issue 5): Go's own sumdb note/tlog
  # verifiers, used offline in GOPATH mode.
  golang-go golang-golang-x-mod-dev
)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages already installed"
  exit 0
fi

echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "setup: done"
