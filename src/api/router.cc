#include "registry/api/router.h"

namespace registry::api {

using metrics::Route;

namespace {

// Allow header values. HEAD is served wherever GET is (RFC 9110 §9.1); the HTTP server
// sends the head of the GET response without its body.
constexpr std::string_view kGet = "GET, HEAD";
constexpr std::string_view kPost = "POST";
constexpr std::string_view kGetPost = "GET, HEAD, POST";

RouteMatch Match(Route route, std::string_view method, std::string_view allow,
                 std::string_view param = {}) {
  RouteMatch m;
  m.route = route;
  m.param = param;
  m.allow = allow;
  const bool get_like = method == "GET" || method == "HEAD";
  if (allow == kGet) {
    m.method_allowed = get_like;
  } else if (allow == kGetPost) {
    m.method_allowed = get_like || method == "POST";
  } else {
    m.method_allowed = method == allow;
  }
  return m;
}

// The segment after `prefix` when `path` is exactly prefix + one non-empty segment.
bool OneSegmentAfter(std::string_view path, std::string_view prefix, std::string_view& segment) {
  if (path.size() <= prefix.size() || path.substr(0, prefix.size()) != prefix) return false;
  segment = path.substr(prefix.size());
  return segment.find('/') == std::string_view::npos;
}

}  // namespace

RouteMatch MatchRoute(Plane plane, std::string_view method, std::string_view path) {
  if (path == "/healthz") return Match(Route::kHealthz, method, kGet);
  if (path == "/readyz") return Match(Route::kReadyz, method, kGet);
  if (path == "/version") return Match(Route::kVersion, method, kGet);
  std::string_view segment;
  if (plane == Plane::kAdmin) {
    if (path == "/metrics") return Match(Route::kMetrics, method, kGet);
    if (path == "/admin/freeze") return Match(Route::kAdminFreeze, method, kPost);
    if (path == "/admin/thaw") return Match(Route::kAdminThaw, method, kPost);
    if (path == "/admin/audit") return Match(Route::kAdminAudit, method, kGet);
    return RouteMatch{};
  }
  if (path == "/registry/head") return Match(Route::kRegistryHead, method, kGet);
  if (path == "/registry/stream") return Match(Route::kRegistryStream, method, kGet);
  if (path == "/registry/proposals") return Match(Route::kRegistryProposals, method, kGetPost);
  if (path == "/registry/checkpoint") return Match(Route::kRegistryCheckpoint, method, kGet);
  if (path == "/registry/proof/inclusion") {
    return Match(Route::kRegistryProofInclusion, method, kGet);
  }
  if (path == "/registry/proof/consistency") {
    return Match(Route::kRegistryProofConsistency, method, kGet);
  }
  if (OneSegmentAfter(path, "/registry/proposals/", segment)) {
    return Match(Route::kRegistryProposal, method, kGet, segment);
  }
  if (OneSegmentAfter(path, "/registry/approvals/", segment)) {
    return Match(Route::kRegistryApproval, method, kPost, segment);
  }
  if (OneSegmentAfter(path, "/registry/commit/", segment)) {
    return Match(Route::kRegistryCommit, method, kPost, segment);
  }
  if (OneSegmentAfter(path, "/registry/", segment)) {
    return Match(Route::kRegistryVersion, method, kGet, segment);
  }
  return RouteMatch{};
}

}  // namespace registry::api
