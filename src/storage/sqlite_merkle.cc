#include "sqlite_merkle.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>

#include "merkle_nodes.h"

namespace registry::storage::internal {

using util::Error;
using util::ErrorCode;

namespace {

std::string_view HashView(const LeafHash& h) {
  return std::string_view(reinterpret_cast<const char*>(h.data()), h.size());
}

std::string NodeName(std::uint8_t level, std::uint64_t index) {
  return "(" + std::to_string(level) + ", " + std::to_string(index) + ")";
}

// The stored hash of node (level, index); level 0 reads the leaf hash of version index + 1.
util::Result<LeafHash> StoredNode(Connection& conn, std::uint8_t level, std::uint64_t index) {
  const char* sql = level == 0 ? "SELECT leaf_hash FROM commits WHERE version = ?1"
                               : "SELECT hash FROM merkle_nodes WHERE level = ?2 AND idx = ?1";
  REGISTRY_ASSIGN_OR_RETURN(Statement stmt, conn.Prepare(sql, "interior node read"));
  stmt.Bind(1, static_cast<std::int64_t>(level == 0 ? index + 1 : index));
  if (level != 0) stmt.Bind(2, level);
  REGISTRY_ASSIGN_OR_RETURN(bool row, stmt.Step());
  LeafHash h{};
  if (!row || stmt.Blob(0).size() != h.size()) {
    return Error(ErrorCode::kInternal,
                 "store is corrupt: Merkle node " + NodeName(level, index) + " is missing");
  }
  std::memcpy(h.data(), stmt.Blob(0).data(), h.size());
  return h;
}

util::Status InsertNodes(Connection& conn, const std::vector<MerkleNode>& nodes) {
  for (const MerkleNode& n : nodes) {
    REGISTRY_ASSIGN_OR_RETURN(
        Statement stmt,
        conn.Prepare("INSERT INTO merkle_nodes(level, idx, hash) VALUES(?1, ?2, ?3)",
                     "interior node insert"));
    stmt.Bind(1, n.level).Bind(2, static_cast<std::int64_t>(n.index)).BindBlob(3, HashView(n.hash));
    REGISTRY_RETURN_IF_ERROR(stmt.Run());
  }
  return util::Status::Ok();
}

}  // namespace

util::Status InsertCommitNodes(Connection& conn, const CommitRow& row) {
  REGISTRY_ASSIGN_OR_RETURN(std::vector<MerkleNode> nodes,
                            NodesToStore(row, [&conn](std::uint8_t level, std::uint64_t index) {
                              return StoredNode(conn, level, index);
                            }));
  return InsertNodes(conn, nodes);
}

util::Result<std::vector<MerkleNode>> ReadNodes(Connection& conn, std::uint64_t head,
                                                std::uint8_t level, std::uint64_t first_index,
                                                std::size_t count) {
  std::vector<MerkleNode> out;
  if (level == 0 || level > kMaxMerkleLevel || count == 0) return out;
  const std::uint64_t available = head >> level;
  if (first_index >= available) return out;
  const std::uint64_t last =
      first_index + std::min<std::uint64_t>(count, available - first_index) - 1;
  // One range scan of the primary key.
  REGISTRY_ASSIGN_OR_RETURN(
      Statement stmt, conn.Prepare("SELECT idx, hash FROM merkle_nodes WHERE level = ?1 AND idx "
                                   "BETWEEN ?2 AND ?3 ORDER BY idx",
                                   "interior nodes read"));
  stmt.Bind(1, level)
      .Bind(2, static_cast<std::int64_t>(first_index))
      .Bind(3, static_cast<std::int64_t>(last));
  out.reserve(static_cast<std::size_t>(last - first_index + 1));
  for (;;) {
    REGISTRY_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    const std::uint64_t want = first_index + out.size();
    MerkleNode& n = out.emplace_back();
    n.level = level;
    n.index = static_cast<std::uint64_t>(stmt.Int(0));
    std::string_view hash = stmt.Blob(1);
    if (n.index != want || hash.size() != n.hash.size()) {
      return Error(ErrorCode::kInternal, "store is corrupt: Merkle node " + NodeName(level, want) +
                                             " is missing or malformed");
    }
    std::memcpy(n.hash.data(), hash.data(), n.hash.size());
  }
  if (out.size() != last - first_index + 1) {
    return Error(ErrorCode::kInternal, "store is corrupt: Merkle node " +
                                           NodeName(level, first_index + out.size()) +
                                           " is missing");
  }
  return out;
}

util::Status BackfillMerkleNodes(Connection& conn, std::uint64_t head,
                                 std::uint64_t versions_per_txn) {
  // Versions whose nodes are stored: every one up to the last complete pair of leaves.
  std::uint64_t done = 0;
  {
    REGISTRY_ASSIGN_OR_RETURN(
        Statement stmt,
        conn.Prepare("SELECT max(idx) FROM merkle_nodes WHERE level = 1", "Merkle backfill"));
    REGISTRY_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (row && !stmt.IsNull(0)) done = 2 * (static_cast<std::uint64_t>(stmt.Int(0)) + 1);
  }
  const std::string what = "Merkle backfill";
  while (done < (head & ~std::uint64_t{1})) {  // an even version's node is missing
    const std::uint64_t last = std::min(head, done + std::max<std::uint64_t>(versions_per_txn, 2));
    REGISTRY_RETURN_IF_ERROR(conn.Exec("BEGIN IMMEDIATE", what));
    util::Status s = util::Status::Ok();
    for (std::uint64_t v = done + 1; v <= last && s.ok(); ++v) {
      if (CompletedNodeCount(v) == 0) continue;
      util::Result<LeafHash> leaf = StoredNode(conn, 0, v - 1);
      if (!leaf.ok()) {
        s = std::move(leaf).error();
        break;
      }
      util::Result<std::vector<MerkleNode>> nodes =
          CompletedNodes(v, *leaf, [&conn](std::uint8_t level, std::uint64_t index) {
            return StoredNode(conn, level, index);
          });
      s = nodes.ok() ? InsertNodes(conn, *nodes) : util::Status(std::move(nodes).error());
    }
    if (s.ok()) s = conn.Exec("COMMIT", what);
    if (!s.ok()) {
      if (conn.InTransaction()) (void)conn.Exec("ROLLBACK", what);
      return Error(ErrorCode::kInternal, what + " of versions " + std::to_string(done + 1) + ".." +
                                             std::to_string(last) + ": " + s.error().message());
    }
    done = last;
  }
  return util::Status::Ok();
}

}  // namespace registry::storage::internal
