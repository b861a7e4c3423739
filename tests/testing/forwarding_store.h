// ForwardingStore: a Store decorator that forwards every call to an inner Store, for tests
// that override one method to tamper with or fail it. Tests only.
#pragma once

#include <functional>
#include <utility>

#include "registry/storage/store.h"

namespace registry::testing {

class ForwardingStore : public storage::Store {
 public:
  explicit ForwardingStore(storage::Store* inner) : inner_(inner) {}

  util::Result<std::uint64_t> HeadVersion() override { return inner_->HeadVersion(); }
  util::Result<std::optional<std::string>> ReadRecord(std::uint64_t version) override {
    return inner_->ReadRecord(version);
  }
  util::Result<std::optional<storage::CommitMeta>> ReadCommitMeta(std::uint64_t v) override {
    return inner_->ReadCommitMeta(v);
  }
  util::Result<std::vector<storage::LeafHash>> ReadLeafHashes(std::uint64_t first,
                                                              std::size_t count) override {
    return inner_->ReadLeafHashes(first, count);
  }
  util::Result<std::vector<storage::ProposalRow>> LoadPendingProposals() override {
    return inner_->LoadPendingProposals();
  }
  util::Result<std::optional<storage::ProposalRow>> GetProposal(std::string_view id) override {
    return inner_->GetProposal(id);
  }
  util::Result<std::vector<model::Approval>> LoadApprovals(std::string_view id) override {
    return inner_->LoadApprovals(id);
  }
  util::Status InsertProposal(const storage::ProposalRow& row) override {
    return inner_->InsertProposal(row);
  }
  util::Status InsertApproval(std::string_view id, const model::Approval& a) override {
    return inner_->InsertApproval(id, a);
  }
  util::Status SetProposalStatus(std::string_view id, model::ProposalStatus s) override {
    return inner_->SetProposalStatus(id, s);
  }
  util::Status AppendCommit(const storage::CommitRow& row) override {
    return inner_->AppendCommit(row);
  }
  util::Status WriteCheckpoint(const storage::CheckpointRow& row) override {
    return inner_->WriteCheckpoint(row);
  }
  util::Result<std::optional<storage::CheckpointRow>> LoadCheckpoint() override {
    return inner_->LoadCheckpoint();
  }
  util::Status PruneThrough(const storage::CheckpointRow& anchor) override {
    return inner_->PruneThrough(anchor);
  }
  util::Result<std::optional<storage::CheckpointRow>> LoadPruneAnchor() override {
    return inner_->LoadPruneAnchor();
  }
  util::Status SubscribeChanges(std::function<void(const storage::StoreChange&)> cb) override {
    return inner_->SubscribeChanges(std::move(cb));
  }
  util::Status AppendAudit(const std::vector<storage::AuditRow>& rows) override {
    return inner_->AppendAudit(rows);
  }
  util::Result<std::vector<storage::AuditRow>> ReadAudit(std::uint64_t after,
                                                         std::size_t limit) override {
    return inner_->ReadAudit(after, limit);
  }
  std::uint64_t SizeBytes() override { return inner_->SizeBytes(); }

 protected:
  storage::Store* inner_;
};

}  // namespace registry::testing
