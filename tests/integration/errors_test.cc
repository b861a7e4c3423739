// Every error code of SPEC §2.3, each from a real request to the real service: status, the
// JSON error body (code, message, corr_id, details) and the headers that go with it.
// Busy is in limits_test.cc and Frozen in admin_plane_test.cc; TearDown checks that none of
// these requests produced a 5xx.
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"
#include "registry/auth/token.h"
#include "registry/crypto/blake3.h"
#include "registry/json/canonical.h"
#include "registry/model/payload.h"

namespace registry::itest {
namespace {

using auth::Scope;

class ErrorsTest : public ServiceTest {
 protected:
  // Proposes the next version and returns its canonical form.
  model::CanonicalPayload ProposeNext(const std::string& tag = "x") {
    json::Value payload = NextPayload(2, tag);
    model::CanonicalPayload cp = registry::testing::MakeCanonical(payload);
    EXPECT_TRUE(HasStatus(PostProposal(payload), 202));
    return cp;
  }
};

TEST_F(ErrorsTest, MalformedBodies) {
  ASSERT_NO_FATAL_FAILURE(StartService());
  const json::Value payload = NextPayload();
  const std::string good = ProposeBody(payload);

  EXPECT_TRUE(IsError(PostJson("/registry/proposals", "{not json"), 400, "Malformed"));
  EXPECT_TRUE(IsError(PostJson("/registry/proposals", ""), 400, "Malformed"));
  // Not I-JSON: a duplicate member name, invalid UTF-8.
  EXPECT_TRUE(IsError(
      PostJson("/registry/proposals", R"({"schema_version":"1.0.0","schema_version":"1.0.0"})"),
      400, "Malformed"));
  EXPECT_TRUE(
      IsError(PostJson("/registry/proposals", "{\"schema_version\":\"\xff\"}"), 400, "Malformed"));
  // Unknown members: in the request, in the payload, in a descriptor.
  EXPECT_TRUE(
      IsError(PostJson("/registry/proposals", good.substr(0, good.size() - 1) + R"(,"extra":1})"),
              400, "Malformed"));
  json::Value extra_in_payload = payload;
  extra_in_payload.as_object().emplace_back("extra", 1);
  EXPECT_TRUE(IsError(PostProposal(extra_in_payload), 400, "Malformed"));
  json::Value extra_in_item = payload;
  for (auto& [name, value] : extra_in_item.as_object()) {
    if (name == "items") value.as_array()[0].as_object().emplace_back("colour", "red");
  }
  EXPECT_TRUE(IsError(PostProposal(extra_in_item), 400, "Malformed"));
  // Schema violations: wrong schema_version, version as a string.
  EXPECT_TRUE(IsError(PostJson("/registry/proposals", R"({"schema_version":"2.0.0","payload":)" +
                                                          json::Canonicalize(payload) + "}"),
                      400, "Malformed"));
  json::Value string_version = payload;
  for (auto& [name, value] : string_version.as_object()) {
    if (name == "version") value = "1";
  }
  EXPECT_TRUE(IsError(PostProposal(string_version), 400, "Malformed"));
  // A client-supplied payload_b3 must match the server's.
  const std::string wrong_b3 = "b3:" + std::string(64, 'a');
  EXPECT_TRUE(IsError(PostJson("/registry/proposals", good.substr(0, good.size() - 1) +
                                                          R"(,"payload_b3":")" + wrong_b3 + "\"}"),
                      400, "Malformed"));
  // Nothing of the above was stored.
  HttpResponse list = Get("/registry/proposals");
  ASSERT_TRUE(HasStatus(list, 200));
  EXPECT_EQ(ParseJsonOrFail(list.body).Find("proposals")->as_array().size(), 0u);

  // Approval bodies: missing signature, bad base64, signed_at far in the future.
  model::CanonicalPayload cp = ProposeNext();
  EXPECT_TRUE(IsError(PostApprovalJson(cp.proposal_id, R"({"signer_id":"org:itest#k0"})"), 400,
                      "Malformed"));
  EXPECT_TRUE(IsError(
      PostApprovalJson(cp.proposal_id, R"({"algo":"ed25519","sig":"!!!","signed_at":)"
                                       R"("2026-01-01T00:00:00Z","signer_id":"org:itest#k0"})"),
      400, "Malformed"));
  model::Approval future = registry::testing::Sign(
      signers_[0], cp.payload_b3,
      std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::system_clock::now().time_since_epoch() + std::chrono::hours(1))
          .count());
  EXPECT_TRUE(IsError(PostApproval(cp.proposal_id, future), 400, "Malformed"));
  // Query parameters.
  EXPECT_TRUE(IsError(Get("/registry/proposals?limit=0"), 400, "Malformed"));
  EXPECT_TRUE(IsError(Get("/registry/stream?since=abc"), 400, "Malformed"));
}

TEST_F(ErrorsTest, Unauthorized) {
  ASSERT_NO_FATAL_FAILURE(StartService());
  const json::Value payload = NextPayload();
  const std::string body = ProposeBody(payload);
  const std::string expired = ExpiredToken({Scope::kPropose, Scope::kApprove, Scope::kCommit});
  const std::string unknown = "p_" + std::string(24, '0');
  const std::vector<std::optional<std::string>> cases = {
      std::nullopt,  // no Authorization header at all
      "",
      "Bearer",
      "Bearer not-a-macaroon",
      "Basic dXNlcjpwYXNz",
      Bearer(expired),
      Bearer(writer_token() + "x"),
      Bearer(Token({Scope::kPropose}) + writer_token())};
  for (const std::optional<std::string>& authorization : cases) {
    SCOPED_TRACE(authorization.value_or("<none>").substr(0, 40));
    Headers h = {{"Content-Type", "application/json"}};
    if (authorization) h.emplace_back("Authorization", *authorization);
    EXPECT_TRUE(IsError(Post("/registry/proposals", body, h), 401, "Unauthorized"));
    EXPECT_TRUE(IsError(Post("/registry/approvals/" + unknown, "{}", h), 401, "Unauthorized"));
    EXPECT_TRUE(IsError(Post("/registry/commit/" + unknown, "", h), 401, "Unauthorized"));
  }
  // Admin routes want a token too.
  EXPECT_TRUE(IsError(AdminPost("/admin/freeze"), 401, "Unauthorized"));
  // Reads need none.
  EXPECT_TRUE(HasStatus(Get("/registry/head"), 200));
}

TEST_F(ErrorsTest, ForbiddenWithoutTheScope) {
  ASSERT_NO_FATAL_FAILURE(StartService());
  const json::Value payload = NextPayload();
  model::CanonicalPayload cp = registry::testing::MakeCanonical(payload);
  const std::string propose_only = Token({Scope::kPropose});
  const std::string approve_only = Token({Scope::kApprove});
  EXPECT_TRUE(
      IsError(PostProposal(payload, {{"Authorization", Bearer(approve_only)}}), 403, "Forbidden"));
  ASSERT_TRUE(HasStatus(PostProposal(payload, {{"Authorization", Bearer(propose_only)}}), 202));
  EXPECT_TRUE(IsError(PostApproval(cp.proposal_id, SignWith(0, cp.payload_b3),
                                   {{"Authorization", Bearer(propose_only)}}),
                      403, "Forbidden"));
  ASSERT_TRUE(HasStatus(PostApproval(cp.proposal_id, SignWith(0, cp.payload_b3),
                                     {{"Authorization", Bearer(approve_only)}}),
                        200));
  ASSERT_TRUE(HasStatus(PostApproval(cp.proposal_id, SignWith(1, cp.payload_b3),
                                     {{"Authorization", Bearer(approve_only)}}),
                        200));
  EXPECT_TRUE(IsError(PostCommit(cp.proposal_id, {{"Authorization", Bearer(approve_only)}}), 403,
                      "Forbidden"));
  // An attenuated token only narrows.
  util::Result<std::string> narrowed =
      auth::Attenuate(writer_token(), std::vector<Scope>{Scope::kPropose});
  ASSERT_TRUE(narrowed.ok());
  EXPECT_TRUE(IsError(PostCommit(cp.proposal_id, {{"Authorization", Bearer(*narrowed)}}), 403,
                      "Forbidden"));
  // The write scopes do not include admin.
  EXPECT_TRUE(IsError(AdminPost("/admin/freeze", {{"Authorization", Bearer(writer_token())}}), 403,
                      "Forbidden"));
  EXPECT_TRUE(HasStatus(PostCommit(cp.proposal_id), 201));
}

TEST_F(ErrorsTest, UnknownSigner) {
  ASSERT_NO_FATAL_FAILURE(StartService());
  model::CanonicalPayload cp = ProposeNext();
  registry::testing::TestSigner stranger = registry::testing::MakeSigner("stranger", 0);
  HttpResponse r =
      PostApproval(cp.proposal_id, registry::testing::Sign(stranger, cp.payload_b3, 0));
  EXPECT_TRUE(IsError(r, 403, "UnknownSigner"));
  // A known id with a signature by another key is not an unknown signer but a bad signature.
  model::Approval impostor = registry::testing::Sign(stranger, cp.payload_b3, 0);
  impostor.signer_id = signers_[0].id;
  EXPECT_TRUE(IsError(PostApproval(cp.proposal_id, impostor), 422, "InvalidSig"));
}

TEST_F(ErrorsTest, NotFound) {
  ASSERT_NO_FATAL_FAILURE(StartService());
  ASSERT_TRUE(CommitNext().ok);
  const std::string unknown = "p_" + std::string(24, '0');
  EXPECT_TRUE(IsError(Get("/registry/2"), 404, "NotFound"));
  EXPECT_TRUE(IsError(Get("/registry/99999999"), 404, "NotFound"));
  EXPECT_TRUE(IsError(Get("/registry/abc"), 404, "NotFound"));
  EXPECT_TRUE(IsError(Get("/registry/01"), 404, "NotFound"));
  EXPECT_TRUE(IsError(Get("/registry/proposals/" + unknown), 404, "NotFound"));
  EXPECT_TRUE(IsError(Get("/registry/proposals/not-an-id"), 404, "NotFound"));
  EXPECT_TRUE(IsError(PostApproval(unknown, SignWith(0, head_b3_)), 404, "NotFound"));
  EXPECT_TRUE(IsError(PostCommit(unknown), 404, "NotFound"));
  EXPECT_TRUE(IsError(Get("/nope"), 404, "NotFound"));
  EXPECT_TRUE(IsError(Get("/registry/1/extra"), 404, "NotFound"));
  EXPECT_TRUE(IsError(Get("/metrics"), 404, "NotFound")) << "/metrics is on the admin plane";
  EXPECT_TRUE(IsError(AdminGet("/registry/head"), 404, "NotFound"));
  EXPECT_TRUE(IsError(AdminGet("/nope"), 404, "NotFound"));
  // Request bytes quoted in a message are made valid UTF-8, so the body stays JSON
  // (found by the api_request fuzzer: fuzz/regressions/api_request/).
  for (const char* target : {"/registry/\x83", "/nope\xC0\xAF", "/registry/\xED\xA0\x80"}) {
    HttpResponse bad = Get(target);
    EXPECT_TRUE(IsError(bad, 404, "NotFound")) << target;
    EXPECT_NE(JsonStr(ParseJsonOrFail(bad.body), {"error", "message"}).find("\xEF\xBF\xBD"),
              std::string::npos)
        << bad.body;
  }
  HttpResponse bad = AdminGet("/nope\xFF");
  EXPECT_TRUE(IsError(bad, 404, "NotFound"));
}

TEST_F(ErrorsTest, MethodNotAllowedWithAllow) {
  ASSERT_NO_FATAL_FAILURE(StartService());
  struct Case {
    bool admin;
    const char* method;
    const char* target;
    const char* allow;
  };
  for (const Case& c :
       {Case{false, "DELETE", "/registry/head", "GET, HEAD"},
        Case{false, "POST", "/registry/head", "GET, HEAD"},
        Case{false, "PUT", "/registry/proposals", "GET, HEAD, POST"},
        Case{false, "GET", "/registry/commit/p_000000000000000000000000", "POST"},
        Case{false, "GET", "/registry/approvals/p_000000000000000000000000", "POST"},
        Case{false, "POST", "/registry/1", "GET, HEAD"}, Case{true, "GET", "/admin/freeze", "POST"},
        Case{true, "POST", "/metrics", "GET, HEAD"}}) {
    SCOPED_TRACE(std::string(c.method) + " " + c.target);
    HttpClient& client = c.admin ? *admin_ : *api_;
    HttpResponse r = client.Request(c.method, c.target);
    EXPECT_TRUE(IsError(r, 405, "MethodNotAllowed"));
    EXPECT_EQ(r.Header("allow"), c.allow);
  }
}

TEST_F(ErrorsTest, ChainMismatch) {
  ASSERT_NO_FATAL_FAILURE(StartService());
  // Proposals that do not sit on HEAD: wrong version, wrong prev_hash.
  EXPECT_TRUE(IsError(PostProposal(registry::testing::MakePayloadValue(5, head_b3_, governance_)),
                      409, "ChainMismatch"));
  EXPECT_TRUE(IsError(PostProposal(registry::testing::MakePayloadValue(
                          1, "b3:" + std::string(64, '1'), governance_)),
                      409, "ChainMismatch"));
  // Two competing proposals for version 1: once A commits, B is stale.
  model::CanonicalPayload a = ProposeNext("a");
  model::CanonicalPayload b = ProposeNext("b");
  ASSERT_TRUE(HasStatus(PostApproval(b.proposal_id, SignWith(0, b.payload_b3)), 200));
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(HasStatus(PostApproval(a.proposal_id, SignWith(i, a.payload_b3)), 200));
  }
  ASSERT_TRUE(HasStatus(PostCommit(a.proposal_id), 201));
  EXPECT_TRUE(
      IsError(PostApproval(b.proposal_id, SignWith(1, b.payload_b3)), 409, "ChainMismatch"));
  EXPECT_TRUE(IsError(PostCommit(b.proposal_id), 409, "ChainMismatch"));
  HttpResponse view = Get("/registry/proposals/" + b.proposal_id);
  ASSERT_TRUE(HasStatus(view, 200));
  EXPECT_EQ(JsonStr(ParseJsonOrFail(view.body), {"status"}), "stale");
  // Approving a committed proposal is refused too.
  EXPECT_TRUE(
      IsError(PostApproval(a.proposal_id, SignWith(2, a.payload_b3)), 409, "ChainMismatch"));
}

TEST_F(ErrorsTest, DuplicateApproval) {
  ASSERT_NO_FATAL_FAILURE(StartService());
  model::CanonicalPayload cp = ProposeNext();
  ASSERT_TRUE(HasStatus(PostApproval(cp.proposal_id, SignWith(0, cp.payload_b3)), 200));
  EXPECT_TRUE(
      IsError(PostApproval(cp.proposal_id, SignWith(0, cp.payload_b3)), 409, "DuplicateApproval"));
  HttpResponse view = Get("/registry/proposals/" + cp.proposal_id);
  EXPECT_EQ(ParseJsonOrFail(view.body).Find("approvals")->as_array().size(), 1u);
}

TEST_F(ErrorsTest, ProposalExpired) {
  // 1 s is the smallest TTL (docs/CONFIG.md); the service sweeps once a second.
  ASSERT_NO_FATAL_FAILURE(StartServiceWith({"governance.proposal_ttl=1s"}));
  model::CanonicalPayload cp = ProposeNext();
  ASSERT_TRUE(HasStatus(PostApproval(cp.proposal_id, SignWith(0, cp.payload_b3)), 200));
  // No event announces expiry: poll the proposal, bounded.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::string status;
  while (std::chrono::steady_clock::now() < deadline) {
    HttpResponse view = Get("/registry/proposals/" + cp.proposal_id);
    ASSERT_TRUE(HasStatus(view, 200));
    status = JsonStr(ParseJsonOrFail(view.body), {"status"});
    if (status != "pending") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  ASSERT_EQ(status, "expired");
  EXPECT_TRUE(
      IsError(PostApproval(cp.proposal_id, SignWith(1, cp.payload_b3)), 410, "ProposalExpired"));
  EXPECT_TRUE(IsError(PostCommit(cp.proposal_id), 410, "ProposalExpired"));
  HttpResponse list = Get("/registry/proposals");
  EXPECT_EQ(ParseJsonOrFail(list.body).Find("proposals")->as_array().size(), 0u);
}

TEST_F(ErrorsTest, PayloadTooLargeDecidedFromContentLength) {
  ASSERT_NO_FATAL_FAILURE(StartServiceWith({"limits.max_body_bytes=4096"}));
  // Only the header is sent: the answer must not wait for the body.
  HttpClient raw(api_port());
  ASSERT_TRUE(
      raw.Send("POST /registry/proposals HTTP/1.1\r\nHost: x\r\nContent-Type: "
               "application/json\r\nAuthorization: " +
               Bearer(writer_token()) + "\r\nContent-Length: 4097\r\n\r\n"));
  HttpResponse r = raw.ReadResponse();
  EXPECT_TRUE(IsError(r, 413, "PayloadTooLarge"));
  // At the cap it is read (and here rejected as JSON, not for its size).
  HttpResponse at_cap = PostJson("/registry/proposals", std::string(4096, ' '));
  EXPECT_TRUE(IsError(at_cap, 400, "Malformed"));
  // Without a token too: the size is checked before anything else.
  HttpClient raw2(api_port());
  ASSERT_TRUE(
      raw2.Send("POST /registry/proposals HTTP/1.1\r\nHost: x\r\n"
                "Content-Length: 999999999\r\n\r\n"));
  EXPECT_TRUE(IsError(raw2.ReadResponse(), 413, "PayloadTooLarge"));
}

TEST_F(ErrorsTest, UnsupportedMediaType) {
  ASSERT_NO_FATAL_FAILURE(StartService());
  const std::string body = ProposeBody(NextPayload());
  EXPECT_TRUE(IsError(PostJson("/registry/proposals", body, {{"Content-Type", "text/plain"}}), 415,
                      "UnsupportedMediaType"));
  EXPECT_TRUE(IsError(PostJson("/registry/proposals", body,
                               {{"Content-Type", "application/x-www-form-urlencoded"}}),
                      415, "UnsupportedMediaType"));
  // Any Content-Encoding but identity.
  HttpClient raw(api_port());
  ASSERT_TRUE(
      raw.Send("POST /registry/proposals HTTP/1.1\r\nHost: x\r\nContent-Type: "
               "application/json\r\nContent-Encoding: gzip\r\nAuthorization: " +
               Bearer(writer_token()) + "\r\nContent-Length: " + std::to_string(body.size()) +
               "\r\n\r\n" + body));
  EXPECT_TRUE(IsError(raw.ReadResponse(), 415, "UnsupportedMediaType"));
  // identity is fine, and so is a charset parameter.
  EXPECT_TRUE(HasStatus(PostJson("/registry/proposals", body,
                                 {{"Content-Type", "application/json; charset=utf-8"},
                                  {"Content-Encoding", "identity"}}),
                        202));
}

TEST_F(ErrorsTest, InvalidSig) {
  ASSERT_NO_FATAL_FAILURE(StartService());
  model::CanonicalPayload cp = ProposeNext();
  model::Approval bad = SignWith(0, cp.payload_b3);
  bad.sig[0] ^= 0x01;
  EXPECT_TRUE(IsError(PostApproval(cp.proposal_id, bad), 422, "InvalidSig"));
  // A signature over another payload_b3.
  EXPECT_TRUE(
      IsError(PostApproval(cp.proposal_id, SignWith(0, crypto::ZeroB3())), 422, "InvalidSig"));
  // Neither counted: the signer may still approve properly.
  EXPECT_TRUE(HasStatus(PostApproval(cp.proposal_id, SignWith(0, cp.payload_b3)), 200));
}

TEST_F(ErrorsTest, InvalidSigFromTheVectors) {
  ASSERT_NO_FATAL_FAILURE(UseVectorTrustRoots());
  ASSERT_NO_FATAL_FAILURE(StartService());
  const json::Value& v1 = Vectors().Find("cases")->as_array()[0];
  ASSERT_TRUE(
      HasStatus(PostJson("/registry/proposals", R"({"schema_version":"1.0.0","payload":)" +
                                                    json::Canonicalize(*v1.Find("payload")) + "}"),
                202));
  for (const json::Value& inv : Vectors().Find("invalid")->as_array()) {
    SCOPED_TRACE(JsonStr(inv, {"name"}));
    ASSERT_EQ(JsonStr(inv, {"payload_b3"}), JsonStr(v1, {"payload_b3"}));
    ASSERT_EQ(JsonStr(inv, {"expect"}), "422 InvalidSig");
    EXPECT_TRUE(IsError(PostApprovalJson(model::ProposalIdFor(JsonStr(v1, {"payload_b3"})),
                                         json::Canonicalize(*inv.Find("approval"))),
                        422, "InvalidSig"));
  }
}

TEST_F(ErrorsTest, QuorumFailed) {
  ASSERT_NO_FATAL_FAILURE(StartService());
  model::CanonicalPayload cp = ProposeNext();
  HttpResponse none = PostCommit(cp.proposal_id);
  ASSERT_TRUE(IsError(none, 422, "QuorumFailed"));
  json::Value details = *JsonAt(ParseJsonOrFail(none.body), {"error", "details"});
  EXPECT_EQ(JsonInt(details, {"current_have"}), 0);
  EXPECT_EQ(JsonInt(details, {"current_need"}), 2);
  ASSERT_TRUE(HasStatus(PostApproval(cp.proposal_id, SignWith(0, cp.payload_b3)), 200));
  HttpResponse one = PostCommit(cp.proposal_id);
  ASSERT_TRUE(IsError(one, 422, "QuorumFailed"));
  EXPECT_EQ(JsonInt(ParseJsonOrFail(one.body), {"error", "details", "current_have"}), 1);
  // HEAD did not move.
  EXPECT_EQ(Get("/registry/head").Header("x-registry-version"), "0");
}

// SPEC §2.3 also lists 410 Pruned and 503 NotReady. Neither can be reached from a request
// in this build: the memory store has no retention (nothing is ever pruned), and the write
// plane only goes unready on a storage fault, which the memory store never reports.
}  // namespace
}  // namespace registry::itest
