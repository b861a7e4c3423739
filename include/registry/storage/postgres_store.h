// PostgresStore: the scale-out Store backend (SPEC §4.1, §9): the registry lives in one
// PostgreSQL database, which several svc-registry instances may share.
//
// Durability: every mutating call is one transaction and returns OK only after its COMMIT
// returned; the server's synchronous_commit decides what that means (a connection raises
// `off` to `on`; replication settings such as remote_apply are kept). A call that fails
// changed nothing (its transaction was rolled back) and returns kInternal naming the
// operation, except the compare-and-swaps: AppendCommit on a version other than HEAD + 1 and
// an AppendAudit that does not continue the trail are kChainMismatch, PruneThrough outside
// its REQUIRES is kMalformed. If the connection is lost while COMMIT is in flight the outcome
// is unknown to the client: AppendCommit then re-reads the version and answers from what the
// database holds; the other calls answer kInternal ("outcome unknown").
//
// Many writers: HEAD is one row; AppendCommit updates it with `WHERE version = V - 1` inside
// the commit's transaction, so the database serializes concurrent commits from any number of
// instances: exactly one wins each version, the others get kChainMismatch. HeadVersion()
// reads the database (no cache), so it sees commits made elsewhere. AppendAudit is a CAS on
// the trail's last seq in the same way.
//
// Change notifications: every committing transaction also NOTIFYs the channel
// `svcr_changes` (a commit's version, or a proposal id whose proposal or approvals changed);
// the notification is delivered only if the transaction commits. SubscribeChanges() starts
// a listener thread with its own connection; after every (re)connection it reports a
// kResync carrying the current HEAD, since notifications sent while it was disconnected are
// lost. A subscriber therefore catches up by reading versions > its own HEAD, never trusting
// notifications alone.
//
// Storage layout (first step, docs/SCALING.md): each version's record bytes are stored whole
// (bytea, which PostgreSQL compresses with TOAST above ~2 KiB); unlike SqliteStore,
// descriptors are not deduplicated across versions, so storage grows with size × versions.
// Retention (PruneThrough) sets pruned records to NULL. Interior Merkle nodes live in
// `merkle_nodes` (schema 2, which backfills them from the leaf hashes when it migrates).
//
// Thread-safety: every method may be called from any thread; calls run on a bounded pool of
// connections. The destructor stops the listener; it MUST NOT run concurrently with other
// calls. The connection string is never logged nor put in an error message.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "registry/storage/store.h"
#include "registry/util/result.h"

namespace registry::storage {

struct PostgresStoreOptions {
  // libpq connection string: "postgresql://user@host:5432/db?sslmode=verify-full" or
  // "host=... dbname=...". A secret (it may hold a password): never logged.
  std::string conninfo;
  // Most connections the store opens at once for its calls (opened on demand); at least 1.
  // The listener uses one more.
  std::size_t max_connections = 8;
  // The listener re-reads HEAD when it has heard nothing for this long, so a silently broken
  // connection or a lost notification costs at most this much delay.
  std::chrono::milliseconds listener_resync_interval{10'000};
  // The listener waits this long between reconnection attempts.
  std::chrono::milliseconds listener_retry_interval{500};
};

// The listener reports StoreChange (store.h), on the listener thread, in the order the
// database committed the notifying transactions.

class PostgresStore final : public Store {
 public:
  using Options = PostgresStoreOptions;
  using ChangeCallback = std::function<void(const StoreChange&)>;

  // The schema version this binary writes; Open refuses a database with a newer one.
  static constexpr int kSchemaVersion = 2;
  // The LISTEN/NOTIFY channel.
  static constexpr const char* kChannel = "svcr_changes";

  // Connects, then creates or migrates the schema (serialized between instances by an
  // advisory lock). Errors are kInternal and never contain the connection string.
  static util::Result<std::unique_ptr<PostgresStore>> Open(Options options);

  ~PostgresStore() override;
  PostgresStore(const PostgresStore&) = delete;
  PostgresStore& operator=(const PostgresStore&) = delete;

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
  util::Status AppendAudit(const std::vector<AuditRow>& rows) override;
  util::Result<std::vector<AuditRow>> ReadAudit(std::uint64_t after_seq,
                                                std::size_t limit) override;
  util::Status PruneThrough(const CheckpointRow& anchor) override;
  util::Result<std::optional<CheckpointRow>> LoadPruneAnchor() override;

  // pg_database_size of the database (0 when it cannot be read).
  std::uint64_t SizeBytes() override;

  // Starts the listener thread, which calls `callback` for every change (StoreChange).
  // The callback runs on the listener thread and MUST NOT block for long (hand the work to
  // another thread); it MUST NOT call SubscribeChanges. REQUIRES: called at most once.
  // Returns once the first LISTEN is in place, so every commit after the return is
  // reported; kInternal when the listener cannot connect at all.
  util::Status SubscribeChanges(ChangeCallback callback) override;

 private:
  struct Impl;
  explicit PostgresStore(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
};

}  // namespace registry::storage
