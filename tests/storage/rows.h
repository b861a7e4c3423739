// Row builders shared by the storage tests: a pending proposal and an approval with fixed,
// valid-looking fields. Tests only.
#pragma once

#include <cstdint>
#include <string>

#include "registry/model/approval.h"
#include "registry/storage/store.h"

namespace registry::storage::testing {

// A pending proposal for `version`; its id ends in `suffix` (at most 24 characters).
inline ProposalRow Proposal(const std::string& suffix, std::uint64_t version) {
  ProposalRow row;
  row.proposal_id = "p_" + std::string(24 - suffix.size(), '0') + suffix;
  row.payload_b3 = "b3:" + std::string(64, 'a');
  row.canonical_payload = R"({"version":)" + std::to_string(version) + "}";
  row.version = version;
  row.created_at = 1000;
  row.expires_at = 2000;
  return row;
}

// An approval by signer `id` (the signature is a fixed pattern, not checked by stores).
inline model::Approval ApprovalBy(const std::string& id) {
  model::Approval a;
  a.signer_id = id;
  a.algo = "ed25519";
  a.sig.fill(0x5a);
  a.signed_at = "2026-11-26T12:00:00Z";
  a.signed_at_ms = 1'795'000'000'000;
  return a;
}

}  // namespace registry::storage::testing
