// Store: the durable state of one registry (SPEC §4): proposals, accepted approvals, the
// append-only log of commit records, and HEAD.
//
// The governance core (src/core) is the only writer, and it serializes its writes; a Store
// still MUST be safe to call from several threads at once (readers run concurrently with
// the writer). Every mutating call MUST NOT return OK before its effect is durable (for
// backends that persist; MemoryStore is amnesia by definition): the API acknowledges a
// write as soon as the call returns, and a crash after that must not lose it
// (SPEC §3, durability rule). A failing call MUST leave the store as it was before.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "registry/model/approval.h"
#include "registry/model/proposal.h"
#include "registry/util/clock.h"
#include "registry/util/result.h"

namespace registry::storage {

// One proposal as stored. Its approvals are stored separately (InsertApproval).
struct ProposalRow {
  std::string proposal_id;
  std::string payload_b3;
  std::string canonical_payload;  // RFC 8785 bytes; re-decoded at recovery
  std::uint64_t version = 0;      // payload.version
  util::UnixMillis created_at = 0;
  util::UnixMillis expires_at = 0;
  model::ProposalStatus status = model::ProposalStatus::kPending;
  // Retention dropped this ended proposal's payload and approvals (docs/STORAGE.md,
  // "Retention"); canonical_payload is then empty, every other field still exact. Only the
  // SQLite backend retires proposals.
  bool retired = false;
};

// RFC 6962 leaf hash of a commit record: SHA-256(0x00 ‖ record).
using LeafHash = std::array<std::uint8_t, 32>;

// One interior node of the RFC 6962 tree: node (level, index) is the root of the perfect
// subtree of leaves [index·2^level, (index+1)·2^level), SHA-256(0x01 ‖ left ‖ right) of its
// two children at level − 1 (level 0 being the leaves). level >= 1.
//
// Leaf i (version i + 1) completes exactly the nodes (h, ((i + 1) >> h) − 1) for
// h = 1 … countr_zero(i + 1): one per trailing one bit of i, about one per commit. Each is
// stored with the commit that completes it and never changes afterwards.
struct MerkleNode {
  std::uint8_t level = 0;
  std::uint64_t index = 0;
  LeafHash hash{};

  friend bool operator==(const MerkleNode&, const MerkleNode&) = default;
};

// One committed version: the canonical commit record and the facts needed without
// parsing it.
struct CommitRow {
  std::uint64_t version = 0;
  std::string payload_b3;
  std::string proposal_id;
  std::string committed_at;  // as in the record
  std::string record;        // canonical commit record bytes (GET /registry/{V})
  LeafHash leaf_hash{};      // kept even if the record is pruned, so proofs stay possible
  LeafHash root{};           // RFC 6962 root of the tree of size `version`
  // The interior nodes that leaf version − 1 completes (see MerkleNode), lowest level
  // first. The core computes them; MAY be left empty (tools, tests), and the backend then
  // computes them from the nodes it holds. Either way they are stored with the commit.
  std::vector<MerkleNode> nodes;
};

// A commit row without its record bytes.
struct CommitMeta {
  std::uint64_t version = 0;
  std::string payload_b3;
  std::string proposal_id;
  std::string committed_at;
  LeafHash leaf_hash{};
  LeafHash root{};
};

// A storage checkpoint (SPEC §4.2): what start-up needs so that it only re-verifies the log
// after `version` before serving (the whole log is re-verified in the background).
struct CheckpointRow {
  std::uint64_t version = 0;
  std::string payload_b3;
  std::string committed_at;
  std::string governance;          // canonical JSON of the governance in force after version
  std::vector<LeafHash> frontier;  // Merkle frontier: perfect-subtree roots, largest first
  util::UnixMillis written_at = 0;
};

// One entry of the hash-chained audit trail (SPEC §4.4).
struct AuditRow {
  std::uint64_t seq = 0;  // 1, 2, 3, ... without gaps
  std::string entry;      // canonical JSON of the entry
};

// The canonical audit entry at `seq`, after an entry whose hash is `prev` ("b3:" + hex
// BLAKE3 of its canonical bytes; crypto::ZeroB3() before the first entry). A store that
// chains the trail itself (Store::ChainsAudit) calls it inside the transaction that stores
// the entry, so that the entry's place in the trail is decided with the write it records.
// MUST be a pure function of its arguments and what it captured.
using AuditEncoder = std::function<std::string(std::uint64_t seq, std::string_view prev)>;

// One of the three writes that record a client's decision, for Store::WriteAudited.
struct AuditedWrite {
  enum class Kind : std::uint8_t { kInsertProposal, kInsertApproval, kAppendCommit };
  Kind kind = Kind::kInsertProposal;
  const ProposalRow* proposal = nullptr;      // kInsertProposal
  std::string_view proposal_id;               // kInsertApproval
  const model::Approval* approval = nullptr;  // kInsertApproval
  const CommitRow* commit = nullptr;          // kAppendCommit
};

// A change made to the store, possibly by another process sharing it (SubscribeChanges).
struct StoreChange {
  enum class Kind : std::uint8_t {
    kCommit,    // `version` was committed (by any instance, this one included)
    kProposal,  // the proposal `proposal_id`, its approvals or its status changed
    kResync,    // (re)connected or quiet for a while: `version` is HEAD now; anything may
                // have changed since the last report, so reload what is cached
  };
  Kind kind = Kind::kCommit;
  std::uint64_t version = 0;
  std::string proposal_id;
};

class Store {
 public:
  virtual ~Store() = default;

  // Version of the newest commit; 0 when the log is empty (genesis).
  virtual util::Result<std::uint64_t> HeadVersion() = 0;

  // Canonical record bytes of `version`; nullopt when 0 or beyond HEAD; kPruned when
  // retention pruned it (PruneThrough).
  virtual util::Result<std::optional<std::string>> ReadRecord(std::uint64_t version) = 0;
  virtual util::Result<std::optional<CommitMeta>> ReadCommitMeta(std::uint64_t version) = 0;
  // Leaf hashes of versions first_version … first_version + count - 1, in version order
  // (the RFC 6962 leaves of indices first_version - 1 …). Stops early at HEAD, so the result
  // holds fewer than `count` (none when first_version is 0 or beyond HEAD). Leaf hashes
  // outlive pruned records (SPEC §4.3). Backends MUST answer from one range read, not one
  // read per version: the Merkle log loads a whole history through this call.
  virtual util::Result<std::vector<LeafHash>> ReadLeafHashes(std::uint64_t first_version,
                                                             std::size_t count) = 0;
  // Interior nodes (level, first_index) … (level, first_index + count - 1), in index order.
  // Stops early at the last node the stored leaves complete (HEAD >> level nodes exist at
  // that level), so the result holds fewer than `count` (none when level is 0 or above 63,
  // or first_index is beyond). Nodes outlive pruned records, like leaf hashes. A node the
  // store should hold but does not (a damaged store) is kInternal naming it.
  // Backends that persist nodes (all of this repository's) MUST override this and answer
  // from one range read; the default derives the nodes from ReadLeafHashes (2^level leaves
  // per node), for decorators and fakes that only forward leaves.
  virtual util::Result<std::vector<MerkleNode>> ReadMerkleNodes(std::uint8_t level,
                                                                std::uint64_t first_index,
                                                                std::size_t count);

  // Proposals with status kPending, oldest first (recovery).
  virtual util::Result<std::vector<ProposalRow>> LoadPendingProposals() = 0;
  virtual util::Result<std::optional<ProposalRow>> GetProposal(std::string_view proposal_id) = 0;
  // Accepted approvals of a proposal, in acceptance order.
  virtual util::Result<std::vector<model::Approval>> LoadApprovals(
      std::string_view proposal_id) = 0;

  // Inserts a new proposal. REQUIRES: no proposal with that id exists (the core checks).
  virtual util::Status InsertProposal(const ProposalRow& row) = 0;
  // Records an accepted approval. REQUIRES: the proposal exists and this signer has not
  // approved it yet (the core checks).
  virtual util::Status InsertApproval(std::string_view proposal_id,
                                      const model::Approval& approval) = 0;
  virtual util::Status SetProposalStatus(std::string_view proposal_id,
                                         model::ProposalStatus status) = 0;

  // Appends `row` as the new HEAD, with its interior Merkle nodes (row.nodes), and marks its
  // proposal committed, atomically. Compare-and-swap: when row.version != HeadVersion() + 1,
  // nothing changes and the result is kChainMismatch. When row.nodes is not empty and is
  // not exactly the nodes leaf row.version − 1 completes over the stored leaves and nodes
  // (positions and hashes), nothing changes and the result is kMalformed.
  virtual util::Status AppendCommit(const CommitRow& row) = 0;

  // --- Checkpoints and the audit trail (SPEC §4.2, §4.4) ---

  // Replaces the stored checkpoint. REQUIRES: row.version <= HeadVersion().
  virtual util::Status WriteCheckpoint(const CheckpointRow& row) = 0;
  // The latest checkpoint, or nullopt when none was ever written.
  virtual util::Result<std::optional<CheckpointRow>> LoadCheckpoint() = 0;

  // Appends audit entries atomically. REQUIRES: their seqs continue the trail without a gap
  // (kChainMismatch otherwise, and nothing is written).
  virtual util::Status AppendAudit(const std::vector<AuditRow>& rows) = 0;
  // Up to `limit` entries with seq > after_seq, in order.
  virtual util::Result<std::vector<AuditRow>> ReadAudit(std::uint64_t after_seq,
                                                        std::size_t limit) = 0;

  // --- Audit entries chained by the store (docs/PERFORMANCE.md, "Profiles") ---
  //
  // A store with one writer can decide where an entry goes in the trail inside the
  // transaction that stores it; then a write and the entry that records it share one
  // transaction (one fsync), and entries need no seq assigned in advance. A store shared by
  // several writers (postgres) leaves this off and the core chains entries itself
  // (AppendAudit, re-chaining when the trail moved).

  // True when the store implements AppendAuditChained and WriteAudited.
  virtual bool ChainsAudit() const { return false; }
  // Appends one entry per encoder, in order, after the stored trail, atomically, and returns
  // the rows stored. kInternal when the store does not chain.
  virtual util::Result<std::vector<AuditRow>> AppendAuditChained(
      const std::vector<AuditEncoder>& entries);
  // Runs `write` (InsertProposal, InsertApproval or AppendCommit, same contract) and appends
  // the entry made by `entry` after the stored trail, in one transaction: both or neither.
  // Returns the audit row stored; on an error nothing was written. kInternal when the store
  // does not chain.
  virtual util::Result<AuditRow> WriteAudited(const AuditedWrite& write, const AuditEncoder& entry);

  // --- Retention (SPEC §4.3) ---

  // Prunes the record bytes of versions 1 … anchor.version: afterwards ReadRecord of such a
  // version fails with kPruned, while ReadCommitMeta, ReadLeafHashes and ReadMerkleNodes keep
  // answering (leaf hashes and interior nodes are kept forever, so proofs stay possible).
  // `anchor` is a checkpoint at exactly anchor.version, stored in the same transaction and
  // returned by LoadPruneAnchor: start-up and the background verification resume from it,
  // since they can no longer re-read what came before. A backend MAY keep the bytes
  // physically (docs/STORAGE.md says what each one reclaims) but MUST NOT serve them.
  // REQUIRES: 0 < anchor.version < HeadVersion(), and anchor.version >= the stored anchor's
  // version (pruning again through the same version is a no-op that replaces the anchor).
  // Otherwise kMalformed and nothing changes.
  virtual util::Status PruneThrough(const CheckpointRow& anchor) = 0;
  // The latest prune anchor, or nullopt when nothing was ever pruned.
  virtual util::Result<std::optional<CheckpointRow>> LoadPruneAnchor() = 0;

  // Bytes the store occupies (files for persistent backends, an estimate in memory).
  virtual std::uint64_t SizeBytes() = 0;

  // --- Shared stores (several registry instances on one database, docs/SCALING.md) ---

  // Reports changes other writers make (and this one's) to `callback`, on a thread of the
  // store, in commit order; notifications may be lost, and a kResync then says so. The
  // default does nothing and returns OK: a single-instance backend never changes behind the
  // registry's back. The callback MUST NOT block for long. REQUIRES: called at most once.
  virtual util::Status SubscribeChanges(std::function<void(const StoreChange&)> callback) {
    (void)callback;
    return util::Status::Ok();
  }
};

}  // namespace registry::storage
