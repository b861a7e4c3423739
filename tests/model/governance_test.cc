#include "registry/model/governance.h"

#include <gtest/gtest.h>

#include "registry/crypto/blake3.h"
#include "registry/json/canonical.h"
#include "registry/json/parse.h"
#include "testing/fixtures.h"
#include "testing/vectors.h"

namespace registry::model {
namespace {

util::Result<Governance> DecodeText(const std::string& text) {
  util::Result<json::Value> v = json::Parse(text);
  EXPECT_TRUE(v.ok()) << text;
  return DecodeGovernance(*v, "governance");
}

std::string SignerJson(const std::string& id, const std::string& pubkey_b64) {
  return R"({"id":")" + id + R"(","algo":"ed25519","pubkey":")" + pubkey_b64 + R"("})";
}

const std::string kKey = "+3SwUToksBJAUvXPagZhnLqrAmbF6miY5Bqlo8UnKZw=";

void ExpectRejected(const std::string& text, const std::string& field) {
  util::Result<Governance> r = DecodeText(text);
  ASSERT_FALSE(r.ok()) << text;
  EXPECT_EQ(r.error().code(), util::ErrorCode::kMalformed);
  EXPECT_NE(r.error().message().find(field), std::string::npos) << r.error().message();
}

TEST(GovernanceTest, SignerIdRule) {
  EXPECT_TRUE(IsValidSignerId("org:alpha#k1"));
  EXPECT_TRUE(IsValidSignerId("org:a-1#K.e_y-2"));
  EXPECT_FALSE(IsValidSignerId("org:Alpha#k1"));
  EXPECT_FALSE(IsValidSignerId("org:alpha"));
  EXPECT_FALSE(IsValidSignerId("org:#k1"));
  EXPECT_FALSE(IsValidSignerId("org:alpha#"));
  EXPECT_FALSE(IsValidSignerId("org:alpha#k#1"));
  EXPECT_FALSE(IsValidSignerId("orgx:alpha#k1"));
  EXPECT_FALSE(IsValidSignerId("org:al pha#k1"));
}

TEST(GovernanceTest, DecodesTrustRootsVector) {
  json::Value vectors = testing::LoadJsonVector("approvals.json");
  util::Result<Governance> g = DecodeGovernance(*vectors.Find("trust_roots"), "trust_roots");
  ASSERT_TRUE(g.ok()) << g.error().ToString();
  EXPECT_EQ(g->m, 3u);
  EXPECT_EQ(g->n(), 5u);
  EXPECT_NE(g->Find("org:gamma#k1"), nullptr);
  EXPECT_EQ(g->Find("org:zeta#k1"), nullptr);
  EXPECT_EQ(json::Canonicalize(EncodeGovernance(*g)),
            json::Canonicalize(*vectors.Find("trust_roots")));
}

TEST(GovernanceTest, RejectsRuleViolations) {
  std::string one = SignerJson("org:a#k1", kKey);
  ExpectRejected(R"({"quorum":{"m":0},"signers":[)" + one + "]}", "governance.quorum.m");
  ExpectRejected(R"({"quorum":{"m":2},"signers":[)" + one + "]}", "governance.quorum.m");
  ExpectRejected(R"({"quorum":{"m":1.5},"signers":[)" + one + "]}", "governance.quorum.m");
  ExpectRejected(R"({"quorum":{},"signers":[)" + one + "]}", "governance.quorum.m");
  ExpectRejected(R"({"quorum":{"m":1},"signers":[]})", "governance.signers");
  ExpectRejected(R"({"quorum":{"m":1}})", "governance.signers");
  ExpectRejected(R"({"signers":[)" + one + "]}", "governance.quorum");
  ExpectRejected(R"({"quorum":{"m":1},"signers":[)" + one + "," + one + "]}",
                 "governance.signers[1].id");
  ExpectRejected(R"({"quorum":{"m":1},"signers":[)" + SignerJson("alpha", kKey) + "]}",
                 "governance.signers[0].id");
  ExpectRejected(R"({"quorum":{"m":1},"signers":[)" + SignerJson("org:a#k1", "AAAA") + "]}",
                 "governance.signers[0].pubkey");
  ExpectRejected(R"({"quorum":{"m":1},"signers":[)" +
                     SignerJson("org:a#k1", kKey.substr(0, kKey.size() - 1)) + "]}",
                 "governance.signers[0].pubkey");
  std::string bad_algo = one;
  bad_algo.replace(bad_algo.find("ed25519"), 7, "ed448");
  ExpectRejected(R"({"quorum":{"m":1},"signers":[)" + bad_algo + "]}",
                 "governance.signers[0].algo");
}

TEST(GovernanceTest, SignerCountLimit) {
  auto many = [](int n) {
    std::string s = R"({"quorum":{"m":1},"signers":[)";
    for (int i = 0; i < n; ++i) {
      if (i > 0) s += ",";
      s += SignerJson("org:r#k" + std::to_string(i), kKey);
    }
    return s + "]}";
  };
  EXPECT_TRUE(DecodeText(many(256)).ok());
  ExpectRejected(many(257), "governance.signers");
}

TEST(GovernanceTest, EquivalenceIgnoresOrderOnly) {
  auto signers = testing::MakeSigners("eq", 4);
  Governance a = testing::MakeGovernance(signers, 2);
  Governance b = a;
  std::reverse(b.signers.begin(), b.signers.end());
  EXPECT_TRUE(a.Equivalent(b));
  Governance c = a;
  c.m = 3;
  EXPECT_FALSE(a.Equivalent(c));
  Governance d = a;
  d.signers.pop_back();
  EXPECT_FALSE(a.Equivalent(d));
  Governance e = a;
  e.signers[0].pubkey[0] ^= 1;
  EXPECT_FALSE(a.Equivalent(e));
}

TEST(GovernanceTest, TrustRootsPinnedHash) {
  json::Value vectors = testing::LoadJsonVector("approvals.json");
  std::string file = json::Canonicalize(*vectors.Find("trust_roots"));
  std::string hash = crypto::PayloadB3(file);
  EXPECT_TRUE(LoadTrustRoots(file, std::nullopt).ok());
  EXPECT_TRUE(LoadTrustRoots(file, hash).ok());
  // Pretty-printed files hash by their canonical form.
  std::string pretty =
      "{\n  \"signers\": " + json::Canonicalize(*vectors.Find("trust_roots")->Find("signers")) +
      ",\n  \"quorum\": {\"m\": 3}\n}\n";
  EXPECT_TRUE(LoadTrustRoots(pretty, hash).ok());
  std::string other = hash;
  other.back() = other.back() == '0' ? '1' : '0';
  util::Result<Governance> mismatch = LoadTrustRoots(file, other);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_NE(mismatch.error().message().find("trust_roots_hash"), std::string::npos);
  EXPECT_FALSE(LoadTrustRoots("{", std::nullopt).ok());
}

}  // namespace
}  // namespace registry::model
