// Schema of the SQLite backend: connection settings (PRAGMAs), the versioned list of
// migrations (PRAGMA user_version), and how enum values are stored. docs/STORAGE.md
// describes the tables. Functions take a Connection used by the calling thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "registry/model/proposal.h"
#include "registry/util/result.h"
#include "sqlite_connection.h"
#include "status_column.h"

namespace registry::storage::internal {

// PRAGMA application_id of a registry database: "SVCR".
inline constexpr std::int32_t kApplicationId = 0x53564352;

// The newest schema this binary knows (== SqliteStore::kSchemaVersion).
int LatestSchemaVersion();

struct ConnectionSettings {
  bool writer = false;  // the one connection that writes; readers are query_only
  bool fsync = true;    // writer: synchronous=FULL, else OFF
  std::chrono::milliseconds busy_timeout{5000};
};

// Applies the PRAGMAs of `settings`. The writer also switches the database to WAL.
util::Status ConfigureConnection(Connection& conn, const ConnectionSettings& settings);

// Brings the database to LatestSchemaVersion(), all pending migrations in one transaction.
// Refuses a database of another application or of a newer schema.
util::Status Migrate(Connection& writer);

}  // namespace registry::storage::internal
