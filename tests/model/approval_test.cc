#include "registry/model/approval.h"

#include <gtest/gtest.h>

#include "registry/crypto/base64.h"
#include "registry/crypto/blake3.h"
#include "registry/json/canonical.h"
#include "registry/json/parse.h"
#include "registry/model/payload.h"
#include "registry/util/hex.h"
#include "testing/fixtures.h"
#include "testing/vectors.h"

namespace registry::model {
namespace {

util::Result<Approval> DecodeText(const std::string& text) {
  util::Result<json::Value> v = json::Parse(text);
  EXPECT_TRUE(v.ok()) << text;
  return DecodeApproval(*v, "approval");
}

crypto::Ed25519PublicKey PubkeyOf(const json::Value& trust_roots, const std::string& id) {
  for (const json::Value& s : trust_roots.Find("signers")->as_array()) {
    if (s.Find("id")->as_string() == id) {
      auto raw = crypto::Base64Decode(s.Find("pubkey")->as_string());
      crypto::Ed25519PublicKey k{};
      std::copy(raw->begin(), raw->end(), k.begin());
      return k;
    }
  }
  ADD_FAILURE() << "no signer " << id;
  return {};
}

TEST(ApprovalTest, MessageIsContextPlusPayloadB3) {
  json::Value vectors = testing::LoadJsonVector("approvals.json");
  std::string b3 = "b3:" + std::string(64, 'a');
  std::string m = ApprovalMessage(b3);
  EXPECT_EQ(m.size(), 87u);
  EXPECT_EQ(util::HexEncode({reinterpret_cast<const std::uint8_t*>(m.data()), 20}),
            vectors.Find("context_hex")->as_string());
  EXPECT_EQ(m.substr(20), b3);
}

TEST(ApprovalTest, VectorApprovalsDecodeAndVerify) {
  json::Value vectors = testing::LoadJsonVector("approvals.json");
  json::Value roots = *vectors.Find("trust_roots");
  // Signers added by a rotation (zeta) are in the rotated payload's governance.
  const json::Array& cases = vectors.Find("cases")->as_array();
  json::Value rotated_gov = *cases[1].Find("payload")->Find("governance");
  for (const json::Value& c : cases) {
    std::string b3 = c.Find("payload_b3")->as_string();
    for (const json::Value& a : c.Find("approvals")->as_array()) {
      util::Result<Approval> approval = DecodeApproval(a, "approval");
      ASSERT_TRUE(approval.ok()) << approval.error().ToString();
      EXPECT_TRUE(VerifyApproval(*approval, PubkeyOf(rotated_gov, approval->signer_id), b3));
      EXPECT_EQ(json::Canonicalize(EncodeApproval(*approval)), json::Canonicalize(a));
      // Re-signing from the seed reproduces the signature (Ed25519 is deterministic).
      auto seed_hex = vectors.Find("signer_seeds_hex")->Find(approval->signer_id)->as_string();
      auto seed_raw = util::HexDecode(seed_hex);
      crypto::Ed25519Seed seed;
      std::copy(seed_raw->begin(), seed_raw->end(), seed.begin());
      Approval again = SignApproval(approval->signer_id, seed, b3, approval->signed_at_ms);
      EXPECT_EQ(again.sig, approval->sig);
      EXPECT_EQ(again.signed_at, approval->signed_at);
    }
  }
}

TEST(ApprovalTest, FlippedVectorSignatureDoesNotVerify) {
  json::Value vectors = testing::LoadJsonVector("approvals.json");
  const json::Value& bad = vectors.Find("invalid")->as_array()[0];
  util::Result<Approval> a = DecodeApproval(*bad.Find("approval"), "approval");
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE(VerifyApproval(*a, PubkeyOf(*vectors.Find("trust_roots"), a->signer_id),
                              bad.Find("payload_b3")->as_string()));
}

TEST(ApprovalTest, TamperingAnyByteOfCanonicalPayloadBreaksEveryApproval) {
  json::Value vectors = testing::LoadJsonVector("approvals.json");
  const json::Value& c = vectors.Find("cases")->as_array()[0];
  util::Result<CanonicalPayload> p = MakeCanonicalPayload(*c.Find("payload"), {});
  ASSERT_TRUE(p.ok());
  std::vector<std::pair<Approval, crypto::Ed25519PublicKey>> approvals;
  for (const json::Value& a : c.Find("approvals")->as_array()) {
    Approval approval = *DecodeApproval(a, "approval");
    approvals.emplace_back(approval, PubkeyOf(*vectors.Find("trust_roots"), approval.signer_id));
  }
  for (std::size_t i = 0; i < p->canonical.size(); ++i) {
    std::string tampered = p->canonical;
    tampered[i] ^= 0x01;
    std::string b3 = crypto::PayloadB3(tampered);
    ASSERT_NE(b3, p->payload_b3) << "byte " << i;
    for (const auto& [approval, key] : approvals) {
      ASSERT_FALSE(VerifyApproval(approval, key, b3)) << "byte " << i;
    }
  }
}

TEST(ApprovalTest, RejectsMalformedBodies) {
  const std::string sig(86, 'A');
  auto body = [&](const std::string& id, const std::string& algo, const std::string& s,
                  const std::string& at) {
    return R"({"signer_id":")" + id + R"(","algo":")" + algo + R"(","sig":")" + s +
           R"(","signed_at":")" + at + R"("})";
  };
  const std::string good_sig = sig + "==";
  EXPECT_TRUE(DecodeText(body("org:a#k1", "ed25519", good_sig, "2026-01-01T00:00:00Z")).ok());
  struct Case {
    std::string text;
    std::string field;
  } cases[] = {
      {body("alpha", "ed25519", good_sig, "2026-01-01T00:00:00Z"), "approval.signer_id"},
      {body("org:a#k1", "rsa", good_sig, "2026-01-01T00:00:00Z"), "approval.algo"},
      {body("org:a#k1", "ed25519", sig, "2026-01-01T00:00:00Z"), "approval.sig"},
      {body("org:a#k1", "ed25519", "AAAA", "2026-01-01T00:00:00Z"), "approval.sig"},
      {body("org:a#k1", "ed25519", good_sig, "yesterday"), "approval.signed_at"},
      {R"({"signer_id":"org:a#k1","algo":"ed25519","sig":")" + good_sig + R"("})",
       "approval.signed_at"},
      {R"({"signer_id":"org:a#k1","algo":"ed25519","sig":")" + good_sig +
           R"(","signed_at":"2026-01-01T00:00:00Z","x":1})",
       "approval.x"},
  };
  for (const Case& c : cases) {
    util::Result<Approval> r = DecodeText(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_NE(r.error().message().find(c.field), std::string::npos) << r.error().message();
  }
}

}  // namespace
}  // namespace registry::model
