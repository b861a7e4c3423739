#include "registry/storage/sqlite_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <utility>

#include "sqlite_connection.h"
#include "sqlite_content.h"
#include "sqlite_merkle.h"
#include "sqlite_read_cache.h"
#include "sqlite_reader_pool.h"
#include "sqlite_schema.h"
#include "sqlite_writer.h"

namespace registry::storage {

using util::Error;
using util::ErrorCode;

namespace {

using internal::Connection;
using internal::ReaderPool;
using internal::Statement;

class UniqueFd {
 public:
  explicit UniqueFd(int fd = -1) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      Reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  ~UniqueFd() { Reset(); }
  int get() const { return fd_; }

 private:
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  int fd_;
};

Error OpenError(const std::string& path, const std::string& why) {
  return Error(ErrorCode::kInternal, "sqlite store: " + path + ": " + why);
}

std::string Errno(const char* call) { return std::string(call) + ": " + std::strerror(errno); }

std::string OctalMode(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

util::Status SyncDirectory(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0 || ::fsync(fd.get()) != 0) return OpenError(path, Errno("fsync directory"));
  return util::Status::Ok();
}

// Creates `dir` (mode 0700) when missing, checks an existing one, and takes the exclusive
// lock that keeps a second process (or store) off it. Returns the locked directory fd.
util::Result<UniqueFd> PrepareDataDir(const std::string& dir, bool fsync) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    if (errno != ENOENT) return OpenError(dir, Errno("stat"));
    const std::filesystem::path parent = std::filesystem::path(dir).parent_path();
    std::error_code ec;
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    if (ec) return OpenError(dir, "cannot create the parent directory: " + ec.message());
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return OpenError(dir, Errno("mkdir"));
    if (::chmod(dir.c_str(), 0700) != 0) return OpenError(dir, Errno("chmod"));
    if (fsync) {
      REGISTRY_RETURN_IF_ERROR(SyncDirectory(parent.empty() ? std::string(".") : parent.string()));
    }
    if (::stat(dir.c_str(), &st) != 0) return OpenError(dir, Errno("stat"));
  }
  if (!S_ISDIR(st.st_mode)) return OpenError(dir, "not a directory");
  if ((st.st_mode & 077) != 0) {
    return OpenError(dir, "the data directory has mode " + OctalMode(st.st_mode) +
                              "; it must not be accessible to group or others (chmod 700 " + dir +
                              ")");
  }
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return OpenError(dir, Errno("open"));
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      return OpenError(dir, "the store is in use by another process (or another open store)");
    }
    return OpenError(dir, Errno("flock"));
  }
  return fd;
}

// Creates the database file with mode 0600 (SQLite gives its -wal and -shm files the same).
util::Status CreateDatabaseFile(const std::string& dir, const std::string& path, bool fsync) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) return util::Status::Ok();
  if (errno != ENOENT) return OpenError(path, Errno("stat"));
  UniqueFd fd(::open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600));
  if (fd.get() < 0) return OpenError(path, Errno("create"));
  if (fsync) return SyncDirectory(dir);
  return util::Status::Ok();
}

std::uint64_t FileSize(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return static_cast<std::uint64_t>(st.st_size);
}

Error ReadFailed(std::string_view what, const Error& e) {
  return Error(ErrorCode::kInternal, "sqlite store: " + std::string(what) + ": " + e.message());
}

}  // namespace

struct SqliteStore::Impl {
  Options options;
  std::string db_path;
  UniqueFd dir_lock;
  std::unique_ptr<internal::ReadCache> cache;
  std::unique_ptr<ReaderPool> readers;
  std::unique_ptr<internal::Writer> writer;
  // Records of versions <= this are pruned (PruneThrough); raised after the anchor is durable.
  std::atomic<std::uint64_t> pruned_through{0};

  ~Impl() {
    // Readers first: the writer's connection is the last one, and closing it checkpoints
    // the WAL into the database file.
    readers.reset();
    writer.reset();
  }

  // The one row of `table` ("checkpoint" or "prune_anchor"), or nullopt.
  util::Result<std::optional<CheckpointRow>> LoadCheckpointRow(std::string_view table) {
    const std::string what = "Load " + std::string(table);
    const std::string sql =
        "SELECT version, payload_b3, committed_at, governance, frontier, written_at FROM " +
        std::string(table) + " WHERE id = 1";
    REGISTRY_ASSIGN_OR_RETURN(ReaderPool::Lease conn, Read(what));
    util::Result<Statement> stmt = conn->Prepare(sql.c_str(), what);
    if (!stmt.ok()) return ReadFailed(what, stmt.error());
    util::Result<bool> row = stmt->Step();
    if (!row.ok()) return ReadFailed(what, row.error());
    if (!*row) return std::optional<CheckpointRow>();
    CheckpointRow out;
    out.version = static_cast<std::uint64_t>(stmt->Int(0));
    out.payload_b3 = std::string(stmt->Text(1));
    out.committed_at = std::string(stmt->Text(2));
    out.governance = std::string(stmt->Blob(3));
    std::string_view frontier = stmt->Blob(4);
    if (frontier.size() % sizeof(LeafHash) != 0) {
      return Error(ErrorCode::kInternal,
                   "sqlite store: " + what + ": store is corrupt: frontier size");
    }
    out.frontier.resize(frontier.size() / sizeof(LeafHash));
    for (std::size_t i = 0; i < out.frontier.size(); ++i) {
      std::memcpy(out.frontier[i].data(), frontier.data() + i * sizeof(LeafHash), sizeof(LeafHash));
    }
    out.written_at = stmt->Int(5);
    return std::optional<CheckpointRow>(std::move(out));
  }

  // A reader connection inside a read transaction (one consistent snapshot).
  util::Result<ReaderPool::Lease> Read(std::string_view what) {
    util::Result<ReaderPool::Lease> lease = readers->Acquire();
    if (!lease.ok()) return ReadFailed(what, lease.error());
    if (util::Status s = (*lease)->Exec("BEGIN", "BEGIN"); !s.ok()) {
      return ReadFailed(what, s.error());
    }
    return lease;
  }
};

util::Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(Options options) {
  if (options.data_dir.empty()) return OpenError("(empty)", "storage.data_dir must be set");
  if (options.readers == 0 || options.max_batch == 0 || options.keyframe_interval == 0) {
    return OpenError(options.data_dir, "readers, max_batch and keyframe_interval must be >= 1");
  }
  static_assert(kSchemaVersion > 0);
  if (internal::LatestSchemaVersion() != kSchemaVersion) {
    return OpenError(options.data_dir, "schema version mismatch in this build");
  }
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->db_path = options.data_dir + "/" + kDatabaseFile;
  REGISTRY_ASSIGN_OR_RETURN(impl->dir_lock, PrepareDataDir(options.data_dir, options.fsync));
  REGISTRY_RETURN_IF_ERROR(CreateDatabaseFile(options.data_dir, impl->db_path, options.fsync));

  util::Result<std::unique_ptr<Connection>> conn = Connection::Open(impl->db_path);
  if (!conn.ok()) return std::move(conn).error();
  internal::ConnectionSettings writer_settings{true, options.fsync, options.busy_timeout};
  if (util::Status s = internal::ConfigureConnection(**conn, writer_settings); !s.ok()) {
    return OpenError(impl->db_path, s.error().message());
  }
  if (util::Status s = internal::Migrate(**conn); !s.ok()) {
    return OpenError(impl->db_path, s.error().message());
  }
  std::uint64_t head = 0;
  {
    util::Result<Statement> stmt =
        (*conn)->Prepare("SELECT coalesce(max(version), 0) FROM commits", "HEAD");
    util::Result<bool> row = stmt.ok() ? stmt->Step() : util::Result<bool>(stmt.error());
    if (!row.ok()) return OpenError(impl->db_path, row.error().message());
    head = static_cast<std::uint64_t>(stmt->Int(0));
  }

  // A store written before schema 3 has leaves but no interior nodes: compute them once.
  if (util::Status s = internal::BackfillMerkleNodes(**conn, head); !s.ok()) {
    return OpenError(impl->db_path, s.error().message());
  }

  {
    util::Result<Statement> stmt =
        (*conn)->Prepare("SELECT coalesce(max(version), 0) FROM prune_anchor", "prune anchor");
    util::Result<bool> row = stmt.ok() ? stmt->Step() : util::Result<bool>(stmt.error());
    if (!row.ok()) return OpenError(impl->db_path, row.error().message());
    impl->pruned_through.store(static_cast<std::uint64_t>(stmt->Int(0)));
  }

  impl->cache = std::make_unique<internal::ReadCache>(options.cache_bytes);
  impl->readers = std::make_unique<ReaderPool>(
      impl->db_path, options.readers,
      internal::ConnectionSettings{false, options.fsync, options.busy_timeout});
  internal::WriterOptions writer_options{options.group_commit, options.max_batch,
                                         options.keyframe_interval};
  impl->writer = std::make_unique<internal::Writer>(std::move(conn).value(), writer_options,
                                                    impl->cache.get(), head);
  return std::unique_ptr<SqliteStore>(new SqliteStore(std::move(impl)));
}

SqliteStore::SqliteStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

SqliteStore::~SqliteStore() = default;

util::Result<std::uint64_t> SqliteStore::HeadVersion() { return impl_->writer->head(); }

util::Result<std::optional<std::string>> SqliteStore::ReadRecord(std::uint64_t version) {
  if (version == 0 || version > impl_->writer->head()) return std::optional<std::string>();
  if (const std::uint64_t pruned = impl_->pruned_through.load(std::memory_order_acquire);
      version <= pruned) {
    return Error(ErrorCode::kPruned, "version " + std::to_string(version) +
                                         " was pruned by retention (versions 1.." +
                                         std::to_string(pruned) + ")");
  }
  const std::string what = "ReadRecord(" + std::to_string(version) + ")";
  REGISTRY_ASSIGN_OR_RETURN(ReaderPool::Lease conn, impl_->Read(what));
  util::Result<std::optional<std::string>> record =
      internal::ReadCommitRecord(*conn, version, impl_->cache.get());
  if (!record.ok()) {
    // Pruned between the check above and the read: the prune's transaction committed
    // before pruned_through was raised. Still a 410, not a storage fault.
    if (record.error().code() == ErrorCode::kPruned) return std::move(record).error();
    return ReadFailed(what, record.error());
  }
  if (!record->has_value()) {
    return Error(ErrorCode::kInternal, "sqlite store: " + what + ": the version is missing");
  }
  return record;
}

util::Result<std::optional<CommitMeta>> SqliteStore::ReadCommitMeta(std::uint64_t version) {
  if (version == 0 || version > impl_->writer->head()) return std::optional<CommitMeta>();
  const std::string what = "ReadCommitMeta(" + std::to_string(version) + ")";
  REGISTRY_ASSIGN_OR_RETURN(ReaderPool::Lease conn, impl_->Read(what));
  util::Result<Statement> stmt = conn->Prepare(
      "SELECT payload_b3, proposal_id, committed_at, leaf_hash, root FROM commits "
      "WHERE version = ?1",
      what);
  if (!stmt.ok()) return ReadFailed(what, stmt.error());
  stmt->Bind(1, static_cast<std::int64_t>(version));
  util::Result<bool> row = stmt->Step();
  if (!row.ok()) return ReadFailed(what, row.error());
  if (!*row) {
    return Error(ErrorCode::kInternal, "sqlite store: " + what + ": the version is missing");
  }
  CommitMeta meta;
  meta.version = version;
  meta.payload_b3 = std::string(stmt->Text(0));
  meta.proposal_id = std::string(stmt->Text(1));
  meta.committed_at = std::string(stmt->Text(2));
  std::string_view leaf = stmt->Blob(3);
  std::string_view root = stmt->Blob(4);
  if (leaf.size() != meta.leaf_hash.size() || root.size() != meta.root.size()) {
    return Error(ErrorCode::kInternal, "sqlite store: " + what + ": store is corrupt: hash size");
  }
  std::memcpy(meta.leaf_hash.data(), leaf.data(), leaf.size());
  std::memcpy(meta.root.data(), root.data(), root.size());
  return std::optional<CommitMeta>(std::move(meta));
}

util::Result<std::vector<LeafHash>> SqliteStore::ReadLeafHashes(std::uint64_t first_version,
                                                                std::size_t count) {
  std::vector<LeafHash> out;
  const std::uint64_t head = impl_->writer->head();
  if (first_version == 0 || first_version > head || count == 0) return out;
  const std::uint64_t last =
      first_version + std::min<std::uint64_t>(count, head - first_version + 1) - 1;
  const std::string what =
      "ReadLeafHashes(" + std::to_string(first_version) + ".." + std::to_string(last) + ")";
  REGISTRY_ASSIGN_OR_RETURN(ReaderPool::Lease conn, impl_->Read(what));
  // One range scan of the commits table's primary key.
  util::Result<Statement> stmt = conn->Prepare(
      "SELECT version, leaf_hash FROM commits WHERE version BETWEEN ?1 AND ?2 ORDER BY version",
      what);
  if (!stmt.ok()) return ReadFailed(what, stmt.error());
  stmt->Bind(1, static_cast<std::int64_t>(first_version)).Bind(2, static_cast<std::int64_t>(last));
  out.reserve(static_cast<std::size_t>(last - first_version + 1));
  for (;;) {
    util::Result<bool> row = stmt->Step();
    if (!row.ok()) return ReadFailed(what, row.error());
    if (!*row) break;
    std::string_view leaf = stmt->Blob(1);
    if (static_cast<std::uint64_t>(stmt->Int(0)) != first_version + out.size() ||
        leaf.size() != sizeof(LeafHash)) {
      return Error(ErrorCode::kInternal, "sqlite store: " + what + ": store is corrupt: version " +
                                             std::to_string(first_version + out.size()) +
                                             " is missing or malformed");
    }
    LeafHash& h = out.emplace_back();
    std::memcpy(h.data(), leaf.data(), h.size());
  }
  if (out.size() != last - first_version + 1) {
    return Error(ErrorCode::kInternal, "sqlite store: " + what + ": the version " +
                                           std::to_string(first_version + out.size()) +
                                           " is missing");
  }
  return out;
}

util::Result<std::vector<MerkleNode>> SqliteStore::ReadMerkleNodes(std::uint8_t level,
                                                                   std::uint64_t first_index,
                                                                   std::size_t count) {
  const std::uint64_t head = impl_->writer->head();
  if (level == 0 || (head >> std::min<int>(level, 63)) <= first_index || count == 0) {
    return std::vector<MerkleNode>();
  }
  const std::string what = "ReadMerkleNodes(" + std::to_string(level) + ", " +
                           std::to_string(first_index) + ", " + std::to_string(count) + ")";
  REGISTRY_ASSIGN_OR_RETURN(ReaderPool::Lease conn, impl_->Read(what));
  util::Result<std::vector<MerkleNode>> nodes =
      internal::ReadNodes(*conn, head, level, first_index, count);
  if (!nodes.ok()) return ReadFailed(what, nodes.error());
  return nodes;
}

util::Result<std::vector<ProposalRow>> SqliteStore::LoadPendingProposals() {
  constexpr std::string_view kWhat = "LoadPendingProposals";
  REGISTRY_ASSIGN_OR_RETURN(ReaderPool::Lease conn, impl_->Read(kWhat));
  std::vector<internal::StoredProposal> stored;
  {
    util::Result<Statement> stmt = conn->Prepare(internal::kSelectPendingProposals, kWhat);
    if (!stmt.ok()) return ReadFailed(kWhat, stmt.error());
    for (;;) {
      util::Result<bool> row = stmt->Step();
      if (!row.ok()) return ReadFailed(kWhat, row.error());
      if (!*row) break;
      util::Result<internal::StoredProposal> p = internal::ReadStoredProposal(*stmt);
      if (!p.ok()) return ReadFailed(kWhat, p.error());
      stored.push_back(std::move(p).value());
    }
  }
  std::vector<ProposalRow> out;
  out.reserve(stored.size());
  for (internal::StoredProposal& p : stored) {
    if (util::Status s = internal::DecodeProposalPayload(*conn, p, impl_->cache.get()); !s.ok()) {
      return ReadFailed(kWhat, s.error());
    }
    out.push_back(std::move(p.row));
  }
  return out;
}

util::Result<std::optional<ProposalRow>> SqliteStore::GetProposal(std::string_view proposal_id) {
  const std::string what = "GetProposal(" + std::string(proposal_id) + ")";
  REGISTRY_ASSIGN_OR_RETURN(ReaderPool::Lease conn, impl_->Read(what));
  std::optional<internal::StoredProposal> stored;
  {
    util::Result<Statement> stmt = conn->Prepare(internal::kSelectProposalById, what);
    if (!stmt.ok()) return ReadFailed(what, stmt.error());
    stmt->BindText(1, proposal_id);
    util::Result<bool> row = stmt->Step();
    if (!row.ok()) return ReadFailed(what, row.error());
    if (!*row) return std::optional<ProposalRow>();
    util::Result<internal::StoredProposal> p = internal::ReadStoredProposal(*stmt);
    if (!p.ok()) return ReadFailed(what, p.error());
    stored = std::move(p).value();
  }
  if (util::Status s = internal::DecodeProposalPayload(*conn, *stored, impl_->cache.get());
      !s.ok()) {
    return ReadFailed(what, s.error());
  }
  return std::optional<ProposalRow>(std::move(stored->row));
}

util::Result<std::vector<model::Approval>> SqliteStore::LoadApprovals(
    std::string_view proposal_id) {
  const std::string what = "LoadApprovals(" + std::string(proposal_id) + ")";
  REGISTRY_ASSIGN_OR_RETURN(ReaderPool::Lease conn, impl_->Read(what));
  util::Result<Statement> stmt = conn->Prepare(
      "SELECT a.signer_id, a.algo, a.sig, a.signed_at, a.signed_at_ms FROM approvals a "
      "JOIN proposals p ON a.proposal = p.seq WHERE p.proposal_id = ?1 ORDER BY a.id",
      what);
  if (!stmt.ok()) return ReadFailed(what, stmt.error());
  stmt->BindText(1, proposal_id);
  std::vector<model::Approval> out;
  for (;;) {
    util::Result<bool> row = stmt->Step();
    if (!row.ok()) return ReadFailed(what, row.error());
    if (!*row) break;
    model::Approval a;
    a.signer_id = std::string(stmt->Text(0));
    a.algo = std::string(stmt->Text(1));
    std::string_view sig = stmt->Blob(2);
    if (sig.size() != a.sig.size()) {
      return Error(ErrorCode::kInternal,
                   "sqlite store: " + what + ": store is corrupt: signature length");
    }
    std::memcpy(a.sig.data(), sig.data(), sig.size());
    a.signed_at = std::string(stmt->Text(3));
    a.signed_at_ms = stmt->Int(4);
    out.push_back(std::move(a));
  }
  return out;
}

util::Status SqliteStore::InsertProposal(const ProposalRow& row) {
  return impl_->writer->InsertProposal(row);
}

util::Status SqliteStore::InsertApproval(std::string_view proposal_id,
                                         const model::Approval& approval) {
  return impl_->writer->InsertApproval(proposal_id, approval);
}

util::Status SqliteStore::SetProposalStatus(std::string_view proposal_id,
                                            model::ProposalStatus status) {
  return impl_->writer->SetProposalStatus(proposal_id, status);
}

util::Status SqliteStore::AppendCommit(const CommitRow& row) {
  return impl_->writer->AppendCommit(row);
}

util::Status SqliteStore::WriteCheckpoint(const CheckpointRow& row) {
  return impl_->writer->WriteCheckpoint(row);
}

util::Result<std::optional<CheckpointRow>> SqliteStore::LoadCheckpoint() {
  return impl_->LoadCheckpointRow("checkpoint");
}

util::Status SqliteStore::PruneThrough(const CheckpointRow& anchor) {
  REGISTRY_RETURN_IF_ERROR(impl_->writer->PruneThrough(anchor));
  impl_->pruned_through.store(anchor.version, std::memory_order_release);
  return util::Status::Ok();
}

util::Result<std::optional<CheckpointRow>> SqliteStore::LoadPruneAnchor() {
  return impl_->LoadCheckpointRow("prune_anchor");
}

util::Status SqliteStore::AppendAudit(const std::vector<AuditRow>& rows) {
  return impl_->writer->AppendAudit(rows);
}

util::Result<std::vector<AuditRow>> SqliteStore::ReadAudit(std::uint64_t after_seq,
                                                           std::size_t limit) {
  constexpr std::string_view kWhat = "ReadAudit";
  std::vector<AuditRow> out;
  if (limit == 0) return out;
  REGISTRY_ASSIGN_OR_RETURN(ReaderPool::Lease conn, impl_->Read(kWhat));
  util::Result<Statement> stmt =
      conn->Prepare("SELECT seq, entry FROM audit WHERE seq > ?1 ORDER BY seq LIMIT ?2", kWhat);
  if (!stmt.ok()) return ReadFailed(kWhat, stmt.error());
  const std::uint64_t max_limit = static_cast<std::uint64_t>(INT64_MAX);
  stmt->Bind(1, static_cast<std::int64_t>(std::min<std::uint64_t>(after_seq, max_limit)))
      .Bind(2, static_cast<std::int64_t>(std::min<std::uint64_t>(limit, max_limit)));
  for (;;) {
    util::Result<bool> row = stmt->Step();
    if (!row.ok()) return ReadFailed(kWhat, row.error());
    if (!*row) break;
    out.push_back(AuditRow{static_cast<std::uint64_t>(stmt->Int(0)), std::string(stmt->Blob(1))});
  }
  return out;
}

std::uint64_t SqliteStore::SizeBytes() {
  return FileSize(impl_->db_path) + FileSize(impl_->db_path + "-wal");
}

util::Result<std::vector<AuditRow>> SqliteStore::AppendAuditChained(
    const std::vector<AuditEncoder>& entries) {
  return impl_->writer->AppendAuditChained(entries);
}

util::Result<AuditRow> SqliteStore::WriteAudited(const AuditedWrite& write,
                                                 const AuditEncoder& entry) {
  return impl_->writer->WriteAudited(write, entry);
}

SqliteStore::Stats SqliteStore::GetStats() const { return impl_->writer->stats(); }

void SqliteStore::PauseWriterForTesting() { impl_->writer->Pause(); }

void SqliteStore::ResumeWriterForTesting() { impl_->writer->Resume(); }

void SqliteStore::WaitForQueuedForTesting(std::size_t n) { impl_->writer->WaitForQueued(n); }

}  // namespace registry::storage
