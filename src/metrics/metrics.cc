#include "registry/metrics/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/labels.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "registry/metrics/labels.h"

namespace registry::metrics {
namespace {

using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;
using prometheus::Histogram;

// SPEC §8: 0.5 ms to 5 s.
const Histogram::BucketBoundaries kRequestBuckets = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
// Commit SLO sits around hundreds of ms (p95 gate at 750 ms).
const Histogram::BucketBoundaries kCommitBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                    0.25,  0.5,    0.75,  1,    2.5,   5,    10};
// One Ed25519 verification takes tens of microseconds.
const Histogram::BucketBoundaries kVerifyBuckets = {0.00001, 0.000025, 0.00005, 0.0001, 0.00025,
                                                    0.0005,  0.001,    0.0025,  0.005,  0.01};
// A full chain verification grows with the number of versions.
const Histogram::BucketBoundaries kAuditBuckets = {0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1,
                                                   2.5,   5,     10,   30,   60,  120};

// A pass over 1,000 loopback subscribers takes a few ms; 10,000, around 100 ms.
const Histogram::BucketBoundaries kFanoutBuckets = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};

// Statuses with a pre-resolved slot per (route, method); others go through the family's own
// label map.
constexpr std::array<int, 21> kCommonStatuses = {200, 201, 202, 204, 304, 400, 401,
                                                 403, 404, 405, 408, 409, 410, 411,
                                                 413, 415, 422, 429, 431, 500, 503};
constexpr int kMaxStatus = 599;

constexpr std::array<std::int8_t, kMaxStatus + 1> MakeStatusSlots() {
  std::array<std::int8_t, kMaxStatus + 1> slots{};
  for (auto& s : slots) s = -1;
  for (std::size_t i = 0; i < kCommonStatuses.size(); ++i) {
    slots[static_cast<std::size_t>(kCommonStatuses[i])] = static_cast<std::int8_t>(i);
  }
  return slots;
}
constexpr std::array<std::int8_t, kMaxStatus + 1> kStatusSlots = MakeStatusSlots();

// The slot of `status`, or -1.
int StatusSlot(int status) {
  if (status < 0 || status > kMaxStatus) return -1;
  return kStatusSlots[static_cast<std::size_t>(status)];
}

struct RouteMethods {
  Route route;
  bool get;
  bool post;
};

// The method(s) each route serves; their series exist from start-up.
constexpr std::array<RouteMethods, kRouteCount> kMainMethods = {{
    {Route::kRegistryHead, true, false},
    {Route::kRegistryVersion, true, false},
    {Route::kRegistryStream, true, false},
    {Route::kRegistryProposals, true, true},
    {Route::kRegistryProposal, true, false},
    {Route::kRegistryApproval, false, true},
    {Route::kRegistryCommit, false, true},
    {Route::kRegistryCheckpoint, true, false},
    {Route::kRegistryProofInclusion, true, false},
    {Route::kRegistryProofConsistency, true, false},
    {Route::kHealthz, true, false},
    {Route::kReadyz, true, false},
    {Route::kVersion, true, false},
    {Route::kMetrics, true, false},
    {Route::kAdminFreeze, false, true},
    {Route::kAdminThaw, false, true},
    {Route::kAdminAudit, true, false},
    {Route::kUnmatched, true, false},
}};

template <typename Enum>
std::size_t Index(Enum e) {
  return static_cast<std::size_t>(e);
}

std::string Str(std::string_view s) { return std::string(s); }

template <typename T>
Family<T>& Build(prometheus::detail::Builder<T> builder, prometheus::Registry& registry,
                 const std::string& name, const std::string& help) {
  return builder.Name(name).Help(help).Register(registry);
}

}  // namespace

struct Metrics::Impl {
  Impl();

  Counter& RequestCounter(Route route, Method method, int status);
  Histogram& LatencyHistogram(Route route, Method method);

  prometheus::Registry registry;

  Family<Counter>* requests = nullptr;
  Family<Histogram>* latency = nullptr;
  // Lazily resolved series; Family::Add returns the existing series for equal labels, so two
  // threads racing to fill a slot store the same pointer.
  std::array<std::array<std::array<std::atomic<Counter*>, kCommonStatuses.size()>, kMethodCount>,
             kRouteCount>
      request_slots{};
  std::array<std::array<std::atomic<Histogram*>, kMethodCount>, kRouteCount> latency_slots{};

  Gauge* inflight = nullptr;
  std::array<Counter*, kRejectReasonCount> rejected{};
  std::array<Counter*, kBusConsumerCount> bus_lagged{};
  Gauge* checkpoint_age = nullptr;

  Gauge* head_version = nullptr;
  Gauge* pending_proposals = nullptr;
  std::array<Counter*, kUpdateResultCount> updates{};
  Histogram* commit_latency = nullptr;
  std::array<Histogram*, kSigAlgoCount> approval_verify{};
  Counter* commit_cas_fail = nullptr;
  Counter* audit_failures = nullptr;
  Histogram* audit_chain_verify = nullptr;
  std::array<Counter*, kRecoveryKindCount> recoveries{};
  Gauge* storage_bytes = nullptr;
  Gauge* sse_clients = nullptr;
  Histogram* sse_fanout = nullptr;

  Counter* internal_errors = nullptr;
  Gauge* http_connections = nullptr;
};

Metrics::Impl::Impl() {
  using prometheus::BuildCounter;
  using prometheus::BuildGauge;
  using prometheus::BuildHistogram;

  // Golden metrics.
  requests = &Build(BuildCounter(), registry, "http_requests_total",
                    "HTTP requests finished, by route template, method and status.");
  latency = &Build(BuildHistogram(), registry, "request_latency_seconds",
                   "HTTP request latency in seconds, by route template and method.");
  for (const RouteMethods& rm : kMainMethods) {
    const int status = rm.route == Route::kUnmatched ? 404 : 200;
    for (Method m : {Method::kGet, Method::kPost}) {
      if (m == Method::kGet ? !rm.get : !rm.post) continue;
      (void)RequestCounter(rm.route, m, status);
      (void)LatencyHistogram(rm.route, m);
    }
  }
  inflight = &Build(BuildGauge(), registry, "inflight_requests",
                    "HTTP requests admitted and not yet finished.")
                  .Add({});
  auto& rejected_family = Build(BuildCounter(), registry, "rejected_total",
                                "Requests or connections turned away, by reason.");
  for (std::size_t i = 0; i < kRejectReasonCount; ++i) {
    rejected[i] =
        &rejected_family.Add({{"reason", Str(RejectReasonLabel(static_cast<RejectReason>(i)))}});
  }
  auto& lagged_family = Build(BuildCounter(), registry, "bus_lagged_total",
                              "Commit events lost by lagging bus subscribers, by consumer.");
  for (std::size_t i = 0; i < kBusConsumerCount; ++i) {
    bus_lagged[i] =
        &lagged_family.Add({{"consumer", Str(BusConsumerLabel(static_cast<BusConsumer>(i)))}});
  }
  checkpoint_age = &Build(BuildGauge(), registry, "registry_checkpoint_age_seconds",
                          "Seconds since the last durable checkpoint.")
                        .Add({});

  // Registry metrics.
  head_version =
      &Build(BuildGauge(), registry, "registry_head_version", "Version number of HEAD.").Add({});
  pending_proposals = &Build(BuildGauge(), registry, "registry_pending_proposals",
                             "Proposals awaiting approval or commit.")
                           .Add({});
  auto& updates_family = Build(BuildCounter(), registry, "registry_updates_total",
                               "Attempts to advance HEAD, by result.");
  for (std::size_t i = 0; i < kUpdateResultCount; ++i) {
    updates[i] =
        &updates_family.Add({{"result", Str(UpdateResultLabel(static_cast<UpdateResult>(i)))}});
  }
  commit_latency = &Build(BuildHistogram(), registry, "commit_latency_seconds",
                          "Duration of a commit, from quorum check to durable HEAD, in seconds.")
                        .Add({}, kCommitBuckets);
  auto& verify_family = Build(BuildHistogram(), registry, "approval_verify_seconds",
                              "Duration of one approval signature verification, in seconds.");
  for (std::size_t i = 0; i < kSigAlgoCount; ++i) {
    approval_verify[i] =
        &verify_family.Add({{"algo", Str(SigAlgoLabel(static_cast<SigAlgo>(i)))}}, kVerifyBuckets);
  }
  commit_cas_fail = &Build(BuildCounter(), registry, "commit_cas_fail_total",
                           "Commits that lost the compare-and-swap on HEAD.")
                         .Add({});
  audit_failures = &Build(BuildCounter(), registry, "registry_audit_failures_total",
                          "Failed audit-trail or commit-chain verifications.")
                        .Add({});
  audit_chain_verify = &Build(BuildHistogram(), registry, "audit_chain_verify_seconds",
                              "Duration of a full commit-chain verification, in seconds.")
                            .Add({}, kAuditBuckets);
  auto& recoveries_family = Build(BuildCounter(), registry, "registry_recoveries_total",
                                  "Store recoveries at start-up, by kind.");
  for (std::size_t i = 0; i < kRecoveryKindCount; ++i) {
    recoveries[i] =
        &recoveries_family.Add({{"kind", Str(RecoveryKindLabel(static_cast<RecoveryKind>(i)))}});
  }
  storage_bytes =
      &Build(BuildGauge(), registry, "registry_storage_bytes", "Bytes used by the store.").Add({});
  sse_clients =
      &Build(BuildGauge(), registry, "sse_clients", "Connected /registry/stream clients.").Add({});
  sse_fanout = &Build(BuildHistogram(), registry, "sse_fanout_seconds",
                      "Duration of one stream fan-out pass (queued events offered to every "
                      "subscriber of one worker), in seconds.")
                    .Add({}, kFanoutBuckets);

  // Process.
  internal_errors = &Build(BuildCounter(), registry, "internal_errors_total",
                           "Genuine internal faults answered with HTTP 500.")
                         .Add({});
  http_connections =
      &Build(BuildGauge(), registry, "http_connections", "Open HTTP connections on both planes.")
           .Add({});
}

Counter& Metrics::Impl::RequestCounter(Route route, Method method, int status) {
  const auto labels = [&] {
    return prometheus::Labels{{"route", Str(RouteLabel(route))},
                              {"method", Str(MethodLabel(method))},
                              {"status", std::to_string(status)}};
  };
  const int slot = StatusSlot(status);
  if (slot < 0) return requests->Add(labels());
  std::atomic<Counter*>& cell =
      request_slots[Index(route)][Index(method)][static_cast<std::size_t>(slot)];
  Counter* counter = cell.load(std::memory_order_acquire);
  if (counter == nullptr) [[unlikely]] {
    counter = &requests->Add(labels());
    cell.store(counter, std::memory_order_release);
  }
  return *counter;
}

Histogram& Metrics::Impl::LatencyHistogram(Route route, Method method) {
  std::atomic<Histogram*>& cell = latency_slots[Index(route)][Index(method)];
  Histogram* histogram = cell.load(std::memory_order_acquire);
  if (histogram == nullptr) [[unlikely]] {
    histogram = &latency->Add(
        {{"route", Str(RouteLabel(route))}, {"method", Str(MethodLabel(method))}}, kRequestBuckets);
    cell.store(histogram, std::memory_order_release);
  }
  return *histogram;
}

Metrics::Metrics() : impl_(std::make_unique<Impl>()) {}
Metrics::~Metrics() = default;

namespace {
double NonNegative(double seconds) { return std::max(0.0, seconds); }  // NaN → 0 too
}  // namespace

void Metrics::ObserveRequest(Route route, Method method, int status, double seconds) {
  // Validate the enums before they index the slot arrays.
  (void)RouteLabel(route);
  (void)MethodLabel(method);
  impl_->RequestCounter(route, method, status).Increment();
  impl_->LatencyHistogram(route, method).Observe(NonNegative(seconds));
}

void Metrics::AddInflightRequests(std::int64_t delta) {
  impl_->inflight->Increment(static_cast<double>(delta));
}

void Metrics::CountRejected(RejectReason reason) {
  (void)RejectReasonLabel(reason);
  impl_->rejected[Index(reason)]->Increment();
}

void Metrics::CountBusLagged(BusConsumer consumer, std::uint64_t events) {
  (void)BusConsumerLabel(consumer);
  impl_->bus_lagged[Index(consumer)]->Increment(static_cast<double>(events));
}

void Metrics::SetCheckpointAgeSeconds(double seconds) {
  impl_->checkpoint_age->Set(NonNegative(seconds));
}

void Metrics::SetHeadVersion(std::uint64_t version) {
  impl_->head_version->Set(static_cast<double>(version));
}

void Metrics::SetPendingProposals(std::size_t count) {
  impl_->pending_proposals->Set(static_cast<double>(count));
}

void Metrics::CountUpdate(UpdateResult result) {
  (void)UpdateResultLabel(result);
  impl_->updates[Index(result)]->Increment();
}

void Metrics::ObserveCommitLatency(double seconds) {
  impl_->commit_latency->Observe(NonNegative(seconds));
}

void Metrics::ObserveApprovalVerify(SigAlgo algo, double seconds) {
  (void)SigAlgoLabel(algo);
  impl_->approval_verify[Index(algo)]->Observe(NonNegative(seconds));
}

void Metrics::CountCommitCasFail() { impl_->commit_cas_fail->Increment(); }

void Metrics::CountAuditFailure() { impl_->audit_failures->Increment(); }

void Metrics::ObserveAuditChainVerify(double seconds) {
  impl_->audit_chain_verify->Observe(NonNegative(seconds));
}

void Metrics::CountRecovery(RecoveryKind kind) {
  (void)RecoveryKindLabel(kind);
  impl_->recoveries[Index(kind)]->Increment();
}

void Metrics::SetStorageBytes(std::uint64_t bytes) {
  impl_->storage_bytes->Set(static_cast<double>(bytes));
}

void Metrics::AddSseClients(std::int64_t delta) {
  impl_->sse_clients->Increment(static_cast<double>(delta));
}

void Metrics::ObserveSseFanout(double seconds) { impl_->sse_fanout->Observe(NonNegative(seconds)); }

void Metrics::CountInternalError() { impl_->internal_errors->Increment(); }

void Metrics::AddHttpConnections(std::int64_t delta) {
  impl_->http_connections->Increment(static_cast<double>(delta));
}

std::string Metrics::Serialize() const {
  return prometheus::TextSerializer().Serialize(impl_->registry.Collect());
}

}  // namespace registry::metrics
