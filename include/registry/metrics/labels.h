// The closed sets of label values the registry's metrics use (SPEC §8). Every label value a
// caller can pass is one of these enums, so no raw path, proposal id, hash or corr id can ever
// become a label: routes are templates ("/registry/{version}"), methods are GET/POST/other.
// Pure functions; thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace registry::metrics {

// One value per route template of the API and admin planes (SPEC §2), plus kUnmatched for a
// request no route matched.
enum class Route : std::uint8_t {
  kRegistryHead,              // /registry/head
  kRegistryVersion,           // /registry/{version}
  kRegistryStream,            // /registry/stream
  kRegistryProposals,         // /registry/proposals
  kRegistryProposal,          // /registry/proposals/{id}
  kRegistryApproval,          // /registry/approvals/{id}
  kRegistryCommit,            // /registry/commit/{id}
  kRegistryCheckpoint,        // /registry/checkpoint
  kRegistryProofInclusion,    // /registry/proof/inclusion
  kRegistryProofConsistency,  // /registry/proof/consistency
  kHealthz,                   // /healthz
  kReadyz,                    // /readyz
  kVersion,                   // /version
  kMetrics,                   // /metrics
  kAdminFreeze,               // /admin/freeze
  kAdminThaw,                 // /admin/thaw
  kAdminAudit,                // /admin/audit
  kUnmatched,                 // "unmatched"
};
inline constexpr std::size_t kRouteCount = 18;

enum class Method : std::uint8_t { kGet, kPost, kOther };
inline constexpr std::size_t kMethodCount = 3;

// Why a request or connection was turned away before (or instead of) normal handling.
enum class RejectReason : std::uint8_t {
  kInflight,         // limits.inflight reached (429)
  kRps,              // limits.rps reached (429)
  kMaxConns,         // max_conns reached (connection refused)
  kBodyTooLarge,     // 413
  kHeaderTooLarge,   // 431
  kBadRequest,       // unparsable HTTP
  kReadTimeout,      // read_timeout expired
  kContentEncoding,  // 415 for a Content-Encoding
  kSseMaxClients,    // stream subscriber cap
  kPendingCap,       // pending-proposal cap (429)
  kUnauthorized,     // 401
  kForbidden,        // 403
  kMalformed,        // 400 from the API layer
  kFrozen,           // 503 Frozen
  kNotReady,         // 503 NotReady
};
inline constexpr std::size_t kRejectReasonCount = 15;

// The outcome of one attempt to advance HEAD.
enum class UpdateResult : std::uint8_t { kCommitted, kRejected, kCasFail };
inline constexpr std::size_t kUpdateResultCount = 3;

// How the store came up at start-up.
enum class RecoveryKind : std::uint8_t { kClean, kCrash, kCheckpoint };
inline constexpr std::size_t kRecoveryKindCount = 3;

// A subscriber of the commit bus that can lag and lose events.
enum class BusConsumer : std::uint8_t { kSse };
inline constexpr std::size_t kBusConsumerCount = 1;

// A signature algorithm of approvals.
enum class SigAlgo : std::uint8_t { kEd25519 };
inline constexpr std::size_t kSigAlgoCount = 1;

// Label values: "/registry/{version}", "GET", "body_too_large", "cas_fail", "checkpoint",
// "sse", "ed25519", ...
std::string_view RouteLabel(Route route);
std::string_view MethodLabel(Method method);
std::string_view RejectReasonLabel(RejectReason reason);
std::string_view UpdateResultLabel(UpdateResult result);
std::string_view RecoveryKindLabel(RecoveryKind kind);
std::string_view BusConsumerLabel(BusConsumer consumer);
std::string_view SigAlgoLabel(SigAlgo algo);

// The route whose template is exactly `route_template` ("unmatched" included), or nullopt:
// for routers that declare their routes as template strings.
std::optional<Route> RouteFromTemplate(std::string_view route_template);

// "GET" → kGet, "POST" → kPost, anything else → kOther (case-sensitive, as in HTTP).
Method MethodFromString(std::string_view method);

}  // namespace registry::metrics
