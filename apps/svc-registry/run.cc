#include "run.h"

#include <malloc.h>
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <fstream>
#include <functional>
#include <iterator>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "logging.h"
#include "registry/api/corr_id.h"
#include "registry/api/responses.h"
#include "registry/api/service.h"
#include "registry/api/storage_probe.h"
#include "registry/auth/root_key.h"
#include "registry/auth/verifier.h"
#include "registry/bus/event_bus.h"
#include "registry/core/audit_log.h"
#include "registry/core/merkle_log.h"
#include "registry/core/registry.h"
#include "registry/crypto/ed25519.h"
#include "registry/http/server.h"
#include "registry/metrics/metrics.h"
#include "registry/model/governance.h"
#include "registry/storage/memory_store.h"
#include "registry/storage/postgres_store.h"
#include "registry/storage/sqlite_store.h"
#include "registry/tlog/log_signer.h"
#include "registry/util/thread_pool.h"

#ifndef REGISTRY_VERSION
#define REGISTRY_VERSION "0.0.0"
#endif
#ifndef REGISTRY_GIT_COMMIT
#define REGISTRY_GIT_COMMIT "unknown"
#endif

namespace registry::app {

namespace {

// Counts what the HTTP server decides on its own.
class ServerMetrics final : public http::ServerObserver {
 public:
  explicit ServerMetrics(metrics::Metrics* m) : m_(m) {}
  void OnRejected(std::string_view reason, int /*status*/) override {
    using metrics::RejectReason;
    RejectReason r = RejectReason::kBadRequest;
    if (reason == "max_conns") r = RejectReason::kMaxConns;
    if (reason == "inflight") r = RejectReason::kInflight;
    if (reason == "rps") r = RejectReason::kRps;
    if (reason == "body_too_large") r = RejectReason::kBodyTooLarge;
    if (reason == "header_too_large") r = RejectReason::kHeaderTooLarge;
    if (reason == "read_timeout") r = RejectReason::kReadTimeout;
    if (reason == "content_encoding") r = RejectReason::kContentEncoding;
    m_->CountRejected(r);
  }
  void OnInflightChanged(std::int64_t delta) override { m_->AddInflightRequests(delta); }
  void OnConnectionsChanged(std::int64_t delta) override {
    m_->AddHttpConnections(delta);
    const std::int64_t now = connections_.fetch_add(delta, std::memory_order_relaxed) + delta;
    std::int64_t peak = peak_.load(std::memory_order_relaxed);
    while (now > peak && !peak_.compare_exchange_weak(peak, now, std::memory_order_relaxed)) {
    }
  }

  std::int64_t connections() const { return connections_.load(std::memory_order_relaxed); }
  // The highest connection count since the last call (a crowd may come and go between two
  // housekeeping ticks); restarts from the current count.
  std::int64_t TakePeak() {
    return peak_.exchange(connections_.load(std::memory_order_relaxed), std::memory_order_relaxed);
  }

 private:
  metrics::Metrics* m_;
  std::atomic<std::int64_t> connections_{0};
  std::atomic<std::int64_t> peak_{0};
};

// Returns the heap that a crowd of connections left behind. glibc keeps freed memory for
// reuse and only gives it back to the system from the top of the heap; after thousands of
// stream subscribers leave at once (about 14 KiB each), RSS would otherwise stay at its
// peak. Called from housekeeping when the connection count fell to half of its recent peak
// (at least 512 connections ago), so it costs nothing in steady state.
class HeapTrimmer {
 public:
  // `peak`: the highest count since the previous call; `connections`: the count now.
  void Observe(std::int64_t peak, std::int64_t connections) {
    peak_ = std::max(peak_, peak);
    if (peak_ >= 512 && connections <= peak_ / 2) {
      ::malloc_trim(0);
      peak_ = connections;
    }
  }

 private:
  std::int64_t peak_ = 0;
};

util::Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return util::Error(util::ErrorCode::kNotFound, "cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Waits for SIGINT or SIGTERM, which every thread blocks (see Run).
int WaitForStopSignal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  int sig = 0;
  sigwait(&set, &sig);
  return sig;
}

}  // namespace

int Run(const config::Config& config) {
  Logger log(config.log.format, config.log.level);
  crypto::Init();

  // Block the stop signals before any thread starts, so that only sigwait sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  // Trust roots: the governance of the virtual genesis.
  const std::string roots_path = config::EffectiveTrustRootsPath(config);
  util::Result<std::string> roots_bytes = ReadFile(roots_path);
  if (!roots_bytes.ok()) {
    log.Error("startup_failed", {{"reason", "trust roots file missing: " + roots_path +
                                                " (set bootstrap.trust_roots_path; "
                                                "scripts/run.sh makes a local one)"}});
    return 1;
  }
  std::optional<std::string_view> pin;
  if (!config.bootstrap.trust_roots_hash.empty()) pin = config.bootstrap.trust_roots_hash;
  util::Result<model::Governance> roots = model::LoadTrustRoots(*roots_bytes, pin);
  if (!roots.ok()) {
    log.Error("startup_failed", {{"reason", roots.error().message()}, {"path", roots_path}});
    return 1;
  }

  // Capability tokens.
  std::unique_ptr<auth::TokenVerifier> verifier;
  if (config.auth.mode == config::AuthMode::kMacaroon) {
    util::Result<auth::RootKey> key = auth::LoadRootKeyFile(config::EffectiveRootKeyPath(config));
    if (!key.ok()) {
      log.Error("startup_failed", {{"reason", key.error().message()}});
      return 1;
    }
    verifier = std::make_unique<auth::TokenVerifier>(std::move(key).value());
  } else {
    log.Warn("auth_disabled", {{"message",
                                "auth.mode = none: ANY client may propose, approve, commit and "
                                "freeze. For local experiments only."}});
  }

  // Transparency log (SPEC §5): the checkpoint signer, when a log key is configured.
  std::unique_ptr<tlog::LogSigner> log_signer;
  if (config.tlog.signing_key_path.empty()) {
    log.Info("tlog_disabled", {{"message",
                                "no log signing key is configured (tlog.signing_key_path): "
                                "GET /registry/checkpoint answers 404; proofs are served"}});
  } else {
    util::Result<std::unique_ptr<tlog::LogSigner>> loaded =
        tlog::LogSigner::Load(config.tlog.signing_key_path, config.tlog.origin);
    if (!loaded.ok()) {
      log.Error("startup_failed", {{"reason", loaded.error().message()}});
      return 1;
    }
    log_signer = std::move(loaded).value();
    log.Info("tlog_enabled", {{"origin", log_signer->origin()},
                              {"verifier_key", log_signer->verifier().ToString()}});
  }

  // Storage.
  std::unique_ptr<storage::Store> store;
  switch (config.storage.kind) {
    case config::StorageKind::kMemory:
      store = std::make_unique<storage::MemoryStore>();
      break;
    case config::StorageKind::kSqlite: {
      storage::SqliteStore::Options options;
      options.data_dir = config.storage.data_dir;
      options.fsync = config.storage.fsync;
      options.group_commit = config.storage.group_commit;
      util::Result<std::unique_ptr<storage::SqliteStore>> opened_store =
          storage::SqliteStore::Open(options);
      if (!opened_store.ok()) {
        log.Error("startup_failed", {{"reason", opened_store.error().message()}});
        return 1;
      }
      store = std::move(opened_store).value();
      break;
    }
    case config::StorageKind::kPostgres: {
      // The connection string is a secret: only the store's error (which never repeats it)
      // is logged.
      storage::PostgresStore::Options options;
      options.conninfo = config.storage.postgres_url;
      util::Result<std::unique_ptr<storage::PostgresStore>> opened_store =
          storage::PostgresStore::Open(std::move(options));
      if (!opened_store.ok()) {
        log.Error("startup_failed", {{"reason", opened_store.error().message()}});
        return 1;
      }
      store = std::move(opened_store).value();
      break;
    }
  }

  util::SystemClock clock;
  core::RegistryOptions registry_options;
  registry_options.max_pending = static_cast<std::size_t>(config.governance.max_pending);
  registry_options.proposal_ttl = config.governance.proposal_ttl;
  registry_options.max_clock_skew = config.governance.max_clock_skew;
  registry_options.auto_commit = config.governance.auto_commit;
  registry_options.payload_limits.max_items = static_cast<std::size_t>(config.limits.max_items);
  // Several instances may share a PostgreSQL database (docs/SCALING.md).
  registry_options.shared_store = config.storage.kind == config::StorageKind::kPostgres;
  util::Result<std::unique_ptr<core::Registry>> opened =
      core::Registry::Open(store.get(), &clock, std::move(roots).value(), registry_options);
  if (!opened.ok()) {
    log.Error("startup_failed", {{"reason", opened.error().message()}});
    return 1;
  }
  std::unique_ptr<core::Registry> registry = std::move(opened).value();

  metrics::Metrics metrics;
  metrics.SetHeadVersion(registry->Head()->head.version);
  metrics.SetPendingProposals(registry->pending_count());
  metrics.SetStorageBytes(store->SizeBytes());
  switch (registry->recovery_kind()) {
    case core::Registry::RecoveryKind::kClean:
      metrics.CountRecovery(metrics::RecoveryKind::kClean);
      break;
    case core::Registry::RecoveryKind::kCheckpoint:
      metrics.CountRecovery(metrics::RecoveryKind::kCheckpoint);
      break;
    case core::Registry::RecoveryKind::kReplay:
      metrics.CountRecovery(registry->Head()->head.version == 0 ? metrics::RecoveryKind::kClean
                                                                : metrics::RecoveryKind::kCrash);
      break;
  }
  if (std::optional<std::string> failure = registry->verification_failure()) {
    metrics.CountAuditFailure();
    log.Error("verification_failed",
              {{"reason", *failure},
               {"head", registry->Head()->head.version},
               {"message", "the write plane stays down; reads serve the last verified HEAD"}});
  }

  util::Result<std::unique_ptr<core::AuditLog>> audit = core::AuditLog::Open(store.get(), &clock);
  if (!audit.ok()) {
    metrics.CountAuditFailure();
    log.Error("startup_failed", {{"reason", "audit trail: " + audit.error().message()}});
    return 1;
  }

  const int threads = config::EffectiveThreads(config);
  bus::EventBus::Options bus_options;
  bus_options.max_subscribers = static_cast<std::size_t>(config.sse.max_clients);
  bus_options.fanout_threads = static_cast<std::size_t>(threads);  // one per I/O thread
  bus_options.on_pass = [&metrics](double seconds) { metrics.ObserveSseFanout(seconds); };
  bus::EventBus bus(
      bus_options, [&registry] { return registry->Head()->head; }, [] {});
  bus.Seed(registry->RecentEvents(bus_options.window));

  util::ThreadPool workers(static_cast<std::size_t>(threads));
  api::WriteGate gate;
  RequestLog request_log(&log);
  api::Deps deps;
  deps.registry = registry.get();
  deps.store = store.get();
  deps.metrics = &metrics;
  deps.bus = &bus;
  deps.verifier = verifier.get();
  deps.clock = &clock;
  deps.workers = &workers;
  deps.gate = &gate;
  deps.audit = audit->get();
  core::MerkleLog merkle_log;  // loads lazily from the store; warmed by housekeeping
  deps.merkle_log = &merkle_log;
  deps.log_signer = log_signer.get();
  api::ApiOptions api_options;
  api_options.build = api::BuildInfo{REGISTRY_VERSION, REGISTRY_GIT_COMMIT};
  api_options.record_cache_entries = static_cast<std::size_t>(config.cache.record_entries);
  api_options.sse_queue_len = static_cast<std::size_t>(config.sse.queue_len);
  api_options.sse_heartbeat = config.sse.heartbeat;
  api::ApiService api_service(deps, api_options, &request_log);
  api::AdminService admin_service(deps, api_options, &request_log);
  registry->SetCommitListener(&api_service);

  // A shared store (PostgreSQL): learn of what other instances commit and propose. The
  // store's listener thread only posts here (coalescing); one thread applies it. The queue
  // is shared with the callback, which the store may call until it is destroyed.
  struct StoreChanges {
    std::mutex mu;
    std::condition_variable cv;
    std::uint64_t commit = 0;  // highest version heard of
    bool resync = false;
    std::set<std::string> proposals;
    bool stop = false;
  };
  auto changes = std::make_shared<StoreChanges>();
  std::thread change_worker;
  auto stop_change_worker = [&] {
    if (!change_worker.joinable()) return;
    {
      std::lock_guard lock(changes->mu);
      changes->stop = true;
    }
    changes->cv.notify_one();
    change_worker.join();
  };
  struct StopOnExit {
    std::function<void()> stop;
    ~StopOnExit() { stop(); }
  } change_worker_guard{stop_change_worker};
  if (registry_options.shared_store) {
    change_worker = std::thread([&registry, &metrics, &log, changes] {
      std::string last_error;
      std::unique_lock lock(changes->mu);
      for (;;) {
        changes->cv.wait(lock, [&] {
          return changes->stop || changes->resync || changes->commit > 0 ||
                 !changes->proposals.empty();
        });
        if (changes->stop) return;
        const std::uint64_t commit = std::exchange(changes->commit, 0);
        const bool resync = std::exchange(changes->resync, false);
        std::set<std::string> proposals = std::exchange(changes->proposals, {});
        lock.unlock();
        if (resync || commit > registry->Head()->head.version) {
          util::Status s = registry->CatchUp();
          std::string why = s.ok() ? std::string() : s.error().message();
          if (!why.empty() && why != last_error) {  // a lasting fault logs once
            if (registry->verification_failure().has_value()) metrics.CountAuditFailure();
            log.Error("catch_up_failed", {{"reason", why}});
          }
          last_error = std::move(why);
        }
        if (resync) (void)registry->RefreshPending();
        for (auto it = proposals.begin(); it != proposals.end(); ++it) {
          (void)registry->RefreshProposal(*it);
          // A commit heard meanwhile goes first (stream subscribers wait on it); the rest
          // of the ids are put back.
          std::lock_guard requeue(changes->mu);
          if (changes->resync || changes->commit > registry->Head()->head.version) {
            changes->proposals.insert(std::next(it), proposals.end());
            break;
          }
        }
        metrics.SetHeadVersion(registry->Head()->head.version);
        metrics.SetPendingProposals(registry->pending_count());
        lock.lock();
      }
    });
    util::Status subscribed = store->SubscribeChanges([changes](const storage::StoreChange& c) {
      std::lock_guard lock(changes->mu);
      switch (c.kind) {
        case storage::StoreChange::Kind::kCommit:
          changes->commit = std::max(changes->commit, c.version);
          break;
        case storage::StoreChange::Kind::kResync:
          changes->resync = true;
          break;
        case storage::StoreChange::Kind::kProposal:
          changes->proposals.insert(c.proposal_id);
          break;
      }
      changes->cv.notify_one();
    });
    if (!subscribed.ok()) {
      log.Error("startup_failed", {{"reason", subscribed.error().message()}});
      return 1;
    }
  }

  util::Result<config::HostPort> api_addr = config::ParseHostPort(config.bind_addr);
  util::Result<config::HostPort> admin_addr = config::ParseHostPort(config.metrics_addr);
  ServerMetrics server_metrics(&metrics);
  http::HttpServer::Options server_options;
  server_options.threads = static_cast<std::size_t>(threads);
  server_options.limits.max_conns = static_cast<std::size_t>(config.max_conns);
  server_options.limits.inflight = static_cast<std::size_t>(config.limits.inflight);
  server_options.limits.rps = static_cast<std::uint32_t>(config.limits.rps);
  server_options.limits.max_header_bytes = static_cast<std::size_t>(config.limits.max_header_bytes);
  server_options.limits.max_body_bytes = static_cast<std::size_t>(config.limits.max_body_bytes);
  server_options.limits.read_timeout = config.read_timeout;
  server_options.limits.write_timeout = config.write_timeout;
  server_options.limits.idle_timeout = config.idle_timeout;
  server_options.limits.drain_deadline = config.drain_deadline;
  server_options.api = http::ListenerConfig{api_addr->host, api_addr->port, &api_service, true};
  server_options.admin =
      http::ListenerConfig{admin_addr->host, admin_addr->port, &admin_service, false};
  server_options.observer = &server_metrics;
  server_options.error_body = [&clock, &registry](int status, std::string_view code,
                                                  std::string_view message,
                                                  const http::Request* request) {
    std::string corr;
    if (request != nullptr) {
      const std::string* c = request->FindHeader("x-corr-id");
      if (c != nullptr && api::IsAcceptableCorrId(*c)) corr = *c;
    }
    if (corr.empty()) corr = api::NewUlid(clock.NowMillis());
    http::Response r = api::ErrorResponse(status, code, message, corr);
    r.headers.emplace_back("X-Registry-Version", std::to_string(registry->Head()->head.version));
    r.headers.emplace_back("X-Corr-ID", corr);
    return r;
  };
  util::Result<std::unique_ptr<http::HttpServer>> server =
      http::HttpServer::Create(std::move(server_options));
  if (!server.ok()) {
    log.Error("startup_failed", {{"reason", server.error().message()}});
    return 1;
  }
  if (util::Status started = (*server)->Start(); !started.ok()) {
    log.Error("startup_failed", {{"reason", started.error().message()}});
    return 1;
  }
  log.Info("listening",
           {{"api", api_addr->host + ":" + std::to_string((*server)->api_port())},
            {"admin", admin_addr->host + ":" + std::to_string((*server)->admin_port())},
            {"api_port", static_cast<int>((*server)->api_port())},
            {"admin_port", static_cast<int>((*server)->admin_port())},
            {"storage", config::Name(config.storage.kind)},
            {"head", registry->Head()->head.version}});

  core::RetentionPolicy retention;
  switch (config.retention.policy) {
    case config::RetentionPolicy::kNone:
      retention.kind = core::RetentionPolicy::Kind::kNone;
      break;
    case config::RetentionPolicy::kByCount:
      retention.kind = core::RetentionPolicy::Kind::kByCount;
      break;
    case config::RetentionPolicy::kByAge:
      retention.kind = core::RetentionPolicy::Kind::kByAge;
      break;
  }
  retention.keep_min = static_cast<std::uint64_t>(config.retention.keep_min);
  retention.keep_versions = static_cast<std::uint64_t>(config.retention.keep_versions);
  retention.max_age = config.retention.max_age;

  // Housekeeping once a second: expire proposals past their TTL, write the storage
  // checkpoint when due (then apply retention), probe a faulty store until it recovers.
  std::mutex housekeeping_mu;
  std::condition_variable housekeeping_cv;
  bool stopping = false;
  auto checkpoint_due = std::chrono::steady_clock::now() + config.storage.checkpoint_interval;
  auto last_checkpoint = std::chrono::steady_clock::now();
  std::string tlog_load_error;  // the last one logged, so a lasting fault logs once
  HeapTrimmer heap_trimmer;
  std::thread housekeeping([&] {
    std::unique_lock lock(housekeeping_mu);
    while (!housekeeping_cv.wait_for(lock, std::chrono::seconds(1), [&] { return stopping; })) {
      if (registry->ExpireDue() > 0) metrics.SetPendingProposals(registry->pending_count());
      auto now = std::chrono::steady_clock::now();
      if (gate.storage_fault()) {
        std::string why;
        switch (api::ProbeStorage(*registry, audit->get(), gate, &why)) {
          case api::ProbeResult::kRecovered:
            last_checkpoint = now;
            log.Info("storage_recovered");
            break;
          case api::ProbeResult::kStillFaulty:
            log.Warn("storage_fault", {{"reason", why}});
            break;
          case api::ProbeResult::kHealthy:
            break;
        }
      } else if (now >= checkpoint_due) {
        util::Result<bool> wrote = registry->WriteCheckpoint();
        if (wrote.ok()) {
          if (*wrote) last_checkpoint = now;
          // Retention follows checkpoints: only versions a checkpoint covers are pruned.
          const std::uint64_t before = registry->pruned_through();
          util::Result<std::uint64_t> pruned = registry->ApplyRetention(retention);
          if (!pruned.ok()) {
            gate.SetStorageFault(true);
            log.Error("storage_fault", {{"reason", pruned.error().message()}});
          } else if (*pruned > before) {
            core::AuditEvent event;
            event.action = "prune";
            event.accepted = true;
            if (util::Result<std::optional<storage::CommitMeta>> meta =
                    store->ReadCommitMeta(*pruned);
                meta.ok() && meta->has_value()) {
              event.payload_b3 = (*meta)->payload_b3;
            }
            (void)(*audit)->Record(event);  // a failure is the audit log's to report
            log.Info("retention_pruned", {{"policy", config::Name(config.retention.policy)},
                                          {"through", *pruned},
                                          {"head", registry->Head()->head.version}});
          }
        } else {
          gate.SetStorageFault(true);
          log.Error("storage_fault", {{"reason", wrote.error().message()}});
        }
        checkpoint_due = now + config.storage.checkpoint_interval;
      }
      // Keep the Merkle log of the proof routes loaded up to HEAD (the first pass loads the
      // whole history), so requests seldom wait for the store.
      if (!gate.storage_fault()) {
        util::Status loaded = merkle_log.CatchUp(*store, registry->Head()->head.version);
        std::string why = loaded.ok() ? std::string() : loaded.error().message();
        if (why != tlog_load_error && !why.empty()) log.Warn("tlog_load_failed", {{"reason", why}});
        tlog_load_error = std::move(why);
      }
      metrics.SetCheckpointAgeSeconds(std::chrono::duration<double>(now - last_checkpoint).count());
      metrics.SetStorageBytes(store->SizeBytes());
      heap_trimmer.Observe(server_metrics.TakePeak(), server_metrics.connections());
    }
  });

  // The whole history is re-verified in the background, in slices.
  std::atomic<bool> verifier_stop{false};
  std::thread history_verifier([&] {
    auto started = std::chrono::steady_clock::now();
    while (!verifier_stop.load()) {
      util::Result<bool> done = registry->VerifyHistorySlice(64);
      if (!done.ok()) {
        metrics.CountAuditFailure();
        log.Error("verification_failed",
                  {{"reason", done.error().message()},
                   {"message", "the write plane is down; reads keep serving HEAD"}});
        return;
      }
      if (*done) {
        double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        metrics.ObserveAuditChainVerify(seconds);
        log.Info("history_verified",
                 {{"head", registry->Head()->head.version}, {"seconds", seconds}});
        return;
      }
    }
  });

  int sig = WaitForStopSignal();
  log.Info("stopping", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
  {
    std::lock_guard lock(housekeeping_mu);
    stopping = true;
  }
  housekeeping_cv.notify_all();
  housekeeping.join();
  verifier_stop = true;
  history_verifier.join();
  stop_change_worker();
  (*server)->Stop();
  workers.Stop();
  (*audit)->Stop();
  util::Result<bool> checkpoint = registry->WriteCheckpoint();
  if (!checkpoint.ok()) {
    log.Error("checkpoint_failed", {{"reason", checkpoint.error().message()}});
  }
  log.Info("stopped", {{"head", registry->Head()->head.version}});
  return 0;
}

}  // namespace registry::app
