// The integration-test fixture: one real svc-registry process per test, started on port 0
// with the memory store, a trust-roots file and a macaroon root key in a private temporary
// directory, and driven over HTTP on 127.0.0.1.
//
// ServiceTest owns the directory, the process and two keep-alive clients (API plane and
// admin plane). Tests pick the trust roots (the golden vectors' signers, or signers
// generated in-test for fast multi-version flows), start the service with extra `--set`
// flags, and use the helpers to propose, approve and commit. TearDown checks that no
// request was answered with an unexpected 5xx, then stops the service with SIGTERM and
// asserts exit code 0 and the "stopped" log line (graceful shutdown is part of the
// contract); after a failure it kills the process instead and prints its log tail.
//
// Also here: a Prometheus text parser, JSON accessors and assertion helpers for the error
// body of SPEC §2.3. Tests only; not thread-safe except where a member says so.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http_client.h"
#include "registry/auth/root_key.h"
#include "registry/auth/scope.h"
#include "registry/json/value.h"
#include "registry/model/approval.h"
#include "registry/model/governance.h"
#include "service_process.h"
#include "testing/fixtures.h"

namespace registry::itest {

// ---- JSON ----

// Parses `text`; on failure records a test failure and returns null.
json::Value ParseJsonOrFail(std::string_view text);
// The value at `path` (object member names), or nullptr.
const json::Value* JsonAt(const json::Value& v, std::initializer_list<std::string_view> path);
// The string at `path`, or "<absent>" / "<not a string>".
std::string JsonStr(const json::Value& v, std::initializer_list<std::string_view> path);
// The integer at `path`, or nullopt.
std::optional<std::int64_t> JsonInt(const json::Value& v,
                                    std::initializer_list<std::string_view> path);

// ---- Assertions ----

// `r` has `status` and the SPEC §2.3 error body with `code`, a message, a corr_id equal to
// the X-Corr-ID header and a details object; 429 and 503 also carry Retry-After.
::testing::AssertionResult IsError(const HttpResponse& r, int status, std::string_view code);
// `r` has `status` (prints the whole response otherwise).
::testing::AssertionResult HasStatus(const HttpResponse& r, int status);

// ---- Metrics ----

struct MetricSample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct MetricsText {
  std::string body;
  std::vector<MetricSample> samples;
  std::map<std::string, std::string> types;  // family name -> TYPE

  // The value of the one sample `name` whose labels include `labels`, or nullopt.
  std::optional<double> Value(std::string_view name,
                              const std::map<std::string, std::string>& labels = {}) const;
  // Samples named exactly `name`.
  std::vector<const MetricSample*> Named(std::string_view name) const;
};

MetricsText ParseMetrics(std::string body);

// ---- Fixture ----

// Outcome of a helper that drives a whole write flow; `ok` false means a failure has been
// recorded already.
struct Committed {
  bool ok = false;
  std::uint64_t version = 0;
  std::string payload_b3;
  std::string committed_at;
  std::string proposal_id;
  std::string corr_id;
  json::Value payload;    // as proposed
  HttpResponse response;  // the response that committed (commit, or the last approval)
};

class ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Trust roots. Default: UseGeneratedTrustRoots(3, 2).
  void UseVectorTrustRoots();
  void UseGeneratedTrustRoots(int n, std::uint32_t m);

  // Starts the service with the standard flags plus `extra` (e.g. "--set", "k=v").
  // Use with ASSERT_NO_FATAL_FAILURE.
  void StartService(const std::vector<std::string>& extra = {});
  // Convenience: each element "key=value" becomes "--set key=value".
  void StartServiceWith(std::initializer_list<std::string> settings);
  // Closes the clients, stops the service (SIGTERM) and asserts a graceful exit.
  void StopServiceGracefully();

  std::uint16_t api_port() const { return service_->api_port(); }
  std::uint16_t admin_port() const { return service_->admin_port(); }
  ServiceProcess& service() { return *service_; }

  // Tokens minted from the service's root key (SPEC §6).
  std::string Token(std::initializer_list<auth::Scope> scopes,
                    std::chrono::seconds valid_for = std::chrono::hours(1));
  std::string ExpiredToken(std::initializer_list<auth::Scope> scopes);
  static std::string Bearer(const std::string& token) { return "Bearer " + token; }
  // A token with every write scope (propose, approve, commit).
  const std::string& writer_token();
  const std::string& admin_token();

  // Requests on the persistent API-plane and admin-plane clients.
  HttpResponse Get(std::string_view target, const Headers& headers = {});
  HttpResponse Post(std::string_view target, std::string_view body, const Headers& headers = {});
  HttpResponse AdminGet(std::string_view target, const Headers& headers = {});
  HttpResponse AdminPost(std::string_view target, const Headers& headers = {});

  // Write flow. Post* helpers add the writer token and JSON content type unless `headers`
  // names an authorization or content type of its own.
  static std::string ProposeBody(const json::Value& payload);
  HttpResponse PostJson(std::string_view target, std::string_view body,
                        const Headers& headers = {});
  HttpResponse PostProposal(const json::Value& payload, const Headers& headers = {});
  HttpResponse PostApproval(std::string_view proposal_id, const model::Approval& approval,
                            const Headers& headers = {});
  HttpResponse PostApprovalJson(std::string_view proposal_id, std::string_view body,
                                const Headers& headers = {});
  HttpResponse PostCommit(std::string_view proposal_id, const Headers& headers = {});
  HttpResponse Freeze(bool freeze);

  // A payload for version head+1 on the tracked HEAD with the current governance.
  json::Value NextPayload(int items = 2, const std::string& tag = "x");
  // Signs `payload_b3` with generated signer `i`.
  model::Approval SignWith(int i, const std::string& payload_b3) const;
  // Proposes, approves with the first m generated signers and commits (unless auto-commit
  // fired); the commit request (or the last approval) carries X-Corr-ID `corr_id` when
  // given. Updates the tracked HEAD.
  Committed CommitNext(const std::string& corr_id = "", int items = 2);
  // Re-reads HEAD from the service into the tracked HEAD.
  void SyncHead();

  MetricsText FetchMetrics();

  // The golden vectors (tests/vectors/approvals.json).
  static const json::Value& Vectors();
  // Signs `payload_b3` as a vectors signer (seed from signer_seeds_hex).
  static model::Approval SignAsVectorSigner(const std::string& signer_id,
                                            const std::string& payload_b3);

  std::filesystem::path dir_;
  std::string trust_roots_json_;
  std::optional<auth::RootKey> root_key_;
  std::unique_ptr<ServiceProcess> service_;
  std::unique_ptr<HttpClient> api_;
  std::unique_ptr<HttpClient> admin_;
  std::vector<registry::testing::TestSigner> signers_;
  model::Governance governance_;
  bool auto_commit_ = false;
  // The storage backend StartService selects; "sqlite" keeps its database in dir_/data.
  std::string storage_ = "memory";
  std::uint64_t head_version_ = 0;
  std::string head_b3_;
  // Set by a test that already stopped the service itself.
  bool stopped_ = false;
  // 503 answers the test caused on purpose (Frozen); TearDown allows exactly these.
  bool allow_503_ = false;

 private:
  std::optional<std::string> writer_token_;
  std::optional<std::string> admin_token_;
};

}  // namespace registry::itest
