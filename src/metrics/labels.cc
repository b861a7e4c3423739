#include "registry/metrics/labels.h"

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>

#include "registry/util/check.h"

namespace registry::metrics {
namespace {

// Indexed by the enum values; the static_asserts keep the tables and the enums in step.
constexpr std::array<std::string_view, kRouteCount> kRouteLabels = {
    "/registry/head",
    "/registry/{version}",
    "/registry/stream",
    "/registry/proposals",
    "/registry/proposals/{id}",
    "/registry/approvals/{id}",
    "/registry/commit/{id}",
    "/registry/checkpoint",
    "/registry/proof/inclusion",
    "/registry/proof/consistency",
    "/healthz",
    "/readyz",
    "/version",
    "/metrics",
    "/admin/freeze",
    "/admin/thaw",
    "/admin/audit",
    "unmatched",
};
static_assert(static_cast<std::size_t>(Route::kUnmatched) + 1 == kRouteCount);

constexpr std::array<std::string_view, kMethodCount> kMethodLabels = {"GET", "POST", "other"};
static_assert(static_cast<std::size_t>(Method::kOther) + 1 == kMethodCount);

constexpr std::array<std::string_view, kRejectReasonCount> kRejectReasonLabels = {
    "inflight",     "rps",          "max_conns",        "body_too_large",  "header_too_large",
    "bad_request",  "read_timeout", "content_encoding", "sse_max_clients", "pending_cap",
    "unauthorized", "forbidden",    "malformed",        "frozen",          "not_ready",
};
static_assert(static_cast<std::size_t>(RejectReason::kNotReady) + 1 == kRejectReasonCount);

constexpr std::array<std::string_view, kUpdateResultCount> kUpdateResultLabels = {
    "committed", "rejected", "cas_fail"};
static_assert(static_cast<std::size_t>(UpdateResult::kCasFail) + 1 == kUpdateResultCount);

constexpr std::array<std::string_view, kRecoveryKindCount> kRecoveryKindLabels = {"clean", "crash",
                                                                                  "checkpoint"};
static_assert(static_cast<std::size_t>(RecoveryKind::kCheckpoint) + 1 == kRecoveryKindCount);

constexpr std::array<std::string_view, kBusConsumerCount> kBusConsumerLabels = {"sse"};
static_assert(static_cast<std::size_t>(BusConsumer::kSse) + 1 == kBusConsumerCount);

constexpr std::array<std::string_view, kSigAlgoCount> kSigAlgoLabels = {"ed25519"};
static_assert(static_cast<std::size_t>(SigAlgo::kEd25519) + 1 == kSigAlgoCount);

template <typename Enum, std::size_t N>
std::string_view Lookup(const std::array<std::string_view, N>& table, Enum value) {
  const auto i = static_cast<std::size_t>(value);
  REGISTRY_CHECK(i < N, "label enum out of range");
  return table[i];
}

}  // namespace

std::string_view RouteLabel(Route route) { return Lookup(kRouteLabels, route); }
std::string_view MethodLabel(Method method) { return Lookup(kMethodLabels, method); }
std::string_view RejectReasonLabel(RejectReason reason) {
  return Lookup(kRejectReasonLabels, reason);
}
std::string_view UpdateResultLabel(UpdateResult result) {
  return Lookup(kUpdateResultLabels, result);
}
std::string_view RecoveryKindLabel(RecoveryKind kind) { return Lookup(kRecoveryKindLabels, kind); }
std::string_view BusConsumerLabel(BusConsumer consumer) {
  return Lookup(kBusConsumerLabels, consumer);
}
std::string_view SigAlgoLabel(SigAlgo algo) { return Lookup(kSigAlgoLabels, algo); }

std::optional<Route> RouteFromTemplate(std::string_view route_template) {
  for (std::size_t i = 0; i < kRouteCount; ++i) {
    if (kRouteLabels[i] == route_template) return static_cast<Route>(i);
  }
  return std::nullopt;
}

Method MethodFromString(std::string_view method) {
  if (method == "GET") return Method::kGet;
  if (method == "POST") return Method::kPost;
  return Method::kOther;
}

}  // namespace registry::metrics
