#include "registry/core/merkle.h"

#include <bit>
#include <cstring>

namespace registry::core {

Hash LeafHash(std::string_view leaf) {
  crypto::Sha256Hasher h;
  static constexpr char kPrefix = 0x00;
  h.Update(std::string_view(&kPrefix, 1));
  h.Update(leaf);
  return h.Finalize();
}

Hash NodeHash(const Hash& left, const Hash& right) {
  char buf[1 + 2 * sizeof(Hash)];
  buf[0] = 0x01;
  std::memcpy(buf + 1, left.data(), left.size());
  std::memcpy(buf + 1 + left.size(), right.data(), right.size());
  return crypto::Sha256(std::string_view(buf, sizeof(buf)));
}

Hash EmptyRoot() { return crypto::Sha256(std::string_view()); }

void MerkleFrontier::AppendLeafHash(const Hash& leaf_hash) {
  // Merge equal-height subtrees from the right, like a binary counter's carry.
  Hash carry = leaf_hash;
  std::uint8_t height = 0;
  while (!heights_.empty() && heights_.back() == height) {
    carry = NodeHash(subtrees_.back(), carry);
    subtrees_.pop_back();
    heights_.pop_back();
    ++height;
  }
  subtrees_.push_back(carry);
  heights_.push_back(height);
  ++size_;
}

std::optional<MerkleFrontier> MerkleFrontier::Restore(std::uint64_t size,
                                                      std::vector<Hash> subtrees) {
  if (static_cast<std::size_t>(std::popcount(size)) != subtrees.size()) return std::nullopt;
  MerkleFrontier f;
  f.size_ = size;
  f.subtrees_ = std::move(subtrees);
  for (int bit = 63; bit >= 0; --bit) {
    if ((size >> bit) & 1) f.heights_.push_back(static_cast<std::uint8_t>(bit));
  }
  return f;
}

Hash MerkleFrontier::Root() const {
  if (subtrees_.empty()) return EmptyRoot();
  // RFC 6962: the tree splits at the largest power of two below its size, so the smaller
  // subtrees on the right fold first.
  Hash acc = subtrees_.back();
  for (std::size_t i = subtrees_.size() - 1; i-- > 0;) {
    acc = NodeHash(subtrees_[i], acc);
  }
  return acc;
}

}  // namespace registry::core
