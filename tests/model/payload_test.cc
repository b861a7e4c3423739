#include "registry/model/payload.h"

#include <gtest/gtest.h>

#include <random>

#include "registry/crypto/blake3.h"
#include "registry/json/canonical.h"
#include "registry/json/parse.h"
#include "registry/model/proposal.h"
#include "registry/util/hex.h"
#include "testing/fixtures.h"
#include "testing/vectors.h"

namespace registry::model {
namespace {

using testing::LoadJsonVector;

json::Value ParseOrDie(std::string_view text) {
  util::Result<json::Value> v = json::Parse(text);
  EXPECT_TRUE(v.ok()) << text;
  return std::move(v).value();
}

// A valid minimal payload as text, with `extra` spliced into the top-level object.
std::string PayloadText(const std::string& items = "[]", const std::string& extra = "") {
  testing::TestSigner s = testing::MakeSigner("alpha", 1);
  std::string gov = json::Canonicalize(EncodeGovernance(testing::MakeGovernance({s}, 1)));
  return R"({"version":1,"prev_hash":")" + crypto::ZeroB3() + R"(","governance":)" + gov +
         R"(,"items":)" + items + extra + "}";
}

// Expects a kMalformed error whose message names `field`.
void ExpectRejected(const std::string& text, const std::string& field) {
  util::Result<Payload> r = DecodePayload(ParseOrDie(text), {});
  ASSERT_FALSE(r.ok()) << text;
  EXPECT_EQ(r.error().code(), util::ErrorCode::kMalformed);
  EXPECT_NE(r.error().message().find(field), std::string::npos)
      << "message \"" << r.error().message() << "\" does not name " << field;
}

TEST(PayloadTest, VectorsCanonicalFormAndHash) {
  json::Value vectors = LoadJsonVector("approvals.json");
  const json::Array& cases = vectors.Find("cases")->as_array();
  ASSERT_GE(cases.size(), 2u);
  for (const json::Value& c : cases) {
    util::Result<CanonicalPayload> p = MakeCanonicalPayload(*c.Find("payload"), {});
    ASSERT_TRUE(p.ok()) << p.error().ToString();
    EXPECT_EQ(util::HexEncode({reinterpret_cast<const std::uint8_t*>(p->canonical.data()),
                               p->canonical.size()}),
              c.Find("canonical_hex")->as_string());
    EXPECT_EQ(p->payload_b3, c.Find("payload_b3")->as_string());
    EXPECT_EQ(p->proposal_id, "p_" + p->payload_b3.substr(3, 24));
    EXPECT_TRUE(IsWellFormedProposalId(p->proposal_id));
    // The typed encoding reproduces exactly the same canonical bytes.
    EXPECT_EQ(json::Canonicalize(EncodePayload(p->payload)), p->canonical);
  }
}

TEST(PayloadTest, AcceptsMinimalAndOptionalMembers) {
  std::string items =
      R"([{"kind":"node","id":"n:1"},{"kind":"svc_a-1","id":"A.b:c_d#e/f@g-h","endpoint":"https://x","region":"eu","meta":{"a":[1,{"b":null}]}}])";
  std::string extra =
      R"(,"created_at":"2026-01-01T00:00:00Z","expiry":"2027-01-01T00:00:00.5Z","supersede":{"reason":"DataError","note":"fix"})";
  util::Result<Payload> p = DecodePayload(ParseOrDie(PayloadText(items, extra)), {});
  ASSERT_TRUE(p.ok()) << p.error().ToString();
  EXPECT_EQ(p->items.size(), 2u);
  EXPECT_EQ(p->supersede->reason, SupersedeReason::kDataError);
  EXPECT_EQ(*p->expiry, "2027-01-01T00:00:00.5Z");
}

TEST(PayloadTest, RejectsUnknownMembersAtEveryLevel) {
  ExpectRejected(PayloadText("[]", R"(,"extra":1)"), "payload.extra");
  ExpectRejected(PayloadText(R"([{"kind":"node","id":"a","x":1}])"), "payload.items[0].x");
  ExpectRejected(PayloadText("[]", R"(,"supersede":{"reason":"Other","why":"x"})"),
                 "payload.supersede.why");
  std::string text = PayloadText();
  std::string with_gov_extra = text;
  with_gov_extra.replace(with_gov_extra.find(R"("signers")"), 0, R"("extra":true,)");
  ExpectRejected(with_gov_extra, "payload.governance.extra");
  std::string with_quorum_extra = text;
  with_quorum_extra.replace(with_quorum_extra.find(R"("m":1)"), 0, R"("n":1,)");
  ExpectRejected(with_quorum_extra, "payload.governance.quorum.n");
  std::string with_signer_extra = text;
  with_signer_extra.replace(with_signer_extra.find(R"("algo")"), 0, R"("comment":"",)");
  ExpectRejected(with_signer_extra, "payload.governance.signers[0].comment");
}

TEST(PayloadTest, RejectsFieldRuleViolations) {
  // version
  std::string t = PayloadText();
  ExpectRejected(std::string(t).replace(t.find(R"("version":1)"), 11, R"("version":0)"),
                 "payload.version");
  ExpectRejected(std::string(t).replace(t.find(R"("version":1)"), 11, R"("version":1.5)"),
                 "payload.version");
  ExpectRejected(std::string(t).replace(t.find(R"("version":1)"), 11, R"("version":"1")"),
                 "payload.version");
  ExpectRejected(
      std::string(t).replace(t.find(R"("version":1)"), 11, R"("version":9007199254740992)"),
      "payload.version");
  // prev_hash
  ExpectRejected(std::string(t).replace(t.find("b3:000"), 3, "b4:"), "payload.prev_hash");
  ExpectRejected(std::string(t).replace(t.find("b3:000"), 4, "b3:A"), "payload.prev_hash");
  // items
  ExpectRejected(PayloadText("{}"), "payload.items");
  ExpectRejected(PayloadText(R"([{"id":"a"}])"), "payload.items[0].kind");
  ExpectRejected(PayloadText(R"([{"kind":"node"}])"), "payload.items[0].id");
  ExpectRejected(PayloadText(R"([{"kind":"Node","id":"a"}])"), "payload.items[0].kind");
  ExpectRejected(PayloadText(R"([{"kind":"1node","id":"a"}])"), "payload.items[0].kind");
  ExpectRejected(PayloadText(R"([{"kind":")" + std::string(33, 'a') + R"(","id":"a"}])"),
                 "payload.items[0].kind");
  ExpectRejected(PayloadText(R"([{"kind":"node","id":"a b"}])"), "payload.items[0].id");
  ExpectRejected(PayloadText(R"([{"kind":"node","id":""}])"), "payload.items[0].id");
  ExpectRejected(PayloadText(R"([{"kind":"node","id":")" + std::string(257, 'a') + R"("}])"),
                 "payload.items[0].id");
  ExpectRejected(PayloadText(R"([{"kind":"node","id":"a"},{"kind":"svc","id":"a"}])"),
                 "payload.items[1].id");
  ExpectRejected(PayloadText(R"([{"kind":"node","id":"a","endpoint":)" + std::string("\"") +
                             std::string(2049, 'e') + R"("}])"),
                 "payload.items[0].endpoint");
  ExpectRejected(PayloadText(R"([{"kind":"node","id":"a","region":)" + std::string("\"") +
                             std::string(65, 'r') + R"("}])"),
                 "payload.items[0].region");
  ExpectRejected(PayloadText(R"([{"kind":"node","id":"a","meta":[]}])"), "payload.items[0].meta");
  ExpectRejected(PayloadText(R"([{"kind":"node","id":"a","endpoint":5}])"),
                 "payload.items[0].endpoint");
  // created_at / expiry / supersede
  ExpectRejected(PayloadText("[]", R"(,"created_at":"2026-01-01 00:00:00")"), "payload.created_at");
  ExpectRejected(PayloadText("[]", R"(,"expiry":"2026-01-01T00:00:00+01:00")"), "payload.expiry");
  ExpectRejected(PayloadText("[]", R"(,"supersede":{"reason":"Oops"})"),
                 "payload.supersede.reason");
  ExpectRejected(PayloadText("[]", R"(,"supersede":{"reason":"Other","note":")" +
                                       std::string(1025, 'n') + "\"}"),
                 "payload.supersede.note");
  // governance missing
  std::string no_gov = R"({"version":1,"prev_hash":")" + crypto::ZeroB3() + R"(","items":[]})";
  ExpectRejected(no_gov, "payload.governance");
}

TEST(PayloadTest, LengthsCountCharactersNotBytes) {
  // 64 two-byte characters: 128 bytes but 64 chars, within the region limit.
  std::string region;
  for (int i = 0; i < 64; ++i) region += "\xc3\xa9";
  util::Result<Payload> ok = DecodePayload(
      ParseOrDie(PayloadText(R"([{"kind":"node","id":"a","region":")" + region + R"("}])")), {});
  EXPECT_TRUE(ok.ok());
  ExpectRejected(PayloadText(R"([{"kind":"node","id":"a","region":")" + region + "\\u00e9\"}]"),
                 "payload.items[0].region");
}

TEST(PayloadTest, MetaDepthLimit) {
  auto nested = [](int depth) {
    std::string s;
    for (int i = 0; i < depth - 1; ++i) s += R"({"a":)";
    s += "{}";
    for (int i = 0; i < depth - 1; ++i) s += "}";
    return s;
  };
  EXPECT_TRUE(
      DecodePayload(ParseOrDie(PayloadText(R"([{"kind":"n","id":"a","meta":)" + nested(16) + "}]")),
                    {})
          .ok());
  ExpectRejected(PayloadText(R"([{"kind":"n","id":"a","meta":)" + nested(17) + "}]"),
                 "payload.items[0].meta");
}

TEST(PayloadTest, MaxItems) {
  std::string items = "[";
  for (int i = 0; i < 11; ++i) {
    if (i > 0) items += ",";
    items += R"({"kind":"n","id":"i)" + std::to_string(i) + R"("})";
  }
  items += "]";
  PayloadLimits limits;
  limits.max_items = 11;
  EXPECT_TRUE(DecodePayload(ParseOrDie(PayloadText(items)), limits).ok());
  limits.max_items = 10;
  util::Result<Payload> r = DecodePayload(ParseOrDie(PayloadText(items)), limits);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("payload.items"), std::string::npos);
}

// Shuffles object members recursively.
json::Value Shuffled(const json::Value& v, std::mt19937& rng) {
  if (v.is_object()) {
    json::Object o;
    for (const auto& [k, e] : v.as_object()) o.emplace_back(k, Shuffled(e, rng));
    std::shuffle(o.begin(), o.end(), rng);
    return json::Value(std::move(o));
  }
  if (v.is_array()) {
    json::Array a;
    for (const json::Value& e : v.as_array()) a.push_back(Shuffled(e, rng));
    return json::Value(std::move(a));
  }
  return v;
}

TEST(PayloadTest, PropertyHashIsInvariantUnderMemberOrder) {
  std::mt19937 rng(20261126);
  for (int round = 0; round < 200; ++round) {
    int n_signers = 1 + static_cast<int>(rng() % 32);
    std::uint32_t m = 1 + rng() % n_signers;
    auto signers = testing::MakeSigners("prop", n_signers);
    json::Value v = testing::MakePayloadValue(1 + rng() % 1000, crypto::ZeroB3(),
                                              testing::MakeGovernance(signers, m),
                                              static_cast<int>(rng() % 20));
    util::Result<CanonicalPayload> a = MakeCanonicalPayload(v, {});
    util::Result<CanonicalPayload> b = MakeCanonicalPayload(Shuffled(v, rng), {});
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(a->payload_b3, b->payload_b3);
    EXPECT_EQ(a->canonical, b->canonical);
  }
}

TEST(ProposeRequestTest, SchemaAndClaimedHash) {
  std::string payload = PayloadText();
  util::Result<CanonicalPayload> ok = DecodeProposeRequest(
      ParseOrDie(R"({"schema_version":"1.0.0","payload":)" + payload + "}"), {});
  ASSERT_TRUE(ok.ok()) << ok.error().ToString();
  util::Result<CanonicalPayload> claimed =
      DecodeProposeRequest(ParseOrDie(R"({"schema_version":"1.0.0","payload_b3":")" +
                                      ok->payload_b3 + R"(","payload":)" + payload + "}"),
                           {});
  EXPECT_TRUE(claimed.ok());
  std::string wrong = ok->payload_b3;
  wrong[10] = wrong[10] == 'a' ? 'b' : 'a';
  util::Result<CanonicalPayload> mismatch =
      DecodeProposeRequest(ParseOrDie(R"({"schema_version":"1.0.0","payload_b3":")" + wrong +
                                      R"(","payload":)" + payload + "}"),
                           {});
  ASSERT_FALSE(mismatch.ok());
  EXPECT_NE(mismatch.error().message().find("body.payload_b3"), std::string::npos);
  EXPECT_FALSE(DecodeProposeRequest(
                   ParseOrDie(R"({"schema_version":"2.0.0","payload":)" + payload + "}"), {})
                   .ok());
  EXPECT_FALSE(DecodeProposeRequest(ParseOrDie(R"({"schema_version":"1.0.0"})"), {}).ok());
  EXPECT_FALSE(DecodeProposeRequest(
                   ParseOrDie(R"({"schema_version":"1.0.0","x":1,"payload":)" + payload + "}"), {})
                   .ok());
}

TEST(ProposalStatusTest, NamesRoundTrip) {
  for (ProposalStatus s : {ProposalStatus::kPending, ProposalStatus::kCommitted,
                           ProposalStatus::kExpired, ProposalStatus::kStale}) {
    EXPECT_EQ(ParseProposalStatus(ProposalStatusName(s)), s);
  }
  EXPECT_FALSE(ParseProposalStatus("bogus").has_value());
}

}  // namespace
}  // namespace registry::model
