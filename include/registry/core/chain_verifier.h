// ChainVerifier: checks a log of commit records, one version after another, exactly as an
// independent verifier would (SPEC §1, §4.2, §5): each record is in canonical form, its
// version follows the previous one, prev_hash links to the previous payload_b3, payload_b3
// is the BLAKE3 of the canonical payload, every recorded approval's signature verifies, the
// recorded approvals meet quorum of the governance in force (and of the new governance
// for a rotation), and the Merkle root advances.
//
// Used by start-up recovery and `registryctl verify`. A ChainVerifier is not thread-safe (one
// caller at a time). NextBatch() spreads the per-record work of a batch over a ThreadPool and
// still applies the rules in version order, so its result is the one Next() would give; the
// static Prepare() is thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "registry/core/merkle.h"
#include "registry/crypto/ed25519.h"
#include "registry/model/commit_record.h"
#include "registry/model/governance.h"
#include "registry/util/result.h"
#include "registry/util/thread_pool.h"

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

  // The work of Next() that does not depend on the versions before a record: parsing, the
  // canonical-form check, decoding, the payload's BLAKE3, the leaf hash, and each approval's
  // signature checked against the key it is expected to be checked with. Made by Prepare()
  // on any thread, consumed by NextPrepared().
  struct PreparedSignature {
    bool checked = false;  // false: the signer was in neither governance Prepare() saw
    crypto::Ed25519PublicKey key{};
    bool valid = false;
  };
  struct Prepared {
    // The first failure of parsing, canonical form or decoding (the rule, without the
    // "version N: " prefix, which only the sequential pass knows); the rest is then empty.
    std::optional<std::string> error;
    model::CommitRecord record;
    std::string computed_payload_b3;  // crypto::PayloadB3 of the canonical payload
    Hash leaf_hash{};
    std::vector<PreparedSignature> signatures;  // one per record.approvals entry
  };

  // Prepares `record`. `in_force` is the governance expected to be in force before it (the
  // previous record's new governance), or nullptr when unknown: each signature is checked
  // with the key `in_force` (else the record's own new governance) gives its signer.
  // Thread-safe: pure function of its arguments.
  static Prepared Prepare(std::string_view record, const model::PayloadLimits& limits,
                          const model::Governance* in_force);

  // Verifies the record `prepared` was made from as the next version: the same rules, in
  // the same order and with the same errors as Next(). A signature Prepare() checked with
  // the key actually in force is not checked again; any other is checked here. `prepared`
  // MUST come from Prepare() unaltered: its hashes and signature results are trusted. After
  // an error the verifier MUST NOT be used further.
  util::Status NextPrepared(const Prepared& prepared);

  // Verifies `records` as the next versions, in order: equivalent to Next() on each, but
  // the Prepare() work (against the governance in force at the start of the batch) runs on
  // `pool`'s threads and this one, before the rules are applied in order. Stops at the
  // earliest failing version and returns its error, as Next() would. When `leaf_hashes` is
  // given, the leaf hash of every version verified is appended to it. REQUIRES: `pool` has
  // not been stopped. After an error the verifier MUST NOT be used further.
  util::Status NextBatch(std::span<const std::string_view> records, util::ThreadPool& pool,
                         std::vector<Hash>* leaf_hashes = nullptr);

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
