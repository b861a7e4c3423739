// SqliteStore: the default ("macronode") Store backend (SPEC §4.1): one SQLite database file,
// `registry.db`, in WAL mode under `data_dir`.
//
// Durability: every mutating call returns OK only once the transaction holding its effect
// is committed, and with `fsync` that commit has synced the WAL (synchronous=FULL). A call
// that fails changed nothing and returns kInternal naming the operation (kChainMismatch for
// the compare-and-swaps of AppendCommit and AppendAudit).
//
// Group commit: mutating calls are queued to one writer thread, which owns the only writer
// connection. It takes everything queued (up to `max_batch`), runs each call inside its own
// SAVEPOINT of one transaction, commits once (one fsync), then answers each caller with its
// own status. A failing call is rolled back to its savepoint alone; a failing COMMIT fails
// every call of the batch. With `group_commit = false` each call is its own transaction.
//
// Checkpoint and audit writes go through the same writer and batches.
//
// Storage grows with change, not with size × versions: each distinct descriptor (an element
// of a payload's "items" array) is stored once, keyed by its BLAKE3; a version stores the
// bytes around its items array and its list of descriptor references, as a delta against
// the previous version with a full list every `keyframe_interval` versions. ReadRecord
// reassembles the exact canonical bytes and checks them against a stored BLAKE3. See
// docs/STORAGE.md for the schema.
//
// Thread-safety: every method may be called from any thread. Reads use a pool of reader
// connections and never wait for the writer. The destructor finishes the queued writes,
// then closes; it MUST NOT run concurrently with other calls.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "registry/storage/store.h"
#include "registry/util/result.h"

namespace registry::storage {

struct SqliteStoreOptions {
  // Directory of the database. Created with mode 0700 when missing (parents with the
  // default mode); an existing one MUST be a directory with no group or other permission
  // bits, or Open refuses. One process at a time: Open takes an exclusive flock on it.
  std::string data_dir;
  // true: synchronous=FULL, every commit syncs the WAL. false: synchronous=OFF, nothing is
  // ever synced (a crash of the machine may lose acknowledged writes; tests and benchmarks).
  bool fsync = true;
  // storage.group_commit: concurrent writes share one transaction and one fsync.
  bool group_commit = true;
  // Most reader connections open at once (opened on demand); at least 1.
  std::size_t readers = 4;
  // Most calls in one group-commit transaction; at least 1.
  std::size_t max_batch = 256;
  // A full descriptor list is stored at least every this many versions, so reading a
  // version replays at most this many deltas; at least 1.
  std::uint32_t keyframe_interval = 64;
  // Bytes of descriptor text kept in memory for reads (plus the last few item lists); 0
  // disables the read cache entirely.
  std::size_t cache_bytes = std::size_t{64} << 20;
  // How long a connection waits for a lock held by another connection.
  std::chrono::milliseconds busy_timeout{5000};
};

// Counters of the writer, for metrics and tests.
struct SqliteStoreStats {
  std::uint64_t operations = 0;      // mutating calls completed (OK or not)
  std::uint64_t transactions = 0;    // write transactions committed
  std::uint64_t failed_commits = 0;  // transactions whose BEGIN or COMMIT failed
  std::uint64_t largest_batch = 0;   // most calls in one transaction so far
};

class SqliteStore final : public Store {
 public:
  using Options = SqliteStoreOptions;
  using Stats = SqliteStoreStats;

  // The database file's name inside data_dir.
  static constexpr const char* kDatabaseFile = "registry.db";
  // The schema version this binary writes (PRAGMA user_version); Open refuses newer ones.
  static constexpr int kSchemaVersion = 3;

  // Opens (creating or migrating as needed) the store in `options.data_dir`. Errors are
  // kInternal and name the path and the cause. A store that lacks interior Merkle nodes
  // (one written by schema 2) is backfilled first, from its leaf hashes, in transactions of
  // a bounded number of versions (an interrupted backfill resumes on the next Open).
  static util::Result<std::unique_ptr<SqliteStore>> Open(Options options);

  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  util::Result<std::uint64_t> HeadVersion() override;
  util::Result<std::optional<std::string>> ReadRecord(std::uint64_t version) override;
  util::Result<std::optional<CommitMeta>> ReadCommitMeta(std::uint64_t version) override;
  util::Result<std::vector<LeafHash>> ReadLeafHashes(std::uint64_t first_version,
                                                     std::size_t count) override;
  util::Result<std::vector<MerkleNode>> ReadMerkleNodes(std::uint8_t level,
                                                        std::uint64_t first_index,
                                                        std::size_t count) override;
  util::Result<std::vector<ProposalRow>> LoadPendingProposals() override;
  util::Result<std::optional<ProposalRow>> GetProposal(std::string_view proposal_id) override;
  util::Result<std::vector<model::Approval>> LoadApprovals(std::string_view proposal_id) override;
  util::Status InsertProposal(const ProposalRow& row) override;
  util::Status InsertApproval(std::string_view proposal_id,
                              const model::Approval& approval) override;
  util::Status SetProposalStatus(std::string_view proposal_id,
                                 model::ProposalStatus status) override;
  util::Status AppendCommit(const CommitRow& row) override;
  util::Status WriteCheckpoint(const CheckpointRow& row) override;
  util::Result<std::optional<CheckpointRow>> LoadCheckpoint() override;
  // Marks the records of versions <= anchor.version pruned (ReadRecord → kPruned) and stores
  // the anchor. Their bytes stay in the file: see docs/STORAGE.md, "Retention".
  util::Status PruneThrough(const CheckpointRow& anchor) override;
  util::Result<std::optional<CheckpointRow>> LoadPruneAnchor() override;
  util::Status AppendAudit(const std::vector<AuditRow>& rows) override;
  util::Result<std::vector<AuditRow>> ReadAudit(std::uint64_t after_seq,
                                                std::size_t limit) override;
  // The single writer chains entries inside the write's transaction.
  bool ChainsAudit() const override { return true; }
  util::Result<std::vector<AuditRow>> AppendAuditChained(
      const std::vector<AuditEncoder>& entries) override;
  util::Result<AuditRow> WriteAudited(const AuditedWrite& write,
                                      const AuditEncoder& entry) override;

  // Bytes on disk: the database file plus its WAL (registry_storage_bytes).
  std::uint64_t SizeBytes() override;

  Stats GetStats() const;

  // Test hooks. While paused, the writer takes no new batch: calls queue up (and block).
  // WaitForQueuedForTesting blocks until at least `n` calls are queued. Resume releases them
  // as one batch (up to max_batch).
  void PauseWriterForTesting();
  void ResumeWriterForTesting();
  void WaitForQueuedForTesting(std::size_t n);

 private:
  struct Impl;
  explicit SqliteStore(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
};

}  // namespace registry::storage
