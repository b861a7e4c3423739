// InProcessService: the whole svc-registry stack built inside the test process, the way
// apps/svc-registry/run.cc wires it, over MemoryStore → FaultInjectingStore: core::Registry,
// core::AuditLog, bus::EventBus, api::ApiService/AdminService and http::HttpServer on
// 127.0.0.1, port 0, auth none (no verifier). Tests drive it over real HTTP (the integration
// tests' client) while they inject storage faults and inspect the inner store.
//
// The housekeeping thread of run.cc is not started: HousekeepingProbe() runs its storage
// probe once, on the caller's thread, so that a test decides when the probe happens.
//
// Also here: payload and request helpers over itest::HttpClient, and an assertion for the
// SPEC §2.3 error body. Tests only. The accessors are thread-safe (they hand out the
// thread-safe components); Start and Stop run on one thread.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "integration/http_client.h"
#include "registry/api/service.h"
#include "registry/bus/event_bus.h"
#include "registry/core/audit_log.h"
#include "registry/core/registry.h"
#include "registry/http/server.h"
#include "registry/metrics/metrics.h"
#include "registry/model/approval.h"
#include "registry/model/governance.h"
#include "registry/storage/fault_injection_store.h"
#include "registry/storage/memory_store.h"
#include "registry/util/clock.h"
#include "registry/util/thread_pool.h"
#include "testing/fixtures.h"

namespace registry::fault {

using itest::Headers;
using itest::HttpClient;
using itest::HttpResponse;

struct ServiceOptions {
  int signers = 3;
  std::uint32_t m = 2;
  bool auto_commit = false;
  bool audit = true;                     // false: deps.audit = null (no audit trail)
  std::size_t record_cache_entries = 0;  // 0: every GET /registry/{v} reads the store
  std::size_t sse_queue_len = 256;
  std::size_t io_threads = 2;
  std::size_t workers = 4;
};

class InProcessService {
 public:
  // Makes the signers and the trust roots; Start builds the rest.
  explicit InProcessService(ServiceOptions options = {});
  // Builds and starts the stack. Use with ASSERT_NO_FATAL_FAILURE: setup errors are
  // recorded as fatal failures and leave started() false.
  void Start();
  // Stops the server, the workers and the audit log, in run.cc's order.
  ~InProcessService();
  InProcessService(const InProcessService&) = delete;
  InProcessService& operator=(const InProcessService&) = delete;

  bool started() const { return server_ != nullptr; }
  void Stop();

  // The store the service writes through, and the store under it.
  storage::FaultInjectingStore& faults() { return faulty_; }
  storage::MemoryStore& inner() { return inner_; }
  core::Registry& registry() { return *registry_; }
  core::AuditLog* audit() { return audit_.get(); }
  api::WriteGate& gate() { return gate_; }
  const util::Clock& clock() const { return clock_; }
  const model::Governance& governance() const { return governance_; }
  const std::vector<registry::testing::TestSigner>& signers() const { return signers_; }
  const core::RegistryOptions& registry_options() const { return registry_options_; }
  std::uint16_t api_port() const;
  std::uint16_t admin_port() const;
  // Stream subscribers the bus dropped for lag.
  std::uint64_t dropped_subscribers() const { return dropped_.load(); }

  // One run of the storage probe of run.cc's housekeeping thread: when the gate reports a
  // storage fault, a forced checkpoint probes the store and clears the gate on success (and
  // a failed checkpoint raises it). Returns whether the gate is clear afterwards.
  bool HousekeepingProbe();

 private:
  ServiceOptions options_;
  util::SystemClock clock_;
  std::vector<registry::testing::TestSigner> signers_;
  model::Governance governance_;
  core::RegistryOptions registry_options_;
  storage::MemoryStore inner_;
  storage::FaultInjectingStore faulty_{&inner_};
  std::unique_ptr<core::Registry> registry_;
  std::unique_ptr<core::AuditLog> audit_;
  metrics::Metrics metrics_;
  std::atomic<std::uint64_t> dropped_{0};
  std::unique_ptr<bus::EventBus> bus_;
  std::unique_ptr<util::ThreadPool> workers_;
  api::WriteGate gate_;
  std::unique_ptr<api::ApiService> api_service_;
  std::unique_ptr<api::AdminService> admin_service_;
  std::unique_ptr<http::HttpServer> server_;
};

// ---- Payloads and requests ----

// A payload for `version` on `prev_hash` under `governance`, its items tagged `tag`.
json::Value Payload(std::uint64_t version, const std::string& prev_hash,
                    const model::Governance& governance, const std::string& tag);
std::string ProposeBody(const json::Value& payload);

HttpResponse PostProposal(HttpClient& client, const json::Value& payload,
                          const Headers& headers = {});
HttpResponse PostApproval(HttpClient& client, std::string_view proposal_id,
                          const model::Approval& approval, const Headers& headers = {});
HttpResponse PostCommit(HttpClient& client, std::string_view proposal_id,
                        const Headers& headers = {});

// `r` has `status` and the SPEC §2.3 error body with `code`; 503 and 429 carry a positive
// Retry-After.
::testing::AssertionResult IsError(const HttpResponse& r, int status, std::string_view code);
// `r` has `status` (prints the response otherwise).
::testing::AssertionResult HasStatus(const HttpResponse& r, int status);
// The "version" member of a JSON body, or -1.
std::int64_t VersionOf(const std::string& body);
// The string member `name` of a JSON body, or "".
std::string StringOf(const std::string& body, std::string_view name);

// ---- Fixture ----

// One InProcessService per test and a keep-alive client per plane, with helpers that track
// HEAD and drive the write flow.
class FaultServiceTest : public ::testing::Test {
 protected:
  void TearDown() override;

  // Use with ASSERT_NO_FATAL_FAILURE.
  void StartService(ServiceOptions options = {});

  struct Proposed {
    std::string proposal_id;
    std::string payload_b3;
    std::uint64_t version = 0;
  };
  // The payload for HEAD + 1 (tracked HEAD) tagged `tag`, and its identity.
  json::Value NextPayload(const std::string& tag) const;
  static Proposed IdentityOf(const json::Value& payload);
  // Proposes NextPayload(tag) and expects 202.
  Proposed ProposeNext(const std::string& tag);
  // Signer `i`'s approval of `payload_b3`, signed now.
  model::Approval SignWith(int i, const std::string& payload_b3) const;
  // Propose, approve with the first m signers, commit; expects every step to succeed and
  // updates the tracked HEAD. Use with ASSERT_NO_FATAL_FAILURE.
  void CommitNext(const std::string& tag);

  HttpResponse Get(std::string_view target) { return api_->Request("GET", target); }
  HttpResponse AdminGet(std::string_view target) { return admin_->Request("GET", target); }

  std::unique_ptr<InProcessService> svc_;
  std::unique_ptr<HttpClient> api_;
  std::unique_ptr<HttpClient> admin_;
  std::uint64_t head_version_ = 0;
  std::string head_b3_;
};

}  // namespace registry::fault
