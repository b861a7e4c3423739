#include "registry/core/chain_verifier.h"

#include "registry/core/quorum.h"
#include "registry/crypto/blake3.h"
#include "registry/json/canonical.h"
#include "registry/json/parse.h"

namespace registry::core {

namespace {

util::Error Fail(std::uint64_t version, std::string_view rule) {
  return util::Error(util::ErrorCode::kMalformed,
                     "version " + std::to_string(version) + ": " + std::string(rule));
}

}  // namespace

ChainVerifier::ChainVerifier(model::Governance trust_roots, model::PayloadLimits limits)
    : limits_(limits),
      payload_b3_(crypto::ZeroB3()),
      governance_(std::make_shared<const model::Governance>(std::move(trust_roots))) {}

ChainVerifier::ChainVerifier(State state, model::PayloadLimits limits)
    : limits_(limits),
      version_(state.version),
      payload_b3_(std::move(state.payload_b3)),
      committed_at_(std::move(state.committed_at)),
      governance_(std::move(state.governance)),
      frontier_(std::move(state.frontier)) {}

util::Status ChainVerifier::Next(std::string_view record) {
  const std::uint64_t expected = version_ + 1;
  util::Result<json::Value> parsed = json::Parse(record);
  if (!parsed.ok()) return Fail(expected, "record is not valid JSON: " + parsed.error().message());
  if (json::Canonicalize(*parsed) != record) {
    return Fail(expected, "record is not in canonical (RFC 8785) form");
  }
  util::Result<model::CommitRecord> decoded = model::DecodeCommitRecord(*parsed, limits_);
  if (!decoded.ok()) return Fail(expected, "record is malformed: " + decoded.error().message());
  const model::CommitRecord& r = *decoded;
  if (r.version != expected) {
    return Fail(expected, "record carries version " + std::to_string(r.version));
  }
  if (r.payload.version != r.version) {
    return Fail(expected, "payload.version " + std::to_string(r.payload.version) +
                              " differs from the record's version");
  }
  if (r.payload.prev_hash != payload_b3_) {
    return Fail(expected, "prev_hash " + r.payload.prev_hash +
                              " does not link to the previous payload_b3 " + payload_b3_);
  }
  const json::Value* payload_value = parsed->Find("payload");
  std::string computed = crypto::PayloadB3(json::Canonicalize(*payload_value));
  if (computed != r.payload_b3) {
    return Fail(expected,
                "payload_b3 " + r.payload_b3 + " does not match the payload (" + computed + ")");
  }
  for (std::size_t i = 1; i < r.approvals.size(); ++i) {
    if (!(r.approvals[i - 1].signer_id < r.approvals[i].signer_id)) {
      return Fail(expected, "approvals are not sorted by signer_id with one per signer");
    }
  }
  const model::Governance& next = r.payload.governance;
  for (const model::Approval& a : r.approvals) {
    if (!MayApprove(*governance_, next, a.signer_id)) {
      return Fail(expected, "approval by " + a.signer_id + ", who is not a signer of the " +
                                "governance in force (nor of a new one)");
    }
    const model::Signer* signer = governance_->Find(a.signer_id);
    if (signer == nullptr) signer = next.Find(a.signer_id);
    if (!model::VerifyApproval(a, signer->pubkey, r.payload_b3)) {
      return Fail(expected, "signature of " + a.signer_id + " does not verify");
    }
  }
  QuorumTally tally = Tally(*governance_, next, r.approvals);
  util::Status quorum = CheckQuorum(tally);
  if (!quorum.ok()) return Fail(expected, quorum.error().message());

  version_ = expected;
  payload_b3_ = r.payload_b3;
  committed_at_ = r.committed_at;
  governance_ = std::make_shared<const model::Governance>(next);
  frontier_.AppendLeaf(record);
  return util::Status::Ok();
}

}  // namespace registry::core
