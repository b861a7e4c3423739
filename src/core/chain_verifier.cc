#include "registry/core/chain_verifier.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>

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
  return NextPrepared(Prepare(record, limits_, governance_.get()));
}

namespace {

// The signer-independent half of Prepare(): everything but the signatures.
ChainVerifier::Prepared PrepareRecord(std::string_view record, const model::PayloadLimits& limits) {
  ChainVerifier::Prepared p;
  util::Result<json::Value> parsed = json::Parse(record);
  if (!parsed.ok()) {
    p.error = "record is not valid JSON: " + parsed.error().message();
    return p;
  }
  if (json::Canonicalize(*parsed) != record) {
    p.error = "record is not in canonical (RFC 8785) form";
    return p;
  }
  util::Result<model::CommitRecord> decoded = model::DecodeCommitRecord(*parsed, limits);
  if (!decoded.ok()) {
    p.error = "record is malformed: " + decoded.error().message();
    return p;
  }
  p.record = std::move(decoded).value();
  p.computed_payload_b3 = crypto::PayloadB3(json::Canonicalize(*parsed->Find("payload")));
  p.leaf_hash = LeafHash(record);
  return p;
}

// The signature half of Prepare(), with the key `in_force` (else the record's own new
// governance) gives each signer.
void PrepareSignatures(ChainVerifier::Prepared& p, const model::Governance* in_force) {
  if (p.error.has_value()) return;
  p.signatures.assign(p.record.approvals.size(), {});
  for (std::size_t i = 0; i < p.record.approvals.size(); ++i) {
    const model::Approval& a = p.record.approvals[i];
    const model::Signer* signer = in_force != nullptr ? in_force->Find(a.signer_id) : nullptr;
    if (signer == nullptr) signer = p.record.payload.governance.Find(a.signer_id);
    if (signer == nullptr) continue;
    p.signatures[i].checked = true;
    p.signatures[i].key = signer->pubkey;
    p.signatures[i].valid = model::VerifyApproval(a, signer->pubkey, p.record.payload_b3);
  }
}

// Runs fn(i) for every i in [0, n) on `pool`'s threads and the calling thread, which claim
// small chunks in turn, so a worker the OS has descheduled holds up at most one chunk; when no
// worker gets a core, the calling thread does all the work itself. Returns once all n are
// done. Workers that start after the work is gone return at once (the shared state outlives
// this call for them).
template <typename Fn>
void ParallelFor(util::ThreadPool& pool, std::size_t n, const Fn& fn) {
  constexpr std::size_t kChunk = 8;
  struct Shared {
    std::atomic<std::size_t> next{0};
    std::mutex mu;
    std::condition_variable cv;
    std::size_t done = 0;  // guarded by mu
  };
  auto shared = std::make_shared<Shared>();
  // Claims and runs chunks until none is left; `fn` is only touched for a claimed chunk, which
  // exists only while ParallelFor is still waiting.
  auto work = [shared, n, &fn] {
    for (;;) {
      const std::size_t begin = shared->next.fetch_add(kChunk);
      if (begin >= n) return;
      const std::size_t end = std::min(n, begin + kChunk);
      for (std::size_t i = begin; i < end; ++i) fn(i);
      std::lock_guard lock(shared->mu);
      shared->done += end - begin;
      if (shared->done == n) shared->cv.notify_all();
    }
  };
  const std::size_t helpers = std::min(pool.size(), (n + kChunk - 1) / kChunk);
  for (std::size_t h = 0; h < helpers; ++h) {
    // A stopped pool is a caller bug (REQUIRES); the calling thread then does it all.
    if (!pool.Submit(work)) break;
  }
  work();
  std::unique_lock lock(shared->mu);
  shared->cv.wait(lock, [&] { return shared->done == n; });
}

}  // namespace

ChainVerifier::Prepared ChainVerifier::Prepare(std::string_view record,
                                               const model::PayloadLimits& limits,
                                               const model::Governance* in_force) {
  Prepared p = PrepareRecord(record, limits);
  PrepareSignatures(p, in_force);
  return p;
}

util::Status ChainVerifier::NextPrepared(const Prepared& prepared) {
  const std::uint64_t expected = version_ + 1;
  if (prepared.error.has_value()) return Fail(expected, *prepared.error);
  const model::CommitRecord& r = prepared.record;
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
  if (prepared.computed_payload_b3 != r.payload_b3) {
    return Fail(expected, "payload_b3 " + r.payload_b3 + " does not match the payload (" +
                              prepared.computed_payload_b3 + ")");
  }
  for (std::size_t i = 1; i < r.approvals.size(); ++i) {
    if (!(r.approvals[i - 1].signer_id < r.approvals[i].signer_id)) {
      return Fail(expected, "approvals are not sorted by signer_id with one per signer");
    }
  }
  const model::Governance& next = r.payload.governance;
  for (std::size_t i = 0; i < r.approvals.size(); ++i) {
    const model::Approval& a = r.approvals[i];
    if (!MayApprove(*governance_, next, a.signer_id)) {
      return Fail(expected, "approval by " + a.signer_id + ", who is not a signer of the " +
                                "governance in force (nor of a new one)");
    }
    const model::Signer* signer = governance_->Find(a.signer_id);
    if (signer == nullptr) signer = next.Find(a.signer_id);
    // Prepare() may have guessed another governance in force: reuse its result only when it
    // checked the very key that applies.
    const bool reuse = i < prepared.signatures.size() && prepared.signatures[i].checked &&
                       prepared.signatures[i].key == signer->pubkey;
    const bool valid = reuse ? prepared.signatures[i].valid
                             : model::VerifyApproval(a, signer->pubkey, r.payload_b3);
    if (!valid) return Fail(expected, "signature of " + a.signer_id + " does not verify");
  }
  QuorumTally tally = Tally(*governance_, next, r.approvals);
  util::Status quorum = CheckQuorum(tally);
  if (!quorum.ok()) return Fail(expected, quorum.error().message());

  version_ = expected;
  payload_b3_ = r.payload_b3;
  committed_at_ = r.committed_at;
  // Share the governance when a version does not change it (most do not).
  if (!(next == *governance_)) governance_ = std::make_shared<const model::Governance>(next);
  frontier_.AppendLeafHash(prepared.leaf_hash);
  return util::Status::Ok();
}

util::Status ChainVerifier::NextBatch(std::span<const std::string_view> records,
                                      util::ThreadPool& pool, std::vector<Hash>* leaf_hashes) {
  // One parallel pass: each record's signatures are checked with the keys of the governance
  // in force at the start of the batch (else of the record's own new governance). Most
  // versions do not rotate; after a rotation inside the batch, NextPrepared re-checks any
  // signature whose key differs from the one actually in force.
  std::vector<Prepared> prepared(records.size());
  const model::Governance* in_force = governance_.get();
  ParallelFor(pool, records.size(),
              [&](std::size_t i) { prepared[i] = Prepare(records[i], limits_, in_force); });
  for (const Prepared& p : prepared) {
    REGISTRY_RETURN_IF_ERROR(NextPrepared(p));
    if (leaf_hashes != nullptr) leaf_hashes->push_back(p.leaf_hash);
  }
  return util::Status::Ok();
}

}  // namespace registry::core
