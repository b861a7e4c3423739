// RFC 6962 Merkle tree hashing over the log of commit records (SPEC §5): leaf hash =
// SHA-256(0x00 ‖ record), node hash = SHA-256(0x01 ‖ left ‖ right), empty tree = SHA-256().
//
// MerkleFrontier keeps only the roots of the perfect subtrees that make up a tree of any
// size (one per set bit of the size), so appending is O(log n) and the root is available
// at every size. Not thread-safe; the single writer owns it and publishes roots.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "registry/crypto/sha256.h"

namespace registry::core {

using Hash = crypto::Sha256Digest;

Hash LeafHash(std::string_view leaf);
Hash NodeHash(const Hash& left, const Hash& right);
Hash EmptyRoot();

class MerkleFrontier {
 public:
  MerkleFrontier() = default;

  void AppendLeafHash(const Hash& leaf_hash);
  void AppendLeaf(std::string_view leaf) { AppendLeafHash(LeafHash(leaf)); }

  std::uint64_t size() const { return size_; }
  Hash Root() const;

  // The perfect-subtree roots, largest (leftmost) first: what a checkpoint stores.
  const std::vector<Hash>& subtrees() const { return subtrees_; }
  // Rebuilds a frontier of `size` leaves from its subtree roots. nullopt when the count of
  // roots does not match the size (one root per set bit).
  static std::optional<MerkleFrontier> Restore(std::uint64_t size, std::vector<Hash> subtrees);

 private:
  std::uint64_t size_ = 0;
  // Roots of perfect subtrees, largest (leftmost) first; subtree i has 2^k leaves where k
  // is the position of the i-th set bit of size_ counted from the top.
  std::vector<Hash> subtrees_;
  std::vector<std::uint8_t> heights_;
};

}  // namespace registry::core
