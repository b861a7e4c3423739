#include "registry/storage/postgres_store.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <mutex>
#include <utility>

#include "merkle_nodes.h"
#include "postgres_connection.h"
#include "postgres_listener.h"
#include "postgres_schema.h"

namespace registry::storage {

namespace internal {
// proposals.status is a smallint in PostgreSQL.
inline std::int16_t PgStatus(model::ProposalStatus status) {
  return static_cast<std::int16_t>(StatusToColumn(status));
}
}  // namespace internal

using internal::PgConnection;
using internal::PgParams;
using internal::PgPool;
using internal::PgResult;
using util::Error;
using util::ErrorCode;

namespace {

constexpr std::int64_t kInt64Max = std::numeric_limits<std::int64_t>::max();

// Versions, seqs and counts beyond int8 cannot exist in the database.
std::int64_t Clamp(std::uint64_t v) {
  return v > static_cast<std::uint64_t>(kInt64Max) ? kInt64Max : static_cast<std::int64_t>(v);
}

Error Internal(std::string message) {
  return Error(ErrorCode::kInternal, "postgres store: " + std::move(message));
}

std::string_view HashBytes(const LeafHash& h) {
  return std::string_view(reinterpret_cast<const char*>(h.data()), h.size());
}

util::Result<LeafHash> ToHash(std::string_view bytes, std::string_view what) {
  LeafHash h{};
  if (bytes.size() != h.size()) return Internal(std::string(what) + ": not 32 bytes");
  std::memcpy(h.data(), bytes.data(), h.size());
  return h;
}

std::string FrontierBytes(const std::vector<LeafHash>& frontier) {
  std::string out;
  out.reserve(frontier.size() * 32);
  for (const LeafHash& h : frontier) out.append(HashBytes(h));
  return out;
}

// Columns: version, payload_b3, committed_at, governance, frontier, written_at.
util::Result<CheckpointRow> CheckpointFrom(const PgResult& r, std::string_view what) {
  CheckpointRow row;
  row.version = static_cast<std::uint64_t>(r.Int64(0, 0));
  row.payload_b3 = r.String(0, 1);
  row.committed_at = r.String(0, 2);
  row.governance = r.String(0, 3);
  std::string_view frontier = r.Bytes(0, 4);
  if (frontier.size() % 32 != 0) return Internal(std::string(what) + ": corrupt frontier");
  for (std::size_t i = 0; i < frontier.size(); i += 32) {
    REGISTRY_ASSIGN_OR_RETURN(LeafHash h, ToHash(frontier.substr(i, 32), what));
    row.frontier.push_back(h);
  }
  row.written_at = r.Int64(0, 5);
  return row;
}

// The stored hash of Merkle node (level, index); level 0 is the leaf hash of version
// index + 1. Inside the caller's transaction.
util::Result<LeafHash> StoredNode(PgConnection& c, std::uint8_t level, std::uint64_t index) {
  const std::string name = "(" + std::to_string(level) + ", " + std::to_string(index) + ")";
  util::Result<PgResult> r =
      level == 0 ? c.Exec("postgres store: Merkle node " + name,
                          "SELECT leaf_hash FROM commits WHERE version = $1",
                          PgParams().Int64(Clamp(index + 1)))
                 : c.Exec("postgres store: Merkle node " + name,
                          "SELECT hash FROM merkle_nodes WHERE level = $1 AND idx = $2",
                          PgParams().Int16(level).Int64(Clamp(index)));
  if (!r.ok()) return std::move(r).error();
  if (r->rows() != 1) return Internal("store is corrupt: Merkle node " + name + " is missing");
  return ToHash(r->Bytes(0, 0), "Merkle node " + name);
}

// Columns: proposal_id, payload_b3, canonical_payload, version, created_at, expires_at,
// status.
constexpr const char* kProposalColumns =
    "proposal_id, payload_b3, canonical_payload, version, created_at, expires_at, status";

util::Result<ProposalRow> ProposalFrom(const PgResult& r, int i) {
  ProposalRow row;
  row.proposal_id = r.String(i, 0);
  row.payload_b3 = r.String(i, 1);
  row.canonical_payload = r.String(i, 2);
  row.version = static_cast<std::uint64_t>(r.Int64(i, 3));
  row.created_at = r.Int64(i, 4);
  row.expires_at = r.Int64(i, 5);
  std::optional<model::ProposalStatus> status = internal::StatusFromColumn(r.Int16(i, 6));
  if (!status.has_value()) return Internal("proposal " + row.proposal_id + ": unknown status");
  row.status = *status;
  return row;
}

}  // namespace

struct PostgresStore::Impl {
  Options options;
  PgPool pool;
  std::mutex listener_mu;
  std::unique_ptr<internal::PgListener> listener;

  explicit Impl(Options o)
      : options(std::move(o)), pool(options.conninfo, options.max_connections) {}

  // Runs `fn(conn)` (a read, returning Result<T>) on a pooled connection. A connection that
  // turns out to be dead (the server restarted, a failover) is dropped and the read is tried
  // once more on a new one.
  template <typename Fn>
  auto Read(Fn&& fn) -> decltype(fn(std::declval<PgConnection&>())) {
    for (int attempt = 0;; ++attempt) {
      REGISTRY_ASSIGN_OR_RETURN(PgPool::Lease lease, pool.Acquire());
      auto result = fn(*lease);
      if (result.ok() || lease->Healthy() || attempt > 0) return result;
      lease.Discard();
      pool.DropIdle();
    }
  }

  enum class Outcome : std::uint8_t { kDone, kInDoubt };

  // Runs `fn(conn)` (returning Status) inside one transaction. When BEGIN fails on a dead
  // connection nothing was sent yet, so it is retried once on a new one. A failing `fn` is
  // rolled back. `in_doubt` (when given) is set when the connection was lost during COMMIT:
  // the transaction may or may not have committed.
  template <typename Fn>
  util::Status Write(std::string_view what, Fn&& fn, bool* in_doubt = nullptr) {
    if (in_doubt != nullptr) *in_doubt = false;
    for (int attempt = 0;; ++attempt) {
      REGISTRY_ASSIGN_OR_RETURN(PgPool::Lease lease, pool.Acquire());
      util::Result<PgResult> begun = lease->Exec("postgres store: BEGIN", "BEGIN");
      if (!begun.ok()) {
        if (lease->Healthy() || attempt > 0) return std::move(begun).error();
        lease.Discard();
        pool.DropIdle();
        continue;
      }
      util::Status done = fn(*lease);
      if (!done.ok()) {
        // A connection lost here rolls the transaction back by itself; the lease closes it.
        if (lease->Healthy()) (void)lease->Exec("postgres store: ROLLBACK", "ROLLBACK");
        return done;
      }
      util::Result<PgResult> committed = lease->Exec("postgres store: COMMIT", "COMMIT");
      if (committed.ok()) return util::Status::Ok();
      if (!lease->Healthy()) {
        if (in_doubt != nullptr) *in_doubt = true;
        return Internal(std::string(what) +
                        ": outcome unknown: the connection was lost during COMMIT (" +
                        committed.error().message() + ")");
      }
      return Internal(std::string(what) + ": " + committed.error().message());
    }
  }

  static util::Status Notify(PgConnection& conn, const std::string& payload) {
    REGISTRY_RETURN_IF_ERROR(conn.Exec("postgres store: NOTIFY", "SELECT pg_notify($1, $2)",
                                       PgParams().Text(kChannel).Text(payload)));
    return util::Status::Ok();
  }
};

PostgresStore::PostgresStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

PostgresStore::~PostgresStore() {
  std::lock_guard lock(impl_->listener_mu);
  impl_->listener.reset();
}

util::Result<std::unique_ptr<PostgresStore>> PostgresStore::Open(Options options) {
  if (options.conninfo.empty()) return Internal("no connection string (storage.postgres_url)");
  auto impl = std::make_unique<Impl>(std::move(options));
  {
    REGISTRY_ASSIGN_OR_RETURN(PgPool::Lease lease, impl->pool.Acquire());
    REGISTRY_RETURN_IF_ERROR(internal::MigratePostgres(*lease, kSchemaVersion));
  }
  return std::unique_ptr<PostgresStore>(new PostgresStore(std::move(impl)));
}

util::Result<std::uint64_t> PostgresStore::HeadVersion() {
  return impl_->Read([](PgConnection& c) -> util::Result<std::uint64_t> {
    REGISTRY_ASSIGN_OR_RETURN(
        PgResult r, c.Exec("postgres store: HeadVersion", "SELECT version FROM head WHERE id = 1"));
    if (r.rows() != 1) return Internal("HeadVersion: no head row");
    return static_cast<std::uint64_t>(r.Int64(0, 0));
  });
}

util::Result<std::optional<std::string>> PostgresStore::ReadRecord(std::uint64_t version) {
  using Out = std::optional<std::string>;
  if (version == 0 || version > static_cast<std::uint64_t>(kInt64Max)) return Out();
  return impl_->Read([&](PgConnection& c) -> util::Result<Out> {
    REGISTRY_ASSIGN_OR_RETURN(PgResult r, c.Exec("postgres store: ReadRecord",
                                                 "SELECT record FROM commits WHERE version = $1",
                                                 PgParams().Int64(Clamp(version))));
    if (r.rows() == 0) return Out();
    if (r.IsNull(0, 0)) {
      return Error(ErrorCode::kPruned,
                   "version " + std::to_string(version) + " was pruned by retention");
    }
    return Out(r.String(0, 0));
  });
}

util::Result<std::optional<CommitMeta>> PostgresStore::ReadCommitMeta(std::uint64_t version) {
  using Out = std::optional<CommitMeta>;
  if (version == 0 || version > static_cast<std::uint64_t>(kInt64Max)) return Out();
  return impl_->Read([&](PgConnection& c) -> util::Result<Out> {
    REGISTRY_ASSIGN_OR_RETURN(
        PgResult r,
        c.Exec("postgres store: ReadCommitMeta",
               "SELECT payload_b3, proposal_id, committed_at, leaf_hash, root FROM commits "
               "WHERE version = $1",
               PgParams().Int64(Clamp(version))));
    if (r.rows() == 0) return Out();
    CommitMeta meta;
    meta.version = version;
    meta.payload_b3 = r.String(0, 0);
    meta.proposal_id = r.String(0, 1);
    meta.committed_at = r.String(0, 2);
    REGISTRY_ASSIGN_OR_RETURN(meta.leaf_hash, ToHash(r.Bytes(0, 3), "leaf_hash"));
    REGISTRY_ASSIGN_OR_RETURN(meta.root, ToHash(r.Bytes(0, 4), "root"));
    return Out(std::move(meta));
  });
}

util::Result<std::vector<LeafHash>> PostgresStore::ReadLeafHashes(std::uint64_t first_version,
                                                                  std::size_t count) {
  using Out = std::vector<LeafHash>;
  if (first_version == 0 || count == 0 || first_version > static_cast<std::uint64_t>(kInt64Max)) {
    return Out();
  }
  const std::int64_t first = Clamp(first_version);
  const std::int64_t last = count - 1 > static_cast<std::uint64_t>(kInt64Max - first)
                                ? kInt64Max
                                : first + static_cast<std::int64_t>(count - 1);
  // One range scan of the primary key. The commits table only ever holds versions 1 … HEAD
  // (a commit and its HEAD move are one transaction), so the range stops at HEAD by itself.
  return impl_->Read([&](PgConnection& c) -> util::Result<Out> {
    REGISTRY_ASSIGN_OR_RETURN(
        PgResult r, c.Exec("postgres store: ReadLeafHashes",
                           "SELECT version, leaf_hash FROM commits WHERE version BETWEEN $1 AND $2 "
                           "ORDER BY version",
                           PgParams().Int64(first).Int64(last)));
    Out out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) {
      if (r.Int64(i, 0) != first + i) return Internal("ReadLeafHashes: a gap in the log");
      REGISTRY_ASSIGN_OR_RETURN(LeafHash h, ToHash(r.Bytes(i, 1), "leaf_hash"));
      out.push_back(h);
    }
    return out;
  });
}

util::Result<std::vector<MerkleNode>> PostgresStore::ReadMerkleNodes(std::uint8_t level,
                                                                     std::uint64_t first_index,
                                                                     std::size_t count) {
  using Out = std::vector<MerkleNode>;
  if (level == 0 || level > internal::kMaxMerkleLevel || count == 0 ||
      first_index >= static_cast<std::uint64_t>(kInt64Max)) {
    return Out();
  }
  const std::int64_t first = Clamp(first_index);
  const std::int64_t last = count - 1 > static_cast<std::uint64_t>(kInt64Max - first)
                                ? kInt64Max
                                : first + static_cast<std::int64_t>(count - 1);
  // One range scan of the primary key, bounded by what HEAD completes (read in the same
  // statement, so a gap below it is told apart from the end of the log).
  return impl_->Read([&](PgConnection& c) -> util::Result<Out> {
    REGISTRY_ASSIGN_OR_RETURN(
        PgResult r, c.Exec("postgres store: ReadMerkleNodes",
                           "SELECT n.idx, n.hash, h.version FROM head h LEFT JOIN merkle_nodes n "
                           "ON n.level = $1 AND n.idx BETWEEN $2 AND $3 "
                           "AND n.idx < (h.version >> $1::int) WHERE h.id = 1 ORDER BY n.idx",
                           PgParams().Int16(level).Int64(first).Int64(last)));
    Out out;
    if (r.rows() == 0) return Internal("ReadMerkleNodes: no head row");
    const auto head = static_cast<std::uint64_t>(r.Int64(0, 2));
    const std::uint64_t available = head >> level;
    const std::uint64_t want =
        first_index >= available
            ? 0
            : std::min<std::uint64_t>(static_cast<std::uint64_t>(last - first) + 1,
                                      available - first_index);
    out.reserve(static_cast<std::size_t>(want));
    for (int i = 0; i < r.rows() && !r.IsNull(i, 0); ++i) {
      if (static_cast<std::uint64_t>(r.Int64(i, 0)) != first_index + out.size()) break;
      REGISTRY_ASSIGN_OR_RETURN(LeafHash h, ToHash(r.Bytes(i, 1), "merkle_nodes.hash"));
      out.push_back(MerkleNode{level, first_index + out.size(), h});
    }
    if (out.size() != want) {
      return Internal("ReadMerkleNodes: store is corrupt: Merkle node (" + std::to_string(level) +
                      ", " + std::to_string(first_index + out.size()) + ") is missing");
    }
    return out;
  });
}

util::Result<std::vector<ProposalRow>> PostgresStore::LoadPendingProposals() {
  using Out = std::vector<ProposalRow>;
  const std::string sql =
      std::string("SELECT ") + kProposalColumns + " FROM proposals WHERE status = 0 ORDER BY seq";
  return impl_->Read([&](PgConnection& c) -> util::Result<Out> {
    REGISTRY_ASSIGN_OR_RETURN(PgResult r,
                              c.Exec("postgres store: LoadPendingProposals", sql.c_str()));
    Out out;
    for (int i = 0; i < r.rows(); ++i) {
      REGISTRY_ASSIGN_OR_RETURN(ProposalRow row, ProposalFrom(r, i));
      out.push_back(std::move(row));
    }
    return out;
  });
}

util::Result<std::optional<ProposalRow>> PostgresStore::GetProposal(std::string_view proposal_id) {
  using Out = std::optional<ProposalRow>;
  const std::string sql =
      std::string("SELECT ") + kProposalColumns + " FROM proposals WHERE proposal_id = $1";
  return impl_->Read([&](PgConnection& c) -> util::Result<Out> {
    REGISTRY_ASSIGN_OR_RETURN(PgResult r, c.Exec("postgres store: GetProposal", sql.c_str(),
                                                 PgParams().Text(proposal_id)));
    if (r.rows() == 0) return Out();
    REGISTRY_ASSIGN_OR_RETURN(ProposalRow row, ProposalFrom(r, 0));
    return Out(std::move(row));
  });
}

util::Result<std::vector<model::Approval>> PostgresStore::LoadApprovals(
    std::string_view proposal_id) {
  using Out = std::vector<model::Approval>;
  return impl_->Read([&](PgConnection& c) -> util::Result<Out> {
    REGISTRY_ASSIGN_OR_RETURN(
        PgResult r, c.Exec("postgres store: LoadApprovals",
                           "SELECT a.signer_id, a.algo, a.sig, a.signed_at, a.signed_at_ms "
                           "FROM approvals a JOIN proposals p ON a.proposal = p.seq "
                           "WHERE p.proposal_id = $1 ORDER BY a.id",
                           PgParams().Text(proposal_id)));
    Out out;
    for (int i = 0; i < r.rows(); ++i) {
      model::Approval a;
      a.signer_id = r.String(i, 0);
      a.algo = r.String(i, 1);
      std::string_view sig = r.Bytes(i, 2);
      if (sig.size() != a.sig.size()) return Internal("LoadApprovals: corrupt signature");
      std::memcpy(a.sig.data(), sig.data(), sig.size());
      a.signed_at = r.String(i, 3);
      a.signed_at_ms = r.Int64(i, 4);
      out.push_back(std::move(a));
    }
    return out;
  });
}

util::Status PostgresStore::InsertProposal(const ProposalRow& row) {
  const std::string what = "InsertProposal(" + row.proposal_id + ")";
  return impl_->Write(what, [&](PgConnection& c) -> util::Status {
    std::string sqlstate;
    util::Result<PgResult> r = c.Exec(
        "postgres store: " + what,
        "INSERT INTO proposals (proposal_id, payload_b3, canonical_payload, version, created_at, "
        "expires_at, status) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        PgParams()
            .Text(row.proposal_id)
            .Text(row.payload_b3)
            .Bytes(row.canonical_payload)
            .Int64(Clamp(row.version))
            .Int64(row.created_at)
            .Int64(row.expires_at)
            .Int16(internal::PgStatus(row.status)),
        &sqlstate);
    if (!r.ok()) {
      if (sqlstate == internal::kSqlStateUniqueViolation) {
        return Internal(what + ": proposal " + row.proposal_id + " exists");
      }
      return std::move(r).error();
    }
    return Impl::Notify(c, internal::ProposalNotification(row.proposal_id));
  });
}

util::Status PostgresStore::InsertApproval(std::string_view proposal_id,
                                           const model::Approval& approval) {
  const std::string what =
      "InsertApproval(" + std::string(proposal_id) + ", " + approval.signer_id + ")";
  return impl_->Write(what, [&](PgConnection& c) -> util::Status {
    std::string sqlstate;
    util::Result<PgResult> r =
        c.Exec("postgres store: " + what,
               "INSERT INTO approvals (proposal, signer_id, algo, sig, signed_at, signed_at_ms) "
               "SELECT seq, $2, $3, $4, $5, $6 FROM proposals WHERE proposal_id = $1",
               PgParams()
                   .Text(proposal_id)
                   .Text(approval.signer_id)
                   .Text(approval.algo)
                   .Bytes(std::string_view(reinterpret_cast<const char*>(approval.sig.data()),
                                           approval.sig.size()))
                   .Text(approval.signed_at)
                   .Int64(approval.signed_at_ms),
               &sqlstate);
    if (!r.ok()) {
      // Another instance accepted this signer's approval first.
      if (sqlstate == internal::kSqlStateUniqueViolation) {
        return Error(ErrorCode::kDuplicateApproval,
                     approval.signer_id + " already approved " + std::string(proposal_id));
      }
      return std::move(r).error();
    }
    if (r->affected() != 1) {
      return Internal(what + ": no proposal " + std::string(proposal_id));
    }
    return Impl::Notify(c, internal::ProposalNotification(proposal_id));
  });
}

util::Status PostgresStore::SetProposalStatus(std::string_view proposal_id,
                                              model::ProposalStatus status) {
  const std::string what = "SetProposalStatus(" + std::string(proposal_id) + ")";
  return impl_->Write(what, [&](PgConnection& c) -> util::Status {
    REGISTRY_ASSIGN_OR_RETURN(
        PgResult r,
        c.Exec("postgres store: " + what, "UPDATE proposals SET status = $2 WHERE proposal_id = $1",
               PgParams().Text(proposal_id).Int16(internal::PgStatus(status))));
    if (r.affected() != 1) return Internal(what + ": no proposal " + std::string(proposal_id));
    return Impl::Notify(c, internal::ProposalNotification(proposal_id));
  });
}

util::Status PostgresStore::AppendCommit(const CommitRow& row) {
  const std::string what = "AppendCommit(" + std::to_string(row.version) + ")";
  if (row.version == 0 || row.version > static_cast<std::uint64_t>(kInt64Max)) {
    return Error(ErrorCode::kChainMismatch,
                 "store: append of version " + std::to_string(row.version) + " is not HEAD + 1");
  }
  const auto version = static_cast<std::int64_t>(row.version);
  bool in_doubt = false;
  util::Status status = impl_->Write(
      what,
      [&](PgConnection& c) -> util::Status {
        // The compare-and-swap: the row lock on HEAD serializes committers, and a committer
        // that waited re-checks the condition against the winner's HEAD.
        REGISTRY_ASSIGN_OR_RETURN(
            PgResult cas, c.Exec("postgres store: " + what,
                                 "UPDATE head SET version = $1 WHERE id = 1 AND version = $2",
                                 PgParams().Int64(version).Int64(version - 1)));
        if (cas.affected() != 1) {
          REGISTRY_ASSIGN_OR_RETURN(PgResult head, c.Exec("postgres store: " + what,
                                                          "SELECT version FROM head WHERE id = 1"));
          return Error(ErrorCode::kChainMismatch,
                       "store: append of version " + std::to_string(row.version) + " on HEAD " +
                           std::to_string(head.rows() == 1 ? head.Int64(0, 0) : -1));
        }
        REGISTRY_RETURN_IF_ERROR(
            c.Exec("postgres store: " + what,
                   "INSERT INTO commits (version, payload_b3, proposal_id, committed_at, record, "
                   "leaf_hash, root) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                   PgParams()
                       .Int64(version)
                       .Text(row.payload_b3)
                       .Text(row.proposal_id)
                       .Text(row.committed_at)
                       .Bytes(row.record)
                       .Bytes(HashBytes(row.leaf_hash))
                       .Bytes(HashBytes(row.root))));
        // The interior nodes this leaf completes, checked against the stored left siblings;
        // a bad row.nodes rolls the whole transaction back.
        REGISTRY_ASSIGN_OR_RETURN(
            std::vector<MerkleNode> nodes,
            internal::NodesToStore(row, [&](std::uint8_t level, std::uint64_t index) {
              return StoredNode(c, level, index);
            }));
        for (const MerkleNode& n : nodes) {
          REGISTRY_RETURN_IF_ERROR(
              c.Exec("postgres store: " + what,
                     "INSERT INTO merkle_nodes (level, idx, hash) VALUES ($1, $2, $3)",
                     PgParams().Int16(n.level).Int64(Clamp(n.index)).Bytes(HashBytes(n.hash))));
        }
        REGISTRY_RETURN_IF_ERROR(c.Exec(
            "postgres store: " + what, "UPDATE proposals SET status = $2 WHERE proposal_id = $1",
            PgParams()
                .Text(row.proposal_id)
                .Int16(internal::PgStatus(model::ProposalStatus::kCommitted))));
        return Impl::Notify(c, internal::CommitNotification(row.version));
      },
      &in_doubt);
  if (!in_doubt) return status;
  // The COMMIT's fate is unknown: ask the database (on a new connection) what it holds.
  util::Result<std::optional<CommitMeta>> meta = ReadCommitMeta(row.version);
  if (!meta.ok()) return status;  // still unknown: the original error says so
  if (!meta->has_value()) {
    return Internal(what + ": not committed (the connection was lost during COMMIT)");
  }
  const CommitMeta& got = **meta;
  if (got.leaf_hash == row.leaf_hash && got.proposal_id == row.proposal_id) {
    return util::Status::Ok();
  }
  return Error(ErrorCode::kChainMismatch, "store: version " + std::to_string(row.version) +
                                              " was committed by another writer");
}

util::Status PostgresStore::WriteCheckpoint(const CheckpointRow& row) {
  const std::string what = "WriteCheckpoint(" + std::to_string(row.version) + ")";
  const std::string frontier = FrontierBytes(row.frontier);
  return impl_->Write(what, [&](PgConnection& c) -> util::Status {
    REGISTRY_ASSIGN_OR_RETURN(
        PgResult head, c.Exec("postgres store: " + what, "SELECT version FROM head WHERE id = 1"));
    if (head.rows() != 1 || row.version > static_cast<std::uint64_t>(head.Int64(0, 0))) {
      return Internal(what + ": checkpoint beyond HEAD");
    }
    // With several instances an older checkpoint never replaces a newer one.
    REGISTRY_RETURN_IF_ERROR(c.Exec(
        "postgres store: " + what,
        "INSERT INTO checkpoint (kind, version, payload_b3, committed_at, governance, frontier, "
        "written_at) VALUES ($1, $2, $3, $4, $5, $6, $7) "
        "ON CONFLICT (kind) DO UPDATE SET version = EXCLUDED.version, "
        "payload_b3 = EXCLUDED.payload_b3, committed_at = EXCLUDED.committed_at, "
        "governance = EXCLUDED.governance, frontier = EXCLUDED.frontier, "
        "written_at = EXCLUDED.written_at WHERE checkpoint.version <= EXCLUDED.version",
        PgParams()
            .Int16(internal::kStorageCheckpoint)
            .Int64(Clamp(row.version))
            .Text(row.payload_b3)
            .Text(row.committed_at)
            .Bytes(row.governance)
            .Bytes(frontier)
            .Int64(row.written_at)));
    return util::Status::Ok();
  });
}

namespace {

util::Result<std::optional<CheckpointRow>> LoadCheckpointKind(PgConnection& c, std::int16_t kind,
                                                              std::string_view what) {
  using Out = std::optional<CheckpointRow>;
  REGISTRY_ASSIGN_OR_RETURN(
      PgResult r, c.Exec(std::string("postgres store: ") + std::string(what),
                         "SELECT version, payload_b3, committed_at, governance, frontier, "
                         "written_at FROM checkpoint WHERE kind = $1",
                         PgParams().Int16(kind)));
  if (r.rows() == 0) return Out();
  REGISTRY_ASSIGN_OR_RETURN(CheckpointRow row, CheckpointFrom(r, what));
  return Out(std::move(row));
}

}  // namespace

util::Result<std::optional<CheckpointRow>> PostgresStore::LoadCheckpoint() {
  return impl_->Read([](PgConnection& c) {
    return LoadCheckpointKind(c, internal::kStorageCheckpoint, "LoadCheckpoint");
  });
}

util::Status PostgresStore::AppendAudit(const std::vector<AuditRow>& rows) {
  if (rows.empty()) return util::Status::Ok();
  const std::string what = "AppendAudit(" + std::to_string(rows.front().seq) + "…)";
  for (std::size_t i = 1; i < rows.size(); ++i) {
    if (rows[i].seq != rows[0].seq + i) {
      return Error(ErrorCode::kChainMismatch, "store: audit seq " + std::to_string(rows[i].seq) +
                                                  " does not continue the trail");
    }
  }
  return impl_->Write(what, [&](PgConnection& c) -> util::Status {
    // Appenders on every instance take the same lock, so "the last seq" cannot move between
    // the check and the insert.
    REGISTRY_RETURN_IF_ERROR(c.Exec("postgres store: " + what, "SELECT pg_advisory_xact_lock($1)",
                                    PgParams().Int64(internal::kAuditLockKey)));
    REGISTRY_ASSIGN_OR_RETURN(PgResult last, c.Exec("postgres store: " + what,
                                                    "SELECT coalesce(max(seq), 0) FROM audit"));
    const auto next = static_cast<std::uint64_t>(last.Int64(0, 0)) + 1;
    if (rows[0].seq != next) {
      return Error(ErrorCode::kChainMismatch, "store: audit seq " + std::to_string(rows[0].seq) +
                                                  " does not continue the trail (next is " +
                                                  std::to_string(next) + ")");
    }
    for (const AuditRow& row : rows) {
      REGISTRY_RETURN_IF_ERROR(c.Exec("postgres store: " + what,
                                      "INSERT INTO audit (seq, entry) VALUES ($1, $2)",
                                      PgParams().Int64(Clamp(row.seq)).Bytes(row.entry)));
    }
    return util::Status::Ok();
  });
}

util::Result<std::vector<AuditRow>> PostgresStore::ReadAudit(std::uint64_t after_seq,
                                                             std::size_t limit) {
  using Out = std::vector<AuditRow>;
  if (limit == 0 || after_seq >= static_cast<std::uint64_t>(kInt64Max)) return Out();
  return impl_->Read([&](PgConnection& c) -> util::Result<Out> {
    REGISTRY_ASSIGN_OR_RETURN(
        PgResult r, c.Exec("postgres store: ReadAudit",
                           "SELECT seq, entry FROM audit WHERE seq > $1 ORDER BY seq LIMIT $2",
                           PgParams().Int64(Clamp(after_seq)).Int64(Clamp(limit))));
    Out out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) {
      out.push_back(AuditRow{static_cast<std::uint64_t>(r.Int64(i, 0)), r.String(i, 1)});
    }
    return out;
  });
}

util::Status PostgresStore::PruneThrough(const CheckpointRow& anchor) {
  const std::string what = "PruneThrough(" + std::to_string(anchor.version) + ")";
  const std::string frontier = FrontierBytes(anchor.frontier);
  return impl_->Write(what, [&](PgConnection& c) -> util::Status {
    REGISTRY_RETURN_IF_ERROR(c.Exec("postgres store: " + what, "SELECT pg_advisory_xact_lock($1)",
                                    PgParams().Int64(internal::kPruneLockKey)));
    REGISTRY_ASSIGN_OR_RETURN(
        PgResult head, c.Exec("postgres store: " + what, "SELECT version FROM head WHERE id = 1"));
    REGISTRY_ASSIGN_OR_RETURN(
        PgResult stored,
        c.Exec("postgres store: " + what, "SELECT version FROM checkpoint WHERE kind = $1",
               PgParams().Int16(internal::kPruneAnchor)));
    const std::uint64_t head_version =
        head.rows() == 1 ? static_cast<std::uint64_t>(head.Int64(0, 0)) : 0;
    const std::uint64_t from =
        stored.rows() == 1 ? static_cast<std::uint64_t>(stored.Int64(0, 0)) : 0;
    if (anchor.version == 0 || anchor.version >= head_version || anchor.version < from) {
      return Error(ErrorCode::kMalformed, "store: cannot prune through version " +
                                              std::to_string(anchor.version) + " (HEAD " +
                                              std::to_string(head_version) + ", pruned through " +
                                              std::to_string(from) + ")");
    }
    REGISTRY_RETURN_IF_ERROR(
        c.Exec("postgres store: " + what,
               "UPDATE commits SET record = NULL WHERE version > $1 AND version <= $2",
               PgParams().Int64(Clamp(from)).Int64(Clamp(anchor.version))));
    REGISTRY_RETURN_IF_ERROR(c.Exec(
        "postgres store: " + what,
        "INSERT INTO checkpoint (kind, version, payload_b3, committed_at, governance, frontier, "
        "written_at) VALUES ($1, $2, $3, $4, $5, $6, $7) "
        "ON CONFLICT (kind) DO UPDATE SET version = EXCLUDED.version, "
        "payload_b3 = EXCLUDED.payload_b3, committed_at = EXCLUDED.committed_at, "
        "governance = EXCLUDED.governance, frontier = EXCLUDED.frontier, "
        "written_at = EXCLUDED.written_at",
        PgParams()
            .Int16(internal::kPruneAnchor)
            .Int64(Clamp(anchor.version))
            .Text(anchor.payload_b3)
            .Text(anchor.committed_at)
            .Bytes(anchor.governance)
            .Bytes(frontier)
            .Int64(anchor.written_at)));
    return util::Status::Ok();
  });
}

util::Result<std::optional<CheckpointRow>> PostgresStore::LoadPruneAnchor() {
  return impl_->Read([](PgConnection& c) {
    return LoadCheckpointKind(c, internal::kPruneAnchor, "LoadPruneAnchor");
  });
}

std::uint64_t PostgresStore::SizeBytes() {
  util::Result<std::uint64_t> size =
      impl_->Read([](PgConnection& c) -> util::Result<std::uint64_t> {
        REGISTRY_ASSIGN_OR_RETURN(
            PgResult r,
            c.Exec("postgres store: SizeBytes", "SELECT pg_database_size(current_database())"));
        return static_cast<std::uint64_t>(r.Int64(0, 0));
      });
  return size.ok() ? *size : 0;
}

util::Status PostgresStore::SubscribeChanges(ChangeCallback callback) {
  std::lock_guard lock(impl_->listener_mu);
  REGISTRY_CHECK(impl_->listener == nullptr, "PostgresStore::SubscribeChanges called twice");
  auto listener = std::make_unique<internal::PgListener>(
      impl_->options.conninfo, impl_->options.listener_resync_interval,
      impl_->options.listener_retry_interval, std::move(callback));
  REGISTRY_RETURN_IF_ERROR(listener->Start());
  impl_->listener = std::move(listener);
  return util::Status::Ok();
}

}  // namespace registry::storage
