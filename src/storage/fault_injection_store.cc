#include "registry/storage/fault_injection_store.h"

#include <utility>

namespace registry::storage {

using util::Error;
using util::ErrorCode;

namespace {

constexpr std::size_t Index(StoreOp op) { return static_cast<std::size_t>(op); }

constexpr StoreOp kAllOps[kStoreOpCount] = {
    StoreOp::kHeadVersion,          StoreOp::kReadRecord,        StoreOp::kReadCommitMeta,
    StoreOp::kLoadPendingProposals, StoreOp::kGetProposal,       StoreOp::kLoadApprovals,
    StoreOp::kLoadCheckpoint,       StoreOp::kReadAudit,         StoreOp::kReadLeafHashes,
    StoreOp::kLoadPruneAnchor,      StoreOp::kReadMerkleNodes,   StoreOp::kInsertProposal,
    StoreOp::kInsertApproval,       StoreOp::kSetProposalStatus, StoreOp::kAppendCommit,
    StoreOp::kWriteCheckpoint,      StoreOp::kAppendAudit,       StoreOp::kPruneThrough};

}  // namespace

std::string_view StoreOpName(StoreOp op) {
  switch (op) {
    case StoreOp::kHeadVersion:
      return "HeadVersion";
    case StoreOp::kReadRecord:
      return "ReadRecord";
    case StoreOp::kReadCommitMeta:
      return "ReadCommitMeta";
    case StoreOp::kLoadPendingProposals:
      return "LoadPendingProposals";
    case StoreOp::kGetProposal:
      return "GetProposal";
    case StoreOp::kLoadApprovals:
      return "LoadApprovals";
    case StoreOp::kLoadCheckpoint:
      return "LoadCheckpoint";
    case StoreOp::kReadAudit:
      return "ReadAudit";
    case StoreOp::kReadLeafHashes:
      return "ReadLeafHashes";
    case StoreOp::kLoadPruneAnchor:
      return "LoadPruneAnchor";
    case StoreOp::kReadMerkleNodes:
      return "ReadMerkleNodes";
    case StoreOp::kPruneThrough:
      return "PruneThrough";
    case StoreOp::kInsertProposal:
      return "InsertProposal";
    case StoreOp::kInsertApproval:
      return "InsertApproval";
    case StoreOp::kSetProposalStatus:
      return "SetProposalStatus";
    case StoreOp::kAppendCommit:
      return "AppendCommit";
    case StoreOp::kWriteCheckpoint:
      return "WriteCheckpoint";
    case StoreOp::kAppendAudit:
      return "AppendAudit";
  }
  return "unknown";
}

bool IsWriteOp(StoreOp op) { return StoreOps::Writes().contains(op); }

FaultInjectingStore::FaultInjectingStore(Store* inner) : inner_(inner) {}

FaultInjectingStore::~FaultInjectingStore() = default;

void FaultInjectingStore::Fail(StoreOps ops, std::string message) {
  std::lock_guard lock(mu_);
  for (StoreOp op : kAllOps) {
    if (ops.contains(op)) fail_[Index(op)] = message;
  }
}

void FaultInjectingStore::FailNext(StoreOps ops, std::uint64_t n, std::string message) {
  if (n == 0 || ops.empty()) return;
  std::lock_guard lock(mu_);
  fail_next_.push_back(FailNextBudget{ops, n, std::move(message)});
}

void FaultInjectingStore::AddLatency(StoreOps ops, std::chrono::milliseconds latency) {
  std::lock_guard lock(mu_);
  for (StoreOp op : kAllOps) {
    if (ops.contains(op)) latency_[Index(op)] = latency;
  }
}

void FaultInjectingStore::Block(StoreOps ops) {
  std::lock_guard lock(mu_);
  block_ = block_ | ops;
}

void FaultInjectingStore::Unblock() {
  {
    std::lock_guard lock(mu_);
    block_ = StoreOps();
    ++unblock_epoch_;
  }
  cv_.notify_all();
}

bool FaultInjectingStore::WaitUntilBlocked(std::size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return blocked_ >= n; });
}

std::size_t FaultInjectingStore::blocked() const {
  std::lock_guard lock(mu_);
  return blocked_;
}

void FaultInjectingStore::Heal() {
  {
    std::lock_guard lock(mu_);
    for (auto& f : fail_) f.reset();
    fail_next_.clear();
    latency_.fill(std::chrono::milliseconds::zero());
    block_ = StoreOps();
    ++unblock_epoch_;
    ++heal_epoch_;
  }
  cv_.notify_all();
}

FaultInjectingStore::Counts FaultInjectingStore::counts(StoreOp op) const {
  return Counts{calls_[Index(op)].load(std::memory_order_relaxed),
                failures_[Index(op)].load(std::memory_order_relaxed)};
}

FaultInjectingStore::Counts FaultInjectingStore::read_counts() const {
  Counts sum;
  for (StoreOp op : kAllOps) {
    if (IsWriteOp(op)) continue;
    sum.calls += calls_[Index(op)].load(std::memory_order_relaxed);
    sum.failures += failures_[Index(op)].load(std::memory_order_relaxed);
  }
  return sum;
}

FaultInjectingStore::Counts FaultInjectingStore::write_counts() const {
  Counts sum;
  for (StoreOp op : kAllOps) {
    if (!IsWriteOp(op)) continue;
    sum.calls += calls_[Index(op)].load(std::memory_order_relaxed);
    sum.failures += failures_[Index(op)].load(std::memory_order_relaxed);
  }
  return sum;
}

std::optional<Error> FaultInjectingStore::Enter(StoreOp op) {
  const std::size_t i = Index(op);
  calls_[i].fetch_add(1, std::memory_order_relaxed);
  std::unique_lock lock(mu_);

  // A slow disk: the call takes `latency` unless the store is healed meanwhile.
  if (latency_[i] > std::chrono::milliseconds::zero()) {
    const std::uint64_t epoch = heal_epoch_;
    cv_.wait_for(lock, latency_[i], [&] { return heal_epoch_ != epoch; });
  }

  // A hung disk: the call waits for Unblock or Heal. Waiters are counted so that a test can
  // wait for a call to be stuck here instead of guessing with a timer.
  if (block_.contains(op)) {
    const std::uint64_t epoch = unblock_epoch_;
    ++blocked_;
    cv_.notify_all();
    cv_.wait(lock, [&] { return unblock_epoch_ != epoch; });
    --blocked_;
    cv_.notify_all();
  }

  // The failure is decided last, so that a fault set while the call was waiting applies.
  for (auto it = fail_next_.begin(); it != fail_next_.end(); ++it) {
    if (!it->ops.contains(op)) continue;
    Error e(ErrorCode::kInternal, it->message);
    if (--it->remaining == 0) fail_next_.erase(it);
    failures_[i].fetch_add(1, std::memory_order_relaxed);
    return e;
  }
  if (fail_[i].has_value()) {
    failures_[i].fetch_add(1, std::memory_order_relaxed);
    return Error(ErrorCode::kInternal, *fail_[i]);
  }
  return std::nullopt;
}

// Each method: Enter decides; a failed call never reaches the inner store.

util::Result<std::uint64_t> FaultInjectingStore::HeadVersion() {
  if (std::optional<Error> e = Enter(StoreOp::kHeadVersion)) return std::move(*e);
  return inner_->HeadVersion();
}

util::Result<std::optional<std::string>> FaultInjectingStore::ReadRecord(std::uint64_t version) {
  if (std::optional<Error> e = Enter(StoreOp::kReadRecord)) return std::move(*e);
  return inner_->ReadRecord(version);
}

util::Result<std::optional<CommitMeta>> FaultInjectingStore::ReadCommitMeta(std::uint64_t version) {
  if (std::optional<Error> e = Enter(StoreOp::kReadCommitMeta)) return std::move(*e);
  return inner_->ReadCommitMeta(version);
}

util::Result<std::vector<LeafHash>> FaultInjectingStore::ReadLeafHashes(std::uint64_t first_version,
                                                                        std::size_t count) {
  if (std::optional<Error> e = Enter(StoreOp::kReadLeafHashes)) return std::move(*e);
  return inner_->ReadLeafHashes(first_version, count);
}

util::Result<std::vector<MerkleNode>> FaultInjectingStore::ReadMerkleNodes(
    std::uint8_t level, std::uint64_t first_index, std::size_t count) {
  if (std::optional<Error> e = Enter(StoreOp::kReadMerkleNodes)) return std::move(*e);
  return inner_->ReadMerkleNodes(level, first_index, count);
}

util::Result<std::vector<ProposalRow>> FaultInjectingStore::LoadPendingProposals() {
  if (std::optional<Error> e = Enter(StoreOp::kLoadPendingProposals)) return std::move(*e);
  return inner_->LoadPendingProposals();
}

util::Result<std::optional<ProposalRow>> FaultInjectingStore::GetProposal(
    std::string_view proposal_id) {
  if (std::optional<Error> e = Enter(StoreOp::kGetProposal)) return std::move(*e);
  return inner_->GetProposal(proposal_id);
}

util::Result<std::vector<model::Approval>> FaultInjectingStore::LoadApprovals(
    std::string_view proposal_id) {
  if (std::optional<Error> e = Enter(StoreOp::kLoadApprovals)) return std::move(*e);
  return inner_->LoadApprovals(proposal_id);
}

util::Status FaultInjectingStore::InsertProposal(const ProposalRow& row) {
  if (std::optional<Error> e = Enter(StoreOp::kInsertProposal)) return std::move(*e);
  return inner_->InsertProposal(row);
}

util::Status FaultInjectingStore::InsertApproval(std::string_view proposal_id,
                                                 const model::Approval& approval) {
  if (std::optional<Error> e = Enter(StoreOp::kInsertApproval)) return std::move(*e);
  return inner_->InsertApproval(proposal_id, approval);
}

util::Status FaultInjectingStore::SetProposalStatus(std::string_view proposal_id,
                                                    model::ProposalStatus status) {
  if (std::optional<Error> e = Enter(StoreOp::kSetProposalStatus)) return std::move(*e);
  return inner_->SetProposalStatus(proposal_id, status);
}

util::Status FaultInjectingStore::AppendCommit(const CommitRow& row) {
  if (std::optional<Error> e = Enter(StoreOp::kAppendCommit)) return std::move(*e);
  return inner_->AppendCommit(row);
}

util::Status FaultInjectingStore::WriteCheckpoint(const CheckpointRow& row) {
  if (std::optional<Error> e = Enter(StoreOp::kWriteCheckpoint)) return std::move(*e);
  return inner_->WriteCheckpoint(row);
}

util::Result<std::optional<CheckpointRow>> FaultInjectingStore::LoadCheckpoint() {
  if (std::optional<Error> e = Enter(StoreOp::kLoadCheckpoint)) return std::move(*e);
  return inner_->LoadCheckpoint();
}

util::Status FaultInjectingStore::PruneThrough(const CheckpointRow& anchor) {
  if (std::optional<Error> e = Enter(StoreOp::kPruneThrough)) return std::move(*e);
  return inner_->PruneThrough(anchor);
}

util::Result<std::optional<CheckpointRow>> FaultInjectingStore::LoadPruneAnchor() {
  if (std::optional<Error> e = Enter(StoreOp::kLoadPruneAnchor)) return std::move(*e);
  return inner_->LoadPruneAnchor();
}

util::Status FaultInjectingStore::AppendAudit(const std::vector<AuditRow>& rows) {
  if (std::optional<Error> e = Enter(StoreOp::kAppendAudit)) return std::move(*e);
  return inner_->AppendAudit(rows);
}

util::Result<std::vector<AuditRow>> FaultInjectingStore::ReadAudit(std::uint64_t after_seq,
                                                                   std::size_t limit) {
  if (std::optional<Error> e = Enter(StoreOp::kReadAudit)) return std::move(*e);
  return inner_->ReadAudit(after_seq, limit);
}

std::uint64_t FaultInjectingStore::SizeBytes() { return inner_->SizeBytes(); }

}  // namespace registry::storage
