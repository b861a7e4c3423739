#include "log_check.h"

#include <algorithm>
#include <future>
#include <memory>
#include <random>
#include <set>
#include <span>
#include <string_view>
#include <vector>

#include "registry/core/chain_verifier.h"
#include "registry/core/merkle.h"
#include "registry/core/merkle_proof.h"
#include "registry/crypto/base64.h"
#include "registry/model/commit_record.h"
#include "registry/tlog/checkpoint.h"
#include "registry/util/thread_pool.h"

namespace registry::ctl {

namespace {

// Inclusion proofs checked per run: first, last and random versions.
constexpr std::size_t kInclusionSamples = 16;

util::Error Failed(std::string message) {
  return util::Error(util::ErrorCode::kMalformed, std::move(message));
}

// Consecutive records read from the source, up to the first one it could not give.
struct Batch {
  std::uint64_t first = 0;
  std::vector<std::string> records;
  std::optional<util::Error> error;  // reading version first + records.size() failed
};

Batch ReadBatch(LogSource& source, std::uint64_t first, std::uint64_t last, std::size_t max) {
  Batch b;
  b.first = first;
  std::size_t bytes = 0;
  for (std::uint64_t v = first; v <= last && b.records.size() < max && bytes < kMaxBatchBytes;
       ++v) {
    util::Result<std::string> r = source.Record(v);
    if (!r.ok()) {
      b.error = r.error();
      break;
    }
    bytes += r->size();
    b.records.push_back(std::move(r).value());
  }
  return b;
}

// The error for version `v` the source could not give.
util::Error ReadFailure(const LogSource& source, std::uint64_t v, const util::Error& error) {
  if (error.code() == util::ErrorCode::kPruned) {
    return util::Error(
        util::ErrorCode::kPruned,
        "version " + std::to_string(v) + " is pruned: " + source.Describe() +
            " no longer serves it (" + error.message() +
            "). This is not a failed check, but the log cannot be verified in full from this "
            "server: a full verification needs an archive made with `registryctl fetch` "
            "before pruning (then `registryctl verify --dir DIR`)");
  }
  return Failed(error.message());
}

// Opens a checkpoint note with the log key; `what` names it in errors.
util::Result<tlog::Checkpoint> OpenLogCheckpoint(std::string_view note,
                                                 const tlog::NoteVerifierKey& key,
                                                 const std::string& what) {
  util::Result<tlog::Checkpoint> cp = tlog::OpenCheckpoint(note, key);
  if (!cp.ok()) {
    return util::Error(
        util::ErrorCode::kInvalidSig,
        what + ": signature does not verify with the given key (" + cp.error().message() + ")");
  }
  if (cp->origin != key.name) {
    return util::Error(
        util::ErrorCode::kInvalidSig,
        what + ": origin \"" + cp->origin + "\" is not the key's name \"" + key.name + "\"");
  }
  return cp;
}

// The versions whose inclusion is checked: 1, `size`, and random others (distinct, sorted).
std::vector<std::uint64_t> SampleVersions(std::uint64_t size) {
  std::set<std::uint64_t> picked;
  if (size == 0) return {};
  picked.insert(1);
  picked.insert(size);
  const std::uint64_t want = std::min<std::uint64_t>(kInclusionSamples, size);
  std::mt19937_64 rng(std::random_device{}());
  std::uniform_int_distribution<std::uint64_t> pick(1, size);
  while (picked.size() < want) picked.insert(pick(rng));
  return std::vector<std::uint64_t>(picked.begin(), picked.end());
}

void Progress(const LogCheckOptions& options, const std::string& line) {
  if (options.progress) options.progress(line);
}

// Step 1: versions 1..head, in order; `leaves` receives their leaf hashes.
util::Status CheckRecords(LogSource& source, const LogCheckOptions& options, std::uint64_t head,
                          core::ChainVerifier& verifier, std::vector<core::Hash>& leaves) {
  const std::size_t per_batch = std::max<std::size_t>(1, options.batch_versions);
  const bool parallel = options.threads > 1;
  std::unique_ptr<util::ThreadPool> pool;
  if (parallel) pool = std::make_unique<util::ThreadPool>(options.threads);
  // With workers, the next batch is read while this one is verified.
  const std::launch policy = parallel ? std::launch::async : std::launch::deferred;
  auto read = [&](std::uint64_t first) {
    return std::async(policy, [&source, first, head, per_batch] {
      return ReadBatch(source, first, head, per_batch);
    });
  };
  leaves.reserve(static_cast<std::size_t>(head));
  std::future<Batch> pending;
  if (head >= 1) pending = read(1);
  while (pending.valid()) {
    Batch batch = pending.get();
    const std::uint64_t after = batch.first + batch.records.size();
    if (!batch.error.has_value() && after <= head) pending = read(after);
    // The records before an unreadable version are verified first: a failure among them
    // is the earlier one.
    if (parallel) {
      std::vector<std::string_view> views(batch.records.begin(), batch.records.end());
      REGISTRY_RETURN_IF_ERROR(verifier.NextBatch(views, *pool, &leaves));
    } else {
      for (const std::string& record : batch.records) {
        core::ChainVerifier::Prepared p =
            core::ChainVerifier::Prepare(record, options.limits, &verifier.governance());
        REGISTRY_RETURN_IF_ERROR(verifier.NextPrepared(p));
        leaves.push_back(p.leaf_hash);
      }
    }
    if (batch.error.has_value()) return ReadFailure(source, after, *batch.error);
  }
  return util::Status::Ok();
}

// Steps 3 and 4: the signed checkpoint `note` (read before HEAD) against the verified log.
util::Status CheckCheckpoint(LogSource& source, const LogCheckOptions& options,
                             const std::string& note, std::span<const core::Hash> leaves) {
  const tlog::NoteVerifierKey& key = *options.log_key;
  REGISTRY_ASSIGN_OR_RETURN(tlog::Checkpoint cp, OpenLogCheckpoint(note, key, "checkpoint"));
  const std::string n = std::to_string(cp.size);
  if (cp.size > leaves.size()) {
    return Failed("checkpoint: size " + n + " is beyond the verified HEAD " +
                  std::to_string(leaves.size()));
  }
  if (core::RootOfLeafHashes(leaves.first(cp.size)) != cp.root) {
    return Failed("checkpoint: root at size " + n + " does not match the log");
  }
  const std::vector<std::uint64_t> samples = SampleVersions(cp.size);
  for (std::uint64_t v : samples) {
    const std::string rule = "inclusion of version " + std::to_string(v) + " does not verify: ";
    util::Result<std::vector<core::Hash>> proof = source.InclusionProof(v, cp.size, leaves);
    if (!proof.ok()) return Failed(rule + proof.error().message());
    util::Status ok = core::VerifyInclusion(v - 1, cp.size, leaves[v - 1], *proof, cp.root);
    if (!ok.ok()) return Failed(rule + ok.error().message());
  }
  Progress(options, "checkpoint: size " + n + " signed by " + key.name +
                        ", root matches the log, " + std::to_string(samples.size()) +
                        " inclusion proofs verified");

  if (!options.previous_checkpoint.has_value()) return util::Status::Ok();
  REGISTRY_ASSIGN_OR_RETURN(
      tlog::Checkpoint old,
      OpenLogCheckpoint(*options.previous_checkpoint, key,
                        "previous checkpoint " + options.previous_checkpoint_name));
  const std::string rule =
      "consistency from " + std::to_string(old.size) + " to " + n + " does not verify";
  if (old.size > cp.size) return Failed(rule + ": the previous checkpoint is larger");
  std::vector<core::Hash> proof;
  if (old.size > 0 && old.size < cp.size) {
    util::Result<std::vector<core::Hash>> got = source.ConsistencyProof(old.size, cp.size, leaves);
    if (!got.ok()) return Failed(rule + ": " + got.error().message());
    proof = std::move(got).value();
  }
  util::Status ok = core::VerifyConsistency(old.size, cp.size, old.root, cp.root, proof);
  if (!ok.ok()) return Failed(rule + ": " + ok.error().message());
  Progress(options, "consistency from " + std::to_string(old.size) + " to " + n + " verified");
  return util::Status::Ok();
}

}  // namespace

util::Result<LogCheckResult> CheckLog(LogSource& source, const LogCheckOptions& options) {
  LogCheckResult result;
  // The checkpoint is read before HEAD, so that HEAD is at least its size.
  if (options.log_key.has_value()) {
    util::Result<std::string> note = source.Checkpoint();
    if (!note.ok()) return Failed("checkpoint: " + note.error().message());
    result.checkpoint_note = std::move(note).value();
  }
  util::Result<json::Value> head_value = source.Head();
  if (!head_value.ok()) return Failed("HEAD: " + head_value.error().message());
  util::Result<model::Head> head = model::DecodeHead(*head_value);
  if (!head.ok()) return Failed("HEAD: " + head.error().message());

  core::ChainVerifier verifier(options.trust_roots, options.limits);
  std::vector<core::Hash> leaves;
  REGISTRY_RETURN_IF_ERROR(CheckRecords(source, options, head->version, verifier, leaves));
  if (verifier.payload_b3() != head->payload_b3) {
    return Failed("HEAD: payload_b3 " + head->payload_b3 + " is not the last version's " +
                  verifier.payload_b3());
  }
  if (crypto::Base64Encode(verifier.frontier().Root()) != head->root) {
    return Failed("HEAD: root " + head->root + " is not the Merkle root of the log");
  }
  Progress(options, std::to_string(head->version) +
                        " versions verified: canonical form, chain, payload hashes, "
                        "signatures, quorum, rotation, Merkle root");
  if (options.log_key.has_value()) {
    REGISTRY_RETURN_IF_ERROR(CheckCheckpoint(source, options, result.checkpoint_note, leaves));
  }
  result.head = std::move(head_value).value();
  result.versions = head->version;
  return result;
}

}  // namespace registry::ctl
