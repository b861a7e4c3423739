#include "merkle_nodes.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <string>
#include <string_view>

#include "registry/crypto/sha256.h"

namespace registry::storage {

using util::Error;
using util::ErrorCode;

namespace internal {

LeafHash MerkleNodeHash(const LeafHash& left, const LeafHash& right) {
  char buf[1 + 2 * sizeof(LeafHash)];
  buf[0] = 0x01;
  std::memcpy(buf + 1, left.data(), left.size());
  std::memcpy(buf + 1 + left.size(), right.data(), right.size());
  return crypto::Sha256(std::string_view(buf, sizeof(buf)));
}

int CompletedNodeCount(std::uint64_t version) {
  return version == 0 ? 0 : std::countr_zero(version);
}

util::Result<std::vector<MerkleNode>> CompletedNodes(std::uint64_t version, const LeafHash& leaf,
                                                     const StoredNodeReader& stored) {
  std::vector<MerkleNode> out;
  const int t = CompletedNodeCount(version);
  out.reserve(static_cast<std::size_t>(t));
  LeafHash right = leaf;
  for (int h = 1; h <= t; ++h) {
    // The right child (level h − 1, index (version >> (h − 1)) − 1) was just computed; its
    // left sibling is the one before it, completed by an earlier leaf.
    const std::uint64_t left_index = (version >> (h - 1)) - 2;
    REGISTRY_ASSIGN_OR_RETURN(LeafHash left, stored(static_cast<std::uint8_t>(h - 1), left_index));
    right = MerkleNodeHash(left, right);
    out.push_back(MerkleNode{static_cast<std::uint8_t>(h), (version >> h) - 1, right});
  }
  return out;
}

util::Result<std::vector<MerkleNode>> NodesToStore(const CommitRow& row,
                                                   const StoredNodeReader& stored) {
  REGISTRY_ASSIGN_OR_RETURN(std::vector<MerkleNode> nodes,
                            CompletedNodes(row.version, row.leaf_hash, stored));
  if (row.nodes.empty() || row.nodes == nodes) return nodes;
  auto name = [](const MerkleNode& n) {
    return "(" + std::to_string(n.level) + ", " + std::to_string(n.index) + ")";
  };
  std::string why;
  if (row.nodes.size() != nodes.size()) {
    why = "it carries " + std::to_string(row.nodes.size()) + " interior nodes, leaf " +
          std::to_string(row.version - 1) + " completes " + std::to_string(nodes.size());
  } else {
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      const MerkleNode& got = row.nodes[i];
      if (got.level != nodes[i].level || got.index != nodes[i].index) {
        why = "interior node " + name(got) + " is not completed by leaf " +
              std::to_string(row.version - 1) + " (expected " + name(nodes[i]) + ")";
        break;
      }
      if (got.hash != nodes[i].hash) {
        why = "interior node " + name(got) + " does not hash its stored children";
        break;
      }
    }
  }
  return Error(ErrorCode::kMalformed,
               "store: append of version " + std::to_string(row.version) + ": " + why);
}

}  // namespace internal

util::Result<std::vector<MerkleNode>> Store::ReadMerkleNodes(std::uint8_t level,
                                                             std::uint64_t first_index,
                                                             std::size_t count) {
  std::vector<MerkleNode> out;
  if (level == 0 || level > internal::kMaxMerkleLevel || count == 0) return out;
  REGISTRY_ASSIGN_OR_RETURN(std::uint64_t head, HeadVersion());
  const std::uint64_t available = head >> level;
  if (first_index >= available) return out;
  const std::uint64_t n = std::min<std::uint64_t>(count, available - first_index);
  const std::uint64_t width = std::uint64_t{1} << level;
  out.reserve(static_cast<std::size_t>(n));
  for (std::uint64_t i = first_index; i < first_index + n; ++i) {
    REGISTRY_ASSIGN_OR_RETURN(std::vector<LeafHash> leaves,
                              ReadLeafHashes(i * width + 1, static_cast<std::size_t>(width)));
    if (leaves.size() != width) {
      return Error(ErrorCode::kInternal, "store: leaves of interior node (" +
                                             std::to_string(level) + ", " + std::to_string(i) +
                                             ") are missing");
    }
    // Fold pairs upwards in place.
    for (std::uint64_t len = width; len > 1; len /= 2) {
      for (std::uint64_t j = 0; j < len / 2; ++j) {
        leaves[j] = internal::MerkleNodeHash(leaves[2 * j], leaves[2 * j + 1]);
      }
    }
    out.push_back(MerkleNode{level, i, leaves[0]});
  }
  return out;
}

}  // namespace registry::storage
