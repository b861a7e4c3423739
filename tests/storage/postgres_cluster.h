// PostgresCluster: a throwaway PostgreSQL cluster for tests. Tests only.
//
// The first call to PostgresCluster::Get() runs Debian's initdb into a fresh temporary
// directory (or copies the pristine result of an earlier run, kept 0700 in
// /tmp/registry-pg-template-v1-<uid>-<bindir>: ctest runs each test in its own process), starts
// `postgres` on a free loopback port with its unix socket inside that directory, and waits for it
// to report ready (sd_notify READY=1 on a socket of ours, so no polling). Every later call returns
// the same cluster; it is stopped and its directory removed when the process exits. The postmaster
// gets PR_SET_PDEATHSIG, so a test process that crashes does not leave a server behind.
//
// PostgreSQL refuses to run as root, and CI runs as root: then initdb and postgres run as the
// unprivileged `postgres` user (created by Debian's postgresql package), or `nobody` when
// there is none, and the temporary directory (always under /tmp then, so that user can reach
// it) is handed to that user. The test process, as root, still reaches the socket. As any
// other user everything runs as that user.
//
// The server binaries come from $REGISTRY_TEST_PG_BINDIR, else the newest
// /usr/lib/postgresql/<major>/bin. When they are missing Get() returns an error naming the
// fix (scripts/setup.sh installs `postgresql`); tests MUST fail then, not skip.
//
// The cluster runs with fsync = off (durability is not observable by these tests, speed is),
// unless REGISTRY_TEST_PG_FSYNC=1 (benchmarks: WAL synced at every commit, as in production).
//
// Thread-safety: Get() and CreateDatabase() may be called from any thread, but the first
// Get() MUST happen on the main thread (the parent-death signal follows the thread that
// started the server).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <memory>
#include <string>

#include "registry/storage/store.h"
#include "registry/util/result.h"

namespace registry::storage::testing {

class PostgresCluster {
 public:
  // The process's cluster, started on first use. An error (binaries missing, initdb or start
  // failed, with the server's log) is returned again on every call.
  static util::Result<PostgresCluster*> Get();

  ~PostgresCluster();
  PostgresCluster(const PostgresCluster&) = delete;
  PostgresCluster& operator=(const PostgresCluster&) = delete;

  // Creates a fresh, empty database (t_1, t_2, ...) and returns its libpq connection string.
  util::Result<std::string> CreateDatabase();
  // The connection string of database `dbname` (as the cluster's superuser, over the socket).
  std::string ConnInfo(const std::string& dbname) const;
  // Over TCP on the loopback port instead of the socket.
  std::string TcpConnInfo(const std::string& dbname) const;

  int port() const { return port_; }
  const std::string& dir() const { return dir_; }

 private:
  PostgresCluster() = default;
  util::Status Start();
  void Stop();

  std::string dir_;     // temporary directory: data/, the socket, the log
  std::string bindir_;  // initdb, postgres
  int port_ = 0;
  pid_t postmaster_ = -1;
  std::atomic<int> next_db_{1};
};

// For the conformance suite: a PostgresStore on a fresh database of the shared cluster. When
// the cluster or the store cannot be had, records a fatal gtest failure that says why (the
// test body then does not run) and returns nullptr.
std::unique_ptr<Store> OpenPostgresForTest();

}  // namespace registry::storage::testing
