#include "registry/core/registry.h"

#include <algorithm>
#include <chrono>
#include <iterator>
#include <shared_mutex>

#include "registry/core/chain_verifier.h"
#include "registry/core/merkle_log.h"
#include "registry/core/quorum.h"
#include "registry/crypto/base64.h"
#include "registry/crypto/blake3.h"
#include "registry/json/canonical.h"
#include "registry/json/parse.h"
#include "registry/util/time.h"

namespace registry::core {

using model::ProposalStatus;
using util::Error;
using util::ErrorCode;

namespace {

std::string RootBase64(const MerkleFrontier& frontier) {
  return crypto::Base64Encode(frontier.Root());
}

Error StaleError(std::uint64_t proposal_version, std::uint64_t head_version) {
  return Error(ErrorCode::kChainMismatch,
               "proposal for version " + std::to_string(proposal_version) +
                   " is stale: HEAD is at version " + std::to_string(head_version));
}

Error StoreError(const Error& e) { return Error(ErrorCode::kInternal, "storage: " + e.message()); }

// A retired row's id names this exact payload (the id derives from its hash): with the
// payload back, the row can be shown again (its approvals are gone with the retirement).
void RestoreRetiredPayload(storage::ProposalRow& row, const std::string& canonical) {
  if (!row.retired) return;
  row.canonical_payload = canonical;
  row.retired = false;
}

std::string NodeName(const storage::MerkleNode& n) {
  return "(" + std::to_string(n.level) + ", " + std::to_string(n.index) + ")";
}

// The stored interior nodes version v's leaf completes (one read per level, about one per
// version): what CheckStoredNodes compares. Fewer when the store lacks some.
util::Result<std::vector<storage::MerkleNode>> ReadCompletedNodes(storage::Store& store,
                                                                  std::uint64_t v) {
  std::vector<storage::MerkleNode> out;
  for (int h = 1; h < 64 && ((v >> h) << h) == v; ++h) {
    util::Result<std::vector<storage::MerkleNode>> got =
        store.ReadMerkleNodes(static_cast<std::uint8_t>(h), (v >> h) - 1, 1);
    if (!got.ok()) return StoreError(got.error());
    if (got->empty()) break;
    out.push_back(got->front());
  }
  return out;
}

// The stored interior nodes of version v against the ones recomputed from the verified
// leaves (`before`: the frontier of size v − 1). A mismatch names the node.
util::Status CheckStoredNodes(const MerkleFrontier& before, std::uint64_t v, const Hash& leaf,
                              const std::vector<storage::MerkleNode>& stored) {
  const std::vector<storage::MerkleNode> expected = NodesCompletedBy(before, leaf);
  for (std::size_t i = 0; i < expected.size(); ++i) {
    if (i >= stored.size()) {
      return Error(ErrorCode::kInternal, "version " + std::to_string(v) + ": Merkle node " +
                                             NodeName(expected[i]) + " is missing from the store");
    }
    if (stored[i] != expected[i]) {
      return Error(ErrorCode::kInternal,
                   "version " + std::to_string(v) + ": stored Merkle node " + NodeName(stored[i]) +
                       " does not match the node recomputed from the leaf hashes " +
                       NodeName(expected[i]));
    }
  }
  return util::Status::Ok();
}

}  // namespace

Registry::Registry(storage::Store* store, const util::Clock* clock, RegistryOptions options)
    : store_(store), clock_(clock), options_(std::move(options)) {}

util::Result<std::unique_ptr<Registry>> Registry::Open(storage::Store* store,
                                                       const util::Clock* clock,
                                                       model::Governance trust_roots,
                                                       RegistryOptions options) {
  std::unique_ptr<Registry> r(new Registry(store, clock, std::move(options)));
  r->trust_roots_ = std::make_shared<const model::Governance>(std::move(trust_roots));
  r->governance_history_[0] = r->trust_roots_;

  // Retention: the records before the prune anchor are gone, so the log can only be
  // verified from the anchor on (it is validated like a checkpoint).
  util::Result<std::optional<storage::CheckpointRow>> anchor = store->LoadPruneAnchor();
  if (!anchor.ok()) return StoreError(anchor.error());
  const std::uint64_t pruned = anchor->has_value() ? (*anchor)->version : 0;
  r->pruned_through_.store(pruned, std::memory_order_release);
  {
    std::lock_guard lock(r->prune_mu_);
    r->prune_anchor_ = *anchor;
  }

  // Resume from the storage checkpoint when it matches the log; otherwise from the prune
  // anchor, or from genesis.
  std::unique_ptr<ChainVerifier> verifier;
  util::Result<std::optional<storage::CheckpointRow>> checkpoint = store->LoadCheckpoint();
  if (!checkpoint.ok()) return StoreError(checkpoint.error());
  // HEAD is read after the checkpoint and the anchor: with other instances committing and
  // checkpointing meanwhile (a shared store), both are then at or below it.
  util::Result<std::uint64_t> head_version = store->HeadVersion();
  if (!head_version.ok()) return StoreError(head_version.error());
  r->stored_head_ = *head_version;
  if (checkpoint->has_value() && (*checkpoint)->version > 0 && (*checkpoint)->version >= pruned) {
    util::Result<ChainVerifier::State> state = r->StateFromCheckpoint(**checkpoint);
    if (!state.ok()) {
      r->FailVerification(state.error().message());
    } else {
      r->checkpoint_version_ = (*checkpoint)->version;
      r->governance_history_[state->version] = state->governance;
      verifier =
          std::make_unique<ChainVerifier>(std::move(state).value(), r->options_.payload_limits);
    }
  }
  if (verifier == nullptr && pruned > 0 && r->Healthy()) {
    util::Result<ChainVerifier::State> state = r->StateFromCheckpoint(**anchor);
    if (!state.ok()) {
      r->FailVerification("prune anchor: " + state.error().message());
    } else {
      r->governance_history_[state->version] = state->governance;
      verifier =
          std::make_unique<ChainVerifier>(std::move(state).value(), r->options_.payload_limits);
    }
  }
  if (verifier == nullptr) {
    verifier = std::make_unique<ChainVerifier>(*r->trust_roots_, r->options_.payload_limits);
  }
  if (r->checkpoint_version_ == *head_version) {
    r->recovery_kind_ = RecoveryKind::kClean;
  } else {
    r->recovery_kind_ =
        r->checkpoint_version_ > 0 ? RecoveryKind::kCheckpoint : RecoveryKind::kReplay;
  }

  // Verify the tail after the checkpoint through the same checks an outside verifier
  // applies, plus the stored leaf hash. HEAD is the last version that verified.
  for (std::uint64_t v = verifier->version() + 1; v <= *head_version && r->Healthy(); ++v) {
    util::Status verified = r->VerifyStoredVersion(*verifier, v);
    if (!verified.ok()) {
      r->FailVerification(verified.error().message());
      break;
    }
    if (!verifier->governance().Equivalent(*r->governance_history_.rbegin()->second)) {
      r->governance_history_[v] = verifier->shared_governance();
    }
  }
  r->frontier_ = verifier->frontier();
  auto head = std::make_shared<HeadState>();
  head->head.version = verifier->version();
  head->head.payload_b3 = verifier->payload_b3();
  if (verifier->version() > 0) head->head.committed_at = verifier->committed_at();
  head->head.root = RootBase64(r->frontier_);
  head->governance = verifier->shared_governance();
  r->head_.store(std::move(head), std::memory_order_release);

  // Recent events, for the stream's resume window, from the stored commit metadata.
  const std::uint64_t verified = verifier->version();
  const std::uint64_t first = verified > kRecentEvents ? verified - kRecentEvents + 1 : 1;
  for (std::uint64_t v = first; v <= verified; ++v) {
    util::Result<std::optional<storage::CommitMeta>> meta = store->ReadCommitMeta(v);
    if (!meta.ok()) return StoreError(meta.error());
    if (!meta->has_value()) continue;
    CommitEvent e;
    e.version = v;
    e.payload_b3 = (*meta)->payload_b3;
    e.committed_at = (*meta)->committed_at;
    e.root = crypto::Base64Encode((*meta)->root);
    e.proposal_id = (*meta)->proposal_id;
    r->recent_.push_back(std::move(e));
  }

  // Pending proposals come back with their approvals; those HEAD has passed are stale.
  util::Result<std::vector<storage::ProposalRow>> rows = store->LoadPendingProposals();
  if (!rows.ok()) return StoreError(rows.error());
  for (storage::ProposalRow& row : *rows) {
    if (row.version <= verifier->version()) {
      util::Status s = store->SetProposalStatus(row.proposal_id, ProposalStatus::kStale);
      if (!s.ok()) return StoreError(s.error());
      continue;
    }
    util::Result<Pending> pending = r->PendingFromRow(row);
    if (!pending.ok()) return std::move(pending).error();
    util::Result<std::vector<model::Approval>> approvals = store->LoadApprovals(row.proposal_id);
    if (!approvals.ok()) return StoreError(approvals.error());
    Pending p = std::move(pending).value();
    p.seq = r->next_seq_++;
    p.approvals = std::move(approvals).value();
    r->pending_by_seq_[p.seq] = row.proposal_id;
    r->pending_.emplace(row.proposal_id, std::move(p));
  }
  return r;
}

util::Result<Registry::Pending> Registry::PendingFromRow(const storage::ProposalRow& row) const {
  util::Result<json::Value> value = json::Parse(row.canonical_payload);
  if (!value.ok()) {
    return Error(ErrorCode::kInternal, "recovery: proposal " + row.proposal_id +
                                           " does not parse: " + value.error().message());
  }
  util::Result<model::CanonicalPayload> payload =
      model::MakeCanonicalPayload(*value, options_.payload_limits);
  if (!payload.ok() || payload->proposal_id != row.proposal_id ||
      payload->canonical != row.canonical_payload) {
    return Error(ErrorCode::kInternal,
                 "recovery: proposal " + row.proposal_id + " does not match its payload");
  }
  Pending p;
  p.payload = std::move(payload).value();
  p.canonical = std::make_shared<const std::string>(p.payload.canonical);
  p.created_at = row.created_at;
  p.expires_at = row.expires_at;
  return p;
}

util::Result<ChainVerifier::State> Registry::StateFromCheckpoint(
    const storage::CheckpointRow& cp) const {
  auto fail = [&](const std::string& why) {
    return Error(ErrorCode::kInternal,
                 "checkpoint at version " + std::to_string(cp.version) + ": " + why);
  };
  if (cp.version > stored_head_) return fail("beyond the stored HEAD");
  util::Result<std::optional<storage::CommitMeta>> meta = store_->ReadCommitMeta(cp.version);
  if (!meta.ok()) return StoreError(meta.error());
  if (!meta->has_value() || (*meta)->payload_b3 != cp.payload_b3) {
    return fail("payload_b3 differs from the log");
  }
  std::optional<MerkleFrontier> frontier = MerkleFrontier::Restore(
      cp.version, std::vector<Hash>(cp.frontier.begin(), cp.frontier.end()));
  if (!frontier.has_value() || frontier->Root() != (*meta)->root) {
    return fail("Merkle frontier does not match the stored root");
  }
  util::Result<json::Value> gv = json::Parse(cp.governance);
  if (!gv.ok()) return fail("governance does not parse");
  util::Result<model::Governance> g = model::DecodeGovernance(*gv, "checkpoint.governance");
  if (!g.ok()) return fail(g.error().message());
  ChainVerifier::State state;
  state.version = cp.version;
  state.payload_b3 = cp.payload_b3;
  state.committed_at = cp.committed_at;
  state.governance = std::make_shared<const model::Governance>(std::move(g).value());
  state.frontier = std::move(*frontier);
  return state;
}

util::Status Registry::VerifyStoredVersion(ChainVerifier& verifier, std::uint64_t v) const {
  util::Result<std::optional<std::string>> record = store_->ReadRecord(v);
  if (!record.ok()) return StoreError(record.error());
  if (!record->has_value()) {
    return Error(ErrorCode::kInternal, "version " + std::to_string(v) + ": missing from the store");
  }
  // The stored leaf hash catches changes to the parts no signature covers (committed_at,
  // signed_at); the chain verifier catches everything else.
  util::Result<std::optional<storage::CommitMeta>> meta = store_->ReadCommitMeta(v);
  if (!meta.ok()) return StoreError(meta.error());
  // The interior nodes the proofs are served from, recomputed from the verified leaves
  // (checked first, so that a failing version leaves the verifier before it).
  util::Result<std::vector<storage::MerkleNode>> nodes = ReadCompletedNodes(*store_, v);
  if (!nodes.ok()) return std::move(nodes).error();
  if (meta->has_value()) {
    REGISTRY_RETURN_IF_ERROR(CheckStoredNodes(verifier.frontier(), v, (*meta)->leaf_hash, *nodes));
  }
  return VerifyVersion(verifier, v, *record, *meta);
}

util::Status Registry::VerifyVersion(ChainVerifier& verifier, std::uint64_t v,
                                     const std::optional<std::string>& record,
                                     const std::optional<storage::CommitMeta>& meta) const {
  if (!record.has_value()) {
    return Error(ErrorCode::kInternal, "version " + std::to_string(v) + ": missing from the store");
  }
  if (!meta.has_value() || meta->leaf_hash != LeafHash(*record)) {
    return Error(ErrorCode::kInternal,
                 "version " + std::to_string(v) + ": record does not match its stored leaf hash");
  }
  REGISTRY_RETURN_IF_ERROR(verifier.Next(*record));
  if (crypto::Base64Encode(meta->root) != RootBase64(verifier.frontier())) {
    return Error(ErrorCode::kInternal,
                 "version " + std::to_string(v) + ": stored Merkle root does not match the log");
  }
  return util::Status::Ok();
}

void Registry::FailVerification(std::string message) {
  std::lock_guard lock(failure_mu_);
  if (!failure_.has_value()) failure_ = std::move(message);
}

std::optional<std::string> Registry::verification_failure() const {
  std::lock_guard lock(failure_mu_);
  return failure_;
}

bool Registry::Healthy() const {
  std::lock_guard lock(failure_mu_);
  return !failure_.has_value();
}

util::Status Registry::CheckWritable() const {
  std::lock_guard lock(failure_mu_);
  if (failure_.has_value()) {
    return Error(ErrorCode::kNotReady,
                 "the write plane is down: verification failed: " + *failure_);
  }
  return util::Status::Ok();
}

util::Result<bool> Registry::WriteCheckpoint(bool force) {
  storage::CheckpointRow row;
  {
    std::lock_guard lock(mu_);
    std::shared_ptr<const HeadState> head = Head();
    if ((!force && head->head.version == checkpoint_version_) || !Healthy()) return false;
    row.version = head->head.version;
    row.payload_b3 = head->head.payload_b3;
    row.committed_at = head->head.committed_at.value_or("");
    row.governance = json::Canonicalize(model::EncodeGovernance(*head->governance));
    row.frontier.assign(frontier_.subtrees().begin(), frontier_.subtrees().end());
    row.written_at = clock_->NowMillis();
    // Written under the mutex so that no commit slips between the snapshot and the write.
    if (util::Status s = store_->WriteCheckpoint(row); !s.ok()) return StoreError(s.error());
    checkpoint_version_ = row.version;
  }
  return true;
}

util::Result<bool> Registry::VerifyHistorySlice(std::size_t max_versions) {
  if (!Healthy()) return Error(ErrorCode::kInternal, *verification_failure());
  if (history_verifier_ == nullptr) {
    history_governance_.clear();
    history_governance_[0] = trust_roots_;
    std::optional<storage::CheckpointRow> anchor;
    {
      std::lock_guard lock(prune_mu_);
      anchor = prune_anchor_;
    }
    if (anchor.has_value()) {
      // What came before the anchor is pruned: the history starts there.
      util::Result<ChainVerifier::State> state = StateFromCheckpoint(*anchor);
      if (!state.ok()) {
        FailVerification("prune anchor: " + state.error().message());
        return Error(ErrorCode::kInternal, *verification_failure());
      }
      history_governance_[state->version] = state->governance;
      history_verifier_ =
          std::make_unique<ChainVerifier>(std::move(state).value(), options_.payload_limits);
    } else {
      history_verifier_ = std::make_unique<ChainVerifier>(*trust_roots_, options_.payload_limits);
    }
  }
  const std::uint64_t target = Head()->head.version;
  for (std::size_t i = 0; i < max_versions && history_verifier_->version() < target; ++i) {
    const std::uint64_t v = history_verifier_->version() + 1;
    util::Status s = VerifyStoredVersion(*history_verifier_, v);
    if (!s.ok()) {
      FailVerification(s.error().message());
      return Error(ErrorCode::kInternal, s.error().message());
    }
    if (!history_verifier_->governance().Equivalent(*history_governance_.rbegin()->second)) {
      history_governance_[v] = history_verifier_->shared_governance();
    }
  }
  if (history_verifier_->version() < target) return false;
  // The whole history checks out up to `target`: its governance history is now exact.
  std::lock_guard lock(mu_);
  std::unique_lock state(state_mu_);
  for (auto& [v, g] : history_governance_) governance_history_[v] = g;
  history_verifier_.reset();
  history_verified_.store(true, std::memory_order_release);
  return true;
}

util::Result<std::uint64_t> Registry::ApplyRetention(const RetentionPolicy& policy) {
  std::lock_guard prune_lock(prune_mu_);
  const std::uint64_t pruned = pruned_through();
  if (policy.kind == RetentionPolicy::Kind::kNone || !Healthy() || !history_verified()) {
    return pruned;
  }
  const std::uint64_t head = Head()->head.version;
  std::uint64_t covered = 0;  // the last storage checkpoint
  {
    std::lock_guard lock(mu_);
    covered = checkpoint_version_;
  }
  const std::uint64_t keep = std::max<std::uint64_t>(
      policy.keep_min, policy.kind == RetentionPolicy::Kind::kByCount ? policy.keep_versions : 0);
  if (head <= keep) return pruned;
  const std::uint64_t limit = std::min(covered, head - keep);
  if (limit <= pruned) return pruned;

  std::uint64_t target = limit;
  if (policy.kind == RetentionPolicy::Kind::kByAge) {
    const util::UnixMillis cutoff = clock_->NowMillis() - policy.max_age.count();
    target = pruned;
    for (std::uint64_t v = pruned + 1; v <= limit; ++v) {
      util::Result<std::optional<storage::CommitMeta>> meta = store_->ReadCommitMeta(v);
      if (!meta.ok()) return StoreError(meta.error());
      if (!meta->has_value()) break;
      std::optional<util::UnixMillis> at = util::ParseRfc3339((*meta)->committed_at);
      if (!at.has_value() || *at > cutoff) break;
      target = v;
    }
    if (target == pruned) return pruned;
  }

  // The anchor: a checkpoint at exactly `target`. Its Merkle frontier grows from the last
  // anchor's with the stored leaf hashes; every version up to it has been verified.
  storage::CheckpointRow row;
  MerkleFrontier frontier;
  if (prune_anchor_.has_value()) {
    std::optional<MerkleFrontier> restored = MerkleFrontier::Restore(
        prune_anchor_->version,
        std::vector<Hash>(prune_anchor_->frontier.begin(), prune_anchor_->frontier.end()));
    if (!restored.has_value()) {
      return Error(ErrorCode::kInternal,
                   "retention: the stored prune anchor's frontier is invalid");
    }
    frontier = std::move(*restored);
  }
  constexpr std::size_t kChunk = 1 << 16;
  while (frontier.size() < target) {
    const std::uint64_t first = frontier.size() + 1;
    util::Result<std::vector<storage::LeafHash>> leaves = store_->ReadLeafHashes(
        first, static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, target - first + 1)));
    if (!leaves.ok()) return StoreError(leaves.error());
    if (leaves->empty()) {
      return Error(ErrorCode::kInternal,
                   "retention: leaf hash of version " + std::to_string(first) + " is missing");
    }
    for (const storage::LeafHash& leaf : *leaves) frontier.AppendLeafHash(leaf);
  }
  util::Result<std::optional<storage::CommitMeta>> meta = store_->ReadCommitMeta(target);
  if (!meta.ok()) return StoreError(meta.error());
  if (!meta->has_value() || frontier.Root() != (*meta)->root) {
    return Error(ErrorCode::kInternal, "retention: the Merkle root at version " +
                                           std::to_string(target) +
                                           " does not match the stored leaf hashes");
  }
  row.version = target;
  row.payload_b3 = (*meta)->payload_b3;
  row.committed_at = (*meta)->committed_at;
  {
    std::shared_lock state(state_mu_);
    row.governance = json::Canonicalize(model::EncodeGovernance(*GovernanceFor(target + 1)));
  }
  row.frontier.assign(frontier.subtrees().begin(), frontier.subtrees().end());
  row.written_at = clock_->NowMillis();
  if (util::Status s = store_->PruneThrough(row); !s.ok()) return StoreError(s.error());
  prune_anchor_ = std::move(row);
  pruned_through_.store(target, std::memory_order_release);
  return target;
}

void Registry::SetCommitListener(CommitListener* listener) {
  std::lock_guard lock(mu_);
  listener_ = listener;
}

util::Status Registry::CatchUp() {
  std::lock_guard lock(mu_);
  return CatchUpLocked();
}

util::Status Registry::CatchUpLocked() {
  REGISTRY_RETURN_IF_ERROR(CheckWritable());
  util::Result<std::uint64_t> stored = store_->HeadVersion();
  if (!stored.ok()) return StoreError(stored.error());
  std::shared_ptr<const HeadState> head = Head();
  if (*stored <= head->head.version) return util::Status::Ok();
  ChainVerifier::State state;
  state.version = head->head.version;
  state.payload_b3 = head->head.payload_b3;
  state.committed_at = head->head.committed_at.value_or("");
  state.governance = head->governance;
  state.frontier = frontier_;
  ChainVerifier verifier(std::move(state), options_.payload_limits);
  for (std::uint64_t v = head->head.version + 1; v <= *stored; ++v) {
    // A store fault leaves HEAD where it got to (the next call resumes); only a version
    // that does not verify takes the write plane down.
    util::Result<std::optional<std::string>> record = store_->ReadRecord(v);
    if (!record.ok()) return StoreError(record.error());
    util::Result<std::optional<storage::CommitMeta>> meta = store_->ReadCommitMeta(v);
    if (!meta.ok()) return StoreError(meta.error());
    util::Result<std::vector<storage::MerkleNode>> nodes = ReadCompletedNodes(*store_, v);
    if (!nodes.ok()) return std::move(nodes).error();
    util::Status ok = meta->has_value()
                          ? CheckStoredNodes(verifier.frontier(), v, (*meta)->leaf_hash, *nodes)
                          : util::Status::Ok();
    if (ok.ok()) ok = VerifyVersion(verifier, v, *record, *meta);
    if (!ok.ok()) {
      FailVerification(ok.error().message());
      return ok;
    }
    frontier_ = verifier.frontier();
    std::shared_ptr<const HeadState> prev = Head();
    auto next = std::make_shared<HeadState>();
    next->head.version = v;
    next->head.payload_b3 = verifier.payload_b3();
    next->head.committed_at = verifier.committed_at();
    next->head.root = RootBase64(frontier_);
    CommitEvent event;
    event.version = v;
    event.payload_b3 = next->head.payload_b3;
    event.committed_at = verifier.committed_at();
    event.root = next->head.root;
    event.proposal_id = (*meta)->proposal_id;
    event.record = std::make_shared<const std::string>(std::move(**record));
    std::vector<std::string> stale;
    {
      std::unique_lock lock(state_mu_);
      if (prev->governance->Equivalent(verifier.governance())) {
        next->governance = prev->governance;
      } else {
        next->governance = verifier.shared_governance();
        governance_history_[v] = next->governance;
      }
      head_.store(std::move(next), std::memory_order_release);
      for (auto pit = pending_.begin(); pit != pending_.end();) {
        if (pit->second.payload.payload.version <= v) {
          if (pit->first != event.proposal_id) stale.push_back(pit->first);
          pending_by_seq_.erase(pit->second.seq);
          pit = pending_.erase(pit);
        } else {
          ++pit;
        }
      }
      recent_.push_back(event);
      recent_.back().record.reset();
      if (recent_.size() > kRecentEvents) recent_.pop_front();
    }
    if (listener_ != nullptr) listener_->OnCommit(event);
    // The committing instance marked stale only what it held; derivable at recovery.
    for (const std::string& sid : stale) {
      (void)store_->SetProposalStatus(sid, ProposalStatus::kStale);
    }
  }
  return util::Status::Ok();
}

void Registry::SyncForLocked(std::uint64_t version) {
  if (options_.shared_store && version > Head()->head.version + 1) (void)CatchUpLocked();
}

util::Status Registry::RefreshProposal(std::string_view proposal_id) {
  std::lock_guard lock(mu_);
  util::Result<PendingMap::iterator> it = RefreshProposalLocked(std::string(proposal_id));
  if (!it.ok()) return std::move(it).error();
  return util::Status::Ok();
}

util::Status Registry::RefreshPending() {
  std::lock_guard lock(mu_);
  util::Result<std::vector<storage::ProposalRow>> rows = store_->LoadPendingProposals();
  if (!rows.ok()) return StoreError(rows.error());
  std::set<std::string> ids;
  for (const storage::ProposalRow& row : *rows) ids.insert(row.proposal_id);
  for (const auto& [id, p] : pending_) ids.insert(id);
  for (const std::string& id : ids) {
    util::Result<PendingMap::iterator> it = RefreshProposalLocked(id);
    if (!it.ok() && it.error().code() != ErrorCode::kNotFound) return std::move(it).error();
  }
  return util::Status::Ok();
}

util::Result<Registry::PendingMap::iterator> Registry::RefreshProposalLocked(
    const std::string& id) {
  // Being inserted by this instance right now: Propose puts it in place itself.
  if (proposing_.count(id) > 0) return pending_.end();
  util::Result<std::optional<storage::ProposalRow>> row = store_->GetProposal(id);
  if (!row.ok()) return StoreError(row.error());
  auto it = pending_.find(id);
  if (!row->has_value()) {
    return Error(ErrorCode::kNotFound, "no proposal " + id);
  }
  const storage::ProposalRow& r = **row;
  SyncForLocked(r.version);
  it = pending_.find(id);  // the catch-up may have removed it
  if (r.status != ProposalStatus::kPending || r.version <= Head()->head.version) {
    if (it != pending_.end()) ErasePendingLocked(it);
    return pending_.end();
  }
  util::Result<std::vector<model::Approval>> approvals = store_->LoadApprovals(id);
  if (!approvals.ok()) return StoreError(approvals.error());
  if (it != pending_.end()) {
    std::unique_lock state(state_mu_);
    it->second.approvals = std::move(approvals).value();
    return it;
  }
  util::Result<Pending> pending = PendingFromRow(r);
  if (!pending.ok()) return std::move(pending).error();
  Pending p = std::move(pending).value();
  p.approvals = std::move(approvals).value();
  p.seq = next_seq_++;
  std::unique_lock state(state_mu_);
  pending_by_seq_[p.seq] = id;
  return pending_.emplace(id, std::move(p)).first;
}

util::Status Registry::ReloadApprovalsLocked(PendingMap::iterator it) {
  util::Result<std::vector<model::Approval>> approvals = store_->LoadApprovals(it->first);
  if (!approvals.ok()) return StoreError(approvals.error());
  // Every approval this instance accepted is stored before it is applied, so the store's
  // list holds them all, and those accepted elsewhere.
  std::unique_lock state(state_mu_);
  it->second.approvals = std::move(approvals).value();
  return util::Status::Ok();
}

std::shared_ptr<const model::Governance> Registry::GovernanceFor(std::uint64_t version) const {
  // In force for `version` is the governance after version - 1.
  auto it = governance_history_.upper_bound(version == 0 ? 0 : version - 1);
  --it;  // governance_history_ always holds key 0
  return it->second;
}

ProposalView Registry::ViewOf(const std::string& id, const Pending& p) const {
  ProposalView v;
  v.proposal_id = id;
  v.payload_b3 = p.payload.payload_b3;
  v.canonical_payload = p.canonical;
  v.version = p.payload.payload.version;
  v.status = ProposalStatus::kPending;
  v.approvals = p.approvals;
  std::shared_ptr<const model::Governance> g = GovernanceFor(v.version);
  v.quorum_m = g->m;
  v.quorum_n = g->n();
  v.created_at = p.created_at;
  v.expires_at = p.expires_at;
  return v;
}

void Registry::ErasePendingLocked(PendingMap::iterator it) {
  std::unique_lock state(state_mu_);
  pending_by_seq_.erase(it->second.seq);
  pending_.erase(it);
}

util::Status Registry::CheckOpenLocked(PendingMap::iterator it) {
  const Pending& p = it->second;
  std::uint64_t head_version = Head()->head.version;
  if (p.payload.payload.version <= head_version) {
    Error e = StaleError(p.payload.payload.version, head_version);
    util::Status s = store_->SetProposalStatus(it->first, ProposalStatus::kStale);
    ErasePendingLocked(it);
    // Staleness is derivable from HEAD at recovery, so a failed status write loses nothing.
    (void)s;
    return e;
  }
  if (clock_->NowMillis() >= p.expires_at) {
    // The message is built before the erase: `p` lives in the erased node.
    Error expired(ErrorCode::kProposalExpired,
                  "proposal expired at " + util::FormatRfc3339Seconds(p.expires_at));
    util::Status s = store_->SetProposalStatus(it->first, ProposalStatus::kExpired);
    if (!s.ok()) return StoreError(s.error());
    ErasePendingLocked(it);
    return expired;
  }
  return util::Status::Ok();
}

Error Registry::NotPendingError(std::string_view proposal_id) {
  util::Result<std::optional<storage::ProposalRow>> row = store_->GetProposal(proposal_id);
  if (!row.ok()) return StoreError(row.error());
  if (!row->has_value()) {
    return Error(ErrorCode::kNotFound, "no proposal " + std::string(proposal_id));
  }
  switch ((*row)->status) {
    case ProposalStatus::kExpired:
      return Error(ErrorCode::kProposalExpired,
                   "proposal " + std::string(proposal_id) + " expired");
    case ProposalStatus::kCommitted:
      return Error(ErrorCode::kChainMismatch, "proposal " + std::string(proposal_id) +
                                                  " is already committed as version " +
                                                  std::to_string((*row)->version));
    case ProposalStatus::kStale:
    case ProposalStatus::kPending:  // pending in the store but not here: HEAD passed it
      return StaleError((*row)->version, Head()->head.version);
  }
  return Error(ErrorCode::kInternal, "unreachable proposal status");
}

util::Status Registry::StoreDecision(const storage::AuditedWrite& write, AuditAttachment* audit,
                                     std::string_view payload_b3) {
  if (audit != nullptr && audit->log != nullptr && audit->log->chained()) {
    AuditEvent event = audit->event;
    if (event.payload_b3.empty()) event.payload_b3 = std::string(payload_b3);
    util::Result<storage::AuditRow> row = store_->WriteAudited(write, audit->log->Encoder(event));
    if (!row.ok()) return std::move(row).error();
    audit->stored = std::move(row).value();
    return util::Status::Ok();
  }
  switch (write.kind) {
    case storage::AuditedWrite::Kind::kInsertProposal:
      return store_->InsertProposal(*write.proposal);
    case storage::AuditedWrite::Kind::kInsertApproval:
      return store_->InsertApproval(write.proposal_id, *write.approval);
    case storage::AuditedWrite::Kind::kAppendCommit:
      return store_->AppendCommit(*write.commit);
  }
  return Error(ErrorCode::kInternal, "unknown decision write");
}

util::Result<ProposeOutcome> Registry::Propose(model::CanonicalPayload payload,
                                               AuditAttachment* audit) {
  REGISTRY_RETURN_IF_ERROR(CheckWritable());
  const std::string id = payload.proposal_id;
  storage::ProposalRow row;
  {
    std::lock_guard lock(mu_);
    if (auto it = pending_.find(id); it != pending_.end()) {
      return ProposeOutcome{ViewOf(id, it->second), false};
    }
    if (proposing_.count(id) > 0) {
      return Error(ErrorCode::kBusy, "proposal " + id + " is being stored by another request");
    }
    // A proposal that already ended (committed, stale, expired) is the same proposal too.
    util::Result<std::optional<storage::ProposalRow>> known = store_->GetProposal(id);
    if (!known.ok()) return StoreError(known.error());
    if (known->has_value()) {
      if (options_.shared_store && (*known)->status == ProposalStatus::kPending) {
        // Proposed through another instance sharing the store.
        util::Result<PendingMap::iterator> it = RefreshProposalLocked(id);
        if (!it.ok()) return std::move(it).error();
        if (*it != pending_.end()) return ProposeOutcome{ViewOf(id, (*it)->second), false};
      }
      // Same id, same payload: a payload retired by retention is the one proposed again.
      RestoreRetiredPayload(**known, payload.canonical);
      util::Result<ProposalView> view = ViewOfRow(**known);
      if (!view.ok()) return std::move(view).error();
      return ProposeOutcome{std::move(view).value(), false};
    }
    SyncForLocked(payload.payload.version);
    REGISTRY_RETURN_IF_ERROR(CheckOnHead(payload.payload));
    if (pending_.size() + proposing_.size() >= options_.max_pending) {
      ExpireDueLocked();
      if (pending_.size() + proposing_.size() >= options_.max_pending) {
        return Error(ErrorCode::kBusy, "too many pending proposals (governance.max_pending = " +
                                           std::to_string(options_.max_pending) + ")");
      }
    }
    const util::UnixMillis now = clock_->NowMillis();
    row.proposal_id = id;
    row.payload_b3 = payload.payload_b3;
    row.canonical_payload = payload.canonical;
    row.version = payload.payload.version;
    row.created_at = now;
    row.expires_at = now + options_.proposal_ttl.count();
    row.status = ProposalStatus::kPending;
    proposing_.insert(id);
  }

  // The durable write runs without the lock, so concurrent proposals can share an fsync.
  storage::AuditedWrite write;
  write.kind = storage::AuditedWrite::Kind::kInsertProposal;
  write.proposal = &row;
  util::Status stored = StoreDecision(write, audit, row.payload_b3);

  std::lock_guard lock(mu_);
  proposing_.erase(id);
  if (!stored.ok()) {
    // Another instance sharing the store may have inserted the same payload first: that
    // is the same proposal.
    if (options_.shared_store) {
      util::Result<std::optional<storage::ProposalRow>> known = store_->GetProposal(id);
      if (known.ok() && known->has_value()) {
        util::Result<PendingMap::iterator> it = RefreshProposalLocked(id);
        if (it.ok() && *it != pending_.end())
          return ProposeOutcome{ViewOf(id, (*it)->second), false};
        // Same id, same payload: a payload retired by retention is the one proposed again.
        RestoreRetiredPayload(**known, payload.canonical);
        util::Result<ProposalView> view = ViewOfRow(**known);
        if (!view.ok()) return std::move(view).error();
        return ProposeOutcome{std::move(view).value(), false};
      }
    }
    return StoreError(stored.error());
  }
  if (auto existing = pending_.find(id); existing != pending_.end()) {
    return ProposeOutcome{ViewOf(id, existing->second), false};
  }
  Pending p;
  p.canonical = std::make_shared<const std::string>(payload.canonical);
  p.payload = std::move(payload);
  p.created_at = row.created_at;
  p.expires_at = row.expires_at;
  p.seq = next_seq_++;
  PendingMap::iterator it;
  {
    std::unique_lock state(state_mu_);
    pending_by_seq_[p.seq] = id;
    it = pending_.emplace(id, std::move(p)).first;
  }
  // HEAD may have moved while the proposal was being stored.
  REGISTRY_RETURN_IF_ERROR(CheckOpenLocked(it));
  return ProposeOutcome{ViewOf(id, it->second), true};
}

util::Status Registry::CheckOnHead(const model::Payload& pl) const {
  std::shared_ptr<const HeadState> head = Head();
  if (pl.version != head->head.version + 1 || pl.prev_hash != head->head.payload_b3) {
    return Error(ErrorCode::kChainMismatch,
                 "payload (version " + std::to_string(pl.version) + ", prev_hash " + pl.prev_hash +
                     ") does not sit on HEAD (version " + std::to_string(head->head.version) +
                     ", payload_b3 " + head->head.payload_b3 + ")");
  }
  return util::Status::Ok();
}

util::Result<ApproveOutcome> Registry::Approve(std::string_view proposal_id,
                                               model::Approval approval, std::string_view corr_id,
                                               AuditAttachment* audit) {
  REGISTRY_RETURN_IF_ERROR(CheckWritable());
  const util::UnixMillis now = clock_->NowMillis();
  if (approval.signed_at_ms > now + options_.max_clock_skew.count()) {
    return Error(ErrorCode::kMalformed,
                 "signed_at: more than governance.max_clock_skew in "
                 "the future");
  }
  const std::string id(proposal_id);

  // Phase 1, under the lock: every check that needs no signature work.
  crypto::Ed25519PublicKey key;
  std::string payload_b3;
  {
    std::lock_guard lock(mu_);
    auto it = pending_.find(id);
    if (it == pending_.end() && options_.shared_store) {
      util::Result<PendingMap::iterator> refreshed = RefreshProposalLocked(id);
      if (!refreshed.ok()) return std::move(refreshed).error();
      it = *refreshed;
    } else if (it != pending_.end()) {
      SyncForLocked(it->second.payload.payload.version);
      it = pending_.find(id);
    }
    if (it == pending_.end()) return NotPendingError(id);
    REGISTRY_RETURN_IF_ERROR(CheckOpenLocked(it));
    const Pending& p = it->second;
    std::shared_ptr<const model::Governance> in_force = Head()->governance;
    const model::Governance& next = p.payload.payload.governance;
    if (!MayApprove(*in_force, next, approval.signer_id)) {
      return Error(ErrorCode::kUnknownSigner,
                   "signer " + approval.signer_id + " is not in the governance in force");
    }
    REGISTRY_RETURN_IF_ERROR(CheckNotDuplicateLocked(id, p, approval.signer_id));
    const model::Signer* signer = in_force->Find(approval.signer_id);
    if (signer == nullptr) signer = next.Find(approval.signer_id);
    key = signer->pubkey;
    payload_b3 = p.payload.payload_b3;
  }

  // Phase 2, without the lock: the expensive part.
  auto started = std::chrono::steady_clock::now();
  bool valid = model::VerifyApproval(approval, key, payload_b3);
  double verify_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (!valid) {
    return Error(ErrorCode::kInvalidSig,
                 "signature of " + approval.signer_id + " does not verify for " + payload_b3);
  }

  // Phase 3, under the lock again: the proposal may have moved on meanwhile. Reserve the
  // signer so that a concurrent duplicate is refused while this one is being stored.
  {
    std::lock_guard lock(mu_);
    auto it = pending_.find(id);
    if (it == pending_.end()) return NotPendingError(id);
    REGISTRY_RETURN_IF_ERROR(CheckOpenLocked(it));
    REGISTRY_RETURN_IF_ERROR(CheckNotDuplicateLocked(id, it->second, approval.signer_id));
    std::unique_lock state(state_mu_);
    it->second.reserved_signers.push_back(approval.signer_id);
  }

  // Phase 4, without the lock: the durable write. Concurrent approvals reach the store
  // together, so a group-committing store makes them share one fsync.
  storage::AuditedWrite write;
  write.kind = storage::AuditedWrite::Kind::kInsertApproval;
  write.proposal_id = id;
  write.approval = &approval;
  util::Status stored = StoreDecision(write, audit, payload_b3);

  // Phase 5, under the lock: apply, and auto-commit when quorum is reached.
  std::lock_guard lock(mu_);
  auto it = pending_.find(id);
  {
    std::unique_lock state(state_mu_);
    if (it != pending_.end()) {
      std::vector<std::string>& reserved = it->second.reserved_signers;
      reserved.erase(std::find(reserved.begin(), reserved.end(), approval.signer_id));
      // A refresh from the store (shared store) may have brought it in already.
      std::vector<model::Approval>& have = it->second.approvals;
      if (stored.ok() && std::none_of(have.begin(), have.end(), [&](const model::Approval& a) {
            return a.signer_id == approval.signer_id;
          })) {
        have.push_back(approval);
      }
    }
  }
  if (!stored.ok()) {
    // The same signer's approval accepted by another instance sharing the store.
    if (stored.error().code() == ErrorCode::kDuplicateApproval) return std::move(stored).error();
    return StoreError(stored.error());
  }
  // Committed, expired or passed by HEAD while the approval was being stored: it is on
  // record but can no longer count.
  if (it == pending_.end()) return NotPendingError(id);
  // Shared store: count the approvals other instances accepted too. The approval is stored
  // already, so a failed reload must not turn into an error the client would retry.
  if (options_.shared_store) (void)ReloadApprovalsLocked(it);
  Pending& p = it->second;

  ApproveOutcome out;
  out.approvals = p.approvals.size();
  std::shared_ptr<const model::Governance> in_force = Head()->governance;
  out.quorum_m = in_force->m;
  out.quorum_n = in_force->n();
  out.verify_seconds = verify_seconds;
  if (options_.auto_commit && Tally(*in_force, p.payload.payload.governance, p.approvals).met()) {
    util::Result<CommitOutcome> committed = CommitLocked(it, corr_id);
    if (committed.ok()) out.committed = std::move(committed).value();
    // A failed auto-commit leaves the accepted approval in place; an explicit commit
    // retries and reports the error.
  }
  return out;
}

util::Status Registry::CheckNotDuplicateLocked(const std::string& id, const Pending& p,
                                               const std::string& signer_id) const {
  bool seen = std::any_of(p.approvals.begin(), p.approvals.end(),
                          [&](const model::Approval& a) { return a.signer_id == signer_id; }) ||
              std::find(p.reserved_signers.begin(), p.reserved_signers.end(), signer_id) !=
                  p.reserved_signers.end();
  if (seen) {
    return Error(ErrorCode::kDuplicateApproval, "signer " + signer_id + " already approved " + id);
  }
  return util::Status::Ok();
}

util::Result<CommitOutcome> Registry::CommittedOutcome(std::string_view proposal_id) {
  util::Result<std::optional<storage::ProposalRow>> row = store_->GetProposal(proposal_id);
  if (!row.ok()) return StoreError(row.error());
  if (!row->has_value() || (*row)->status != ProposalStatus::kCommitted) {
    return NotPendingError(proposal_id);
  }
  util::Result<std::optional<storage::CommitMeta>> meta = store_->ReadCommitMeta((*row)->version);
  if (!meta.ok()) return StoreError(meta.error());
  if (!meta->has_value() || (*meta)->proposal_id != proposal_id) {
    return Error(ErrorCode::kInternal, "storage: proposal " + std::string(proposal_id) +
                                           " is marked committed but " + "version " +
                                           std::to_string((*row)->version) + " belongs to another");
  }
  return CommitOutcome{(*meta)->version, (*meta)->payload_b3, (*meta)->committed_at, false};
}

util::Result<CommitOutcome> Registry::Commit(std::string_view proposal_id, std::string_view corr_id,
                                             AuditAttachment* audit) {
  REGISTRY_RETURN_IF_ERROR(CheckWritable());
  std::lock_guard lock(mu_);
  auto it = pending_.find(std::string(proposal_id));
  if (it == pending_.end() && options_.shared_store) {
    util::Result<PendingMap::iterator> refreshed = RefreshProposalLocked(std::string(proposal_id));
    if (!refreshed.ok() && refreshed.error().code() != ErrorCode::kNotFound) {
      return std::move(refreshed).error();
    }
    if (refreshed.ok()) it = *refreshed;
  }
  if (it == pending_.end()) return CommittedOutcome(proposal_id);
  REGISTRY_RETURN_IF_ERROR(CheckOpenLocked(it));
  return CommitLocked(it, corr_id, audit);
}

util::Result<CommitOutcome> Registry::CommitLocked(PendingMap::iterator it,
                                                   std::string_view corr_id,
                                                   AuditAttachment* audit) {
  const std::string id = it->first;
  if (options_.shared_store) {
    // This instance may lag behind the store, and other instances may have accepted
    // approvals of this proposal.
    SyncForLocked(it->second.payload.payload.version);
    it = pending_.find(id);
    if (it == pending_.end()) return NotPendingError(id);
    REGISTRY_RETURN_IF_ERROR(ReloadApprovalsLocked(it));
  }
  Pending& p = it->second;
  std::shared_ptr<const HeadState> head = Head();
  const model::Payload& pl = p.payload.payload;
  // CAS on HEAD{version, payload_b3}: the payload names the exact position it signs for.
  if (pl.version != head->head.version + 1 || pl.prev_hash != head->head.payload_b3) {
    ErasePendingLocked(it);
    return StaleError(pl.version, head->head.version);
  }
  QuorumTally tally = Tally(*head->governance, pl.governance, p.approvals);
  REGISTRY_RETURN_IF_ERROR(CheckQuorum(tally));

  storage::CommitRow row;
  row.version = pl.version;
  row.payload_b3 = p.payload.payload_b3;
  row.proposal_id = id;
  row.committed_at = util::FormatRfc3339Millis(clock_->NowMillis());
  row.record = model::EncodeCommitRecordCanonical(row.version, *p.canonical, row.payload_b3,
                                                  tally.counted, row.committed_at);
  row.leaf_hash = LeafHash(row.record);
  row.nodes = NodesCompletedBy(frontier_, row.leaf_hash);  // stored with the commit
  MerkleFrontier next_frontier = frontier_;
  next_frontier.AppendLeafHash(row.leaf_hash);
  row.root = next_frontier.Root();
  storage::AuditedWrite write;
  write.kind = storage::AuditedWrite::Kind::kAppendCommit;
  write.commit = &row;
  if (util::Status s = StoreDecision(write, audit, row.payload_b3); !s.ok()) {
    if (s.error().code() == ErrorCode::kChainMismatch) {
      // Another instance sharing the store took this version: learn of it, so that the
      // client's retry meets the new HEAD. The 409 stands.
      (void)CatchUpLocked();
      return std::move(s).error();
    }
    return StoreError(s.error());
  }

  frontier_ = std::move(next_frontier);
  auto next = std::make_shared<HeadState>();
  next->head.version = row.version;
  next->head.payload_b3 = row.payload_b3;
  next->head.committed_at = row.committed_at;
  next->head.root = RootBase64(frontier_);
  if (head->governance->Equivalent(pl.governance)) {
    next->governance = head->governance;
  } else {
    next->governance = std::make_shared<const model::Governance>(pl.governance);
    std::unique_lock state(state_mu_);
    governance_history_[row.version] = next->governance;
  }
  CommitOutcome out{row.version, row.payload_b3, row.committed_at, true};
  CommitEvent event;
  event.version = row.version;
  event.payload_b3 = row.payload_b3;
  event.committed_at = row.committed_at;
  event.root = next->head.root;
  event.proposal_id = id;
  event.corr_id = std::string(corr_id);
  event.record = std::make_shared<const std::string>(std::move(row.record));
  head_.store(std::move(next), std::memory_order_release);
  ErasePendingLocked(it);

  // Every other proposal for this version can never commit now.
  std::vector<std::string> stale;
  {
    std::unique_lock state(state_mu_);
    for (auto pit = pending_.begin(); pit != pending_.end();) {
      if (pit->second.payload.payload.version <= out.version) {
        stale.push_back(pit->first);
        pending_by_seq_.erase(pit->second.seq);
        pit = pending_.erase(pit);
      } else {
        ++pit;
      }
    }
    recent_.push_back(event);
    recent_.back().record.reset();
    if (recent_.size() > kRecentEvents) recent_.pop_front();
  }
  if (listener_ != nullptr) listener_->OnCommit(event);
  // Derivable at recovery, so a failed status write loses nothing.
  for (const std::string& sid : stale) (void)store_->SetProposalStatus(sid, ProposalStatus::kStale);
  return out;
}

std::vector<CommitEvent> Registry::RecentEvents(std::size_t max) const {
  std::shared_lock state(state_mu_);
  std::size_t n = std::min(max, recent_.size());
  return std::vector<CommitEvent>(recent_.end() - static_cast<std::ptrdiff_t>(n), recent_.end());
}

util::Result<ProposalView> Registry::GetProposal(std::string_view proposal_id) {
  {
    // Readers never take the writer mutex: a commit stuck in the store does not stop them.
    std::shared_lock state(state_mu_);
    auto it = pending_.find(std::string(proposal_id));
    if (it != pending_.end()) return ViewOf(it->first, it->second);
  }
  util::Result<std::optional<storage::ProposalRow>> row = store_->GetProposal(proposal_id);
  if (!row.ok()) return StoreError(row.error());
  if (!row->has_value()) {
    return Error(ErrorCode::kNotFound, "no proposal " + std::string(proposal_id));
  }
  if (options_.shared_store && (*row)->status == ProposalStatus::kPending) {
    // Proposed through another instance: load it here.
    REGISTRY_RETURN_IF_ERROR(RefreshProposal(proposal_id));
    std::shared_lock state(state_mu_);
    auto it = pending_.find(std::string(proposal_id));
    if (it != pending_.end()) return ViewOf(it->first, it->second);
  }
  return ViewOfRow(**row);
}

util::Result<ProposalView> Registry::ViewOfRow(const storage::ProposalRow& r) {
  if (r.retired) {
    // Retention retired this ended proposal's payload (docs/STORAGE.md, "Retention").
    return Error(ErrorCode::kPruned, "proposal " + r.proposal_id + " (" +
                                         std::string(model::ProposalStatusName(r.status)) +
                                         ", version " + std::to_string(r.version) +
                                         ") was pruned by retention");
  }
  util::Result<std::vector<model::Approval>> approvals = store_->LoadApprovals(r.proposal_id);
  if (!approvals.ok()) return StoreError(approvals.error());
  ProposalView v;
  v.proposal_id = r.proposal_id;
  v.payload_b3 = r.payload_b3;
  v.canonical_payload = std::make_shared<const std::string>(r.canonical_payload);
  v.version = r.version;
  // A pending row that is not in memory was passed by HEAD (recovery marks it stale).
  v.status = r.status == ProposalStatus::kPending ? ProposalStatus::kStale : r.status;
  v.approvals = std::move(approvals).value();
  std::shared_ptr<const model::Governance> g;
  {
    std::shared_lock state(state_mu_);
    g = GovernanceFor(r.version);
  }
  v.quorum_m = g->m;
  v.quorum_n = g->n();
  v.created_at = r.created_at;
  v.expires_at = r.expires_at;
  return v;
}

std::vector<ProposalView> Registry::ListPending(std::size_t limit, std::string_view after) const {
  std::shared_lock state(state_mu_);
  std::vector<ProposalView> out;
  auto it = pending_by_seq_.rbegin();
  if (!after.empty()) {
    auto a = pending_.find(std::string(after));
    if (a == pending_.end()) return out;
    it = std::make_reverse_iterator(pending_by_seq_.find(a->second.seq));
  }
  for (; it != pending_by_seq_.rend() && out.size() < limit; ++it) {
    const auto& p = pending_.at(it->second);
    out.push_back(ViewOf(it->second, p));
  }
  return out;
}

std::size_t Registry::pending_count() const {
  std::shared_lock state(state_mu_);
  return pending_.size();
}

std::size_t Registry::ExpireDue() {
  std::lock_guard lock(mu_);
  return ExpireDueLocked();
}

std::size_t Registry::ExpireDueLocked() {
  const util::UnixMillis now = clock_->NowMillis();
  std::vector<std::string> due;
  for (const auto& [id, p] : pending_) {
    if (now >= p.expires_at) due.push_back(id);
  }
  std::size_t expired = 0;
  for (const std::string& id : due) {
    // Only what the store recorded as expired leaves memory: expiry is not derivable.
    if (!store_->SetProposalStatus(id, ProposalStatus::kExpired).ok()) continue;
    ErasePendingLocked(pending_.find(id));
    ++expired;
  }
  return expired;
}

}  // namespace registry::core
