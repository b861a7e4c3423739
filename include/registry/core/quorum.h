// The M-of-N rule of SPEC §1.4 as a pure function: which approvals count towards a
// version, and whether they reach quorum, including the old-and-new rule of a rotation.
// Signatures are not checked here (the caller verified them when accepting each
// approval); this decides membership and counts. Thread-safe (pure).
#pragma once

#include <cstddef>
#include <vector>

#include "registry/model/approval.h"
#include "registry/model/governance.h"
#include "registry/util/result.h"

namespace registry::core {

struct QuorumTally {
  bool rotation = false;         // next is not Equivalent to in_force
  std::size_t current_have = 0;  // distinct signers of the governance in force
  std::size_t current_need = 0;
  std::size_t next_have = 0;  // distinct signers of the new governance (rotation only)
  std::size_t next_need = 0;
  // The approvals that count (signer in the governance in force, or in the new one for a
  // rotation), one per signer, sorted by signer_id: what a commit record stores.
  std::vector<model::Approval> counted;

  bool met() const { return current_have >= current_need && (!rotation || next_have >= next_need); }
};

// Tallies `approvals` for a version whose payload carries `next` while `in_force` governs.
// Duplicate signers count once (the first occurrence is kept).
QuorumTally Tally(const model::Governance& in_force, const model::Governance& next,
                  const std::vector<model::Approval>& approvals);

// kQuorumFailed with details current_have/current_need (and next_have/next_need for a
// rotation), or OK when met.
util::Status CheckQuorum(const QuorumTally& tally);

// True when `signer_id` may approve such a version: a member of `in_force`, or, for a
// rotation, of `next`.
bool MayApprove(const model::Governance& in_force, const model::Governance& next,
                std::string_view signer_id);

}  // namespace registry::core
