// The request handlers of both planes (SPEC §2): typed request → typed response over the
// governance core, with no socket in sight (the HTTP server calls Handle).
//
// ApiService serves the API plane: the read plane from precomputed bytes (HEAD is rebuilt
// once per commit; records come from an LRU, gzip variants included), the write plane on a
// worker pool (parsing, canonicalization and signature checks never run on I/O threads),
// and the stream through the EventBus. AdminService serves /metrics, /healthz, /readyz,
// /version and freeze/thaw.
//
// Both are thread-safe. They do not own what Deps points to; it MUST outlive them.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "registry/api/router.h"
#include "registry/auth/verifier.h"
#include "registry/bus/event_bus.h"
#include "registry/core/audit_log.h"
#include "registry/core/merkle_log.h"
#include "registry/core/registry.h"
#include "registry/http/message.h"
#include "registry/metrics/metrics.h"
#include "registry/storage/store.h"
#include "registry/tlog/log_signer.h"
#include "registry/util/clock.h"
#include "registry/util/thread_pool.h"

namespace registry::api {

struct BuildInfo {
  std::string version;
  std::string commit;
};

// Write-plane state shared by both planes: frozen by an operator, or unready because of a
// fault (storage). Thread-safe.
class WriteGate {
 public:
  void SetFrozen(bool frozen) { frozen_.store(frozen, std::memory_order_release); }
  bool frozen() const { return frozen_.load(std::memory_order_acquire); }
  void SetStorageFault(bool fault) { storage_fault_.store(fault, std::memory_order_release); }
  bool storage_fault() const { return storage_fault_.load(std::memory_order_acquire); }

 private:
  std::atomic<bool> frozen_{false};
  std::atomic<bool> storage_fault_{false};
};

struct Deps {
  core::Registry* registry = nullptr;
  storage::Store* store = nullptr;
  metrics::Metrics* metrics = nullptr;
  bus::EventBus* bus = nullptr;
  const auth::TokenVerifier* verifier = nullptr;  // null: auth.mode = none
  const util::Clock* clock = nullptr;
  util::ThreadPool* workers = nullptr;
  WriteGate* gate = nullptr;
  core::AuditLog* audit = nullptr;  // null: no audit trail (tests)
  // The Merkle log the proof routes read (SPEC §5); it loads what it lacks from `store`.
  // null: the proof routes answer 404.
  core::MerkleLog* merkle_log = nullptr;
  // The checkpoint signer (tlog.signing_key_path); null: GET /registry/checkpoint answers
  // 404 NotFound.
  const tlog::LogSigner* log_signer = nullptr;
};

struct ApiOptions {
  BuildInfo build;
  std::size_t record_cache_entries = 1024;
  std::size_t sse_queue_len = 256;
  std::chrono::milliseconds sse_heartbeat{15000};
  std::size_t max_list_limit = 100;
  std::uint32_t retry_after_seconds = 1;
};

// One line per finished request (SPEC §8 logs). Thread-safe; MUST be cheap.
class AccessLog {
 public:
  virtual ~AccessLog() = default;
  virtual void Log(std::string_view corr_id, metrics::Route route, std::string_view method,
                   int status, double latency_ms, std::string_view remote) = 0;
  // An operator action worth an audit line (freeze, thaw).
  virtual void Audit(std::string_view action, std::string_view corr_id) = 0;
};

class ApiService final : public http::Handler, public core::CommitListener {
 public:
  ApiService(Deps deps, ApiOptions options, AccessLog* access_log);
  ~ApiService() override;

  void Handle(http::Request request, http::Responder respond) override;

  // Rebuilds the HEAD response; the bus calls come from the registry. MUST NOT block.
  void OnCommit(const core::CommitEvent& event) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class AdminService final : public http::Handler {
 public:
  AdminService(Deps deps, ApiOptions options, AccessLog* access_log);
  void Handle(http::Request request, http::Responder respond) override;

 private:
  http::Response FreezeOrThaw(const http::Request& request, const RouteMatch& match,
                              const std::string& corr_id);
  // GET /admin/audit?after=&limit=: {"entries":[...],"next":<seq or null>}.
  http::Response AuditPage(const http::Request& request, const std::string& corr_id);
  void Finish(const http::Request& request, const http::Responder& respond, const RouteMatch& match,
              const std::string& corr_id, http::Response r);

  Deps deps_;
  ApiOptions options_;
  AccessLog* access_log_;
};

}  // namespace registry::api
