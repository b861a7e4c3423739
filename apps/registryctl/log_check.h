// CheckLog: the checks of `registryctl verify` over a LogSource (a running registry or an
// archive made by `registryctl fetch`), the same for both (docs/TRANSPARENCY.md):
//   1. every version from 1 to HEAD, in order, with core::ChainVerifier: canonical form,
//      version sequence, prev_hash chain, payload_b3, every signature, quorum, rotation;
//   2. HEAD's payload_b3 and Merkle root against the verified log;
//   3. with a log verifier key: the signed checkpoint (read before HEAD) opens with the key
//      and names it as origin, its size is at most HEAD, its root is the root of the
//      verified log at that size, and sampled inclusion proofs lead to it;
//   4. with a previous checkpoint: it opens with the same key and the consistency proof from
//      it to the current checkpoint verifies (a fork at a size already seen fails here).
// The first failure is returned, naming the version (the earliest failing one) and the rule.
//
// Signatures and parsing run on `threads` workers (core::ChainVerifier::NextBatch) while the
// next batch of records is read on a helper thread; with threads = 1 everything runs on the
// calling thread. CheckLog is not thread-safe with respect to `source`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "log_source.h"
#include "registry/json/value.h"
#include "registry/model/governance.h"
#include "registry/model/payload.h"
#include "registry/tlog/note_key.h"
#include "registry/util/result.h"

namespace registry::ctl {

// verify's exit code when the log cannot be verified in full because the source no longer
// holds some versions (410 Pruned): not a failed check, but not a success either.
inline constexpr int kExitIncomplete = 3;

struct LogCheckOptions {
  model::Governance trust_roots;
  model::PayloadLimits limits;
  std::optional<tlog::NoteVerifierKey> log_key;
  // A checkpoint note saved earlier (needs log_key), and its name for messages.
  std::optional<std::string> previous_checkpoint;
  std::string previous_checkpoint_name;
  // Verification workers (>= 1); 1 runs everything on the calling thread.
  std::size_t threads = 1;
  // Records verified per batch (and at most kMaxBatchBytes of them).
  std::size_t batch_versions = 512;
  // Called with one line per stage passed ("3 versions verified: ..."); may be empty.
  std::function<void(const std::string&)> progress;
};

inline constexpr std::size_t kMaxBatchBytes = std::size_t{64} << 20;

struct LogCheckResult {
  json::Value head;             // the HEAD object the log was verified against
  std::uint64_t versions = 0;   // versions verified (= HEAD's version)
  std::string checkpoint_note;  // the verified checkpoint note; empty without log_key
};

// Errors: kPruned when a version is pruned at the source (the message says so and that a full
// verification needs an archive made with `registryctl fetch` before pruning); any other code
// is a failed check or an unreadable source, its message naming the version and the rule.
util::Result<LogCheckResult> CheckLog(LogSource& source, const LogCheckOptions& options);

}  // namespace registry::ctl
