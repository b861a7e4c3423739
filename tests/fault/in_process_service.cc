#include "fault/in_process_service.h"

#include <algorithm>

#include "registry/api/corr_id.h"
#include "registry/api/responses.h"
#include "registry/api/storage_probe.h"
#include "registry/crypto/blake3.h"
#include "registry/crypto/ed25519.h"
#include "registry/json/canonical.h"
#include "registry/json/parse.h"

namespace registry::fault {

InProcessService::InProcessService(ServiceOptions options) : options_(options) {
  crypto::Init();
  signers_ = registry::testing::MakeSigners("fault", options_.signers);
  governance_ = registry::testing::MakeGovernance(signers_, options_.m);
  registry_options_.auto_commit = options_.auto_commit;
}

void InProcessService::Start() {
  ASSERT_EQ(server_, nullptr) << "already started";

  util::Result<std::unique_ptr<core::Registry>> opened =
      core::Registry::Open(&faulty_, &clock_, governance_, registry_options_);
  ASSERT_TRUE(opened.ok()) << opened.error().message();
  registry_ = std::move(opened).value();

  if (options_.audit) {
    util::Result<std::unique_ptr<core::AuditLog>> audit = core::AuditLog::Open(&faulty_, &clock_);
    ASSERT_TRUE(audit.ok()) << audit.error().message();
    audit_ = std::move(audit).value();
  }

  bus::EventBus::Options bus_options;
  bus_ = std::make_unique<bus::EventBus>(
      bus_options, [this] { return registry_->Head()->head; }, [this] { dropped_.fetch_add(1); });
  bus_->Seed(registry_->RecentEvents(bus_options.window));

  workers_ = std::make_unique<util::ThreadPool>(options_.workers);
  api::Deps deps;
  deps.registry = registry_.get();
  deps.store = &faulty_;
  deps.metrics = &metrics_;
  deps.bus = bus_.get();
  deps.verifier = nullptr;  // auth.mode = none
  deps.clock = &clock_;
  deps.workers = workers_.get();
  deps.gate = &gate_;
  deps.audit = audit_.get();
  api::ApiOptions api_options;
  api_options.build = api::BuildInfo{"0.0.0-fault-test", "none"};
  api_options.record_cache_entries = options_.record_cache_entries;
  api_options.sse_queue_len = options_.sse_queue_len;
  api_service_ = std::make_unique<api::ApiService>(deps, api_options, nullptr);
  admin_service_ = std::make_unique<api::AdminService>(deps, api_options, nullptr);
  registry_->SetCommitListener(api_service_.get());

  http::HttpServer::Options server_options;
  server_options.threads = options_.io_threads;
  server_options.api = http::ListenerConfig{"127.0.0.1", 0, api_service_.get(), true};
  server_options.admin = http::ListenerConfig{"127.0.0.1", 0, admin_service_.get(), false};
  // As in run.cc: errors the server decides itself get the SPEC §2.3 body.
  server_options.error_body = [this](int status, std::string_view code, std::string_view message,
                                     const http::Request* request) {
    std::string corr;
    if (request != nullptr) {
      const std::string* c = request->FindHeader("x-corr-id");
      if (c != nullptr && api::IsAcceptableCorrId(*c)) corr = *c;
    }
    if (corr.empty()) corr = api::NewUlid(clock_.NowMillis());
    http::Response r = api::ErrorResponse(status, code, message, corr);
    r.headers.emplace_back("X-Registry-Version", std::to_string(registry_->Head()->head.version));
    r.headers.emplace_back("X-Corr-ID", corr);
    return r;
  };
  util::Result<std::unique_ptr<http::HttpServer>> server =
      http::HttpServer::Create(std::move(server_options));
  ASSERT_TRUE(server.ok()) << server.error().message();
  util::Status started = (*server)->Start();
  ASSERT_TRUE(started.ok()) << started.error().message();
  server_ = std::move(server).value();
}

InProcessService::~InProcessService() { Stop(); }

void InProcessService::Stop() {
  // A write stuck in the store would keep a worker (and Stop) waiting forever.
  faulty_.Heal();
  if (server_ != nullptr) server_->Stop();
  if (workers_ != nullptr) workers_->Stop();
  if (audit_ != nullptr) audit_->Stop();
}

std::uint16_t InProcessService::api_port() const { return server_->api_port(); }
std::uint16_t InProcessService::admin_port() const { return server_->admin_port(); }

bool InProcessService::HousekeepingProbe() {
  // What the service's housekeeping thread runs once a second (apps/svc-registry/run.cc).
  return api::ProbeStorage(*registry_, audit_.get(), gate_, nullptr) !=
         api::ProbeResult::kStillFaulty;
}

// ---- Payloads and requests ----

json::Value Payload(std::uint64_t version, const std::string& prev_hash,
                    const model::Governance& governance, const std::string& tag) {
  return registry::testing::MakePayloadValue(version, prev_hash, governance, 2, tag);
}

std::string ProposeBody(const json::Value& payload) {
  return R"({"schema_version":"1.0.0","payload":)" + json::Canonicalize(payload) + "}";
}

HttpResponse PostProposal(HttpClient& client, const json::Value& payload, const Headers& headers) {
  Headers h = headers;
  h.emplace_back("Content-Type", "application/json");
  return client.Request("POST", "/registry/proposals", h, ProposeBody(payload));
}

HttpResponse PostApproval(HttpClient& client, std::string_view proposal_id,
                          const model::Approval& approval, const Headers& headers) {
  Headers h = headers;
  h.emplace_back("Content-Type", "application/json");
  return client.Request("POST", "/registry/approvals/" + std::string(proposal_id), h,
                        json::Canonicalize(model::EncodeApproval(approval)));
}

HttpResponse PostCommit(HttpClient& client, std::string_view proposal_id, const Headers& headers) {
  return client.Request("POST", "/registry/commit/" + std::string(proposal_id), headers);
}

::testing::AssertionResult HasStatus(const HttpResponse& r, int status) {
  if (r.status == status) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "expected status " << status << ", got " << r.Describe() << "\n"
         << r.body;
}

::testing::AssertionResult IsError(const HttpResponse& r, int status, std::string_view code) {
  if (r.status != status) {
    return ::testing::AssertionFailure()
           << "expected " << status << " " << code << ", got " << r.Describe() << "\n"
           << r.body;
  }
  util::Result<json::Value> body = json::Parse(r.body);
  const json::Value* error = body.ok() ? body->Find("error") : nullptr;
  const json::Value* c = error != nullptr ? error->Find("code") : nullptr;
  if (c == nullptr || !c->is_string() || c->as_string() != code) {
    return ::testing::AssertionFailure() << "expected code " << code << " in " << r.body;
  }
  if (status == 429 || status == 503) {
    std::optional<std::string> ra = r.Header("retry-after");
    if (!ra || ra->empty() ||
        !std::all_of(ra->begin(), ra->end(), [](char ch) { return ch >= '0' && ch <= '9'; }) ||
        std::stoll(*ra) < 1) {
      return ::testing::AssertionFailure()
             << status << " without a positive Retry-After: " << r.Describe();
    }
  }
  return ::testing::AssertionSuccess();
}

std::int64_t VersionOf(const std::string& body) {
  util::Result<json::Value> v = json::Parse(body);
  if (!v.ok()) return -1;
  const json::Value* version = v->Find("version");
  if (version == nullptr) return -1;
  return version->AsSafeInteger().value_or(-1);
}

std::string StringOf(const std::string& body, std::string_view name) {
  util::Result<json::Value> v = json::Parse(body);
  if (!v.ok()) return "";
  const json::Value* s = v->Find(name);
  if (s == nullptr || !s->is_string()) return "";
  return s->as_string();
}

// ---- Fixture ----

void FaultServiceTest::StartService(ServiceOptions options) {
  svc_ = std::make_unique<InProcessService>(options);
  ASSERT_NO_FATAL_FAILURE(svc_->Start());
  api_ = std::make_unique<HttpClient>(svc_->api_port());
  admin_ = std::make_unique<HttpClient>(svc_->admin_port());
  ASSERT_TRUE(api_->connected()) << api_->connect_error();
  ASSERT_TRUE(admin_->connected()) << admin_->connect_error();
  head_version_ = 0;
  head_b3_ = crypto::ZeroB3();
}

void FaultServiceTest::TearDown() {
  api_.reset();
  admin_.reset();
  if (svc_ != nullptr) svc_->Stop();
  svc_.reset();
}

json::Value FaultServiceTest::NextPayload(const std::string& tag) const {
  return Payload(head_version_ + 1, head_b3_, svc_->governance(), tag);
}

FaultServiceTest::Proposed FaultServiceTest::IdentityOf(const json::Value& payload) {
  model::CanonicalPayload cp = registry::testing::MakeCanonical(payload);
  return Proposed{cp.proposal_id, cp.payload_b3, cp.payload.version};
}

FaultServiceTest::Proposed FaultServiceTest::ProposeNext(const std::string& tag) {
  json::Value payload = NextPayload(tag);
  HttpResponse r = PostProposal(*api_, payload);
  EXPECT_TRUE(HasStatus(r, 202)) << "propose " << tag;
  return IdentityOf(payload);
}

model::Approval FaultServiceTest::SignWith(int i, const std::string& payload_b3) const {
  return registry::testing::Sign(svc_->signers().at(static_cast<std::size_t>(i)), payload_b3,
                                 svc_->clock().NowMillis());
}

void FaultServiceTest::CommitNext(const std::string& tag) {
  json::Value payload = NextPayload(tag);
  Proposed p = IdentityOf(payload);
  ASSERT_TRUE(HasStatus(PostProposal(*api_, payload), 202)) << "propose " << tag;
  for (std::uint32_t i = 0; i < svc_->governance().m; ++i) {
    ASSERT_TRUE(HasStatus(
        PostApproval(*api_, p.proposal_id, SignWith(static_cast<int>(i), p.payload_b3)), 200))
        << "approve " << tag;
  }
  HttpResponse c = PostCommit(*api_, p.proposal_id);
  ASSERT_TRUE(HasStatus(c, 201)) << "commit " << tag;
  ASSERT_EQ(VersionOf(c.body), static_cast<std::int64_t>(head_version_ + 1));
  head_version_ += 1;
  head_b3_ = p.payload_b3;
}

}  // namespace registry::fault
