#include "postgres_schema.h"

#include <string>
#include <vector>

namespace registry::storage::internal {

using util::Error;
using util::ErrorCode;

namespace {

constexpr const char* kApplication = "svc-registry";

// Migration i takes the schema from version i to i + 1. Append-only: a released migration
// is never edited.
const std::vector<const char*>& Migrations() {
  static const std::vector<const char*> kMigrations = {
      // v1: the whole model. Records are stored whole (NULL once pruned); HEAD is one row so
      // that AppendCommit's compare-and-swap is a row lock.
      R"sql(
CREATE TABLE svcr_meta (
  id smallint PRIMARY KEY CHECK (id = 1),
  application text NOT NULL,
  schema_version integer NOT NULL
);
INSERT INTO svcr_meta VALUES (1, 'svc-registry', 0);
CREATE TABLE head (
  id smallint PRIMARY KEY CHECK (id = 1),
  version bigint NOT NULL CHECK (version >= 0)
);
INSERT INTO head VALUES (1, 0);
CREATE TABLE commits (
  version bigint PRIMARY KEY CHECK (version > 0),
  payload_b3 text NOT NULL,
  proposal_id text NOT NULL,
  committed_at text NOT NULL,
  record bytea,
  leaf_hash bytea NOT NULL CHECK (length(leaf_hash) = 32),
  root bytea NOT NULL CHECK (length(root) = 32)
);
CREATE TABLE proposals (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  proposal_id text NOT NULL UNIQUE,
  payload_b3 text NOT NULL,
  canonical_payload bytea NOT NULL,
  version bigint NOT NULL,
  created_at bigint NOT NULL,
  expires_at bigint NOT NULL,
  status smallint NOT NULL
);
CREATE INDEX proposals_pending ON proposals (seq) WHERE status = 0;
CREATE TABLE approvals (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  proposal bigint NOT NULL REFERENCES proposals (seq),
  signer_id text NOT NULL,
  algo text NOT NULL,
  sig bytea NOT NULL,
  signed_at text NOT NULL,
  signed_at_ms bigint NOT NULL,
  UNIQUE (proposal, signer_id)
);
CREATE TABLE checkpoint (
  kind smallint PRIMARY KEY CHECK (kind IN (1, 2)),
  version bigint NOT NULL,
  payload_b3 text NOT NULL,
  committed_at text NOT NULL,
  governance bytea NOT NULL,
  frontier bytea NOT NULL,
  written_at bigint NOT NULL
);
CREATE TABLE audit (
  seq bigint PRIMARY KEY CHECK (seq > 0),
  entry bytea NOT NULL
);
)sql",
      // v2: interior RFC 6962 nodes, node (level, idx) = root of leaves
      // [idx * 2^level, (idx + 1) * 2^level), written with the commit that completes it.
      // The log already stored is backfilled here, level by level, from its leaf hashes
      // (sha256() is built in since PostgreSQL 11), inside the migration's transaction: every
      // instance of this binary waits on the schema lock until the table is complete.
      R"sql(
CREATE TABLE merkle_nodes (
  level smallint NOT NULL CHECK (level BETWEEN 1 AND 63),
  idx bigint NOT NULL CHECK (idx >= 0),
  hash bytea NOT NULL CHECK (length(hash) = 32),
  PRIMARY KEY (level, idx)
);
INSERT INTO merkle_nodes (level, idx, hash)
  SELECT 1, r.version / 2 - 1, sha256('\x01'::bytea || l.leaf_hash || r.leaf_hash)
  FROM commits r JOIN commits l ON l.version = r.version - 1
  WHERE r.version % 2 = 0;
DO $backfill$
DECLARE
  lvl smallint := 1;
  added bigint;
BEGIN
  LOOP
    INSERT INTO merkle_nodes (level, idx, hash)
      SELECT lvl + 1, r.idx / 2, sha256('\x01'::bytea || l.hash || r.hash)
      FROM merkle_nodes r JOIN merkle_nodes l ON l.level = lvl AND l.idx = r.idx - 1
      WHERE r.level = lvl AND r.idx % 2 = 1;
    GET DIAGNOSTICS added = ROW_COUNT;
    EXIT WHEN added = 0;
    lvl := lvl + 1;
  END LOOP;
END
$backfill$;
)sql",
  };
  return kMigrations;
}

util::Status Fail(PgConnection& conn, Error error) {
  (void)conn.Exec("postgres: ROLLBACK", "ROLLBACK");
  return error;
}

}  // namespace

util::Status MigratePostgres(PgConnection& conn, int schema_version) {
  REGISTRY_CHECK(static_cast<std::size_t>(schema_version) == Migrations().size(),
                 "postgres: schema version and migrations disagree");
  REGISTRY_RETURN_IF_ERROR(conn.Exec("postgres: BEGIN", "BEGIN"));
  util::Result<PgResult> locked =
      conn.Exec("postgres: schema lock", "SELECT pg_advisory_xact_lock($1)",
                PgParams().Int64(kSchemaLockKey));
  if (!locked.ok()) return Fail(conn, std::move(locked).error());
  util::Result<PgResult> exists =
      conn.Exec("postgres: schema check",
                "SELECT count(*) FROM pg_catalog.pg_tables "
                "WHERE schemaname = current_schema() AND tablename = 'svcr_meta'");
  if (!exists.ok()) return Fail(conn, std::move(exists).error());
  int current = 0;
  if (exists->Int64(0, 0) != 0) {
    util::Result<PgResult> meta = conn.Exec(
        "postgres: schema check", "SELECT application, schema_version::int8 FROM svcr_meta");
    if (!meta.ok()) return Fail(conn, std::move(meta).error());
    if (meta->rows() != 1 || meta->Bytes(0, 0) != kApplication) {
      return Fail(conn, Error(ErrorCode::kInternal,
                              "postgres: the database belongs to another application "
                              "(svcr_meta.application is not \"svc-registry\")"));
    }
    const std::int64_t v = meta->Int64(0, 1);
    if (v > schema_version || v < 0) {
      return Fail(conn, Error(ErrorCode::kInternal,
                              "postgres: the database has schema version " + std::to_string(v) +
                                  ", newer than this binary's " + std::to_string(schema_version) +
                                  "; upgrade svc-registry"));
    }
    current = static_cast<int>(v);
  }
  if (current == schema_version) {
    return conn.Exec("postgres: COMMIT", "COMMIT").ok()
               ? util::Status::Ok()
               : util::Status(Error(ErrorCode::kInternal, "postgres: schema check: COMMIT failed"));
  }
  for (int v = current; v < schema_version; ++v) {
    // The simple query protocol runs a script of several statements.
    PGresult* r = PQexec(conn.raw(), Migrations()[static_cast<std::size_t>(v)]);
    const bool ok = r != nullptr && PQresultStatus(r) == PGRES_COMMAND_OK;
    std::string message = r != nullptr ? PQresultErrorMessage(r) : PQerrorMessage(conn.raw());
    PQclear(r);
    if (!ok) {
      while (!message.empty() && message.back() == '\n') message.pop_back();
      return Fail(conn, Error(ErrorCode::kInternal, "postgres: migration to schema version " +
                                                        std::to_string(v + 1) + ": " + message));
    }
  }
  util::Result<PgResult> set =
      conn.Exec("postgres: schema version", "UPDATE svcr_meta SET schema_version = $1::int8",
                PgParams().Int64(schema_version));
  if (!set.ok()) return Fail(conn, std::move(set).error());
  return conn.Exec("postgres: schema COMMIT", "COMMIT").ok()
             ? util::Status::Ok()
             : util::Status(
                   Error(ErrorCode::kInternal, "postgres: schema migration: COMMIT failed"));
}

}  // namespace registry::storage::internal
