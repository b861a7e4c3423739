#include "registry/storage/memory_store.h"

#include <algorithm>

#include "merkle_nodes.h"
#include "registry/crypto/blake3.h"

namespace registry::storage {

using util::Error;
using util::ErrorCode;

util::Result<std::uint64_t> MemoryStore::HeadVersion() {
  std::lock_guard lock(mu_);
  return static_cast<std::uint64_t>(commits_.size());
}

util::Result<std::optional<std::string>> MemoryStore::ReadRecord(std::uint64_t version) {
  std::lock_guard lock(mu_);
  if (version == 0 || version > commits_.size()) return std::optional<std::string>();
  if (prune_anchor_.has_value() && version <= prune_anchor_->version) {
    return Error(ErrorCode::kPruned, "version " + std::to_string(version) +
                                         " was pruned by retention (versions 1.." +
                                         std::to_string(prune_anchor_->version) + ")");
  }
  return std::optional<std::string>(commits_[version - 1].record);
}

util::Result<std::optional<CommitMeta>> MemoryStore::ReadCommitMeta(std::uint64_t version) {
  std::lock_guard lock(mu_);
  if (version == 0 || version > commits_.size()) return std::optional<CommitMeta>();
  const CommitRow& row = commits_[version - 1];
  return std::optional<CommitMeta>(CommitMeta{row.version, row.payload_b3, row.proposal_id,
                                              row.committed_at, row.leaf_hash, row.root});
}

util::Result<std::vector<LeafHash>> MemoryStore::ReadLeafHashes(std::uint64_t first_version,
                                                                std::size_t count) {
  std::lock_guard lock(mu_);
  std::vector<LeafHash> out;
  if (first_version == 0 || first_version > commits_.size()) return out;
  const std::uint64_t available = commits_.size() - first_version + 1;
  out.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(count, available)));
  for (std::uint64_t v = first_version; v <= commits_.size() && out.size() < count; ++v) {
    out.push_back(commits_[v - 1].leaf_hash);
  }
  return out;
}

util::Result<std::vector<MerkleNode>> MemoryStore::ReadMerkleNodes(std::uint8_t level,
                                                                   std::uint64_t first_index,
                                                                   std::size_t count) {
  std::lock_guard lock(mu_);
  std::vector<MerkleNode> out;
  if (level == 0 || level > nodes_.size()) return out;
  const std::vector<LeafHash>& at = nodes_[level - 1];
  for (std::uint64_t i = first_index; i < at.size() && out.size() < count; ++i) {
    out.push_back(MerkleNode{level, i, at[i]});
  }
  return out;
}

util::Result<std::vector<ProposalRow>> MemoryStore::LoadPendingProposals() {
  std::lock_guard lock(mu_);
  std::vector<ProposalRow> out;
  for (const auto& [id, row] : proposals_) {
    if (row.status == model::ProposalStatus::kPending) out.push_back(row);
  }
  std::sort(out.begin(), out.end(), [this](const ProposalRow& a, const ProposalRow& b) {
    return insert_seq_.at(a.proposal_id) < insert_seq_.at(b.proposal_id);
  });
  return out;
}

util::Result<std::optional<ProposalRow>> MemoryStore::GetProposal(std::string_view proposal_id) {
  std::lock_guard lock(mu_);
  auto it = proposals_.find(proposal_id);
  if (it == proposals_.end()) return std::optional<ProposalRow>();
  return std::optional<ProposalRow>(it->second);
}

util::Result<std::vector<model::Approval>> MemoryStore::LoadApprovals(
    std::string_view proposal_id) {
  std::lock_guard lock(mu_);
  auto it = approvals_.find(std::string(proposal_id));
  if (it == approvals_.end()) return std::vector<model::Approval>();
  return it->second;
}

util::Status MemoryStore::InsertProposal(const ProposalRow& row) {
  std::lock_guard lock(mu_);
  bytes_ += row.canonical_payload.size() + 128;
  if (!proposals_.emplace(row.proposal_id, row).second) {
    return Error(ErrorCode::kInternal, "store: proposal " + row.proposal_id + " exists");
  }
  insert_seq_[row.proposal_id] = next_seq_++;
  return util::Status::Ok();
}

util::Status MemoryStore::InsertApproval(std::string_view proposal_id,
                                         const model::Approval& approval) {
  std::lock_guard lock(mu_);
  if (proposals_.find(proposal_id) == proposals_.end()) {
    return Error(ErrorCode::kInternal, "store: no proposal " + std::string(proposal_id));
  }
  approvals_[std::string(proposal_id)].push_back(approval);
  return util::Status::Ok();
}

util::Status MemoryStore::SetProposalStatus(std::string_view proposal_id,
                                            model::ProposalStatus status) {
  std::lock_guard lock(mu_);
  auto it = proposals_.find(proposal_id);
  if (it == proposals_.end()) {
    return Error(ErrorCode::kInternal, "store: no proposal " + std::string(proposal_id));
  }
  it->second.status = status;
  return util::Status::Ok();
}

util::Status MemoryStore::AppendCommit(const CommitRow& row) {
  std::lock_guard lock(mu_);
  if (row.version != commits_.size() + 1) {
    return Error(ErrorCode::kChainMismatch, "store: append of version " +
                                                std::to_string(row.version) + " on HEAD " +
                                                std::to_string(commits_.size()));
  }
  util::Result<std::vector<MerkleNode>> nodes = internal::NodesToStore(
      row, [this](std::uint8_t level, std::uint64_t index) -> util::Result<LeafHash> {
        if (level == 0) return commits_[index].leaf_hash;
        return nodes_[level - 1][index];
      });
  if (!nodes.ok()) return std::move(nodes).error();
  auto it = proposals_.find(row.proposal_id);
  if (it != proposals_.end()) it->second.status = model::ProposalStatus::kCommitted;
  commits_.push_back(row);
  commits_.back().nodes.clear();
  for (const MerkleNode& n : *nodes) {
    if (nodes_.size() < n.level) nodes_.resize(n.level);
    nodes_[n.level - 1].push_back(n.hash);
  }
  bytes_ += row.record.size() + 128;
  return util::Status::Ok();
}

util::Status MemoryStore::WriteCheckpoint(const CheckpointRow& row) {
  std::lock_guard lock(mu_);
  if (row.version > commits_.size()) {
    return Error(ErrorCode::kInternal, "store: checkpoint beyond HEAD");
  }
  checkpoint_ = row;
  return util::Status::Ok();
}

util::Result<std::optional<CheckpointRow>> MemoryStore::LoadCheckpoint() {
  std::lock_guard lock(mu_);
  return checkpoint_;
}

util::Status MemoryStore::PruneThrough(const CheckpointRow& anchor) {
  std::lock_guard lock(mu_);
  const std::uint64_t from = prune_anchor_.has_value() ? prune_anchor_->version : 0;
  if (anchor.version == 0 || anchor.version >= commits_.size() || anchor.version < from) {
    return Error(ErrorCode::kMalformed, "store: cannot prune through version " +
                                            std::to_string(anchor.version) + " (HEAD " +
                                            std::to_string(commits_.size()) + ", pruned through " +
                                            std::to_string(from) + ")");
  }
  for (std::uint64_t v = from + 1; v <= anchor.version; ++v) {
    std::string& record = commits_[v - 1].record;
    bytes_ -= std::min<std::uint64_t>(bytes_, record.size());
    std::string().swap(record);
  }
  prune_anchor_ = anchor;
  return util::Status::Ok();
}

util::Result<std::optional<CheckpointRow>> MemoryStore::LoadPruneAnchor() {
  std::lock_guard lock(mu_);
  return prune_anchor_;
}

util::Status MemoryStore::AppendAudit(const std::vector<AuditRow>& rows) {
  std::lock_guard lock(mu_);
  std::uint64_t next = audit_.size() + 1;
  for (const AuditRow& r : rows) {
    if (r.seq != next++) {
      return Error(ErrorCode::kChainMismatch,
                   "store: audit seq " + std::to_string(r.seq) + " does not continue the trail");
    }
  }
  for (const AuditRow& r : rows) {
    audit_.push_back(r);
    bytes_ += r.entry.size() + 16;
  }
  return util::Status::Ok();
}

util::Result<std::vector<AuditRow>> MemoryStore::AppendAuditChained(
    const std::vector<AuditEncoder>& entries) {
  std::lock_guard lock(mu_);
  std::vector<AuditRow> out;
  out.reserve(entries.size());
  for (const AuditEncoder& encode : entries) {
    const std::string prev =
        audit_.empty() ? crypto::ZeroB3() : crypto::PayloadB3(audit_.back().entry);
    AuditRow row{audit_.size() + 1, encode(audit_.size() + 1, prev)};
    bytes_ += row.entry.size() + 16;
    audit_.push_back(row);
    out.push_back(std::move(row));
  }
  return out;
}

util::Result<AuditRow> MemoryStore::WriteAudited(const AuditedWrite& write,
                                                 const AuditEncoder& entry) {
  util::Status s = util::Status::Ok();
  switch (write.kind) {
    case AuditedWrite::Kind::kInsertProposal:
      s = InsertProposal(*write.proposal);
      break;
    case AuditedWrite::Kind::kInsertApproval:
      s = InsertApproval(write.proposal_id, *write.approval);
      break;
    case AuditedWrite::Kind::kAppendCommit:
      s = AppendCommit(*write.commit);
      break;
  }
  if (!s.ok()) return std::move(s).error();
  REGISTRY_ASSIGN_OR_RETURN(std::vector<AuditRow> rows, AppendAuditChained({entry}));
  return std::move(rows.front());
}

util::Result<std::vector<AuditRow>> MemoryStore::ReadAudit(std::uint64_t after_seq,
                                                           std::size_t limit) {
  std::lock_guard lock(mu_);
  std::vector<AuditRow> out;
  for (std::uint64_t i = after_seq; i < audit_.size() && out.size() < limit; ++i) {
    out.push_back(audit_[i]);
  }
  return out;
}

std::uint64_t MemoryStore::SizeBytes() {
  std::lock_guard lock(mu_);
  return bytes_;
}

}  // namespace registry::storage
