// Registry: the governance state machine (SPEC §1.4–§1.7, §3) over a Store.
//
// It owns the in-memory view of HEAD and of pending proposals, and it is the single writer of
// HEAD: every commit runs under one writer mutex, in order, and reaches the Store before
// the call returns. Proposals and approvals are checked and reserved under that mutex but
// written to the Store outside it, so that concurrent ones can share one fsync in a
// group-committing store; nothing is acknowledged before its write is durable. Signature
// verification runs in the caller's thread outside the mutex, so callers should invoke
// Approve from worker threads, not I/O threads. Time comes from the injected Clock.
//
// Readers (Head(), GetProposal, ListPending) are safe from any thread. Head() is a lock-free
// atomic load of an immutable snapshot.
//
// Several instances may share one store (RegistryOptions::shared_store): the store's CAS on
// HEAD keeps the history linear, and CatchUp() / RefreshProposal() bring this instance's
// view up to what the others committed, proposed and approved (called from the store's
// change feed, and by the registry itself when it meets a version or proposal it lacks).
//
// Errors map 1:1 to SPEC §2.3 codes through util::ErrorCode.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "registry/core/audit_log.h"
#include "registry/core/chain_verifier.h"
#include "registry/core/merkle.h"
#include "registry/model/approval.h"
#include "registry/model/commit_record.h"
#include "registry/model/payload.h"
#include "registry/model/proposal.h"
#include "registry/storage/store.h"
#include "registry/util/clock.h"
#include "registry/util/result.h"

namespace registry::core {

struct RegistryOptions {
  std::size_t max_pending = 1024;
  std::chrono::milliseconds proposal_ttl = std::chrono::hours(72);
  std::chrono::milliseconds max_clock_skew = std::chrono::minutes(5);
  bool auto_commit = false;
  model::PayloadLimits payload_limits;
  // The store is shared with other registry instances (docs/SCALING.md): approvals are
  // reloaded from the store before a quorum check, and proposals or versions this instance
  // has not seen are looked up in the store. Off: the single-instance fast path.
  bool shared_store = false;
};

// Retention (SPEC §4.3): which old records ApplyRetention prunes. HEAD and the last
// `keep_min` versions are never pruned, nor anything after the last storage checkpoint.
struct RetentionPolicy {
  enum class Kind : std::uint8_t { kNone, kByCount, kByAge };
  Kind kind = Kind::kNone;
  std::uint64_t keep_min = 100;
  std::uint64_t keep_versions = 0;       // kByCount: keep this many latest versions
  std::chrono::milliseconds max_age{0};  // kByAge: prune the oldest versions older than this
};

// An immutable snapshot of HEAD, replaced (never mutated) at each commit.
struct HeadState {
  model::Head head;
  std::shared_ptr<const model::Governance> governance;  // in force after head.version
};

struct ProposalView {
  std::string proposal_id;
  std::string payload_b3;
  std::shared_ptr<const std::string> canonical_payload;
  std::uint64_t version = 0;  // payload.version
  model::ProposalStatus status = model::ProposalStatus::kPending;
  std::vector<model::Approval> approvals;  // accepted, in acceptance order
  std::uint32_t quorum_m = 0;              // of the governance in force for this version
  std::size_t quorum_n = 0;
  util::UnixMillis created_at = 0;
  util::UnixMillis expires_at = 0;
};

struct ProposeOutcome {
  ProposalView proposal;
  bool created = false;  // false: the same payload was proposed before (idempotent)
};

struct CommitOutcome {
  std::uint64_t version = 0;
  std::string payload_b3;
  std::string committed_at;
  bool created = false;  // false: a retry of a commit that already happened
};

struct ApproveOutcome {
  std::size_t approvals = 0;  // accepted approvals after this one
  std::uint32_t quorum_m = 0;
  std::size_t quorum_n = 0;
  std::optional<CommitOutcome> committed;  // auto-commit fired
  double verify_seconds = 0;               // time spent verifying the signature
};

// What subscribers learn of each commit.
struct CommitEvent {
  std::uint64_t version = 0;
  std::string payload_b3;
  std::string committed_at;
  std::string root;  // base64 Merkle root at tree size = version
  std::string proposal_id;
  std::string corr_id;                        // of the request that committed it, if any
  std::shared_ptr<const std::string> record;  // canonical commit record bytes; null in
                                              // RecentEvents()
};

// The audit entry of an accepted write, stored in the write's own transaction when the
// store chains the trail (AuditLog::chained()): one fsync for both. The Registry completes
// `event` with the payload hash and sets `stored` once the write and its entry are durable;
// when `stored` stays empty (no write happened, or the trail is not chained), the caller
// records the decision through the AuditLog as usual.
struct AuditAttachment {
  const AuditLog* log = nullptr;  // not owned
  AuditEvent event;               // the accepted decision
  std::optional<storage::AuditRow> stored;
};

class CommitListener {
 public:
  virtual ~CommitListener() = default;
  // Called once per commit, in version order, under the writer mutex, after the commit is
  // durable. MUST NOT block or call back into the Registry.
  virtual void OnCommit(const CommitEvent& event) = 0;
};

class Registry {
 public:
  // Recovers from `store`: resumes from the storage checkpoint when it matches the log (else
  // from genesis, `trust_roots`), verifies every version after it (canonical form, chain,
  // payload hash, signatures, quorum, rotation, leaf hash, Merkle root), loads pending
  // proposals and their approvals, and marks stale the ones HEAD has passed.
  // A verification failure does not fail Open: HEAD stays at the last verified version,
  // verification_failure() names the version and the rule, and every write is refused with
  // kNotReady (reads keep working; nothing is repaired). Errors are storage faults only.
  // `store` and `clock` are not owned and MUST outlive the Registry.
  static util::Result<std::unique_ptr<Registry>> Open(storage::Store* store,
                                                      const util::Clock* clock,
                                                      model::Governance trust_roots,
                                                      RegistryOptions options);

  // Registers the listener (not owned; MUST outlive the Registry). Call before writes.
  void SetCommitListener(CommitListener* listener);

  // Proposes `payload` (already strictly decoded, canonicalized and hashed). The same
  // payload again returns the existing proposal with created = false. Errors:
  // kChainMismatch (not on HEAD), kBusy (pending cap), kInternal (store).
  // `audit` (MAY be null): see AuditAttachment; the same for Approve and Commit.
  util::Result<ProposeOutcome> Propose(model::CanonicalPayload payload,
                                       AuditAttachment* audit = nullptr);

  // Accepts one approval. Errors: kNotFound, kProposalExpired, kChainMismatch (stale or
  // committed), kUnknownSigner, kDuplicateApproval, kInvalidSig, kMalformed (signed_at too
  // far in the future), kInternal. With auto_commit, commits when quorum is reached.
  // `corr_id` is the request's correlation id, carried opaquely into the CommitEvent of an
  // auto-commit.
  util::Result<ApproveOutcome> Approve(std::string_view proposal_id, model::Approval approval,
                                       std::string_view corr_id = {},
                                       AuditAttachment* audit = nullptr);

  // Commits a pending proposal: CAS on HEAD, quorum per SPEC §1.4, durable append, then
  // the listener. A retry of a committed proposal returns the same outcome with
  // created = false. Errors: kNotFound, kProposalExpired, kChainMismatch, kQuorumFailed,
  // kInternal.
  util::Result<CommitOutcome> Commit(std::string_view proposal_id, std::string_view corr_id = {},
                                     AuditAttachment* audit = nullptr);

  // Shared store: applies the versions other instances committed after this instance's
  // HEAD, in order, each verified like the tail at Open (VerifyStoredVersion from HEAD's
  // state); per version HEAD, the Merkle frontier, the governance history and the recent
  // events advance, the committed proposal leaves the pending set, the other pending ones
  // for that version become stale, and the listener learns of the commit (empty corr_id).
  // A verification failure takes the write plane down (verification_failure()); a store
  // error leaves HEAD where it got to. Idempotent; safe from any thread.
  util::Status CatchUp();

  // Shared store: reloads one proposal and its approvals from the store into the pending
  // set, or drops it from there when it is no longer pending. kNotFound when the store has
  // no such proposal. Safe from any thread.
  util::Status RefreshProposal(std::string_view proposal_id);

  // Shared store: reloads every pending proposal (after the change feed lost notifications).
  util::Status RefreshPending();

  // Any proposal known to the store. kNotFound when there is none.
  util::Result<ProposalView> GetProposal(std::string_view proposal_id);

  // Pending proposals, newest first; `after` (a proposal id) continues a previous page.
  std::vector<ProposalView> ListPending(std::size_t limit, std::string_view after) const;
  std::size_t pending_count() const;

  // Marks expired every pending proposal whose TTL has passed. Returns how many.
  std::size_t ExpireDue();

  std::shared_ptr<const HeadState> Head() const { return head_.load(std::memory_order_acquire); }

  // The events of the last `max` versions (oldest first), as recovered at Open and added
  // by commits since; lets the stream replay recent history without reading the store.
  std::vector<CommitEvent> RecentEvents(std::size_t max) const;

  const RegistryOptions& options() const { return options_; }

  // Why the write plane is down, when a verification (at Open or in the background) failed.
  std::optional<std::string> verification_failure() const;

  enum class RecoveryKind { kClean, kCheckpoint, kReplay };
  // How Open recovered: a checkpoint at HEAD (clean shutdown), a checkpoint plus a verified
  // tail, or a replay from genesis.
  RecoveryKind recovery_kind() const { return recovery_kind_; }

  // Writes a storage checkpoint of HEAD when HEAD moved since the last one (or always, with
  // `force`: a harmless write that probes whether a storage fault has cleared). Returns
  // whether it wrote one. Never writes while verification_failure() is set.
  util::Result<bool> WriteCheckpoint(bool force = false);

  // Re-verifies the whole history from genesis in slices of at most `max_versions` versions
  // per call (call repeatedly from one background thread). Returns true once the history up
  // to the HEAD seen at the start verified; a failure takes the write plane down.
  util::Result<bool> VerifyHistorySlice(std::size_t max_versions);

  // Prunes the records of old versions as `policy` allows (SPEC §4.3) and returns the last
  // pruned version (0: none). Prunes only a prefix of the log: through the newest version
  // that is (a) covered by the last storage checkpoint, (b) older than the last
  // max(keep_min, keep_versions) versions (kByCount) or committed more than max_age ago,
  // counted from the oldest version up to the first younger one (kByAge). The store keeps
  // a checkpoint at that version (the prune anchor) from which start-up and the background
  // verification resume. Does nothing while verification has failed or before the whole
  // history has been verified since Open (the governance in force at the anchor must be
  // exact). Call from one thread (housekeeping); never blocks commits or readers.
  util::Result<std::uint64_t> ApplyRetention(const RetentionPolicy& policy);

  // Versions 1 … pruned_through() answer kPruned (0: nothing pruned). Lock-free.
  std::uint64_t pruned_through() const { return pruned_through_.load(std::memory_order_acquire); }

  // True once VerifyHistorySlice has verified the whole history since Open.
  bool history_verified() const { return history_verified_.load(std::memory_order_acquire); }

  // How many recent events RecentEvents() can return at most (and Open reads back): the
  // stream's resume window.
  static constexpr std::size_t kRecentEvents = 1024;

 private:
  struct Pending {
    model::CanonicalPayload payload;
    std::shared_ptr<const std::string> canonical;
    util::UnixMillis created_at = 0;
    util::UnixMillis expires_at = 0;
    std::uint64_t seq = 0;  // creation order, for newest-first listing
    std::vector<model::Approval> approvals;
    std::vector<std::string> reserved_signers;  // approvals being stored right now
  };

  using PendingMap = std::unordered_map<std::string, Pending>;

  Registry(storage::Store* store, const util::Clock* clock, RegistryOptions options);

  ProposalView ViewOf(const std::string& id, const Pending& p) const;
  // The view of a proposal that is no longer pending, from the store.
  util::Result<ProposalView> ViewOfRow(const storage::ProposalRow& row);
  // The governance in force for a payload of `version` (that of version - 1).
  std::shared_ptr<const model::Governance> GovernanceFor(std::uint64_t version) const;
  // Checks that the proposal at `it` can still be approved or committed on HEAD. When it
  // is stale or expired, records that, erases `it` and returns the error.
  util::Status CheckOpenLocked(PendingMap::iterator it);
  util::Result<CommitOutcome> CommitLocked(PendingMap::iterator it, std::string_view corr_id,
                                           AuditAttachment* audit = nullptr);
  // One of the three decision writes, with `audit`'s entry in the same transaction when the
  // trail is chained by the store (payload_b3 fills the entry's when it has none).
  util::Status StoreDecision(const storage::AuditedWrite& write, AuditAttachment* audit,
                             std::string_view payload_b3);
  void ErasePendingLocked(PendingMap::iterator it);
  util::Status CheckNotDuplicateLocked(const std::string& id, const Pending& p,
                                       const std::string& signer_id) const;
  // kChainMismatch unless `payload` names the next version on HEAD.
  util::Status CheckOnHead(const model::Payload& payload) const;
  std::size_t ExpireDueLocked();
  // The error for an operation on a proposal that is not pending (terminal or unknown), or
  // the outcome of a committed one for commit retries.
  util::Error NotPendingError(std::string_view proposal_id);
  util::Result<CommitOutcome> CommittedOutcome(std::string_view proposal_id);
  util::Result<ChainVerifier::State> StateFromCheckpoint(const storage::CheckpointRow& cp) const;
  // Verifies stored version `v` as the next version of `verifier`, with its leaf hash and
  // Merkle root.
  util::Status VerifyStoredVersion(ChainVerifier& verifier, std::uint64_t v) const;
  // The checks of VerifyStoredVersion on a record and its metadata already read.
  util::Status VerifyVersion(ChainVerifier& verifier, std::uint64_t v,
                             const std::optional<std::string>& record,
                             const std::optional<storage::CommitMeta>& meta) const;
  // A pending proposal rebuilt from its stored row (its approvals not loaded).
  util::Result<Pending> PendingFromRow(const storage::ProposalRow& row) const;
  util::Status CatchUpLocked();
  // Shared store: catches up when `version` is beyond HEAD + 1 (this instance may lag).
  void SyncForLocked(std::uint64_t version);
  // Loads `id` from the store; returns its place in pending_, or pending_.end() when it is
  // not pending (any more).
  util::Result<PendingMap::iterator> RefreshProposalLocked(const std::string& id);
  // Shared store: replaces the approvals of `it` by the store's (a superset).
  util::Status ReloadApprovalsLocked(PendingMap::iterator it);
  void FailVerification(std::string message);
  bool Healthy() const;
  util::Status CheckWritable() const;

  storage::Store* const store_;
  const util::Clock* const clock_;
  const RegistryOptions options_;
  CommitListener* listener_ = nullptr;

  std::atomic<std::shared_ptr<const HeadState>> head_;
  std::shared_ptr<const model::Governance> trust_roots_;
  std::uint64_t stored_head_ = 0;  // the store's HEAD at Open
  RecoveryKind recovery_kind_ = RecoveryKind::kReplay;

  mutable std::mutex failure_mu_;
  std::optional<std::string> failure_;  // guarded by failure_mu_

  // Background full verification (VerifyHistorySlice); used by one thread at a time.
  std::unique_ptr<ChainVerifier> history_verifier_;
  std::atomic<bool> history_verified_{false};
  // Retention: the stored prune anchor (records of versions <= its version are gone).
  // Written by Open and ApplyRetention (one thread), read by VerifyHistorySlice.
  mutable std::mutex prune_mu_;
  std::optional<storage::CheckpointRow> prune_anchor_;  // guarded by prune_mu_
  std::atomic<std::uint64_t> pruned_through_{0};
  std::map<std::uint64_t, std::shared_ptr<const model::Governance>> history_governance_;

  // Locking: `mu_` is the writer mutex. Writers hold it for a whole operation, store writes
  // included, so they are serialized. The state that readers look at (marked "state")
  // is also guarded by `state_mu_`: writers take it exclusively, briefly, only around
  // in-memory changes and never across a store call; readers take it shared and never take
  // `mu_`, so a commit waiting on a slow fsync does not stop them. Order: mu_, then state_mu_.
  mutable std::mutex mu_;
  mutable std::shared_mutex state_mu_;
  MerkleFrontier frontier_;
  std::uint64_t checkpoint_version_ = 0;  // version of the last storage checkpoint
  // state: governance in force after each version where it changed (0 = trust roots).
  std::map<std::uint64_t, std::shared_ptr<const model::Governance>> governance_history_;
  PendingMap pending_;                                   // state
  std::map<std::uint64_t, std::string> pending_by_seq_;  // state
  std::set<std::string> proposing_;                      // proposal ids being stored right now
  std::uint64_t next_seq_ = 0;
  std::deque<CommitEvent> recent_;  // state; bounded by kRecentEvents, records dropped
};

}  // namespace registry::core
