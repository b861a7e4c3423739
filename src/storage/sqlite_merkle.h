// The SQLite backend's interior Merkle nodes (table merkle_nodes, schema 3): storing the
// nodes of a commit inside the writer's transaction, range reads, and the backfill of a
// store written before schema 3. Functions take a Connection used by the calling thread
// only; the caller owns the transaction (except BackfillMerkleNodes, which makes its own).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "registry/storage/store.h"
#include "registry/util/result.h"
#include "sqlite_connection.h"

namespace registry::storage::internal {

// Inserts the nodes leaf row.version − 1 completes, computed from the stored leaves and
// nodes; a non-empty row.nodes must equal them (kMalformed otherwise, nothing inserted).
// REQUIRES: inside a write transaction in which row.version − 1 is HEAD and row's commit
// is being inserted.
util::Status InsertCommitNodes(Connection& conn, const CommitRow& row);

// Nodes (level, first_index …) that exist below `head`, in index order; a gap in the table
// is kInternal naming the missing node.
util::Result<std::vector<MerkleNode>> ReadNodes(Connection& conn, std::uint64_t head,
                                                std::uint8_t level, std::uint64_t first_index,
                                                std::size_t count);

// Makes merkle_nodes hold every node the leaves of versions 1 … head complete, computing the
// missing ones from the stored leaf hashes, `versions_per_txn` versions per transaction.
// Nodes of versions up to the first missing level-1 node are assumed present (they are
// written in version order). A no-op on a complete table. REQUIRES: no transaction open.
util::Status BackfillMerkleNodes(Connection& conn, std::uint64_t head,
                                 std::uint64_t versions_per_txn = 16384);

}  // namespace registry::storage::internal
