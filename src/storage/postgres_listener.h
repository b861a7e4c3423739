// The PostgreSQL backend's change listener: one thread with its own connection that LISTENs
// on PostgresStore::kChannel and turns notifications into StoreChange reports.
//
// After every (re)connection it reports kResync with HEAD as read on the listening
// connection after LISTEN took effect, so nothing committed after that read goes unheard
// and nothing before it is unaccounted for. When the connection has been quiet for
// `resync_interval` it re-reads HEAD and reports kResync if HEAD moved without a
// notification. A lost connection is retried every `retry_interval` until Stop.
//
// Thread-safety: Start and the destructor are called by the owner; the callback runs on
// the listener thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "postgres_connection.h"
#include "registry/storage/postgres_store.h"
#include "registry/util/result.h"

namespace registry::storage::internal {

// "c:<version>" and "p:<proposal id>": the payloads the store NOTIFYs.
std::string CommitNotification(std::uint64_t version);
std::string ProposalNotification(std::string_view proposal_id);

class PgListener {
 public:
  PgListener(std::string conninfo, std::chrono::milliseconds resync_interval,
             std::chrono::milliseconds retry_interval, PostgresStore::ChangeCallback callback);
  ~PgListener();  // stops and joins the thread
  PgListener(const PgListener&) = delete;
  PgListener& operator=(const PgListener&) = delete;

  // Connects and LISTENs on the calling thread, then starts the thread (whose first report
  // is a kResync). kInternal when the first connection fails.
  util::Status Start();

 private:
  util::Status Connect();  // opens conn_, LISTEN
  // Reads HEAD on conn_ and reports kResync (always, or only when HEAD moved unheard).
  bool Resync(bool always);
  void Run();
  void Drain();  // reports every notification libpq has buffered
  // Waits up to `timeout` for Stop; true when stopping.
  bool WaitForStop(std::chrono::milliseconds timeout);

  const std::string conninfo_;
  const std::chrono::milliseconds resync_interval_;
  const std::chrono::milliseconds retry_interval_;
  const PostgresStore::ChangeCallback callback_;
  int wake_fd_ = -1;  // eventfd: written by the destructor
  std::unique_ptr<PgConnection> conn_;
  std::uint64_t last_head_ = 0;  // the highest version reported
  std::thread thread_;
};

}  // namespace registry::storage::internal
