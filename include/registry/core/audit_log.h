// AuditLog: the hash-chained audit trail of write decisions (SPEC §4.4).
//
// Every entry is a canonical JSON object {action, corr_id, payload_b3, prev, proposal_id,
// reason, result, seq, signer_id, ts}; `prev` is "b3:" + hex BLAKE3 of the previous entry's
// canonical bytes (ZeroB3() for the first), so removing, reordering or editing an entry
// breaks the chain at a known seq.
//
// Record() assigns the next seq under a mutex and hands the entry to one flusher thread,
// which appends everything queued in one store call (one transaction, one fsync), then
// wakes the callers: concurrent decisions share a write, and no caller returns before its
// entry is durable. When a flush fails, its entries stay queued (in order: the chain cannot
// skip them), their callers and every later caller get an error, and the flusher pauses
// until Retry() succeeds. Thread-safe.
//
// When the store chains the trail itself (Store::ChainsAudit: SQLite, memory), entries are
// handed to it as encoders and take their seq and prev inside the store's transaction; an
// accepted write's entry can then be stored with the write (Encoder, NoteStored), one
// transaction and one fsync for both (docs/PERFORMANCE.md, "Profiles").
//
// Otherwise several instances may share one store (docs/SCALING.md): when the store refuses a batch
// because the trail moved on (kChainMismatch), the flusher reads the entries appended
// meanwhile, verifies them (VerifyAuditRows), re-chains the entries not yet acknowledged
// after them (new seq and prev, same event and timestamp) and tries again. An entry is only
// acknowledged once stored, so re-chaining never changes an acknowledged entry.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "registry/storage/store.h"
#include "registry/util/clock.h"
#include "registry/util/result.h"

namespace registry::core {

struct AuditEvent {
  std::string action;  // "propose", "approve", "commit", "freeze", "thaw"
  bool accepted = false;
  std::string reason;  // the error code when rejected; empty when accepted
  std::string corr_id;
  std::string proposal_id;
  std::string payload_b3;
  std::string signer_id;
};

// The canonical entry for `event` at `seq` after an entry hashing to `prev`.
std::string EncodeAuditEntry(const AuditEvent& event, std::uint64_t seq, std::string_view prev,
                             util::UnixMillis ts);

// Checks that `rows` continue a trail whose last entry had `seq` and hashed to `prev_hash`
// (0 and ZeroB3() from the start): seqs without gaps, each `prev` linking, each entry
// well-formed and canonical. Errors name the seq. On success, `seq` and `prev_hash` advance.
util::Status VerifyAuditRows(const std::vector<storage::AuditRow>& rows, std::uint64_t& seq,
                             std::string& prev_hash);

class AuditLog {
 public:
  // Verifies the stored trail from its start and resumes after its last entry. A broken
  // chain is an error naming the seq.
  static util::Result<std::unique_ptr<AuditLog>> Open(storage::Store* store,
                                                      const util::Clock* clock);
  ~AuditLog();

  // Appends one decision and returns once it is durable (or the store failed).
  util::Status Record(const AuditEvent& event);

  // After a failed flush: tries the queued entries again and returns once they are durable
  // (OK) or the attempt failed. OK at once when nothing is pending.
  util::Status Retry();

  // Flushes and stops the flusher. Record after Stop fails. Idempotent.
  void Stop();

  std::uint64_t last_seq() const;

  // True when the store chains the trail (Store::ChainsAudit): Encoder and NoteStored apply.
  bool chained() const { return chained_; }
  // The entry of `event` for Store::WriteAudited, stamped with the time of this call.
  storage::AuditEncoder Encoder(AuditEvent event) const;
  // Tells the trail about an entry the store stored with a write.
  void NoteStored(const storage::AuditRow& row);

 private:
  // One entry assigned and not yet durable. `ticket` identifies it to its caller across
  // re-chaining, which changes its seq.
  struct Queued {
    std::uint64_t ticket = 0;
    AuditEvent event;
    util::UnixMillis ts = 0;
    storage::AuditRow row;
  };

  AuditLog(storage::Store* store, const util::Clock* clock, std::uint64_t seq,
           std::string prev_hash);
  void Flush();
  // Flush() for a store that chains the trail: no seq is assigned before the store's.
  void FlushChained();
  // Every stored entry after `after_seq`, in order.
  util::Result<std::vector<storage::AuditRow>> ReadAfter(std::uint64_t after_seq);
  // Re-encodes every queued entry on the stored tail (tail_seq_, tail_prev_). Under mu_.
  void RechainLocked();

  storage::Store* const store_;
  const util::Clock* const clock_;
  const bool chained_;  // store_->ChainsAudit()

  mutable std::mutex mu_;
  std::condition_variable queued_cv_;
  std::condition_variable flushed_cv_;
  std::uint64_t seq_;                 // last seq assigned (chained: last seq stored)
  std::string prev_hash_;             // hash of the last entry assigned
  std::uint64_t tail_seq_;            // the last entry known to be stored (this instance's or not)
  std::string tail_prev_;             // and its hash
  std::deque<Queued> queue_;          // assigned, not yet durable, in seq order
  std::uint64_t next_ticket_ = 0;     // last ticket handed out
  std::uint64_t durable_ticket_ = 0;  // entries up to this ticket are stored
  std::uint64_t attempted_ticket_ = 0;  // the last flush attempt covered entries up to here
  bool paused_ = false;                 // a flush failed; waiting for Retry()
  std::string failure_;                 // why the last flush failed
  bool stopping_ = false;
  std::thread flusher_;
};

}  // namespace registry::core
