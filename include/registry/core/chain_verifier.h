// ChainVerifier: checks a log of commit records, one version after another, exactly as an
// independent verifier would (SPEC §1, §4.2, §5): each record is in canonical form, its
// version follows the previous one, prev_hash links to the previous payload_b3, payload_b3
// is the BLAKE3 of the canonical payload, every recorded approval's signature verifies, the
// recorded approvals meet quorum of the governance in force (and of the new governance
// for a rotation), and the Merkle root advances.
//
// Used by start-up recovery and `registryctl verify`. Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "registry/core/merkle.h"
#include "registry/model/commit_record.h"
#include "registry/model/governance.h"
#include "registry/util/result.h"

namespace registry::core {

class ChainVerifier {
 public:
  // Starts at genesis: version 0, prev hash ZeroB3(), `trust_roots` in force.
  explicit ChainVerifier(model::Governance trust_roots, model::PayloadLimits limits = {});

  // Resumes after a verified state (a storage checkpoint): `version` was the last version
  // checked, with its payload_b3, committed_at, the governance in force after it, and the
  // Merkle frontier of the tree of size `version`.
  struct State {
    std::uint64_t version = 0;
    std::string payload_b3;
    std::string committed_at;
    std::shared_ptr<const model::Governance> governance;
    MerkleFrontier frontier;
  };
  ChainVerifier(State state, model::PayloadLimits limits);

  // Verifies `record` as the next version. Errors are kMalformed and name the version and
  // the rule ("version 7: signature of org:a#k1 does not verify"). After an error the
  // verifier MUST NOT be used further.
  util::Status Next(std::string_view record);

  std::uint64_t version() const { return version_; }
  const std::string& payload_b3() const { return payload_b3_; }
  const std::string& committed_at() const { return committed_at_; }
  const model::Governance& governance() const { return *governance_; }
  std::shared_ptr<const model::Governance> shared_governance() const { return governance_; }
  const MerkleFrontier& frontier() const { return frontier_; }

 private:
  model::PayloadLimits limits_;
  std::uint64_t version_ = 0;
  std::string payload_b3_;
  std::string committed_at_;
  std::shared_ptr<const model::Governance> governance_;
  MerkleFrontier frontier_;
};

}  // namespace registry::core
