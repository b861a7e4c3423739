#include "sqlite_schema.h"

#include <string>
#include <vector>

namespace registry::storage::internal {
namespace {

using util::Error;
using util::ErrorCode;

struct Migration {
  int version;
  const char* sql;
};

// Append only: a released migration is never edited; a change is a new entry.
const std::vector<Migration>& Migrations() {
  static const std::vector<Migration> kMigrations = {
      {1, R"sql(
-- Each distinct descriptor (element of a payload's "items"), once. AUTOINCREMENT: an id is
-- never reused, even if rows are deleted one day (retention), so caches keyed by id stay
-- valid.
CREATE TABLE descriptors(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  b3 BLOB NOT NULL UNIQUE,   -- BLAKE3-256 of bytes
  bytes BLOB NOT NULL        -- the element's exact bytes
);

-- One row per committed version.
CREATE TABLE commits(
  version INTEGER PRIMARY KEY,
  payload_b3 TEXT NOT NULL,
  proposal_id TEXT NOT NULL,
  committed_at TEXT NOT NULL,
  leaf_hash BLOB NOT NULL,
  root BLOB NOT NULL,            -- RFC 6962 root of the tree of size version
  record_len INTEGER NOT NULL,
  record_b3 BLOB NOT NULL,       -- BLAKE3-256 of the record, checked on every read
  frame BLOB NOT NULL,           -- blob codec of varint(prefix len) ‖ prefix ‖ suffix
  dict_version INTEGER NOT NULL, -- 0, or the commit whose decoded frame is frame's dictionary
  has_items INTEGER NOT NULL     -- 1: commit_items holds the list; 0: frame is the record
);

-- The descriptor list of a commit with has_items = 1.
CREATE TABLE commit_items(
  version INTEGER PRIMARY KEY REFERENCES commits(version),
  keyframe INTEGER NOT NULL,  -- the version whose full list this chain of deltas starts from
  list BLOB NOT NULL          -- item list codec: kFull when keyframe = version, else kDelta
);

CREATE TABLE proposals(
  seq INTEGER PRIMARY KEY AUTOINCREMENT,  -- insertion order
  proposal_id TEXT NOT NULL UNIQUE,
  payload_b3 TEXT NOT NULL,
  version INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  status INTEGER NOT NULL,        -- 0 pending, 1 committed, 2 expired, 3 stale
  payload_len INTEGER NOT NULL,
  payload_b3_check BLOB NOT NULL, -- BLAKE3-256 of canonical_payload as stored
  frame BLOB NOT NULL,
  dict_version INTEGER NOT NULL,
  list BLOB,                      -- NULL: frame is the whole payload
  list_base INTEGER NOT NULL      -- the commit a kDelta list applies to; 0 for kFull
);
CREATE INDEX proposals_pending ON proposals(seq) WHERE status = 0;

CREATE TABLE approvals(
  id INTEGER PRIMARY KEY,  -- acceptance order
  proposal INTEGER NOT NULL REFERENCES proposals(seq),
  signer_id TEXT NOT NULL,
  algo TEXT NOT NULL,
  sig BLOB NOT NULL,
  signed_at TEXT NOT NULL,
  signed_at_ms INTEGER NOT NULL,
  UNIQUE(proposal, signer_id)
);

-- The storage checkpoint (SPEC 4.2): at most one row, replaced in place.
CREATE TABLE checkpoint(
  id INTEGER PRIMARY KEY CHECK (id = 1),
  version INTEGER NOT NULL,
  payload_b3 TEXT NOT NULL,
  committed_at TEXT NOT NULL,
  governance BLOB NOT NULL,  -- canonical JSON
  frontier BLOB NOT NULL,    -- 32-byte hashes, concatenated, largest subtree first
  written_at INTEGER NOT NULL
);

-- The hash-chained audit trail (SPEC 4.4): seq 1, 2, 3, ... without gaps.
CREATE TABLE audit(
  seq INTEGER PRIMARY KEY,
  entry BLOB NOT NULL  -- canonical JSON
);
)sql"},
      {2, R"sql(
-- Retention (SPEC 4.3): at most one row, replaced in place. The records of versions
-- <= version are pruned (never served again); this checkpoint at exactly that version is
-- where start-up and the background verification resume.
CREATE TABLE prune_anchor(
  id INTEGER PRIMARY KEY CHECK (id = 1),
  version INTEGER NOT NULL,
  payload_b3 TEXT NOT NULL,
  committed_at TEXT NOT NULL,
  governance BLOB NOT NULL,
  frontier BLOB NOT NULL,
  written_at INTEGER NOT NULL
);
)sql"},
      {3, R"sql(
-- Interior RFC 6962 nodes (level >= 1): node (level, idx) is the root of leaves
-- [idx * 2^level, (idx + 1) * 2^level). Written with the commit that completes it, never
-- changed, kept through retention. A store migrated from schema 2 is backfilled from the
-- leaf hashes when it is opened (sqlite_merkle.cc).
CREATE TABLE IF NOT EXISTS merkle_nodes(
  level INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  hash BLOB NOT NULL,
  PRIMARY KEY(level, idx)
) WITHOUT ROWID;
)sql"},
  };
  return kMigrations;
}

util::Result<std::int64_t> PragmaInt(Connection& conn, const char* sql) {
  REGISTRY_ASSIGN_OR_RETURN(Statement stmt, conn.Prepare(sql, sql));
  REGISTRY_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return Error(ErrorCode::kInternal, std::string(sql) + ": no result");
  return stmt.Int(0);
}

}  // namespace

int LatestSchemaVersion() { return Migrations().back().version; }

util::Status ConfigureConnection(Connection& conn, const ConnectionSettings& settings) {
  int defensive = 0;
  sqlite3_db_config(conn.raw(), SQLITE_DBCONFIG_DEFENSIVE, 1, &defensive);
  const int rc = sqlite3_busy_timeout(conn.raw(), static_cast<int>(settings.busy_timeout.count()));
  if (rc != SQLITE_OK) return conn.ErrorFor(rc, "busy_timeout");
  REGISTRY_RETURN_IF_ERROR(conn.Exec("PRAGMA trusted_schema=OFF", "trusted_schema"));
  REGISTRY_RETURN_IF_ERROR(conn.Exec("PRAGMA temp_store=MEMORY", "temp_store"));
  if (!settings.writer) {
    REGISTRY_RETURN_IF_ERROR(conn.Exec("PRAGMA cache_size=-8192", "cache_size"));
    return conn.Exec("PRAGMA query_only=ON", "query_only");
  }
  {
    REGISTRY_ASSIGN_OR_RETURN(Statement wal,
                              conn.Prepare("PRAGMA journal_mode=WAL", "journal_mode"));
    REGISTRY_ASSIGN_OR_RETURN(bool row, wal.Step());
    if (!row || wal.Text(0) != "wal") {
      return Error(ErrorCode::kInternal, "journal_mode: the database refused WAL mode");
    }
  }
  REGISTRY_RETURN_IF_ERROR(conn.Exec(
      settings.fsync ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=OFF", "synchronous"));
  REGISTRY_RETURN_IF_ERROR(conn.Exec("PRAGMA foreign_keys=ON", "foreign_keys"));
  REGISTRY_RETURN_IF_ERROR(conn.Exec("PRAGMA cache_size=-16384", "cache_size"));
  // When the WAL restarts after a checkpoint it is truncated back to this size (about the
  // 1000 pages at which SQLite checkpoints automatically), so that a big first commit does
  // not leave a big WAL file behind.
  return conn.Exec("PRAGMA journal_size_limit=4194304", "journal_size_limit");
}

util::Status Migrate(Connection& writer) {
  REGISTRY_ASSIGN_OR_RETURN(std::int64_t app, PragmaInt(writer, "PRAGMA application_id"));
  REGISTRY_ASSIGN_OR_RETURN(std::int64_t version, PragmaInt(writer, "PRAGMA user_version"));
  if (app != 0 && app != kApplicationId) {
    return Error(ErrorCode::kInternal, "the database is not a svc-registry store (application_id " +
                                           std::to_string(app) + ")");
  }
  if (version > LatestSchemaVersion()) {
    return Error(ErrorCode::kInternal,
                 "the database has schema version " + std::to_string(version) +
                     ", newer than this binary supports (" + std::to_string(LatestSchemaVersion()) +
                     "); refusing to open it");
  }
  if (version == LatestSchemaVersion()) return util::Status::Ok();
  // Every pending migration in one transaction (one fsync: a new database is created in
  // one step, which keeps cold start short); any failure leaves the schema as it was.
  const std::string what = "migration from schema " + std::to_string(version) + " to " +
                           std::to_string(LatestSchemaVersion());
  REGISTRY_RETURN_IF_ERROR(writer.Exec("BEGIN IMMEDIATE", what));
  util::Status s = util::Status::Ok();
  for (const Migration& m : Migrations()) {
    if (m.version <= version) continue;
    s = writer.Exec(m.sql, what + " (step " + std::to_string(m.version) + ")");
    if (!s.ok()) break;
  }
  const std::string stamp = "PRAGMA user_version=" + std::to_string(LatestSchemaVersion()) +
                            ";PRAGMA application_id=" + std::to_string(kApplicationId);
  if (s.ok()) s = writer.Exec(stamp.c_str(), what);
  if (s.ok()) s = writer.Exec("COMMIT", what);
  if (!s.ok()) {
    if (writer.InTransaction()) (void)writer.Exec("ROLLBACK", what);
    return s;
  }
  return util::Status::Ok();
}

}  // namespace registry::storage::internal
