#include "registry/api/corr_id.h"
#include "registry/api/responses.h"
#include "registry/api/service.h"
#include "registry/json/canonical.h"
#include "registry/model/constants.h"
#include "service_impl.h"

namespace registry::api {

using metrics::Route;

namespace internal {

http::Response ReadyzResponse(const Deps& deps, std::uint32_t retry_after_seconds) {
  std::shared_ptr<const core::HeadState> head = deps.registry->Head();
  std::vector<std::string_view> missing;
  if (deps.gate->frozen()) missing.push_back("frozen");
  if (deps.gate->storage_fault()) missing.push_back("storage");
  if (deps.registry->verification_failure().has_value()) missing.push_back("verification");
  const bool write_ready = missing.empty();
  std::string body = "{";
  if (!write_ready) body += "\"degraded\":true,";
  body += "\"head_b3\":";
  json::AppendCanonicalString(head->head.payload_b3, body);
  body += ",\"missing\":[";
  for (std::size_t i = 0; i < missing.size(); ++i) {
    if (i > 0) body += ',';
    json::AppendCanonicalString(missing[i], body);
  }
  body += "],\"ready\":true";
  if (!write_ready) body += ",\"retry_after\":" + std::to_string(retry_after_seconds);
  body += ",\"version\":" + std::to_string(head->head.version) +
          ",\"write_ready\":" + (write_ready ? "true" : "false") + "}";
  http::Response r = JsonResponse(write_ready ? 200 : 503, std::move(body));
  if (!write_ready) r.SetHeader("Retry-After", std::to_string(retry_after_seconds));
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

http::Response VersionResponse(const BuildInfo& build) {
  json::Value v = json::MakeObject(
      {{"service", "svc-registry"},
       {"version", build.version},
       {"commit", build.commit},
       {"schema", json::MakeObject({{"registry", std::string(model::kSchemaVersion)}})},
       {"deprecations", json::Value(json::Array{})}});
  return JsonResponse(200, json::Canonicalize(v));
}

}  // namespace internal

AdminService::AdminService(Deps deps, ApiOptions options, AccessLog* access_log)
    : deps_(deps), options_(std::move(options)), access_log_(access_log) {}

void AdminService::Handle(http::Request request, http::Responder respond) {
  const std::string* corr = request.FindHeader("x-corr-id");
  std::string corr_id =
      corr != nullptr && IsAcceptableCorrId(*corr) ? *corr : NewUlid(deps_.clock->NowMillis());
  RouteMatch match = MatchRoute(Plane::kAdmin, request.method, request.path);
  if (match.method_allowed &&
      (match.route == Route::kAdminFreeze || match.route == Route::kAdminThaw)) {
    // Audited: the entry is durable before the answer, so this runs on a worker.
    auto shared = std::make_shared<std::tuple<http::Request, http::Responder, std::string>>(
        std::move(request), std::move(respond), std::move(corr_id));
    bool queued = deps_.workers->Submit([this, shared, match] {
      auto& [req, resp, corr] = *shared;
      Finish(req, resp, match, corr, FreezeOrThaw(req, match, corr));
    });
    if (!queued) {
      auto& [req, resp, corr] = *shared;
      Finish(req, resp, match, corr,
             ErrorResponse(503, "NotReady", "the service is shutting down", corr));
    }
    return;
  }
  http::Response r;
  if (match.route == Route::kUnmatched) {
    r = ErrorResponse(404, "NotFound", "no route for " + request.path, corr_id);
  } else if (!match.method_allowed) {
    r = ErrorResponse(405, "MethodNotAllowed", request.method + " is not allowed on this route",
                      corr_id);
    r.headers.emplace_back("Allow", std::string(match.allow));
  } else {
    switch (match.route) {
      case Route::kMetrics:
        r = http::Response::Text(200, "text/plain; version=0.0.4; charset=utf-8",
                                 deps_.metrics->Serialize());
        break;
      case Route::kHealthz:
        r = JsonResponse(200, R"({"status":"ok"})");
        break;
      case Route::kReadyz:
        r = internal::ReadyzResponse(deps_, options_.retry_after_seconds);
        break;
      case Route::kVersion:
        r = internal::VersionResponse(options_.build);
        break;
      default:
        r = AuditPage(request, corr_id);
        break;
    }
  }
  Finish(request, respond, match, corr_id, std::move(r));
}

http::Response AdminService::FreezeOrThaw(const http::Request& request, const RouteMatch& match,
                                          const std::string& corr_id) {
  const bool freeze = match.route == Route::kAdminFreeze;
  core::AuditEvent event;
  event.action = freeze ? "freeze" : "thaw";
  event.corr_id = corr_id;
  util::Status allowed = util::Status::Ok();
  if (deps_.verifier != nullptr) {
    const std::string* authz = request.FindHeader("authorization");
    allowed = deps_.verifier->Verify(authz == nullptr ? std::string_view() : *authz,
                                     auth::Scope::kAdmin, deps_.clock->NowMillis());
  }
  event.accepted = allowed.ok();
  if (!allowed.ok()) event.reason = std::string(util::ErrorCodeName(allowed.error().code()));
  if (allowed.ok()) deps_.gate->SetFrozen(freeze);
  if (deps_.audit != nullptr && !deps_.audit->Record(event).ok()) {
    deps_.gate->SetStorageFault(true);
    deps_.metrics->CountInternalError();
  }
  if (access_log_ != nullptr && allowed.ok()) access_log_->Audit(event.action, corr_id);
  if (!allowed.ok()) {
    if (auto reason = internal::RejectReasonFor(allowed.error().code())) {
      deps_.metrics->CountRejected(*reason);
    }
    return ErrorResponse(allowed.error(), corr_id);
  }
  http::Response r = JsonResponse(200, freeze ? R"({"frozen":true})" : R"({"frozen":false})");
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

http::Response AdminService::AuditPage(const http::Request& request, const std::string& corr_id) {
  std::uint64_t after = 0;
  if (auto a = internal::QueryParam(request.query, "after")) {
    std::optional<std::uint64_t> n = internal::ParseVersion(*a);
    if (!n.has_value()) return ErrorResponse(400, "Malformed", "after: must be a number", corr_id);
    after = *n;
  }
  std::size_t limit = 100;
  if (auto l = internal::QueryParam(request.query, "limit")) {
    std::optional<std::uint64_t> n = internal::ParseVersion(*l);
    if (!n.has_value() || *n == 0 || *n > 1000) {
      return ErrorResponse(400, "Malformed", "limit: must be from 1 to 1000", corr_id);
    }
    limit = static_cast<std::size_t>(*n);
  }
  util::Result<std::vector<storage::AuditRow>> rows = deps_.store->ReadAudit(after, limit);
  if (!rows.ok()) {
    return ErrorResponse(util::Error(util::ErrorCode::kInternal, rows.error().message()), corr_id);
  }
  std::string body = "{\"entries\":[";
  for (std::size_t i = 0; i < rows->size(); ++i) {
    if (i > 0) body += ',';
    body += (*rows)[i].entry;
  }
  body += "],\"next\":";
  body += rows->size() == limit ? std::to_string(rows->back().seq) : "null";
  body += "}";
  http::Response r = JsonResponse(200, std::move(body));
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

void AdminService::Finish(const http::Request& request, const http::Responder& respond,
                          const RouteMatch& match, const std::string& corr_id, http::Response r) {
  r.headers.emplace_back("X-Registry-Version",
                         std::to_string(deps_.registry->Head()->head.version));
  r.headers.emplace_back("X-Corr-ID", corr_id);
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - request.received_at).count();
  deps_.metrics->ObserveRequest(match.route, metrics::MethodFromString(request.method), r.status,
                                seconds);
  if (r.status >= 500 && r.status != 503) deps_.metrics->CountInternalError();
  if (access_log_ != nullptr) {
    access_log_->Log(corr_id, match.route, request.method, r.status, seconds * 1000.0,
                     request.remote);
  }
  respond(std::move(r));
}

}  // namespace registry::api
