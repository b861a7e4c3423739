// The golden vectors' genesis → v1 → v2 (rotation) flow over HTTP, then the read plane on
// the result: HEAD, the immutable commit records, 304s and gzip (SPEC §1.3–1.8, §2.1).
#include <zlib.h>

#include <string>
#include <vector>

#include "harness.h"
#include "registry/crypto/base64.h"
#include "registry/crypto/sha256.h"
#include "registry/json/canonical.h"
#include "registry/model/payload.h"
#include "registry/util/hex.h"
#include "registry/util/time.h"

namespace registry::itest {
namespace {

constexpr std::string_view kImmutable = "public, max-age=31536000, immutable";

std::string Gunzip(const std::string& data, bool* ok) {
  z_stream zs{};
  *ok = false;
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) return {};
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  std::string out;
  char buf[16384];
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof(buf);
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buf, sizeof(buf) - zs.avail_out);
  }
  *ok = rc == Z_STREAM_END && zs.avail_in == 0;
  inflateEnd(&zs);
  return out;
}

std::string Sha256Of(std::string_view bytes) {
  crypto::Sha256Digest d = crypto::Sha256(bytes);
  return std::string(reinterpret_cast<const char*>(d.data()), d.size());
}

// RFC 6962 leaf hash of a commit record (SPEC §5).
std::string LeafHash(std::string_view record) {
  return Sha256Of(std::string(1, '\0') + std::string(record));
}

std::vector<std::string> SignerIds(const json::Value& approvals) {
  std::vector<std::string> ids;
  if (!approvals.is_array()) return ids;
  for (const json::Value& a : approvals.as_array()) ids.push_back(JsonStr(a, {"signer_id"}));
  return ids;
}

class VectorsFlowTest : public ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    ASSERT_NO_FATAL_FAILURE(UseVectorTrustRoots());
    ASSERT_NO_FATAL_FAILURE(StartService());
  }

  static const json::Value& Case(int i) {
    return Vectors().Find("cases")->as_array().at(static_cast<std::size_t>(i));
  }
  // The governance a case's payload puts in force.
  static model::Governance CaseGovernance(int i) {
    util::Result<model::Governance> g =
        model::DecodeGovernance(*JsonAt(Case(i), {"payload", "governance"}), "governance");
    REGISTRY_CHECK(g.ok(), "vector governance must decode");
    return *g;
  }
  static std::string CaseB3(int i) { return JsonStr(Case(i), {"payload_b3"}); }
  static std::string CaseId(int i) { return model::ProposalIdFor(CaseB3(i)); }
  // The vector approval of `signer_id` in case `i`, as a request body.
  static std::string CaseApproval(int i, std::string_view signer_id) {
    for (const json::Value& a : Case(i).Find("approvals")->as_array()) {
      if (JsonStr(a, {"signer_id"}) == signer_id) return json::Canonicalize(a);
    }
    ADD_FAILURE() << "no vector approval by " << signer_id;
    return "{}";
  }

  HttpResponse ProposeCase(int i) {
    const std::string body = R"({"schema_version":"1.0.0","payload":)" +
                             json::Canonicalize(*Case(i).Find("payload")) + R"(,"payload_b3":")" +
                             CaseB3(i) + "\"}";
    return PostJson("/registry/proposals", body);
  }

  // Commits both vector cases with all their approvals (the short path, for the read-plane
  // tests).
  void CommitVectorCases() {
    for (int i = 0; i < 2; ++i) {
      ASSERT_TRUE(HasStatus(ProposeCase(i), 202));
      for (const json::Value& a : Case(i).Find("approvals")->as_array()) {
        ASSERT_TRUE(HasStatus(PostApprovalJson(CaseId(i), json::Canonicalize(a)), 200));
      }
      HttpResponse c = PostCommit(CaseId(i));
      ASSERT_TRUE(HasStatus(c, 201));
      committed_at_.push_back(JsonStr(ParseJsonOrFail(c.body), {"committed_at"}));
    }
    head_version_ = 2;
    head_b3_ = CaseB3(1);
  }

  std::vector<std::string> committed_at_;
};

TEST_F(VectorsFlowTest, GenesisHead) {
  HttpResponse r = Get("/registry/head");
  ASSERT_TRUE(HasStatus(r, 200));
  EXPECT_EQ(r.Header("content-type"), "application/json; charset=utf-8");
  EXPECT_EQ(r.Header("cache-control"), "no-cache");
  EXPECT_EQ(r.Header("x-registry-version"), "0");
  EXPECT_TRUE(r.Header("etag").has_value());
  json::Value head = ParseJsonOrFail(r.body);
  EXPECT_EQ(JsonInt(head, {"version"}), 0);
  EXPECT_EQ(JsonStr(head, {"payload_b3"}), "b3:" + std::string(64, '0'));
  ASSERT_NE(head.Find("committed_at"), nullptr);
  EXPECT_TRUE(head.Find("committed_at")->is_null());
  // The root of the empty RFC 6962 tree is SHA-256 of the empty string.
  EXPECT_EQ(JsonStr(head, {"root"}), crypto::Base64Encode(Sha256Of("")));
}

TEST_F(VectorsFlowTest, GenesisToV1ToV2Rotation) {
  // v1: a quorum (3 of 5) of the trust roots.
  HttpResponse p1 = ProposeCase(0);
  ASSERT_TRUE(HasStatus(p1, 202));
  json::Value proposal = ParseJsonOrFail(p1.body);
  EXPECT_EQ(JsonStr(proposal, {"proposal_id"}), "p_" + CaseB3(0).substr(3, 24));
  EXPECT_EQ(JsonStr(proposal, {"payload_b3"}), CaseB3(0));
  EXPECT_EQ(JsonStr(proposal, {"status"}), "pending");
  EXPECT_TRUE(util::ParseRfc3339(JsonStr(proposal, {"expires_at"})).has_value());
  EXPECT_EQ(p1.Header("location"), "/registry/proposals/" + CaseId(0));
  EXPECT_EQ(p1.Header("cache-control"), "no-store");

  int n = 0;
  for (std::string_view signer : {"org:alpha#k1", "org:beta#k1"}) {
    HttpResponse a = PostApprovalJson(CaseId(0), CaseApproval(0, signer));
    ASSERT_TRUE(HasStatus(a, 200));
    json::Value body = ParseJsonOrFail(a.body);
    EXPECT_EQ(JsonStr(body, {"status"}), "accepted");
    EXPECT_EQ(JsonInt(body, {"approvals"}), ++n);
    EXPECT_EQ(JsonInt(body, {"quorum", "m"}), 3);
    EXPECT_EQ(JsonInt(body, {"quorum", "n"}), 5);
    EXPECT_EQ(body.Find("committed"), nullptr) << "auto-commit is off";
  }
  HttpResponse short1 = PostCommit(CaseId(0));
  ASSERT_TRUE(IsError(short1, 422, "QuorumFailed"));
  json::Value details = *JsonAt(ParseJsonOrFail(short1.body), {"error", "details"});
  EXPECT_EQ(JsonInt(details, {"current_have"}), 2);
  EXPECT_EQ(JsonInt(details, {"current_need"}), 3);
  EXPECT_EQ(details.Find("next_need"), nullptr) << "v1 keeps the trust roots: no rotation";

  ASSERT_TRUE(HasStatus(PostApprovalJson(CaseId(0), CaseApproval(0, "org:gamma#k1")), 200));
  HttpResponse view = Get("/registry/proposals/" + CaseId(0));
  ASSERT_TRUE(HasStatus(view, 200));
  json::Value v = ParseJsonOrFail(view.body);
  EXPECT_EQ(JsonStr(v, {"status"}), "pending");
  EXPECT_EQ(JsonStr(v, {"payload_b3"}), CaseB3(0));
  EXPECT_EQ(SignerIds(*v.Find("approvals")).size(), 3u);
  EXPECT_EQ(JsonStr(v, {"proposal_id"}), CaseId(0));
  EXPECT_EQ(JsonInt(v, {"quorum", "m"}), 3);
  EXPECT_EQ(JsonInt(v, {"quorum", "n"}), 5);
  EXPECT_EQ(JsonStr(v, {"expires_at"}), JsonStr(proposal, {"expires_at"}));
  ASSERT_NE(v.Find("payload"), nullptr);
  EXPECT_EQ(json::Canonicalize(*v.Find("payload")), json::Canonicalize(*Case(0).Find("payload")));

  HttpResponse c1 = PostCommit(CaseId(0));
  ASSERT_TRUE(HasStatus(c1, 201));
  json::Value out1 = ParseJsonOrFail(c1.body);
  EXPECT_EQ(JsonInt(out1, {"version"}), 1);
  EXPECT_EQ(JsonStr(out1, {"payload_b3"}), CaseB3(0));
  EXPECT_EQ(c1.Header("x-registry-version"), "1");
  EXPECT_EQ(c1.Header("cache-control"), "no-store");

  // v2 rotates the governance (adds zeta): it needs 3 of the old set AND 3 of the new set.
  // alpha, beta and zeta give 2 old + 3 new: not enough.
  ASSERT_TRUE(HasStatus(ProposeCase(1), 202));
  for (std::string_view signer : {"org:alpha#k1", "org:beta#k1", "org:zeta#k1"}) {
    // zeta is not in the governance in force, but it is in the new set of a rotation.
    ASSERT_TRUE(HasStatus(PostApprovalJson(CaseId(1), CaseApproval(1, signer)), 200)) << signer;
  }
  HttpResponse short2 = PostCommit(CaseId(1));
  ASSERT_TRUE(IsError(short2, 422, "QuorumFailed"));
  details = *JsonAt(ParseJsonOrFail(short2.body), {"error", "details"});
  EXPECT_EQ(JsonInt(details, {"current_have"}), 2);
  EXPECT_EQ(JsonInt(details, {"current_need"}), 3);
  EXPECT_EQ(JsonInt(details, {"next_have"}), 3);
  EXPECT_EQ(JsonInt(details, {"next_need"}), 3);

  ASSERT_TRUE(HasStatus(PostApprovalJson(CaseId(1), CaseApproval(1, "org:gamma#k1")), 200));
  HttpResponse c2 = PostCommit(CaseId(1));
  ASSERT_TRUE(HasStatus(c2, 201));
  EXPECT_EQ(JsonInt(ParseJsonOrFail(c2.body), {"version"}), 2);

  // The committed proposal is still visible, as committed.
  HttpResponse after = Get("/registry/proposals/" + CaseId(1));
  ASSERT_TRUE(HasStatus(after, 200));
  EXPECT_EQ(JsonStr(ParseJsonOrFail(after.body), {"status"}), "committed");
}

TEST_F(VectorsFlowTest, HeadAfterV2) {
  ASSERT_NO_FATAL_FAILURE(CommitVectorCases());
  HttpResponse r = Get("/registry/head");
  ASSERT_TRUE(HasStatus(r, 200));
  EXPECT_EQ(r.Header("x-registry-version"), "2");
  EXPECT_EQ(r.Header("cache-control"), "no-cache");
  json::Value head = ParseJsonOrFail(r.body);
  EXPECT_EQ(JsonInt(head, {"version"}), 2);
  EXPECT_EQ(JsonStr(head, {"payload_b3"}), CaseB3(1));
  EXPECT_EQ(JsonStr(head, {"committed_at"}), committed_at_.at(1));
  const std::string root = JsonStr(head, {"root"});
  EXPECT_EQ(root.size(), 44u) << root;
  // RFC 6962: root(2) = SHA-256(0x01 || leaf(record 1) || leaf(record 2)).
  HttpResponse r1 = Get("/registry/1");
  HttpResponse r2 = Get("/registry/2");
  ASSERT_TRUE(HasStatus(r1, 200));
  ASSERT_TRUE(HasStatus(r2, 200));
  EXPECT_EQ(root, crypto::Base64Encode(Sha256Of("\x01" + LeafHash(r1.body) + LeafHash(r2.body))));
}

TEST_F(VectorsFlowTest, CommitRecordsAreCanonicalAndImmutable) {
  ASSERT_NO_FATAL_FAILURE(CommitVectorCases());
  const std::vector<std::vector<std::string>> expected_signers = {
      {"org:alpha#k1", "org:beta#k1", "org:gamma#k1"},
      {"org:alpha#k1", "org:beta#k1", "org:gamma#k1", "org:zeta#k1"}};
  for (int i = 0; i < 2; ++i) {
    SCOPED_TRACE("version " + std::to_string(i + 1));
    HttpResponse r = Get("/registry/" + std::to_string(i + 1));
    ASSERT_TRUE(HasStatus(r, 200));
    EXPECT_EQ(r.Header("content-type"), "application/json; charset=utf-8");
    EXPECT_EQ(r.Header("cache-control"), kImmutable);
    std::optional<std::string> etag = r.Header("etag");
    ASSERT_TRUE(etag.has_value());
    EXPECT_FALSE(etag->starts_with("W/")) << "the ETag must be strong: " << *etag;
    EXPECT_TRUE(etag->size() >= 2 && etag->front() == '"' && etag->back() == '"') << *etag;
    EXPECT_EQ(r.Header("x-registry-version"), "2");

    json::Value record = ParseJsonOrFail(r.body);
    EXPECT_EQ(json::Canonicalize(record), r.body) << "the record bytes are not JCS";
    std::vector<std::string> members;
    for (const auto& [name, value] : record.as_object()) members.push_back(name);
    EXPECT_EQ(members, (std::vector<std::string>{"approvals", "committed_at", "payload",
                                                 "payload_b3", "schema_version", "version"}));
    EXPECT_EQ(JsonStr(record, {"schema_version"}), "1.0.0");
    EXPECT_EQ(JsonInt(record, {"version"}), i + 1);
    EXPECT_EQ(JsonStr(record, {"payload_b3"}), CaseB3(i));
    std::optional<std::vector<std::uint8_t>> canonical =
        util::HexDecode(JsonStr(Case(i), {"canonical_hex"}));
    ASSERT_TRUE(canonical.has_value());
    EXPECT_EQ(json::Canonicalize(*record.Find("payload")),
              std::string(canonical->begin(), canonical->end()));
    EXPECT_EQ(JsonStr(record, {"committed_at"}), committed_at_.at(static_cast<std::size_t>(i)));
    EXPECT_EQ(JsonStr(record, {"committed_at"}).size(), 24u) << "RFC 3339 UTC with ms";
    EXPECT_TRUE(util::ParseRfc3339(JsonStr(record, {"committed_at"})).has_value());
    // Approvals sorted by signer_id, exactly the vector approvals that counted.
    const json::Value* approvals = record.Find("approvals");
    ASSERT_NE(approvals, nullptr);
    EXPECT_EQ(SignerIds(*approvals), expected_signers[static_cast<std::size_t>(i)]);
    for (const json::Value& a : approvals->as_array()) {
      EXPECT_EQ(json::Canonicalize(a), CaseApproval(i, JsonStr(a, {"signer_id"})));
    }
  }
  EXPECT_TRUE(IsError(Get("/registry/3"), 404, "NotFound"));
  EXPECT_TRUE(IsError(Get("/registry/0"), 404, "NotFound"));
}

TEST_F(VectorsFlowTest, ConditionalRequestsAnswer304) {
  ASSERT_NO_FATAL_FAILURE(CommitVectorCases());
  HttpResponse head = Get("/registry/head");
  ASSERT_TRUE(HasStatus(head, 200));
  const std::string head_etag = head.Header("etag").value_or("");
  ASSERT_FALSE(head_etag.empty());

  HttpResponse not_modified = Get("/registry/head", {{"If-None-Match", head_etag}});
  ASSERT_TRUE(HasStatus(not_modified, 304));
  EXPECT_TRUE(not_modified.body.empty());
  EXPECT_EQ(not_modified.Header("etag"), head_etag);
  EXPECT_EQ(not_modified.Header("x-registry-version"), "2");
  EXPECT_TRUE(HasStatus(Get("/registry/head", {{"If-None-Match", "\"nope\""}}), 200));

  HttpResponse record = Get("/registry/1");
  ASSERT_TRUE(HasStatus(record, 200));
  const std::string record_etag = record.Header("etag").value_or("");
  HttpResponse record_304 = Get("/registry/1", {{"If-None-Match", record_etag}});
  ASSERT_TRUE(HasStatus(record_304, 304));
  EXPECT_TRUE(record_304.body.empty());
  EXPECT_EQ(record_304.Header("etag"), record_etag);
  EXPECT_EQ(record_304.Header("cache-control"), kImmutable);
  // Another version has another ETag.
  HttpResponse record2 = Get("/registry/2", {{"If-None-Match", record_etag}});
  ASSERT_TRUE(HasStatus(record2, 200));
  EXPECT_NE(record2.Header("etag"), record_etag);

  // After the next commit, the old HEAD ETag no longer matches.
  HttpResponse p =
      PostProposal(registry::testing::MakePayloadValue(3, CaseB3(1), CaseGovernance(1), 1, "etag"));
  ASSERT_TRUE(HasStatus(p, 202));
  const std::string id = JsonStr(ParseJsonOrFail(p.body), {"proposal_id"});
  const std::string b3 = JsonStr(ParseJsonOrFail(p.body), {"payload_b3"});
  for (const char* s : {"org:alpha#k1", "org:beta#k1", "org:gamma#k1"}) {
    ASSERT_TRUE(HasStatus(PostApproval(id, SignAsVectorSigner(s, b3)), 200));
  }
  ASSERT_TRUE(HasStatus(PostCommit(id), 201));
  HttpResponse moved = Get("/registry/head", {{"If-None-Match", head_etag}});
  ASSERT_TRUE(HasStatus(moved, 200));
  EXPECT_NE(moved.Header("etag"), head_etag);
  EXPECT_EQ(JsonInt(ParseJsonOrFail(moved.body), {"version"}), 3);
}

// RFC 9110 §13.1.2: If-None-Match carries a list of entity tags (caches and proxies send
// several) and matches when any member does; "*" matches any current representation.
TEST_F(VectorsFlowTest, IfNoneMatchListsAndStar) {
  ASSERT_NO_FATAL_FAILURE(CommitVectorCases());
  for (const char* target : {"/registry/head", "/registry/1"}) {
    SCOPED_TRACE(target);
    HttpResponse r = Get(target);
    ASSERT_TRUE(HasStatus(r, 200));
    const std::string etag = r.Header("etag").value_or("");
    EXPECT_TRUE(HasStatus(Get(target, {{"If-None-Match", "\"nope\", " + etag}}), 304));
    EXPECT_TRUE(HasStatus(Get(target, {{"If-None-Match", etag + ",\"nope\""}}), 304));
    EXPECT_TRUE(HasStatus(Get(target, {{"If-None-Match", "*"}}), 304));
    EXPECT_TRUE(HasStatus(Get(target, {{"If-None-Match", "\"nope\", \"other\""}}), 200));
  }
}

TEST_F(VectorsFlowTest, GzipWhenAsked) {
  ASSERT_NO_FATAL_FAILURE(CommitVectorCases());
  for (const char* target : {"/registry/1", "/registry/2"}) {
    SCOPED_TRACE(target);
    HttpResponse plain = Get(target);
    ASSERT_TRUE(HasStatus(plain, 200));
    EXPECT_FALSE(plain.Header("content-encoding").has_value());
    HttpResponse gz = Get(target, {{"Accept-Encoding", "gzip"}});
    ASSERT_TRUE(HasStatus(gz, 200));
    EXPECT_EQ(gz.Header("content-encoding"), "gzip");
    EXPECT_NE(gz.Header("vary").value_or("").find("Accept-Encoding"), std::string::npos);
    EXPECT_EQ(gz.Header("cache-control"), kImmutable);
    EXPECT_EQ(gz.Header("etag"), plain.Header("etag"));
    bool ok = false;
    std::string unzipped = Gunzip(gz.body, &ok);
    ASSERT_TRUE(ok) << "not a complete gzip stream";
    EXPECT_EQ(unzipped, plain.body);
    // q=0 refuses gzip.
    HttpResponse refused = Get(target, {{"Accept-Encoding", "gzip;q=0, identity"}});
    ASSERT_TRUE(HasStatus(refused, 200));
    EXPECT_FALSE(refused.Header("content-encoding").has_value());
    EXPECT_EQ(refused.body, plain.body);
  }
}

// A rotation to a disjoint set of keys: the old quorum alone cannot hand the registry to the
// new keys, and the keys removed are revoked from the next version on (SPEC §1.4).
TEST_F(VectorsFlowTest, RotationToDisjointKeysNeedsNewQuorumAndRevokesOldKeys) {
  ASSERT_NO_FATAL_FAILURE(CommitVectorCases());
  signers_ = registry::testing::MakeSigners("fresh", 3);
  model::Governance fresh = registry::testing::MakeGovernance(signers_, 2);
  json::Value v3 = registry::testing::MakePayloadValue(3, CaseB3(1), fresh, 2, "rot");
  model::CanonicalPayload cp = registry::testing::MakeCanonical(v3);
  ASSERT_TRUE(HasStatus(PostProposal(v3), 202));
  for (const char* s : {"org:alpha#k1", "org:beta#k1", "org:gamma#k1"}) {
    ASSERT_TRUE(HasStatus(PostApproval(cp.proposal_id, SignAsVectorSigner(s, cp.payload_b3)), 200));
  }
  HttpResponse old_only = PostCommit(cp.proposal_id);
  ASSERT_TRUE(IsError(old_only, 422, "QuorumFailed"));
  json::Value details = *JsonAt(ParseJsonOrFail(old_only.body), {"error", "details"});
  EXPECT_EQ(JsonInt(details, {"current_have"}), 3);
  EXPECT_EQ(JsonInt(details, {"next_have"}), 0);
  EXPECT_EQ(JsonInt(details, {"next_need"}), 2);

  ASSERT_TRUE(HasStatus(PostApproval(cp.proposal_id, SignWith(0, cp.payload_b3)), 200));
  EXPECT_TRUE(IsError(PostCommit(cp.proposal_id), 422, "QuorumFailed"));
  ASSERT_TRUE(HasStatus(PostApproval(cp.proposal_id, SignWith(1, cp.payload_b3)), 200));
  ASSERT_TRUE(HasStatus(PostCommit(cp.proposal_id), 201));
  HttpResponse record = Get("/registry/3");
  ASSERT_TRUE(HasStatus(record, 200));
  EXPECT_EQ(SignerIds(*ParseJsonOrFail(record.body).Find("approvals")),
            (std::vector<std::string>{"org:alpha#k1", "org:beta#k1", "org:fresh#k0", "org:fresh#k1",
                                      "org:gamma#k1"}));

  // v4 under the fresh governance: the old keys are revoked.
  head_version_ = 3;
  head_b3_ = cp.payload_b3;
  governance_ = fresh;
  json::Value v4 = NextPayload(1, "after");
  model::CanonicalPayload cp4 = registry::testing::MakeCanonical(v4);
  ASSERT_TRUE(HasStatus(PostProposal(v4), 202));
  EXPECT_TRUE(
      IsError(PostApproval(cp4.proposal_id, SignAsVectorSigner("org:alpha#k1", cp4.payload_b3)),
              403, "UnknownSigner"));
  ASSERT_TRUE(HasStatus(PostApproval(cp4.proposal_id, SignWith(2, cp4.payload_b3)), 200));
  ASSERT_TRUE(HasStatus(PostApproval(cp4.proposal_id, SignWith(1, cp4.payload_b3)), 200));
  ASSERT_TRUE(HasStatus(PostCommit(cp4.proposal_id), 201));
}

}  // namespace
}  // namespace registry::itest
