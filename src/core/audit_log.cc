#include "registry/core/audit_log.h"

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
      seq_(seq),
      prev_hash_(std::move(prev_hash)),
      durable_seq_(seq),
      attempted_seq_(seq) {
  flusher_ = std::thread([this] { Flush(); });
}

AuditLog::~AuditLog() { Stop(); }

std::uint64_t AuditLog::last_seq() const {
  std::lock_guard lock(mu_);
  return seq_;
}

util::Status AuditLog::Record(const AuditEvent& event) {
  std::unique_lock lock(mu_);
  if (stopping_) return Error(ErrorCode::kNotReady, "the audit trail is closed");
  const std::uint64_t seq = ++seq_;
  std::string entry = EncodeAuditEntry(event, seq, prev_hash_, clock_->NowMillis());
  prev_hash_ = crypto::PayloadB3(entry);
  queue_.push_back(storage::AuditRow{seq, std::move(entry)});
  if (paused_) {
    // Queued behind the entries that failed; written when Retry() succeeds.
    return Error(ErrorCode::kInternal, "the audit trail cannot be written: " + failure_);
  }
  queued_cv_.notify_one();
  flushed_cv_.wait(lock, [&] { return durable_seq_ >= seq || attempted_seq_ >= seq; });
  if (durable_seq_ < seq) {
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
  const std::uint64_t target = queue_.back().seq;
  paused_ = false;
  queued_cv_.notify_one();
  flushed_cv_.wait(lock, [&] { return durable_seq_ >= target || paused_ || stopping_; });
  if (durable_seq_ < target) {
    return Error(ErrorCode::kInternal, "the audit trail cannot be written: " + failure_);
  }
  return util::Status::Ok();
}

void AuditLog::Flush() {
  std::unique_lock lock(mu_);
  for (;;) {
    queued_cv_.wait(lock, [&] { return stopping_ || (!queue_.empty() && !paused_); });
    if (queue_.empty() || paused_) return;  // stopping: nothing (writable) left
    std::vector<storage::AuditRow> batch(queue_.begin(), queue_.end());
    lock.unlock();
    util::Status s = store_->AppendAudit(batch);
    if (!s.ok() && s.error().code() == ErrorCode::kChainMismatch) {
      // An earlier attempt may have reached the store after all: skip what is there.
      util::Result<std::vector<storage::AuditRow>> stored =
          store_->ReadAudit(batch.front().seq - 1, batch.size());
      std::size_t present = 0;
      if (stored.ok()) {
        while (present < stored->size() && present < batch.size() &&
               (*stored)[present].entry == batch[present].entry) {
          ++present;
        }
      }
      if (present > 0) {
        std::vector<storage::AuditRow> rest(batch.begin() + static_cast<std::ptrdiff_t>(present),
                                            batch.end());
        s = rest.empty() ? util::Status::Ok() : store_->AppendAudit(rest);
      }
    }
    lock.lock();
    attempted_seq_ = batch.back().seq;
    if (s.ok()) {
      for (std::size_t i = 0; i < batch.size(); ++i) queue_.pop_front();
      durable_seq_ = batch.back().seq;
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
