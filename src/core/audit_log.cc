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
    : store_(store), clock_(clock), seq_(seq), prev_hash_(std::move(prev_hash)), durable_seq_(seq) {
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
  if (failed_from_ != 0) {
    return Error(ErrorCode::kInternal, "the audit trail cannot be written: " + failure_);
  }
  const std::uint64_t seq = ++seq_;
  std::string entry = EncodeAuditEntry(event, seq, prev_hash_, clock_->NowMillis());
  prev_hash_ = crypto::PayloadB3(entry);
  queue_.push_back(storage::AuditRow{seq, std::move(entry)});
  queued_cv_.notify_one();
  flushed_cv_.wait(lock, [&] { return durable_seq_ >= seq; });
  if (failed_from_ != 0 && seq >= failed_from_) {
    return Error(ErrorCode::kInternal, "the audit trail cannot be written: " + failure_);
  }
  return util::Status::Ok();
}

void AuditLog::Flush() {
  std::unique_lock lock(mu_);
  for (;;) {
    queued_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, nothing left
    std::vector<storage::AuditRow> batch(std::make_move_iterator(queue_.begin()),
                                         std::make_move_iterator(queue_.end()));
    queue_.clear();
    lock.unlock();
    util::Status s = store_->AppendAudit(batch);
    lock.lock();
    if (!s.ok() && failed_from_ == 0) {
      // The chain cannot continue past a lost entry: later records fail too.
      failed_from_ = batch.front().seq;
      failure_ = s.error().message();
    }
    durable_seq_ = batch.back().seq;
    flushed_cv_.notify_all();
  }
}

void AuditLog::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  queued_cv_.notify_all();
  if (flusher_.joinable()) flusher_.join();
}

}  // namespace registry::core
