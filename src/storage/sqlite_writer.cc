#include "sqlite_writer.h"

#include <cstring>
#include <unordered_set>
#include <utility>

#include "registry/model/proposal.h"
#include "sqlite_blob_codec.h"
#include "sqlite_content.h"
#include "sqlite_item_split.h"
#include "sqlite_merkle.h"
#include "sqlite_schema.h"

namespace registry::storage::internal {

using util::Error;
using util::ErrorCode;

struct Writer::Op {
  enum class Kind : std::uint8_t {
    kInsertProposal,
    kInsertApproval,
    kSetStatus,
    kAppendCommit,
    kWriteCheckpoint,
    kAppendAudit,
    kPruneThrough,
    kAppendAuditChained,
  };

  Kind kind = Kind::kInsertProposal;
  const ProposalRow* proposal = nullptr;  // kInsertProposal
  std::string_view proposal_id;           // kInsertApproval, kSetStatus
  const model::Approval* approval = nullptr;
  model::ProposalStatus status = model::ProposalStatus::kPending;
  const CommitRow* commit = nullptr;             // kAppendCommit
  const CheckpointRow* checkpoint = nullptr;     // kWriteCheckpoint, kPruneThrough
  const std::vector<AuditRow>* audit = nullptr;  // kAppendAudit
  // kAppendAuditChained: the entries and where their rows go.
  const std::vector<AuditEncoder>* chained = nullptr;
  std::vector<AuditRow>* chained_out = nullptr;
  // A write's audit entry, appended in the write's savepoint (WriteAudited).
  const AuditEncoder* attached = nullptr;
  AuditRow* attached_out = nullptr;
  // Guarded by Writer::mu_. The caller owns the Op and waits for `done` under mu_, so the
  // writer never touches an Op after releasing mu_ with done set.
  bool done = false;
  util::Status result;

  // The call as error messages name it.
  std::string Name() const {
    switch (kind) {
      case Kind::kInsertProposal:
        return "InsertProposal(" + proposal->proposal_id + ")";
      case Kind::kInsertApproval:
        return "InsertApproval(" + std::string(proposal_id) + ", " + approval->signer_id + ")";
      case Kind::kSetStatus:
        return "SetProposalStatus(" + std::string(proposal_id) + ", " +
               std::string(model::ProposalStatusName(status)) + ")";
      case Kind::kAppendCommit:
        return "AppendCommit(version " + std::to_string(commit->version) + ")";
      case Kind::kWriteCheckpoint:
        return "WriteCheckpoint(version " + std::to_string(checkpoint->version) + ")";
      case Kind::kPruneThrough:
        return "PruneThrough(version " + std::to_string(checkpoint->version) + ")";
      case Kind::kAppendAuditChained:
        return "AppendAuditChained(" + std::to_string(chained->size()) + " entries)";
      case Kind::kAppendAudit:
        return "AppendAudit(" +
               (audit->empty() ? std::string("nothing")
                               : "seq " + std::to_string(audit->front().seq) + ".." +
                                     std::to_string(audit->back().seq)) +
               ")";
    }
    return "?";
  }
};

// What a call changed in the writer thread's memory, to keep or undo with the call.
struct Writer::OpEffects {
  std::vector<crypto::Blake3Digest> added;  // keys this call added to known_
  std::optional<HeadState> new_head;        // AppendCommit: the new HEAD
};

namespace {

Error Failed(const std::string& name, const Error& e) {
  // Contract violations the caller can tell apart (CAS, audit gaps, a refused prune) keep
  // their code; everything else is a storage fault.
  if (e.code() == ErrorCode::kChainMismatch || e.code() == ErrorCode::kMalformed) return e;
  return Error(ErrorCode::kInternal, "sqlite store: " + name + ": " + e.message());
}

// A delta of at most this size is taken without comparing it to a keyframe.
std::size_t CheapDeltaBytes(std::size_t items) { return 64 + items / 8; }

}  // namespace

std::size_t Writer::DigestHash::operator()(const crypto::Blake3Digest& d) const {
  std::size_t h;
  std::memcpy(&h, d.data(), sizeof h);
  return h;
}

Writer::Writer(std::unique_ptr<Connection> conn, WriterOptions options, ReadCache* cache,
               std::uint64_t head)
    : conn_(std::move(conn)), options_(options), cache_(cache), head_(head) {
  thread_ = std::thread([this] { Run(); });
}

Writer::~Writer() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    paused_ = false;
  }
  work_cv_.notify_all();
  thread_.join();
}

util::Status Writer::InsertProposal(const ProposalRow& row) {
  Op op;
  op.kind = Op::Kind::kInsertProposal;
  op.proposal = &row;
  return Submit(op);
}

util::Status Writer::InsertApproval(std::string_view proposal_id, const model::Approval& approval) {
  Op op;
  op.kind = Op::Kind::kInsertApproval;
  op.proposal_id = proposal_id;
  op.approval = &approval;
  return Submit(op);
}

util::Status Writer::SetProposalStatus(std::string_view proposal_id, model::ProposalStatus status) {
  Op op;
  op.kind = Op::Kind::kSetStatus;
  op.proposal_id = proposal_id;
  op.status = status;
  return Submit(op);
}

util::Status Writer::AppendCommit(const CommitRow& row) {
  Op op;
  op.kind = Op::Kind::kAppendCommit;
  op.commit = &row;
  return Submit(op);
}

util::Status Writer::WriteCheckpoint(const CheckpointRow& row) {
  Op op;
  op.kind = Op::Kind::kWriteCheckpoint;
  op.checkpoint = &row;
  return Submit(op);
}

util::Status Writer::PruneThrough(const CheckpointRow& anchor) {
  Op op;
  op.kind = Op::Kind::kPruneThrough;
  op.checkpoint = &anchor;
  return Submit(op);
}

util::Status Writer::AppendAudit(const std::vector<AuditRow>& rows) {
  Op op;
  op.kind = Op::Kind::kAppendAudit;
  op.audit = &rows;
  return Submit(op);
}

util::Result<std::vector<AuditRow>> Writer::AppendAuditChained(
    const std::vector<AuditEncoder>& entries) {
  std::vector<AuditRow> rows;
  Op op;
  op.kind = Op::Kind::kAppendAuditChained;
  op.chained = &entries;
  op.chained_out = &rows;
  REGISTRY_RETURN_IF_ERROR(Submit(op));
  return rows;
}

util::Result<AuditRow> Writer::WriteAudited(const AuditedWrite& write, const AuditEncoder& entry) {
  AuditRow row;
  Op op;
  switch (write.kind) {
    case AuditedWrite::Kind::kInsertProposal:
      op.kind = Op::Kind::kInsertProposal;
      op.proposal = write.proposal;
      break;
    case AuditedWrite::Kind::kInsertApproval:
      op.kind = Op::Kind::kInsertApproval;
      op.proposal_id = write.proposal_id;
      op.approval = write.approval;
      break;
    case AuditedWrite::Kind::kAppendCommit:
      op.kind = Op::Kind::kAppendCommit;
      op.commit = write.commit;
      break;
  }
  op.attached = &entry;
  op.attached_out = &row;
  REGISTRY_RETURN_IF_ERROR(Submit(op));
  return row;
}

SqliteStoreStats Writer::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void Writer::Pause() {
  std::lock_guard lock(mu_);
  paused_ = true;
}

void Writer::Resume() {
  {
    std::lock_guard lock(mu_);
    paused_ = false;
  }
  work_cv_.notify_all();
}

void Writer::WaitForQueued(std::size_t n) {
  std::unique_lock lock(mu_);
  queued_cv_.wait(lock, [&] { return queue_.size() >= n; });
}

util::Status Writer::Submit(Op& op) {
  std::unique_lock lock(mu_);
  if (stopping_) {
    return Error(ErrorCode::kInternal, "sqlite store: " + op.Name() + ": the store is closing");
  }
  queue_.push_back(&op);
  work_cv_.notify_one();
  queued_cv_.notify_all();
  // The caller's arguments stay alive until here, which is after the writer is done with
  // them: its batch is committed (or failed) and rolled into op.result.
  done_cv_.wait(lock, [&] { return op.done; });
  return std::move(op.result);
}

void Writer::Run() {
  std::vector<Op*> batch;
  std::unique_lock lock(mu_);
  for (;;) {
    work_cv_.wait(lock, [&] { return stopping_ || (!paused_ && !queue_.empty()); });
    if (queue_.empty()) {
      if (stopping_) return;
      continue;
    }
    // Everything that arrived while the previous batch was committing goes in this one.
    const std::size_t limit = options_.group_commit ? options_.max_batch : 1;
    batch.clear();
    while (!queue_.empty() && batch.size() < limit) {
      batch.push_back(queue_.front());
      queue_.pop_front();
    }
    lock.unlock();
    RunBatch(batch);
    lock.lock();
  }
}

void Writer::RunBatch(const std::vector<Op*>& batch) {
  std::vector<util::Status> results(batch.size());
  std::vector<std::string> names;
  names.reserve(batch.size());
  for (const Op* op : batch) names.push_back(op->Name());

  bool committed = false;
  bool failed = false;
  std::uint64_t new_head = 0;
  // Every call of the batch fails with `e`; nothing of the transaction remains.
  auto fail_all = [&](const Error& e) {
    // Calls that failed on their own keep their error; they changed nothing either way.
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (results[i].ok()) results[i] = Failed(names[i], e);
    }
    failed = true;
    if (conn_->InTransaction()) (void)conn_->Exec("ROLLBACK", "ROLLBACK");
    head_state_ = HeadState{};
    known_.clear();
  };

  if (util::Status begin = conn_->Exec("BEGIN IMMEDIATE", "BEGIN"); !begin.ok()) {
    fail_all(begin.error());
  } else {
    bool any_ok = false;
    std::optional<Error> abort;
    for (std::size_t i = 0; i < batch.size() && !abort.has_value(); ++i) {
      if (util::Status sp = conn_->Exec("SAVEPOINT op", "SAVEPOINT"); !sp.ok()) {
        abort = sp.error();
        break;
      }
      OpEffects fx;
      util::Status s = Apply(*batch[i], fx);
      if (s.ok()) {
        if (util::Status rel = conn_->Exec("RELEASE op", "RELEASE"); !rel.ok()) {
          abort = rel.error();
          break;
        }
        if (fx.new_head.has_value()) {
          new_head = fx.new_head->version;
          const std::size_t n = fx.new_head->ids ? fx.new_head->ids->size() : 0;
          head_state_ = std::move(*fx.new_head);
          // Keep the map near HEAD's size: drop what older versions and proposals added.
          if (known_.size() > 2 * n + 4096 && head_state_.digests != nullptr) {
            known_.clear();
            for (std::size_t k = 0; k < n; ++k) {
              known_.emplace((*head_state_.digests)[k], (*head_state_.ids)[k]);
            }
          }
        }
        any_ok = true;
        results[i] = util::Status::Ok();
        continue;
      }
      results[i] = Failed(names[i], s.error());
      for (const crypto::Blake3Digest& d : fx.added) known_.erase(d);
      if (!conn_->InTransaction()) {
        // SQLite rolled the whole transaction back (I/O error, disk full): nothing of the
        // batch remains.
        abort = s.error();
        break;
      }
      util::Status undo = conn_->Exec("ROLLBACK TO op", "ROLLBACK TO");
      if (undo.ok()) undo = conn_->Exec("RELEASE op", "RELEASE");
      if (!undo.ok()) abort = undo.error();
    }
    if (abort.has_value()) {
      fail_all(Error(ErrorCode::kInternal,
                     "the batch transaction was rolled back: " + abort->message()));
    } else if (!any_ok) {
      (void)conn_->Exec("ROLLBACK", "ROLLBACK");
    } else if (util::Status c = conn_->Exec("COMMIT", "COMMIT"); !c.ok()) {
      fail_all(c.error());
    } else {
      committed = true;
      if (new_head != 0) head_.store(new_head, std::memory_order_release);
    }
  }

  {
    std::lock_guard lock(mu_);
    stats_.operations += batch.size();
    if (committed) ++stats_.transactions;
    if (failed) ++stats_.failed_commits;
    if (batch.size() > stats_.largest_batch) stats_.largest_batch = batch.size();
    for (std::size_t i = 0; i < batch.size(); ++i) {
      batch[i]->result = std::move(results[i]);
      batch[i]->done = true;
    }
  }
  done_cv_.notify_all();
}

util::Status Writer::Apply(Op& op, OpEffects& fx) {
  REGISTRY_RETURN_IF_ERROR(ApplyWrite(op, fx));
  if (op.attached == nullptr) return util::Status::Ok();
  // In the write's savepoint: the write and its entry are kept or undone together.
  std::vector<AuditRow> rows;
  REGISTRY_RETURN_IF_ERROR(ApplyAppendAuditChained({*op.attached}, rows));
  *op.attached_out = std::move(rows.front());
  return util::Status::Ok();
}

util::Status Writer::ApplyWrite(Op& op, OpEffects& fx) {
  switch (op.kind) {
    case Op::Kind::kInsertProposal:
      return ApplyInsertProposal(*op.proposal, fx);
    case Op::Kind::kInsertApproval:
      return ApplyInsertApproval(op.proposal_id, *op.approval);
    case Op::Kind::kSetStatus:
      return ApplySetStatus(op.proposal_id, op.status);
    case Op::Kind::kAppendCommit:
      return ApplyAppendCommit(*op.commit, fx);
    case Op::Kind::kWriteCheckpoint:
      return ApplyWriteCheckpoint(*op.checkpoint);
    case Op::Kind::kAppendAudit:
      return ApplyAppendAudit(*op.audit);
    case Op::Kind::kPruneThrough:
      return ApplyPruneThrough(*op.checkpoint);
    case Op::Kind::kAppendAuditChained:
      return ApplyAppendAuditChained(*op.chained, *op.chained_out);
  }
  return Error(ErrorCode::kInternal, "unknown operation");
}

util::Result<std::uint64_t> Writer::TxnHead() {
  REGISTRY_ASSIGN_OR_RETURN(
      Statement stmt, conn_->Prepare("SELECT coalesce(max(version), 0) FROM commits", "HEAD"));
  REGISTRY_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return Error(ErrorCode::kInternal, "HEAD: no result");
  return static_cast<std::uint64_t>(stmt.Int(0));
}

util::Status Writer::EnsureHeadState(std::uint64_t head) {
  if (head_state_.valid && head_state_.version == head) return util::Status::Ok();
  HeadState s;
  s.valid = true;
  s.version = head;
  if (head > 0) {
    {
      REGISTRY_ASSIGN_OR_RETURN(
          Statement stmt,
          conn_->Prepare("SELECT has_items FROM commits WHERE version = ?1", "HEAD state"));
      stmt.Bind(1, static_cast<std::int64_t>(head));
      REGISTRY_ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row)
        return Error(ErrorCode::kInternal,
                     "HEAD state: version " + std::to_string(head) + " is missing");
      s.has_items = stmt.Int(0) != 0;
    }
    if (s.has_items) {
      {
        REGISTRY_ASSIGN_OR_RETURN(
            Statement stmt,
            conn_->Prepare("SELECT keyframe FROM commit_items WHERE version = ?1", "HEAD state"));
        stmt.Bind(1, static_cast<std::int64_t>(head));
        REGISTRY_ASSIGN_OR_RETURN(bool row, stmt.Step());
        if (!row) return Error(ErrorCode::kInternal, "HEAD state: item list missing");
        s.keyframe = static_cast<std::uint64_t>(stmt.Int(0));
      }
      REGISTRY_ASSIGN_OR_RETURN(s.ids, LoadCommitList(*conn_, head, cache_, /*fill=*/false));
      REGISTRY_ASSIGN_OR_RETURN(s.keyframe_frame, CommitFrameBytes(*conn_, s.keyframe));
    }
  }
  head_state_ = std::move(s);
  return util::Status::Ok();
}

const PositionIndex& Writer::HeadPositions() {
  if (head_state_.positions == nullptr) {
    head_state_.positions = std::make_shared<const PositionIndex>(IndexPositions(*head_state_.ids));
  }
  return *head_state_.positions;
}

util::Result<IdList> Writer::Intern(const std::vector<std::string_view>& items,
                                    std::vector<crypto::Blake3Digest>& digests, OpEffects& fx) {
  IdList ids;
  ids.reserve(items.size());
  digests.clear();
  digests.reserve(items.size());
  const bool aligned = head_state_.has_items && head_state_.digests != nullptr;
  const IdList* head_ids = aligned ? head_state_.ids.get() : nullptr;
  const std::vector<crypto::Blake3Digest>* head_digests =
      aligned ? head_state_.digests.get() : nullptr;
  std::size_t expected = 0;  // where HEAD would have the next item if nothing changed
  for (std::string_view item : items) {
    const crypto::Blake3Digest d = crypto::Blake3(item);
    digests.push_back(d);
    if (head_digests != nullptr && expected < head_digests->size() &&
        (*head_digests)[expected] == d) {
      ids.push_back((*head_ids)[expected++]);
      continue;
    }
    std::optional<DescriptorId> id;
    if (auto it = known_.find(d); it != known_.end()) id = it->second;
    if (!id.has_value()) {
      REGISTRY_ASSIGN_OR_RETURN(
          Statement stmt,
          conn_->Prepare("SELECT id FROM descriptors WHERE b3 = ?1", "descriptor lookup"));
      stmt.BindBlob(1, DigestView(d));
      REGISTRY_ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (row) id = stmt.Int(0);
    }
    if (!id.has_value()) {
      REGISTRY_ASSIGN_OR_RETURN(
          Statement stmt,
          conn_->Prepare("INSERT INTO descriptors(b3, bytes) VALUES(?1, ?2)", "descriptor insert"));
      stmt.BindBlob(1, DigestView(d)).BindBlob(2, item);
      REGISTRY_RETURN_IF_ERROR(stmt.Run());
      id = conn_->LastInsertRowid();
    }
    if (known_.emplace(d, *id).second) fx.added.push_back(d);
    ids.push_back(*id);
    if (head_digests != nullptr) {
      // Re-synchronize with HEAD: after a moved item, continue behind its old place; after
      // a new one, assume it replaced the expected item.
      const PositionIndex& positions = HeadPositions();
      auto at = positions.find(*id);
      expected = at != positions.end() ? at->second + 1 : expected + 1;
    }
  }
  return ids;
}

std::string Writer::EncodeList(const IdList& ids, bool chain_allowed, bool* delta) {
  *delta = false;
  if (chain_allowed) {
    std::string d = EncodeDeltaList(*head_state_.ids, HeadPositions(), ids);
    if (d.size() <= CheapDeltaBytes(ids.size())) {
      *delta = true;
      return d;
    }
    std::string full = EncodeFullList(ids);
    if (d.size() < full.size()) {
      *delta = true;
      return d;
    }
    return full;
  }
  return EncodeFullList(ids);
}

util::Status Writer::ApplyInsertProposal(const ProposalRow& row, OpEffects& fx) {
  {
    REGISTRY_ASSIGN_OR_RETURN(
        Statement stmt,
        conn_->Prepare("SELECT 1 FROM proposals WHERE proposal_id = ?1", "proposal lookup"));
    stmt.BindText(1, row.proposal_id);
    REGISTRY_ASSIGN_OR_RETURN(bool exists, stmt.Step());
    if (exists) return Error(ErrorCode::kInternal, "proposal " + row.proposal_id + " exists");
  }
  REGISTRY_ASSIGN_OR_RETURN(std::uint64_t head, TxnHead());
  REGISTRY_RETURN_IF_ERROR(EnsureHeadState(head));

  std::string frame;
  std::optional<std::string> list;
  bool delta = false;
  if (std::optional<ItemSplit> split = SplitItems(row.canonical_payload, {kItemsMember})) {
    std::vector<crypto::Blake3Digest> digests;
    REGISTRY_ASSIGN_OR_RETURN(IdList ids, Intern(split->items, digests, fx));
    list = EncodeList(ids, head_state_.has_items, &delta);
    frame = MakeFrame(split->prefix, split->suffix);
  } else {
    frame = MakeFrame(row.canonical_payload, {});
  }
  std::uint64_t dict_version = 0;
  std::string blob;
  if (head_state_.has_items) {
    blob = EncodeBlob(frame, head_state_.keyframe_frame);
    if (BlobNeedsDictionary(blob)) dict_version = head_state_.keyframe;
  } else {
    blob = EncodeBlob(frame);
  }

  REGISTRY_ASSIGN_OR_RETURN(
      Statement stmt,
      conn_->Prepare("INSERT INTO proposals(proposal_id, payload_b3, version, created_at, "
                     "expires_at, status, payload_len, payload_b3_check, frame, dict_version, "
                     "list, list_base) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                     "proposal insert"));
  stmt.BindText(1, row.proposal_id)
      .BindText(2, row.payload_b3)
      .Bind(3, static_cast<std::int64_t>(row.version))
      .Bind(4, row.created_at)
      .Bind(5, row.expires_at)
      .Bind(6, StatusToColumn(row.status))
      .Bind(7, static_cast<std::int64_t>(row.canonical_payload.size()))
      .BindBlob(8, DigestView(crypto::Blake3(row.canonical_payload)))
      .BindBlob(9, blob)
      .Bind(10, static_cast<std::int64_t>(dict_version))
      .Bind(12, static_cast<std::int64_t>(delta ? head : 0));
  if (list.has_value()) {
    stmt.BindBlob(11, *list);
  } else {
    stmt.BindNull(11);
  }
  return stmt.Run();
}

util::Status Writer::ApplyInsertApproval(std::string_view proposal_id, const model::Approval& a) {
  std::int64_t seq = 0;
  {
    REGISTRY_ASSIGN_OR_RETURN(
        Statement stmt,
        conn_->Prepare("SELECT seq FROM proposals WHERE proposal_id = ?1", "proposal lookup"));
    stmt.BindText(1, proposal_id);
    REGISTRY_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return Error(ErrorCode::kInternal, "no proposal " + std::string(proposal_id));
    seq = stmt.Int(0);
  }
  REGISTRY_ASSIGN_OR_RETURN(
      Statement stmt,
      conn_->Prepare("INSERT INTO approvals(proposal, signer_id, algo, sig, signed_at, "
                     "signed_at_ms) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
                     "approval insert"));
  stmt.Bind(1, seq)
      .BindText(2, a.signer_id)
      .BindText(3, a.algo)
      .BindBlob(4, std::string_view(reinterpret_cast<const char*>(a.sig.data()), a.sig.size()))
      .BindText(5, a.signed_at)
      .Bind(6, a.signed_at_ms);
  return stmt.Run();
}

util::Status Writer::ApplySetStatus(std::string_view proposal_id, model::ProposalStatus status) {
  REGISTRY_ASSIGN_OR_RETURN(
      Statement stmt,
      conn_->Prepare("UPDATE proposals SET status = ?1 WHERE proposal_id = ?2", "status update"));
  stmt.Bind(1, StatusToColumn(status)).BindText(2, proposal_id);
  REGISTRY_RETURN_IF_ERROR(stmt.Run());
  if (conn_->Changes() == 0) {
    return Error(ErrorCode::kInternal, "no proposal " + std::string(proposal_id));
  }
  return util::Status::Ok();
}

util::Status Writer::ApplyAppendCommit(const CommitRow& row, OpEffects& fx) {
  REGISTRY_ASSIGN_OR_RETURN(std::uint64_t head, TxnHead());
  if (row.version != head + 1) {
    return Error(ErrorCode::kChainMismatch, "store: append of version " +
                                                std::to_string(row.version) + " on HEAD " +
                                                std::to_string(head));
  }
  REGISTRY_RETURN_IF_ERROR(EnsureHeadState(head));

  HeadState next;
  next.valid = true;
  next.version = row.version;
  std::string frame;
  std::string list;
  bool delta = false;
  if (std::optional<ItemSplit> split = SplitItems(row.record, {kPayloadMember, kItemsMember})) {
    std::vector<crypto::Blake3Digest> digests;
    REGISTRY_ASSIGN_OR_RETURN(IdList ids, Intern(split->items, digests, fx));
    const bool chain_allowed =
        head_state_.has_items && row.version - head_state_.keyframe < options_.keyframe_interval;
    list = EncodeList(ids, chain_allowed, &delta);
    frame = MakeFrame(split->prefix, split->suffix);
    next.has_items = true;
    next.keyframe = delta ? head_state_.keyframe : row.version;
    next.ids = std::make_shared<const IdList>(std::move(ids));
    next.digests = std::make_shared<const std::vector<crypto::Blake3Digest>>(std::move(digests));
  } else {
    frame = MakeFrame(row.record, {});
  }
  // A keyframe's frame is stored without a dictionary, so that it can serve as one.
  std::uint64_t dict_version = 0;
  std::string blob;
  if (delta) {
    blob = EncodeBlob(frame, head_state_.keyframe_frame);
    if (BlobNeedsDictionary(blob)) dict_version = head_state_.keyframe;
    next.keyframe_frame = head_state_.keyframe_frame;
  } else {
    blob = EncodeBlob(frame);
    if (next.has_items) next.keyframe_frame = frame;
  }

  {
    REGISTRY_ASSIGN_OR_RETURN(
        Statement stmt,
        conn_->Prepare("INSERT INTO commits(version, payload_b3, proposal_id, committed_at, "
                       "leaf_hash, record_len, record_b3, frame, dict_version, has_items, root) "
                       "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                       "commit insert"));
    stmt.Bind(1, static_cast<std::int64_t>(row.version))
        .BindText(2, row.payload_b3)
        .BindText(3, row.proposal_id)
        .BindText(4, row.committed_at)
        .BindBlob(5, std::string_view(reinterpret_cast<const char*>(row.leaf_hash.data()),
                                      row.leaf_hash.size()))
        .Bind(6, static_cast<std::int64_t>(row.record.size()))
        .BindBlob(7, DigestView(crypto::Blake3(row.record)))
        .BindBlob(8, blob)
        .Bind(9, static_cast<std::int64_t>(dict_version))
        .Bind(10, next.has_items ? 1 : 0)
        .BindBlob(
            11, std::string_view(reinterpret_cast<const char*>(row.root.data()), row.root.size()));
    REGISTRY_RETURN_IF_ERROR(stmt.Run());
  }
  if (next.has_items) {
    REGISTRY_ASSIGN_OR_RETURN(
        Statement stmt,
        conn_->Prepare("INSERT INTO commit_items(version, keyframe, list) VALUES(?1, ?2, ?3)",
                       "item list insert"));
    stmt.Bind(1, static_cast<std::int64_t>(row.version))
        .Bind(2, static_cast<std::int64_t>(next.keyframe))
        .BindBlob(3, list);
    REGISTRY_RETURN_IF_ERROR(stmt.Run());
  }
  {
    REGISTRY_ASSIGN_OR_RETURN(
        Statement stmt,
        conn_->Prepare("UPDATE proposals SET status = ?1 WHERE proposal_id = ?2", "status update"));
    stmt.Bind(1, StatusToColumn(model::ProposalStatus::kCommitted)).BindText(2, row.proposal_id);
    REGISTRY_RETURN_IF_ERROR(stmt.Run());
  }
  // The interior Merkle nodes this leaf completes, checked against the stored ones (a bad
  // row.nodes fails the call, and its savepoint rollback undoes the inserts above).
  REGISTRY_RETURN_IF_ERROR(InsertCommitNodes(*conn_, row));
  fx.new_head = std::move(next);
  return util::Status::Ok();
}

util::Status Writer::ApplyPruneThrough(const CheckpointRow& anchor) {
  REGISTRY_ASSIGN_OR_RETURN(std::uint64_t head, TxnHead());
  std::uint64_t pruned = 0;
  {
    REGISTRY_ASSIGN_OR_RETURN(
        Statement stmt,
        conn_->Prepare("SELECT coalesce(max(version), 0) FROM prune_anchor", "prune anchor"));
    REGISTRY_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (row) pruned = static_cast<std::uint64_t>(stmt.Int(0));
  }
  if (anchor.version == 0 || anchor.version >= head || anchor.version < pruned) {
    return Error(ErrorCode::kMalformed,
                 "cannot prune through version " + std::to_string(anchor.version) + " (HEAD " +
                     std::to_string(head) + ", pruned through " + std::to_string(pruned) + ")");
  }
  REGISTRY_RETURN_IF_ERROR(WriteCheckpointRow("prune_anchor", anchor));
  // Drop the bytes the anchor makes unreadable, in this call's savepoint: a failure undoes
  // the reclamation together with the anchor (sqlite_reclaim.h).
  REGISTRY_ASSIGN_OR_RETURN(ReclaimOutcome reclaimed,
                            ReclaimPruned(*conn_, pruned, anchor.version, cache_));
  ForgetReclaimed(reclaimed, anchor.version);
  return util::Status::Ok();
}

void Writer::ForgetReclaimed(const ReclaimOutcome& reclaimed, std::uint64_t anchor) {
  // Nothing fails after this point of the call; a failure of the batch afterwards resets
  // head_state_ and known_ anyway (RunBatch). HEAD's list is unchanged, but its chain now
  // starts at the first kept version, whose frame is the chain's dictionary.
  if (head_state_.valid && head_state_.has_items && head_state_.keyframe <= anchor) {
    if (reclaimed.rekeyed && head_state_.keyframe == reclaimed.old_keyframe) {
      head_state_.keyframe = reclaimed.first_kept;
      head_state_.keyframe_frame = reclaimed.keyframe_frame;
    } else {
      head_state_ = HeadState{};  // reloaded from the transaction on the next write
    }
  }
  if (!reclaimed.deleted_descriptors.empty()) {
    const std::unordered_set<DescriptorId> deleted(reclaimed.deleted_descriptors.begin(),
                                                   reclaimed.deleted_descriptors.end());
    std::erase_if(known_, [&deleted](const auto& e) { return deleted.count(e.second) > 0; });
  }
  if (cache_ != nullptr) cache_->Forget(reclaimed.deleted_descriptors, anchor);
}

util::Status Writer::ApplyWriteCheckpoint(const CheckpointRow& row) {
  REGISTRY_ASSIGN_OR_RETURN(std::uint64_t head, TxnHead());
  if (row.version > head) {
    return Error(ErrorCode::kInternal, "checkpoint of version " + std::to_string(row.version) +
                                           " is beyond HEAD " + std::to_string(head));
  }
  return WriteCheckpointRow("checkpoint", row);
}

util::Status Writer::WriteCheckpointRow(std::string_view table, const CheckpointRow& row) {
  const std::string sql = "INSERT OR REPLACE INTO " + std::string(table) +
                          "(id, version, payload_b3, committed_at, governance, frontier, "
                          "written_at) VALUES(1, ?1, ?2, ?3, ?4, ?5, ?6)";
  std::string frontier;
  frontier.reserve(row.frontier.size() * sizeof(LeafHash));
  for (const LeafHash& h : row.frontier) {
    frontier.append(reinterpret_cast<const char*>(h.data()), h.size());
  }
  REGISTRY_ASSIGN_OR_RETURN(Statement stmt, conn_->Prepare(sql.c_str(), sql));
  stmt.Bind(1, static_cast<std::int64_t>(row.version))
      .BindText(2, row.payload_b3)
      .BindText(3, row.committed_at)
      .BindBlob(4, row.governance)
      .BindBlob(5, frontier)
      .Bind(6, row.written_at);
  return stmt.Run();
}

util::Status Writer::ApplyAppendAudit(const std::vector<AuditRow>& rows) {
  std::uint64_t last = 0;
  {
    REGISTRY_ASSIGN_OR_RETURN(
        Statement stmt, conn_->Prepare("SELECT coalesce(max(seq), 0) FROM audit", "audit tail"));
    REGISTRY_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (row) last = static_cast<std::uint64_t>(stmt.Int(0));
  }
  std::uint64_t next = last + 1;
  for (const AuditRow& r : rows) {
    if (r.seq != next++) {
      return Error(ErrorCode::kChainMismatch, "store: audit seq " + std::to_string(r.seq) +
                                                  " does not continue the trail (last " +
                                                  std::to_string(last) + ")");
    }
  }
  for (const AuditRow& r : rows) {
    REGISTRY_ASSIGN_OR_RETURN(
        Statement stmt,
        conn_->Prepare("INSERT INTO audit(seq, entry) VALUES(?1, ?2)", "audit insert"));
    stmt.Bind(1, static_cast<std::int64_t>(r.seq)).BindBlob(2, r.entry);
    REGISTRY_RETURN_IF_ERROR(stmt.Run());
  }
  return util::Status::Ok();
}

util::Status Writer::ApplyAppendAuditChained(const std::vector<AuditEncoder>& entries,
                                             std::vector<AuditRow>& out) {
  out.clear();
  std::uint64_t seq = 0;
  std::string prev = crypto::ZeroB3();
  {
    REGISTRY_ASSIGN_OR_RETURN(
        Statement stmt,
        conn_->Prepare("SELECT seq, entry FROM audit ORDER BY seq DESC LIMIT 1", "audit tail"));
    REGISTRY_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (row) {
      seq = static_cast<std::uint64_t>(stmt.Int(0));
      prev = crypto::PayloadB3(stmt.Blob(1));
    }
  }
  for (const AuditEncoder& encode : entries) {
    AuditRow r{++seq, encode(seq, prev)};
    REGISTRY_ASSIGN_OR_RETURN(
        Statement stmt,
        conn_->Prepare("INSERT INTO audit(seq, entry) VALUES(?1, ?2)", "audit insert"));
    stmt.Bind(1, static_cast<std::int64_t>(r.seq)).BindBlob(2, r.entry);
    REGISTRY_RETURN_IF_ERROR(stmt.Run());
    prev = crypto::PayloadB3(r.entry);
    out.push_back(std::move(r));
  }
  return util::Status::Ok();
}

}  // namespace registry::storage::internal
