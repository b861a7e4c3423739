#include "registry/core/audit_log.h"

#include <iterator>
#include <optional>

#include "registry/crypto/blake3.h"
#include "registry/json/canonical.h"
#include "registry/json/parse.h"
#include "registry/util/time.h"

namespace registry::core {

using util::Error;
using util::ErrorCode;

std::string EncodeAuditEntry(const AuditEvent& e, std::uint64_t seq, std::string_view prev,
                             util::UnixMillis ts) {
  json::Value v = json::MakeObject({{"seq", static_cast<std::uint64_t>(seq)},
                                    {"ts", util::FormatRfc3339Millis(ts)},
                                    {"action", e.action},
                                    {"result", e.accepted ? "accepted" : "rejected"},
                                    {"reason", e.reason},
                                    {"corr_id", e.corr_id},
                                    {"proposal_id", e.proposal_id},
                                    {"payload_b3", e.payload_b3},
                                    {"signer_id", e.signer_id},
                                    {"prev", std::string(prev)}});
  return json::Canonicalize(v);
}

util::Status VerifyAuditRows(const std::vector<storage::AuditRow>& rows, std::uint64_t& seq,
                             std::string& prev_hash) {
  for (const storage::AuditRow& row : rows) {
    auto fail = [&](const std::string& why) {
      return Error(ErrorCode::kMalformed, "audit entry " + std::to_string(row.seq) + ": " + why);
    };
    if (row.seq != seq + 1) return fail("does not follow entry " + std::to_string(seq));
    util::Result<json::Value> v = json::Parse(row.entry);
    if (!v.ok()) return fail("does not parse: " + v.error().message());
    if (json::Canonicalize(*v) != row.entry) return fail("is not in canonical form");
    const json::Value* s = v->Find("seq");
    if (s == nullptr || s->AsSafeInteger() != static_cast<std::int64_t>(row.seq)) {
      return fail("carries another seq");
    }
    const json::Value* prev = v->Find("prev");
    if (prev == nullptr || !prev->is_string() || prev->as_string() != prev_hash) {
      return fail("prev does not link to the previous entry");
    }
    seq = row.seq;
    prev_hash = crypto::PayloadB3(row.entry);
  }
  return util::Status::Ok();
}

util::Result<std::unique_ptr<AuditLog>> AuditLog::Open(storage::Store* store,
                                                       const util::Clock* clock) {
  std::uint64_t seq = 0;
  std::string prev = crypto::ZeroB3();
  constexpr std::size_t kPage = 4096;
  for (;;) {
    util::Result<std::vector<storage::AuditRow>> rows = store->ReadAudit(seq, kPage);
    if (!rows.ok()) return Error(ErrorCode::kInternal, "storage: " + rows.error().message());
    REGISTRY_RETURN_IF_ERROR(VerifyAuditRows(*rows, seq, prev));
    if (rows->size() < kPage) break;
  }
  return std::unique_ptr<AuditLog>(new AuditLog(store, clock, seq, std::move(prev)));
}

AuditLog::AuditLog(storage::Store* store, const util::Clock* clock, std::uint64_t seq,
                   std::string prev_hash)
    : store_(store),
      clock_(clock),
      chained_(store->ChainsAudit()),
      seq_(seq),
      prev_hash_(prev_hash),
      tail_seq_(seq),
      tail_prev_(std::move(prev_hash)) {
  flusher_ = std::thread([this] { Flush(); });
}

AuditLog::~AuditLog() { Stop(); }

std::uint64_t AuditLog::last_seq() const {
  std::lock_guard lock(mu_);
  return seq_;
}

storage::AuditEncoder AuditLog::Encoder(AuditEvent event) const {
  return [ts = clock_->NowMillis(), event = std::move(event)](std::uint64_t seq,
                                                              std::string_view prev) {
    return EncodeAuditEntry(event, seq, prev, ts);
  };
}

void AuditLog::NoteStored(const storage::AuditRow& row) {
  std::lock_guard lock(mu_);
  if (row.seq > seq_) seq_ = row.seq;
}

util::Status AuditLog::Record(const AuditEvent& event) {
  std::unique_lock lock(mu_);
  if (stopping_) return Error(ErrorCode::kNotReady, "the audit trail is closed");
  const std::uint64_t ticket = ++next_ticket_;
  const util::UnixMillis ts = clock_->NowMillis();
  if (chained_) {
    // The store gives the entry its place when it stores it (FlushChained).
    queue_.push_back(Queued{ticket, event, ts, storage::AuditRow{}});
  } else {
    const std::uint64_t seq = ++seq_;
    std::string entry = EncodeAuditEntry(event, seq, prev_hash_, ts);
    prev_hash_ = crypto::PayloadB3(entry);
    queue_.push_back(Queued{ticket, event, ts, storage::AuditRow{seq, std::move(entry)}});
  }
  if (paused_) {
    // Queued behind the entries that failed; written when Retry() succeeds.
    return Error(ErrorCode::kInternal, "the audit trail cannot be written: " + failure_);
  }
  queued_cv_.notify_one();
  // A flush that fails pauses the trail, also for entries queued behind its batch: they
  // stay queued for Retry() and answer now, as if queued while paused. Waiting for an
  // attempt that covers them would block until Retry() succeeds, for ever on a disk that
  // stays full, and the worker pool's Stop with it.
  flushed_cv_.wait(
      lock, [&] { return durable_ticket_ >= ticket || attempted_ticket_ >= ticket || paused_; });
  if (durable_ticket_ < ticket) {
    return Error(ErrorCode::kInternal, "the audit trail cannot be written: " + failure_);
  }
  return util::Status::Ok();
}

util::Status AuditLog::Retry() {
  std::unique_lock lock(mu_);
  if (!paused_ || queue_.empty()) {
    paused_ = false;
    return util::Status::Ok();
  }
  const std::uint64_t target = queue_.back().ticket;
  paused_ = false;
  queued_cv_.notify_one();
  flushed_cv_.wait(lock, [&] { return durable_ticket_ >= target || paused_ || stopping_; });
  if (durable_ticket_ < target) {
    return Error(ErrorCode::kInternal, "the audit trail cannot be written: " + failure_);
  }
  return util::Status::Ok();
}

util::Result<std::vector<storage::AuditRow>> AuditLog::ReadAfter(std::uint64_t after_seq) {
  constexpr std::size_t kPage = 4096;
  std::vector<storage::AuditRow> all;
  for (;;) {
    util::Result<std::vector<storage::AuditRow>> rows = store_->ReadAudit(after_seq, kPage);
    if (!rows.ok()) return Error(ErrorCode::kInternal, "storage: " + rows.error().message());
    const std::size_t n = rows->size();
    if (n > 0) after_seq = rows->back().seq;
    all.insert(all.end(), std::make_move_iterator(rows->begin()),
               std::make_move_iterator(rows->end()));
    if (n < kPage) return all;
  }
}

void AuditLog::RechainLocked() {
  std::uint64_t seq = tail_seq_;
  std::string prev = tail_prev_;
  for (Queued& q : queue_) {
    q.row.seq = ++seq;
    q.row.entry = EncodeAuditEntry(q.event, q.row.seq, prev, q.ts);
    prev = crypto::PayloadB3(q.row.entry);
  }
  seq_ = seq;
  prev_hash_ = std::move(prev);
}

void AuditLog::FlushChained() {
  std::unique_lock lock(mu_);
  for (;;) {
    queued_cv_.wait(lock, [&] { return stopping_ || (!queue_.empty() && !paused_); });
    if (queue_.empty() || paused_) return;  // stopping: nothing (writable) left
    std::vector<storage::AuditEncoder> batch;
    batch.reserve(queue_.size());
    for (const Queued& q : queue_) {
      batch.push_back([event = q.event, ts = q.ts](std::uint64_t seq, std::string_view prev) {
        return EncodeAuditEntry(event, seq, prev, ts);
      });
    }
    const std::uint64_t last_ticket = queue_.back().ticket;
    lock.unlock();
    util::Result<std::vector<storage::AuditRow>> rows = store_->AppendAuditChained(batch);
    lock.lock();
    attempted_ticket_ = last_ticket;
    if (rows.ok()) {
      for (std::size_t i = 0; i < batch.size(); ++i) queue_.pop_front();
      durable_ticket_ = last_ticket;
      if (!rows->empty() && rows->back().seq > seq_) seq_ = rows->back().seq;
    } else {
      paused_ = true;
      failure_ = rows.error().message();
    }
    flushed_cv_.notify_all();
  }
}

void AuditLog::Flush() {
  if (chained_) return FlushChained();
  // Consecutive re-chains without a successful write; bounded so that a store that keeps
  // refusing pauses the trail instead of spinning.
  constexpr int kMaxRechains = 256;
  int rechains = 0;
  std::unique_lock lock(mu_);
  for (;;) {
    queued_cv_.wait(lock, [&] { return stopping_ || (!queue_.empty() && !paused_); });
    if (queue_.empty() || paused_) return;  // stopping: nothing (writable) left
    std::vector<storage::AuditRow> batch;
    batch.reserve(queue_.size());
    for (const Queued& q : queue_) batch.push_back(q.row);
    const std::uint64_t last_ticket = queue_.back().ticket;
    const std::uint64_t base_seq = tail_seq_;
    const std::string base_prev = tail_prev_;
    lock.unlock();
    util::Status s = store_->AppendAudit(batch);
    // On kChainMismatch: the stored trail after our tail, which is an earlier attempt of
    // ours that reached the store after all, entries other instances appended, or both.
    std::optional<std::vector<storage::AuditRow>> moved;
    std::size_t present = 0;  // leading entries of `batch` found stored
    std::uint64_t new_seq = base_seq;
    std::string new_prev = base_prev;
    if (!s.ok() && s.error().code() == ErrorCode::kChainMismatch) {
      util::Result<std::vector<storage::AuditRow>> stored = ReadAfter(base_seq);
      if (!stored.ok()) {
        s = std::move(stored).error();
      } else if (util::Status v = VerifyAuditRows(*stored, new_seq, new_prev); !v.ok()) {
        s = Error(ErrorCode::kInternal, "the stored trail does not verify: " + v.error().message());
      } else {
        while (present < stored->size() && present < batch.size() &&
               (*stored)[present].entry == batch[present].entry) {
          ++present;
        }
        if (present == batch.size() && stored->size() == present) {
          s = util::Status::Ok();  // all ours
        } else if (stored->empty()) {
          // Refused, yet nothing follows our tail: not a race we can resolve.
        } else {
          moved = std::move(stored).value();
        }
      }
    }
    lock.lock();
    if (moved.has_value() && rechains < kMaxRechains) {
      // Entries of ours found stored are durable; the rest go after the new tail.
      ++rechains;
      std::uint64_t durable = durable_ticket_;
      for (std::size_t i = 0; i < present; ++i) {
        durable = queue_.front().ticket;
        queue_.pop_front();
      }
      durable_ticket_ = durable;
      tail_seq_ = new_seq;
      tail_prev_ = std::move(new_prev);
      RechainLocked();
      if (present > 0) flushed_cv_.notify_all();
      continue;
    }
    if (moved.has_value()) {
      s = Error(ErrorCode::kInternal,
                "the audit trail kept moving under " + std::to_string(kMaxRechains) + " re-chains");
    }
    attempted_ticket_ = last_ticket;
    rechains = 0;
    if (s.ok()) {
      for (std::size_t i = 0; i < batch.size(); ++i) queue_.pop_front();
      durable_ticket_ = last_ticket;
      tail_seq_ = batch.back().seq;
      tail_prev_ = crypto::PayloadB3(batch.back().entry);
    } else {
      paused_ = true;
      failure_ = s.error().message();
    }
    flushed_cv_.notify_all();
  }
}

void AuditLog::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  queued_cv_.notify_all();
  flushed_cv_.notify_all();
  if (flusher_.joinable()) flusher_.join();
}

}  // namespace registry::core
