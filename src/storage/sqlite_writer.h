// Writer: the single writer of the SQLite backend, with group commit.
//
// Mutating calls from any thread are queued; one writer thread owns the writer connection,
// takes everything queued (up to max_batch; 1 without group commit), runs the calls in one
// transaction, each inside its own SAVEPOINT so that a failing call is undone alone,
// COMMITs once (one WAL fsync with synchronous=FULL), and only then answers every caller.
// A failed BEGIN or COMMIT fails every call of the batch; the store is then as before it.
//
// The writer thread also keeps what makes appends cheap: HEAD's item list and the BLAKE3 →
// id map of recently stored descriptors. Both describe the transaction in progress and are
// undone with it (per call on a savepoint rollback, wholesale on a failed batch).
//
// PruneThrough also reclaims the pruned versions' bytes in its transaction
// (sqlite_reclaim.h).
//
// Thread-safe: the public calls block until their batch is durable (or failed).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "registry/crypto/blake3.h"
#include "registry/storage/sqlite_store.h"
#include "registry/storage/store.h"
#include "sqlite_connection.h"
#include "sqlite_item_list.h"
#include "sqlite_read_cache.h"
#include "sqlite_reclaim.h"

namespace registry::storage::internal {

struct WriterOptions {
  bool group_commit = true;
  std::size_t max_batch = 256;
  std::uint32_t keyframe_interval = 64;
};

class Writer {
 public:
  // `cache` (not owned, MAY be null) is read, and retention drops what it deleted from it.
  // `head` is the committed HEAD at open.
  Writer(std::unique_ptr<Connection> conn, WriterOptions options, ReadCache* cache,
         std::uint64_t head);
  // Runs what is queued, then stops the thread and closes the connection.
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  util::Status InsertProposal(const ProposalRow& row);
  util::Status InsertApproval(std::string_view proposal_id, const model::Approval& approval);
  util::Status SetProposalStatus(std::string_view proposal_id, model::ProposalStatus status);
  util::Status AppendCommit(const CommitRow& row);
  util::Status WriteCheckpoint(const CheckpointRow& row);
  util::Status AppendAudit(const std::vector<AuditRow>& rows);
  util::Status PruneThrough(const CheckpointRow& anchor);
  util::Result<std::vector<AuditRow>> AppendAuditChained(const std::vector<AuditEncoder>& entries);
  util::Result<AuditRow> WriteAudited(const AuditedWrite& write, const AuditEncoder& entry);

  // The newest durably committed version.
  std::uint64_t head() const { return head_.load(std::memory_order_acquire); }

  SqliteStoreStats stats() const;

  void Pause();
  void Resume();
  void WaitForQueued(std::size_t n);

 private:
  struct Op;
  struct OpEffects;

  struct DigestHash {
    std::size_t operator()(const crypto::Blake3Digest& d) const;
  };
  using KnownMap = std::unordered_map<crypto::Blake3Digest, DescriptorId, DigestHash>;

  // What the writer knows of HEAD (the commit `version`) to encode the next list cheaply.
  struct HeadState {
    bool valid = false;
    std::uint64_t version = 0;
    bool has_items = false;
    std::uint64_t keyframe = 0;         // when has_items
    std::string keyframe_frame;         // decoded frame of `keyframe` (a zlib dictionary)
    std::shared_ptr<const IdList> ids;  // when has_items
    // BLAKE3 of each item, aligned with ids; null when HEAD was reloaded from the file.
    std::shared_ptr<const std::vector<crypto::Blake3Digest>> digests;
    std::shared_ptr<const PositionIndex> positions;  // built on first use
  };

  util::Status Submit(Op& op);
  void Run();
  void RunBatch(const std::vector<Op*>& batch);
  // The call, then its attached audit entry if any.
  util::Status Apply(Op& op, OpEffects& fx);
  util::Status ApplyWrite(Op& op, OpEffects& fx);
  util::Status ApplyInsertProposal(const ProposalRow& row, OpEffects& fx);
  util::Status ApplyInsertApproval(std::string_view proposal_id, const model::Approval& a);
  util::Status ApplySetStatus(std::string_view proposal_id, model::ProposalStatus status);
  util::Status ApplyAppendCommit(const CommitRow& row, OpEffects& fx);
  util::Status ApplyWriteCheckpoint(const CheckpointRow& row);
  util::Status ApplyAppendAudit(const std::vector<AuditRow>& rows);
  util::Status ApplyPruneThrough(const CheckpointRow& anchor);
  // After ReclaimPruned through `anchor`: re-points head_state_ at the re-keyed chain, and
  // drops the deleted descriptors from known_ and the read cache.
  void ForgetReclaimed(const ReclaimOutcome& reclaimed, std::uint64_t anchor);
  // Appends entries after the trail as stored in the transaction; `out` receives the rows.
  util::Status ApplyAppendAuditChained(const std::vector<AuditEncoder>& entries,
                                       std::vector<AuditRow>& out);
  // INSERT OR REPLACE of the one row of `table` ("checkpoint" or "prune_anchor").
  util::Status WriteCheckpointRow(std::string_view table, const CheckpointRow& row);

  util::Result<std::uint64_t> TxnHead();
  // Makes head_state_ describe commit `head` (reloading it from the database if needed).
  util::Status EnsureHeadState(std::uint64_t head);
  // Ids of `items`, storing the descriptors not stored yet; `digests` receives their BLAKE3.
  // Items that HEAD has at the position where they are expected cost no map lookup.
  util::Result<IdList> Intern(const std::vector<std::string_view>& items,
                              std::vector<crypto::Blake3Digest>& digests, OpEffects& fx);
  // IndexPositions of HEAD's list, built once per HEAD. REQUIRES: head_state_.has_items.
  const PositionIndex& HeadPositions();
  // The list of `ids`: a delta against HEAD's when the chain allows and it pays, else full.
  // Sets *delta when it chose a delta.
  std::string EncodeList(const IdList& ids, bool chain_allowed, bool* delta);

  const std::unique_ptr<Connection> conn_;
  const WriterOptions options_;
  ReadCache* const cache_;
  std::atomic<std::uint64_t> head_;

  // Writer thread only.
  HeadState head_state_;
  KnownMap known_;

  mutable std::mutex mu_;
  std::condition_variable work_cv_;    // the writer waits for calls
  std::condition_variable queued_cv_;  // tests wait for calls to queue up
  std::condition_variable done_cv_;    // callers wait for their batch
  // Guarded by mu_.
  std::deque<Op*> queue_;
  bool stopping_ = false;
  bool paused_ = false;
  SqliteStoreStats stats_;

  std::thread thread_;
};

}  // namespace registry::storage::internal
