#include <chrono>

#include "registry/api/corr_id.h"
#include "registry/api/responses.h"
#include "registry/api/service.h"
#include "registry/json/canonical.h"
#include "registry/json/parse.h"
#include "registry/model/approval.h"
#include "registry/model/proposal.h"
#include "registry/util/time.h"
#include "service_impl.h"
#include "tlog_routes.h"

namespace registry::api {

using internal::Call;
using metrics::Route;
using util::Error;
using util::ErrorCode;

namespace {

constexpr std::string_view kNoStore = "no-store";

std::string EncodeQuorum(std::uint32_t m, std::size_t n) {
  return "{\"m\":" + std::to_string(m) + ",\"n\":" + std::to_string(n) + "}";
}

void AppendString(std::string& out, std::string_view s) { json::AppendCanonicalString(s, out); }

std::string EncodeCommitOutcome(const core::CommitOutcome& c) {
  std::string out = "{\"committed_at\":";
  AppendString(out, c.committed_at);
  out += ",\"payload_b3\":";
  AppendString(out, c.payload_b3);
  out += ",\"version\":" + std::to_string(c.version) + "}";
  return out;
}

std::string EncodeApprovals(const std::vector<model::Approval>& approvals) {
  json::Array a;
  a.reserve(approvals.size());
  for (const model::Approval& x : approvals) a.push_back(model::EncodeApproval(x));
  return json::Canonicalize(json::Value(std::move(a)));
}

// The full view of GET /registry/proposals/{id}, members in canonical order.
std::string EncodeProposalView(const core::ProposalView& v) {
  std::string out = "{\"approvals\":" + EncodeApprovals(v.approvals) + ",\"expires_at\":";
  AppendString(out, util::FormatRfc3339Seconds(v.expires_at));
  out += ",\"payload\":";
  out += *v.canonical_payload;
  out += ",\"payload_b3\":";
  AppendString(out, v.payload_b3);
  out += ",\"proposal_id\":";
  AppendString(out, v.proposal_id);
  out += ",\"quorum\":" + EncodeQuorum(v.quorum_m, v.quorum_n) + ",\"status\":";
  AppendString(out, model::ProposalStatusName(v.status));
  out += ",\"version\":" + std::to_string(v.version) + "}";
  return out;
}

// One line of GET /registry/proposals.
std::string EncodeProposalSummary(const core::ProposalView& v) {
  std::string out = "{\"approvals\":" + std::to_string(v.approvals.size()) + ",\"expires_at\":";
  AppendString(out, util::FormatRfc3339Seconds(v.expires_at));
  out += ",\"payload_b3\":";
  AppendString(out, v.payload_b3);
  out += ",\"proposal_id\":";
  AppendString(out, v.proposal_id);
  out += ",\"quorum\":" + EncodeQuorum(v.quorum_m, v.quorum_n) + ",\"status\":";
  AppendString(out, model::ProposalStatusName(v.status));
  out += ",\"version\":" + std::to_string(v.version) + "}";
  return out;
}

bool IsJsonContentType(const std::string* value) {
  if (value == nullptr) return false;
  std::string_view v = *value;
  v = v.substr(0, v.find(';'));
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  std::string lower(v);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower == "application/json" ||
         (lower.size() > 5 && lower.starts_with("application/") && lower.ends_with("+json"));
}

auth::Scope ScopeFor(Route route) {
  switch (route) {
    case Route::kRegistryProposals:
      return auth::Scope::kPropose;
    case Route::kRegistryApproval:
      return auth::Scope::kApprove;
    default:
      return auth::Scope::kCommit;
  }
}

// Adapts an HTTP stream sink to the bus's subscriber interface.
class SinkSubscriber final : public bus::Subscriber {
 public:
  explicit SinkSubscriber(std::shared_ptr<http::StreamSink> sink) : sink_(std::move(sink)) {}
  bool Push(bus::Frame frame) override { return sink_->Push(std::move(frame)); }

 private:
  std::shared_ptr<http::StreamSink> sink_;
};

}  // namespace

struct ApiService::Impl {
  Impl(Deps d, ApiOptions o, AccessLog* log)
      : deps(d), options(o), access_log(log), records(o.record_cache_entries) {}

  Deps deps;
  ApiOptions options;
  AccessLog* access_log;
  internal::RecordCache records;
  std::atomic<std::shared_ptr<const internal::HeadResponse>> head;

  void RebuildHead() {
    std::shared_ptr<const core::HeadState> state = deps.registry->Head();
    auto h = std::make_shared<internal::HeadResponse>();
    h->version = state->head.version;
    h->version_text = std::to_string(h->version);
    // payload_b3 names the version's content; the root changes with it.
    h->etag = "\"" + state->head.payload_b3.substr(3, 32) + "-" + h->version_text + "\"";
    h->body =
        std::make_shared<const std::string>(json::Canonicalize(model::EncodeHead(state->head)));
    head.store(std::move(h), std::memory_order_release);
  }

  // Adds the common headers, records metrics and the access log line, and responds.
  void Finish(Call& call, http::Response response) {
    const std::shared_ptr<const internal::HeadResponse> h = head.load(std::memory_order_acquire);
    response.headers.emplace_back("X-Registry-Version", h->version_text);
    response.headers.emplace_back("X-Corr-ID", call.corr_id);
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - call.request.received_at)
            .count();
    metrics::Method method = metrics::MethodFromString(call.request.method);
    deps.metrics->ObserveRequest(call.match.route, method, response.status, seconds);
    if (response.status == 500) deps.metrics->CountInternalError();
    if (access_log != nullptr) {
      access_log->Log(call.corr_id, call.match.route, call.request.method, response.status,
                      seconds * 1000.0, call.request.remote);
    }
    call.respond(std::move(response));
  }

  void Fail(Call& call, const Error& error) {
    if (std::optional<metrics::RejectReason> reason = internal::RejectReasonFor(error.code())) {
      deps.metrics->CountRejected(*reason);
    }
    http::Response r = ErrorResponse(error, call.corr_id, options.retry_after_seconds);
    if (call.match.route != Route::kRegistryHead && call.match.route != Route::kRegistryVersion) {
      r.headers.emplace_back("Cache-Control", std::string(kNoStore));
    }
    Finish(call, std::move(r));
  }

  void Dispatch(Call call);
  void GetHead(Call& call);
  void GetRecord(Call& call);
  void ListProposals(Call& call);
  void GetProposal(Call& call);
  void Stream(Call& call);
  void GetCheckpoint(Call& call);
  void GetProof(Call call);
  // Auth, the write gate, the content type and the proposal id of a write request.
  util::Status AdmitWrite(const Call& call);
  // Runs a write request on a worker: admission, the step, the audit entry, the response.
  void SubmitWrite(Call call);
  void Write(Call call);
  // The accepted decision's entry, to store with the write (null when the trail is not
  // chained by the store).
  core::AuditAttachment* Attach(core::AuditAttachment& attach, const core::AuditEvent& event);
  util::Result<http::Response> Propose(Call& call, core::AuditEvent& event,
                                       core::AuditAttachment& attach);
  util::Result<http::Response> Approve(Call& call, core::AuditEvent& event,
                                       core::AuditAttachment& attach);
  util::Result<http::Response> Commit(Call& call, core::AuditEvent& event,
                                      core::AuditAttachment& attach);
};

ApiService::ApiService(Deps deps, ApiOptions options, AccessLog* access_log)
    : impl_(std::make_unique<Impl>(deps, options, access_log)) {
  impl_->RebuildHead();
}

ApiService::~ApiService() = default;

void ApiService::OnCommit(const core::CommitEvent& event) {
  impl_->RebuildHead();
  impl_->records.Put(event.version, event.record);
  impl_->deps.metrics->SetHeadVersion(event.version);
  if (impl_->deps.bus != nullptr) impl_->deps.bus->OnCommit(event);
}

void ApiService::Handle(http::Request request, http::Responder respond) {
  Call call;
  const std::string* corr = request.FindHeader("x-corr-id");
  call.corr_id = corr != nullptr && IsAcceptableCorrId(*corr)
                     ? *corr
                     : NewUlid(impl_->deps.clock->NowMillis());
  call.match = MatchRoute(Plane::kApi, request.method, request.path);
  call.request = std::move(request);
  call.respond = std::move(respond);
  impl_->Dispatch(std::move(call));
}

void ApiService::Impl::Dispatch(Call call) {
  if (call.match.route == Route::kUnmatched) {
    return Fail(call, Error(ErrorCode::kNotFound, "no route for " + call.request.path));
  }
  if (!call.match.method_allowed) {
    http::Response r =
        ErrorResponse(405, "MethodNotAllowed",
                      call.request.method + " is not allowed on this route", call.corr_id);
    r.headers.emplace_back("Allow", std::string(call.match.allow));
    return Finish(call, std::move(r));
  }
  switch (call.match.route) {
    case Route::kRegistryHead:
      return GetHead(call);
    case Route::kRegistryVersion:
      return GetRecord(call);
    case Route::kRegistryStream:
      return Stream(call);
    case Route::kRegistryProposals:
      if (call.request.method != "POST") return ListProposals(call);
      return SubmitWrite(std::move(call));
    case Route::kRegistryProposal:
      return GetProposal(call);
    case Route::kRegistryApproval:
      return SubmitWrite(std::move(call));
    case Route::kRegistryCommit:
      return SubmitWrite(std::move(call));
    case Route::kHealthz:
      return Finish(call, JsonResponse(200, R"({"status":"ok"})"));
    case Route::kReadyz:
    case Route::kVersion:
      // The same answers as on the admin plane (admin_service.cc).
      return Finish(call, call.match.route == Route::kReadyz
                              ? internal::ReadyzResponse(deps, options.retry_after_seconds)
                              : internal::VersionResponse(options.build));
    case Route::kRegistryCheckpoint:
      return GetCheckpoint(call);
    case Route::kRegistryProofInclusion:
    case Route::kRegistryProofConsistency:
      return GetProof(std::move(call));
    default:
      return Fail(call, Error(ErrorCode::kNotFound, "no route for " + call.request.path));
  }
}

void ApiService::Impl::GetHead(Call& call) {
  std::shared_ptr<const internal::HeadResponse> h = head.load(std::memory_order_acquire);
  const std::string* inm = call.request.FindHeader("if-none-match");
  http::Response r;
  if (inm != nullptr && internal::IfNoneMatchHits(*inm, h->etag)) {
    r.status = 304;
  } else {
    r.status = 200;
    r.headers.emplace_back("Content-Type", std::string(kJsonContentType));
    r.body = h->body;
  }
  r.headers.emplace_back("ETag", h->etag);
  r.headers.emplace_back("Cache-Control", "no-cache");
  Finish(call, std::move(r));
}

namespace {

// 410 for a version retention pruned: its leaf hash stays, so proofs still cover it.
Error PrunedError(std::uint64_t version, std::uint64_t pruned_through) {
  return Error(ErrorCode::kPruned,
               "version " + std::to_string(version) + " was pruned by retention (versions 1.." +
                   std::to_string(pruned_through) +
                   " are no longer served; their leaf hashes and proofs remain)");
}

}  // namespace

void ApiService::Impl::GetRecord(Call& call) {
  std::optional<std::uint64_t> version = internal::ParseVersion(call.match.param);
  const std::uint64_t head_version = head.load(std::memory_order_acquire)->version;
  if (!version.has_value() || *version == 0 || *version > head_version) {
    return Fail(call,
                Error(ErrorCode::kNotFound, "no version " + std::string(call.match.param) +
                                                " (HEAD is " + std::to_string(head_version) + ")"));
  }
  if (const std::uint64_t pruned = deps.registry->pruned_through(); *version <= pruned) {
    return Fail(call, PrunedError(*version, pruned));
  }
  std::shared_ptr<internal::CachedRecord> rec = records.Get(*version);
  if (rec == nullptr) {
    util::Result<std::optional<std::string>> bytes = deps.store->ReadRecord(*version);
    if (!bytes.ok() && bytes.error().code() == ErrorCode::kPruned) {
      return Fail(call, PrunedError(*version, deps.registry->pruned_through()));
    }
    if (!bytes.ok()) return Fail(call, Error(ErrorCode::kInternal, bytes.error().message()));
    if (!bytes->has_value()) {
      return Fail(call, Error(ErrorCode::kNotFound, "no version " + std::to_string(*version)));
    }
    rec = records.Put(*version, std::make_shared<const std::string>(std::move(**bytes)));
  }
  http::Response r;
  r.headers.emplace_back("ETag", rec->etag);
  r.headers.emplace_back("Cache-Control", "public, max-age=31536000, immutable");
  r.headers.emplace_back("Vary", "Accept-Encoding");
  const std::string* inm = call.request.FindHeader("if-none-match");
  if (inm != nullptr && internal::IfNoneMatchHits(*inm, rec->etag)) {
    r.status = 304;
    return Finish(call, std::move(r));
  }
  r.status = 200;
  r.headers.emplace_back("Content-Type", std::string(kJsonContentType));
  const std::string* ae = call.request.FindHeader("accept-encoding");
  if (ae != nullptr && internal::AcceptsGzip(*ae)) {
    // Records are immutable, so a racing double compression yields identical bytes.
    if (rec->gzip == nullptr) {
      rec->gzip = std::make_shared<const std::string>(internal::Gzip(*rec->body));
    }
    r.headers.emplace_back("Content-Encoding", "gzip");
    r.body = rec->gzip;
  } else {
    r.body = rec->body;
  }
  Finish(call, std::move(r));
}

void ApiService::Impl::GetCheckpoint(Call& call) {
  util::Result<http::Response> r = internal::CheckpointResponse(deps);
  if (!r.ok()) return Fail(call, r.error());
  Finish(call, std::move(r).value());
}

void ApiService::Impl::GetProof(Call call) {
  if (deps.merkle_log == nullptr) {
    return Fail(call, Error(ErrorCode::kNotFound, "proofs are not served by this registry"));
  }
  const std::uint64_t head_version = deps.registry->Head()->head.version;
  const internal::ProofQuery::Kind kind = call.match.route == Route::kRegistryProofInclusion
                                              ? internal::ProofQuery::Kind::kInclusion
                                              : internal::ProofQuery::Kind::kConsistency;
  util::Result<internal::ProofQuery> q =
      internal::ParseProofQuery(kind, call.request.query, head_version);
  if (!q.ok()) return Fail(call, q.error());
  auto respond = [this, head_version](Call& c, const internal::ProofQuery& query) {
    util::Result<http::Response> r = internal::ProofResponse(deps, query, head_version);
    if (!r.ok()) return Fail(c, r.error());
    Finish(c, std::move(r).value());
  };
  if (!internal::ProofNeedsLoad(deps, *q) || deps.workers == nullptr) return respond(call, *q);
  // A cold log loads from the store first: not on an I/O thread.
  auto shared = std::make_shared<Call>(std::move(call));
  const internal::ProofQuery query = *q;
  if (!deps.workers->Submit([shared, query, respond] { respond(*shared, query); })) {
    Fail(*shared, Error(ErrorCode::kNotReady, "the service is shutting down"));
  }
}

void ApiService::Impl::ListProposals(Call& call) {
  std::size_t limit = 50;
  if (std::optional<std::string_view> l = internal::QueryParam(call.request.query, "limit")) {
    std::optional<std::uint64_t> n = internal::ParseVersion(*l);
    if (!n.has_value() || *n == 0 || *n > options.max_list_limit) {
      return Fail(call, Error(ErrorCode::kMalformed, "limit: must be an integer from 1 to " +
                                                         std::to_string(options.max_list_limit)));
    }
    limit = *n;
  }
  std::string_view after;
  if (std::optional<std::string_view> a = internal::QueryParam(call.request.query, "after")) {
    if (!model::IsWellFormedProposalId(*a)) {
      return Fail(call, Error(ErrorCode::kMalformed, "after: must be a proposal id"));
    }
    after = *a;
  }
  std::vector<core::ProposalView> page = deps.registry->ListPending(limit, after);
  std::string body = "{\"next\":";
  if (page.size() == limit) {
    AppendString(body, page.back().proposal_id);
  } else {
    body += "null";
  }
  body += ",\"proposals\":[";
  for (std::size_t i = 0; i < page.size(); ++i) {
    if (i > 0) body += ',';
    body += EncodeProposalSummary(page[i]);
  }
  body += "]}";
  http::Response r = JsonResponse(200, std::move(body));
  r.headers.emplace_back("Cache-Control", "no-cache");
  Finish(call, std::move(r));
}

void ApiService::Impl::GetProposal(Call& call) {
  if (!model::IsWellFormedProposalId(call.match.param)) {
    return Fail(call, Error(ErrorCode::kNotFound, "no proposal " + std::string(call.match.param)));
  }
  util::Result<core::ProposalView> view = deps.registry->GetProposal(call.match.param);
  if (!view.ok()) return Fail(call, view.error());
  http::Response r = JsonResponse(200, EncodeProposalView(*view));
  r.headers.emplace_back("Cache-Control", "no-cache");
  Finish(call, std::move(r));
}

util::Status ApiService::Impl::AdmitWrite(const Call& call) {
  if (deps.verifier != nullptr) {
    const std::string* authz = call.request.FindHeader("authorization");
    REGISTRY_RETURN_IF_ERROR(deps.verifier->Verify(authz == nullptr ? std::string_view() : *authz,
                                                   ScopeFor(call.match.route),
                                                   deps.clock->NowMillis()));
  }
  if (deps.gate->frozen()) {
    return Error(ErrorCode::kFrozen, "the registry is frozen by an operator; reads work");
  }
  if (deps.gate->storage_fault()) {
    return Error(ErrorCode::kNotReady, "the write plane is not ready (storage fault)");
  }
  if (!IsJsonContentType(call.request.FindHeader("content-type")) &&
      (call.match.route == Route::kRegistryProposals || !call.request.body.empty())) {
    return Error(ErrorCode::kUnsupportedMediaType, "Content-Type must be application/json");
  }
  if (call.match.route != Route::kRegistryProposals &&
      !model::IsWellFormedProposalId(call.match.param)) {
    return Error(ErrorCode::kNotFound, "no proposal " + std::string(call.match.param));
  }
  return util::Status::Ok();
}

void ApiService::Impl::SubmitWrite(Call call) {
  auto shared = std::make_shared<Call>(std::move(call));
  bool queued = deps.workers->Submit([this, shared] { Write(std::move(*shared)); });
  if (!queued) Fail(*shared, Error(ErrorCode::kNotReady, "the service is shutting down"));
}

void ApiService::Impl::Write(Call call) {
  core::AuditEvent event;
  event.corr_id = call.corr_id;
  core::AuditAttachment attach;
  util::Result<http::Response> response = Error(ErrorCode::kInternal, "unset");
  switch (call.match.route) {
    case Route::kRegistryProposals:
      event.action = "propose";
      break;
    case Route::kRegistryApproval:
      event.action = "approve";
      event.proposal_id = std::string(call.match.param);
      break;
    default:
      event.action = "commit";
      event.proposal_id = std::string(call.match.param);
      break;
  }
  if (util::Status admitted = AdmitWrite(call); !admitted.ok()) {
    response = std::move(admitted).error();
  } else if (call.match.route == Route::kRegistryProposals) {
    response = Propose(call, event, attach);
  } else if (call.match.route == Route::kRegistryApproval) {
    response = Approve(call, event, attach);
  } else {
    response = Commit(call, event, attach);
  }
  if (!response.ok() && response.error().code() == ErrorCode::kInternal) {
    // The core's only internal errors are storage faults, and a failed store call changed
    // nothing: the write plane goes unready until the housekeeping probe sees the store
    // heal, and the client may retry the same request then.
    deps.gate->SetStorageFault(true);
    response = Error(ErrorCode::kNotReady, "storage fault, nothing was written (retry later): " +
                                               response.error().message());
  }
  event.accepted = response.ok();
  if (!response.ok()) event.reason = std::string(util::ErrorCodeName(response.error().code()));
  if (deps.audit != nullptr) {
    util::Status audited = util::Status::Ok();
    if (attach.stored.has_value()) {
      // Stored with the write, as accepted. Should the request still fail after that (the
      // proposal went stale meanwhile), the trail also says what the client was told.
      deps.audit->NoteStored(*attach.stored);
      if (!response.ok()) audited = deps.audit->Record(event);
    } else {
      audited = deps.audit->Record(event);
    }
    if (!audited.ok()) {
      // The decision stands (a write is already durable); the trail cannot grow, so the
      // write plane goes unready until the storage fault clears.
      deps.gate->SetStorageFault(true);
      deps.metrics->CountInternalError();
    }
  }
  if (!response.ok()) return Fail(call, response.error());
  Finish(call, std::move(response).value());
}

core::AuditAttachment* ApiService::Impl::Attach(core::AuditAttachment& attach,
                                                const core::AuditEvent& event) {
  if (deps.audit == nullptr || !deps.audit->chained()) return nullptr;
  attach.log = deps.audit;
  attach.event = event;
  attach.event.accepted = true;
  return &attach;
}

util::Result<http::Response> ApiService::Impl::Propose(Call& call, core::AuditEvent& event,
                                                       core::AuditAttachment& attach) {
  REGISTRY_ASSIGN_OR_RETURN(json::Value body, json::Parse(call.request.body));
  model::PayloadLimits limits = deps.registry->options().payload_limits;
  REGISTRY_ASSIGN_OR_RETURN(model::CanonicalPayload payload,
                            model::DecodeProposeRequest(body, limits));
  event.proposal_id = payload.proposal_id;
  event.payload_b3 = payload.payload_b3;
  util::Result<core::ProposeOutcome> out =
      deps.registry->Propose(std::move(payload), Attach(attach, event));
  if (!out.ok()) {
    if (out.error().code() == ErrorCode::kBusy) {
      deps.metrics->CountRejected(metrics::RejectReason::kPendingCap);
    }
    return std::move(out).error();
  }
  deps.metrics->SetPendingProposals(deps.registry->pending_count());
  const core::ProposalView& v = out->proposal;
  std::string json = "{\"expires_at\":";
  AppendString(json, util::FormatRfc3339Seconds(v.expires_at));
  json += ",\"payload_b3\":";
  AppendString(json, v.payload_b3);
  json += ",\"proposal_id\":";
  AppendString(json, v.proposal_id);
  json += ",\"status\":";
  AppendString(json, model::ProposalStatusName(v.status));
  json += "}";
  http::Response r = JsonResponse(out->created ? 202 : 200, std::move(json));
  r.headers.emplace_back("Cache-Control", std::string(kNoStore));
  r.headers.emplace_back("Location", "/registry/proposals/" + v.proposal_id);
  return r;
}

util::Result<http::Response> ApiService::Impl::Approve(Call& call, core::AuditEvent& event,
                                                       core::AuditAttachment& attach) {
  REGISTRY_ASSIGN_OR_RETURN(json::Value body, json::Parse(call.request.body));
  REGISTRY_ASSIGN_OR_RETURN(model::Approval approval, model::DecodeApproval(body, "body"));
  event.signer_id = approval.signer_id;
  util::Result<core::ApproveOutcome> out = deps.registry->Approve(
      call.match.param, std::move(approval), call.corr_id, Attach(attach, event));
  if (!out.ok()) {
    return std::move(out).error();
  }
  deps.metrics->ObserveApprovalVerify(metrics::SigAlgo::kEd25519, out->verify_seconds);
  std::string json = "{\"approvals\":" + std::to_string(out->approvals);
  if (out->committed.has_value()) {
    json += ",\"committed\":" + EncodeCommitOutcome(*out->committed);
    event.payload_b3 = out->committed->payload_b3;
    deps.metrics->CountUpdate(metrics::UpdateResult::kCommitted);
  }
  json += ",\"quorum\":" + EncodeQuorum(out->quorum_m, out->quorum_n) + ",\"status\":\"accepted\"}";
  deps.metrics->SetPendingProposals(deps.registry->pending_count());
  http::Response r = JsonResponse(200, std::move(json));
  r.headers.emplace_back("Cache-Control", std::string(kNoStore));
  return r;
}

util::Result<http::Response> ApiService::Impl::Commit(Call& call, core::AuditEvent& event,
                                                      core::AuditAttachment& attach) {
  auto started = std::chrono::steady_clock::now();
  util::Result<core::CommitOutcome> out =
      deps.registry->Commit(call.match.param, call.corr_id, Attach(attach, event));
  if (!out.ok()) {
    deps.metrics->CountUpdate(metrics::UpdateResult::kRejected);
    if (out.error().code() == ErrorCode::kChainMismatch) deps.metrics->CountCommitCasFail();
    return std::move(out).error();
  }
  event.payload_b3 = out->payload_b3;
  if (out->created) {
    deps.metrics->ObserveCommitLatency(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    deps.metrics->CountUpdate(metrics::UpdateResult::kCommitted);
  }
  deps.metrics->SetPendingProposals(deps.registry->pending_count());
  http::Response r = JsonResponse(out->created ? 201 : 200, EncodeCommitOutcome(*out));
  r.headers.emplace_back("Cache-Control", std::string(kNoStore));
  return r;
}

void ApiService::Impl::Stream(Call& call) {
  std::optional<std::uint64_t> since;
  const std::string* last = call.request.FindHeader("last-event-id");
  std::optional<std::string_view> query = internal::QueryParam(call.request.query, "since");
  if (last != nullptr || query.has_value()) {
    std::string_view text = last != nullptr ? std::string_view(*last) : *query;
    since = internal::ParseVersion(text);
    if (!since.has_value()) {
      return Fail(call, Error(ErrorCode::kMalformed,
                              std::string(last != nullptr ? "Last-Event-ID" : "since") +
                                  ": must be a version number"));
    }
  }
  if (deps.bus->subscriber_count() >= deps.bus->max_subscribers()) {
    deps.metrics->CountRejected(metrics::RejectReason::kSseMaxClients);
    return Fail(call, Error(ErrorCode::kBusy, "too many stream subscribers (sse.max_clients)"));
  }
  // Shared by the open and close callbacks: the subscriber registered with the bus.
  struct StreamState {
    std::shared_ptr<SinkSubscriber> subscriber;
  };
  auto state = std::make_shared<StreamState>();
  http::Response r;
  r.status = 200;
  r.headers.emplace_back("Content-Type", "text/event-stream");
  r.headers.emplace_back("Cache-Control", "no-cache");
  r.headers.emplace_back("X-Accel-Buffering", "no");
  http::Response::Stream s;
  s.queue_len = options.sse_queue_len;
  s.heartbeat = options.sse_heartbeat;
  bus::EventBus* bus = deps.bus;
  metrics::Metrics* m = deps.metrics;
  s.on_open = [state, bus, m, since](std::shared_ptr<http::StreamSink> sink) {
    auto subscriber = std::make_shared<SinkSubscriber>(sink);
    if (bus->Subscribe(subscriber, since) == bus::EventBus::SubscribeResult::kFull) {
      m->CountRejected(metrics::RejectReason::kSseMaxClients);
      sink->Close();
      return;
    }
    state->subscriber = std::move(subscriber);
    m->AddSseClients(1);
  };
  s.on_lagged = [m] { m->CountBusLagged(metrics::BusConsumer::kSse); };
  s.on_closed = [state, bus, m] {
    if (state->subscriber != nullptr) {
      bus->Unsubscribe(state->subscriber.get());
      m->AddSseClients(-1);
    }
  };
  r.stream = std::move(s);
  Finish(call, std::move(r));
}

}  // namespace registry::api
