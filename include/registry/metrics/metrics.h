// Metrics: every Prometheus metric the registry exports (SPEC §8), owned by one object the
// application constructs explicitly and passes to the modules that report (no global
// registry, no registration at static-initialization time).
//
// All families exist from construction on, and every label combination known in advance is
// instantiated then, so a scrape right after start-up shows each family: the golden metrics
// (http_requests_total{route,method,status}, request_latency_seconds{route,method},
// inflight_requests, rejected_total{reason}, bus_lagged_total{consumer},
// registry_checkpoint_age_seconds), the registry metrics, sse_fanout_seconds,
// internal_errors_total and http_connections. http_requests_total starts with status "200"
// for each route's main method(s) ("404" for the unmatched route); other statuses appear
// when first observed.
//
// Label values come only from the enums in labels.h (route templates, never raw paths).
//
// Thread-safety: every method may be called concurrently from any thread. The reporting
// methods are cheap: they touch pre-resolved series (an atomic add, or a histogram's own
// lock); only a request status outside the common set pays for a label-map lookup.
//
// Serialize() renders the Prometheus text exposition format 0.0.4, for GET /metrics.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "registry/metrics/labels.h"

namespace registry::metrics {

class Metrics {
 public:
  Metrics();
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // --- Golden metrics ---

  // One finished HTTP request: http_requests_total{route,method,status} += 1 and
  // request_latency_seconds{route,method} observes `seconds` (negative counts as 0).
  // `status` is the numeric HTTP status, e.g. 200.
  void ObserveRequest(Route route, Method method, int status, double seconds);

  // inflight_requests += delta (+1 when a request is admitted, -1 when it finishes).
  void AddInflightRequests(std::int64_t delta);

  // rejected_total{reason} += 1.
  void CountRejected(RejectReason reason);

  // bus_lagged_total{consumer} += events (events a lagging subscriber lost).
  void CountBusLagged(BusConsumer consumer, std::uint64_t events = 1);

  // registry_checkpoint_age_seconds = seconds since the last durable checkpoint.
  void SetCheckpointAgeSeconds(double seconds);

  // --- Registry metrics ---

  // registry_head_version = version.
  void SetHeadVersion(std::uint64_t version);
  // registry_pending_proposals = count.
  void SetPendingProposals(std::size_t count);
  // registry_updates_total{result} += 1: one attempt to advance HEAD and how it ended.
  void CountUpdate(UpdateResult result);
  // commit_latency_seconds observes the duration of one commit (verify quorum → durable).
  void ObserveCommitLatency(double seconds);
  // approval_verify_seconds{algo} observes one approval signature verification.
  void ObserveApprovalVerify(SigAlgo algo, double seconds);
  // commit_cas_fail_total += 1: the store's compare-and-swap on HEAD lost a race.
  void CountCommitCasFail();
  // registry_audit_failures_total += 1: an audit-trail or chain verification failed.
  void CountAuditFailure();
  // audit_chain_verify_seconds observes one full verification of the commit chain.
  void ObserveAuditChainVerify(double seconds);
  // registry_recoveries_total{kind} += 1, once per start-up.
  void CountRecovery(RecoveryKind kind);
  // registry_storage_bytes = bytes used by the store.
  void SetStorageBytes(std::uint64_t bytes);
  // sse_clients += delta (+1 on subscribe, -1 on disconnect).
  void AddSseClients(std::int64_t delta);
  // sse_fanout_seconds observes one fan-out pass: the time one worker took to offer the
  // frames queued since its last pass to all of its subscribers. Not in SPEC §8.
  void ObserveSseFanout(double seconds);

  // --- Process ---

  // internal_errors_total += 1: a genuine internal fault (ErrorCode::kInternal, HTTP 500).
  void CountInternalError();
  // http_connections += delta (+1 on accept, -1 on close), both planes.
  void AddHttpConnections(std::int64_t delta);

  // The text exposition (format 0.0.4) of every family.
  std::string Serialize() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace registry::metrics
