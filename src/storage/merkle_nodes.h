// Interior RFC 6962 nodes as the backends store them (store.h, MerkleNode): which nodes a
// leaf completes, their hashes, and the check every backend's AppendCommit applies to
// CommitRow::nodes. Pure functions; the backend supplies its stored hashes through a
// callback (inside its own transaction). Thread-compatible.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "registry/storage/store.h"
#include "registry/util/result.h"

namespace registry::storage::internal {

// Levels above this cannot exist (a log holds fewer than 2^63 leaves).
inline constexpr int kMaxMerkleLevel = 63;

// SHA-256(0x01 ‖ left ‖ right).
LeafHash MerkleNodeHash(const LeafHash& left, const LeafHash& right);

// Number of nodes leaf version − 1 completes: countr_zero(version). 0 for version 0.
int CompletedNodeCount(std::uint64_t version);

// The stored hash of node (level, index); level 0 is the leaf hash of version index + 1.
using StoredNodeReader =
    std::function<util::Result<LeafHash>(std::uint8_t level, std::uint64_t index)>;

// The nodes leaf version − 1 (with hash `leaf`) completes, lowest level first, each hashed
// from `leaf` and the left siblings `stored` returns (t reads for t nodes).
util::Result<std::vector<MerkleNode>> CompletedNodes(std::uint64_t version, const LeafHash& leaf,
                                                     const StoredNodeReader& stored);

// What AppendCommit stores for `row`: CompletedNodes, after checking that a non-empty
// row.nodes equals them exactly (kMalformed naming the first difference otherwise).
util::Result<std::vector<MerkleNode>> NodesToStore(const CommitRow& row,
                                                   const StoredNodeReader& stored);

}  // namespace registry::storage::internal
