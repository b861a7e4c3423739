// The PostgreSQL backend's schema: the migrations list, on-database enum values, and the
// lock keys shared by every instance on one database.
#pragma once

#include <cstdint>
#include <optional>

#include "postgres_connection.h"
#include "registry/model/proposal.h"
#include "registry/util/result.h"
#include "status_column.h"

namespace registry::storage::internal {

// Advisory lock keys (pg_advisory_xact_lock): "SVCR" and two sub-keys.
inline constexpr std::int64_t kSchemaLockKey = 0x5356435200000001;
inline constexpr std::int64_t kAuditLockKey = 0x5356435200000002;
inline constexpr std::int64_t kPruneLockKey = 0x5356435200000003;

// Rows of the `checkpoint` table.
inline constexpr std::int16_t kStorageCheckpoint = 1;
inline constexpr std::int16_t kPruneAnchor = 2;

// Creates the schema on an empty database, or applies the migrations it lacks, in one
// transaction under kSchemaLockKey (instances starting together wait for each other).
// Refuses a database written by a newer binary, or one whose svcr_meta names another
// application. `schema_version` is the version this binary writes.
util::Status MigratePostgres(PgConnection& conn, int schema_version);

}  // namespace registry::storage::internal
