// MemoryStore: the amnesia ("micronode") backend. Everything lives in process memory; it
// never creates a file or directory, anywhere, and a restart starts empty.
//
// Thread-safe: one mutex guards all state (the core serializes writes anyway, and reads
// of records are copies).
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "registry/storage/store.h"

namespace registry::storage {

class MemoryStore final : public Store {
 public:
  MemoryStore() = default;

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
  // Chained entries: the write first, then its entry, each under the mutex. Nothing
  // survives the process anyway, so "one transaction" only means "both or neither", which
  // holds: the entry's append cannot fail once the write succeeded.
  bool ChainsAudit() const override { return true; }
  util::Result<std::vector<AuditRow>> AppendAuditChained(
      const std::vector<AuditEncoder>& entries) override;
  util::Result<AuditRow> WriteAudited(const AuditedWrite& write,
                                      const AuditEncoder& entry) override;
  std::uint64_t SizeBytes() override;

 private:
  mutable std::mutex mu_;
  std::vector<CommitRow> commits_;  // commits_[v - 1] is version v
  // nodes_[h - 1][i] is the interior Merkle node (h, i).
  std::vector<std::vector<LeafHash>> nodes_;
  std::map<std::string, ProposalRow, std::less<>> proposals_;
  std::unordered_map<std::string, std::vector<model::Approval>> approvals_;
  std::uint64_t next_seq_ = 0;
  std::unordered_map<std::string, std::uint64_t> insert_seq_;  // proposal id → insert order
  std::optional<CheckpointRow> checkpoint_;
  std::optional<CheckpointRow> prune_anchor_;  // records of versions <= its version are gone
  std::vector<AuditRow> audit_;
  std::uint64_t bytes_ = 0;  // rough size of everything held
};

}  // namespace registry::storage
