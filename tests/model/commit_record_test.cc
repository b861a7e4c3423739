#include "registry/model/commit_record.h"

#include <gtest/gtest.h>

#include "registry/crypto/blake3.h"
#include "registry/json/canonical.h"
#include "registry/json/parse.h"
#include "testing/fixtures.h"

namespace registry::model {
namespace {

TEST(CommitRecordTest, SplicedCanonicalEqualsCanonicalOfTheWholeRecord) {
  auto signers = testing::MakeSigners("rec", 3);
  Governance g = testing::MakeGovernance(signers, 2);
  json::Value payload = testing::MakePayloadValue(1, crypto::ZeroB3(), g, 5);
  CanonicalPayload cp = testing::MakeCanonical(payload);
  std::vector<Approval> approvals = {testing::Sign(signers[0], cp.payload_b3, 1'700'000'000'000),
                                     testing::Sign(signers[2], cp.payload_b3, 1'700'000'001'000)};
  std::string record = EncodeCommitRecordCanonical(1, cp.canonical, cp.payload_b3, approvals,
                                                   "2026-11-26T12:00:00.123Z");
  json::Array approvals_json;
  for (const Approval& a : approvals) approvals_json.push_back(EncodeApproval(a));
  json::Value whole = json::MakeObject({{"schema_version", "1.0.0"},
                                        {"version", 1},
                                        {"payload", payload},
                                        {"payload_b3", cp.payload_b3},
                                        {"approvals", json::Value(std::move(approvals_json))},
                                        {"committed_at", "2026-11-26T12:00:00.123Z"}});
  EXPECT_EQ(record, json::Canonicalize(whole));

  util::Result<json::Value> parsed = json::Parse(record);
  ASSERT_TRUE(parsed.ok());
  util::Result<CommitRecord> decoded = DecodeCommitRecord(*parsed, {});
  ASSERT_TRUE(decoded.ok()) << decoded.error().ToString();
  EXPECT_EQ(decoded->version, 1u);
  EXPECT_EQ(decoded->payload, cp.payload);
  EXPECT_EQ(decoded->approvals, approvals);
  EXPECT_EQ(decoded->committed_at, "2026-11-26T12:00:00.123Z");
}

TEST(CommitRecordTest, DecodeRejectsUnknownAndMissingMembers) {
  auto signers = testing::MakeSigners("rec", 1);
  CanonicalPayload cp = testing::MakeCanonical(
      testing::MakePayloadValue(1, crypto::ZeroB3(), testing::MakeGovernance(signers, 1)));
  std::string record =
      EncodeCommitRecordCanonical(1, cp.canonical, cp.payload_b3, {}, "2026-11-26T12:00:00.000Z");
  json::Value v = *json::Parse(record);
  json::Value extra = v;
  extra.as_object().emplace_back("extra", 1);
  EXPECT_FALSE(DecodeCommitRecord(extra, {}).ok());
  json::Value missing = v;
  missing.as_object().erase(missing.as_object().begin());  // approvals
  EXPECT_FALSE(DecodeCommitRecord(missing, {}).ok());
}

TEST(HeadTest, GenesisEncoding) {
  Head h;
  h.version = 0;
  h.payload_b3 = crypto::ZeroB3();
  h.root = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
  EXPECT_EQ(json::Canonicalize(EncodeHead(h)),
            R"({"committed_at":null,"payload_b3":"b3:)" + std::string(64, '0') +
                R"(","root":"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=","version":0})");
  util::Result<Head> back = DecodeHead(EncodeHead(h));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, h);
}

}  // namespace
}  // namespace registry::model
