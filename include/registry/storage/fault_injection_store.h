// FaultInjectingStore: a Store decorator that forwards every call to an inner Store and, on
// demand, makes operations slow, stuck or failing: a failing fsync (EIO), a full disk
// (ENOSPC), a slow disk, a disk that hangs until released. It exists for fault tests of the
// whole service (issue 4 point 9, issue 7 point 5) and for chaos runs; it adds one mutex
// acquisition per call and nothing else while healthy.
//
// A failed call never reaches the inner store, and a failed write leaves the inner store
// exactly as it was (the Store contract: "a failing call MUST leave the store as it was
// before"). So after any sequence of faults the inner store holds exactly the writes that
// were acknowledged (returned OK), which is what "nothing acknowledged is lost" is checked
// against. A decorator cannot see a backend's fsync: a "sync failure" is modelled as the
// whole write failing with an fsync error before it reaches the inner store, which is how a
// transactional backend (SQLite in WAL mode with synchronous=FULL) reports a failed fsync
// after rolling the transaction back.
//
// Ownership: the inner store is not owned and MUST outlive the decorator. The decorator
// MUST NOT be destroyed while a call is in progress (Unblock() and let blocked calls return
// first; Heal() does both).
//
// Thread-safety: every Store method and every control is safe to call from any thread at
// any time. A call first waits out its latency and any block, then decides whether it
// fails: a control applies to every call that has not reached that decision yet (a call
// sleeping in a latency or stuck in a block is released early by Heal, a blocked one by
// Unblock).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "registry/storage/store.h"

namespace registry::storage {

// The operations of the Store interface that can be slowed down or failed. SizeBytes is
// always forwarded (it cannot fail).
enum class StoreOp : std::uint8_t {
  // Reads.
  kHeadVersion,
  kReadRecord,
  kReadCommitMeta,
  kLoadPendingProposals,
  kGetProposal,
  kLoadApprovals,
  kLoadCheckpoint,
  kReadAudit,
  kReadLeafHashes,
  kLoadPruneAnchor,
  kReadMerkleNodes,
  // Writes: each of these must be durable before it returns OK.
  kInsertProposal,
  kInsertApproval,
  kSetProposalStatus,
  kAppendCommit,
  kWriteCheckpoint,
  kAppendAudit,
  kPruneThrough,
};
inline constexpr std::size_t kStoreOpCount = 18;
inline constexpr std::size_t kStoreReadOpCount = 11;
static_assert(static_cast<std::size_t>(StoreOp::kInsertProposal) == kStoreReadOpCount &&
                  static_cast<std::size_t>(StoreOp::kPruneThrough) + 1 == kStoreOpCount,
              "StoreOps::Reads() and Writes() assume the reads come first");

// The method name, e.g. "AppendCommit".
std::string_view StoreOpName(StoreOp op);
// True for the seven mutating operations.
bool IsWriteOp(StoreOp op);

// A set of operations, e.g. StoreOps::Writes() or StoreOps::Of(StoreOp::kAppendAudit).
class StoreOps {
 public:
  constexpr StoreOps() = default;
  static constexpr StoreOps Of(StoreOp op) {
    return StoreOps(std::uint32_t{1} << static_cast<unsigned>(op));
  }
  static constexpr StoreOps Reads() {
    return StoreOps((std::uint32_t{1} << kStoreReadOpCount) - 1);
  }
  static constexpr StoreOps Writes() {
    return StoreOps(((std::uint32_t{1} << kStoreOpCount) - 1) & ~Reads().bits_);
  }
  static constexpr StoreOps All() { return StoreOps((std::uint32_t{1} << kStoreOpCount) - 1); }

  constexpr StoreOps operator|(StoreOps other) const { return StoreOps(bits_ | other.bits_); }
  constexpr bool contains(StoreOp op) const { return (bits_ & Of(op).bits_) != 0; }
  constexpr bool empty() const { return bits_ == 0; }

 private:
  constexpr explicit StoreOps(std::uint32_t bits) : bits_(bits) {}
  std::uint32_t bits_ = 0;
};

class FaultInjectingStore final : public Store {
 public:
  // The messages of the canned faults (the Store's error message; the core prefixes
  // "storage: ").
  static constexpr std::string_view kFsyncEio = "fsync: EIO: input/output error";
  static constexpr std::string_view kEnospc = "ENOSPC: no space left on device";

  // REQUIRES: inner != nullptr; it MUST outlive this object.
  explicit FaultInjectingStore(Store* inner);
  // REQUIRES: no call in progress (see the class comment).
  ~FaultInjectingStore() override;
  FaultInjectingStore(const FaultInjectingStore&) = delete;
  FaultInjectingStore& operator=(const FaultInjectingStore&) = delete;

  // --- Controls ---

  // Every call to an operation in `ops` fails with kInternal `message` until Heal() (or
  // until another Fail replaces the message for those operations).
  void Fail(StoreOps ops, std::string message);
  // The next `n` calls to operations in `ops` fail (counted together across those
  // operations, whichever thread makes them), then they pass again. Budgets queue up: a
  // call uses the oldest pending one that covers it. They take precedence over Fail.
  void FailNext(StoreOps ops, std::uint64_t n, std::string message);

  // Shorthands over the writes (InsertProposal, InsertApproval, SetProposalStatus,
  // AppendCommit, WriteCheckpoint, AppendAudit, PruneThrough).
  void FailWrites(std::string message = std::string(kFsyncEio)) {
    Fail(StoreOps::Writes(), std::move(message));
  }
  void FailNextWrites(std::uint64_t n, std::string message = std::string(kFsyncEio)) {
    FailNext(StoreOps::Writes(), n, std::move(message));
  }
  // A failing fsync: every write fails with kFsyncEio.
  void FailSyncs() { FailWrites(std::string(kFsyncEio)); }
  // A full disk: every write fails with kEnospc; reads keep working.
  void DiskFull() { FailWrites(std::string(kEnospc)); }
  void FailReads(std::string message) { Fail(StoreOps::Reads(), std::move(message)); }

  // Every call to an operation in `ops` first waits `latency` (a slow disk). Replaces the
  // latency previously set for those operations; zero removes it.
  void AddLatency(StoreOps ops, std::chrono::milliseconds latency);

  // From now on, calls to operations in `ops` wait inside the decorator, before reaching
  // the inner store, until Unblock() or Heal(). Lets a test hold a write "in the disk" and
  // observe the rest of the service meanwhile, without timing.
  void Block(StoreOps ops);
  void BlockWrites() { Block(StoreOps::Writes()); }
  // Releases every blocked call and blocks nothing from now on.
  void Unblock();
  // Waits until at least `n` calls are blocked, up to `timeout`. Returns whether they are.
  bool WaitUntilBlocked(std::size_t n, std::chrono::milliseconds timeout) const;
  // How many calls are blocked right now.
  std::size_t blocked() const;

  // Back to a healthy store: no failure, no latency, nothing blocked (blocked and sleeping
  // calls are released). Counters are kept.
  void Heal();

  // --- Counters (monotonic; never reset) ---

  struct Counts {
    std::uint64_t calls = 0;     // calls that started
    std::uint64_t failures = 0;  // calls failed by the decorator (not by the inner store)
  };
  Counts counts(StoreOp op) const;
  // Summed over the reads / over the writes.
  Counts read_counts() const;
  Counts write_counts() const;

  // --- Store ---

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
  util::Status PruneThrough(const CheckpointRow& anchor) override;
  util::Result<std::optional<CheckpointRow>> LoadPruneAnchor() override;
  util::Status AppendAudit(const std::vector<AuditRow>& rows) override;
  util::Result<std::vector<AuditRow>> ReadAudit(std::uint64_t after_seq,
                                                std::size_t limit) override;
  // Always forwarded: no fault, latency or block applies.
  std::uint64_t SizeBytes() override;

 private:
  struct FailNextBudget {
    StoreOps ops;
    std::uint64_t remaining = 0;
    std::string message;
  };

  // Counts the call, applies latency and blocking, and decides whether it fails: returns
  // the error to answer with, or nullopt to forward the call to the inner store.
  std::optional<util::Error> Enter(StoreOp op);

  Store* const inner_;

  std::array<std::atomic<std::uint64_t>, kStoreOpCount> calls_{};
  std::array<std::atomic<std::uint64_t>, kStoreOpCount> failures_{};

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;  // signals heal_epoch_, blocked_ and block_ changes
  std::array<std::optional<std::string>, kStoreOpCount> fail_;      // guarded by mu_
  std::vector<FailNextBudget> fail_next_;                           // guarded by mu_
  std::array<std::chrono::milliseconds, kStoreOpCount> latency_{};  // guarded by mu_
  StoreOps block_;                                                  // guarded by mu_
  std::uint64_t unblock_epoch_ = 0;  // guarded by mu_; bumped by Unblock and Heal
  std::uint64_t heal_epoch_ = 0;     // guarded by mu_; bumped by Heal
  std::size_t blocked_ = 0;          // guarded by mu_
};

}  // namespace registry::storage
