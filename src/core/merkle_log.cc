#include "registry/core/merkle_log.h"

#include <algorithm>
#include <bit>
#include <string>

#include "registry/core/merkle_proof.h"
#include "registry/util/check.h"

namespace registry::core {

using util::Error;
using util::ErrorCode;

// The nodes of one level, in chunks that never move once allocated, so that growing a
// level copies chunk pointers, not hashes.
class MerkleLog::Level {
 public:
  static constexpr std::size_t kChunk = 1024;  // 32 KiB of hashes

  std::uint64_t size() const { return size_; }
  const Hash& operator[](std::uint64_t i) const { return chunks_[i / kChunk][i % kChunk]; }

  void PushBack(const Hash& h) {
    if (size_ % kChunk == 0 && size_ / kChunk == chunks_.size()) {
      chunks_.push_back(std::make_unique<Hash[]>(kChunk));
    }
    chunks_[size_ / kChunk][size_ % kChunk] = h;
    ++size_;
  }

  void Truncate(std::uint64_t n) {
    if (n >= size_) return;
    size_ = n;
    chunks_.resize((n + kChunk - 1) / kChunk);
  }

 private:
  std::vector<std::unique_ptr<Hash[]>> chunks_;
  std::uint64_t size_ = 0;
};

// The tree of one size over the levels: perfect subtrees are looked up, and the hashes of
// the right edge (the only subtrees that are not perfect) are folded once, when the view is
// made, from the perfect subtrees that make up the tree (one per set bit of its size).
class MerkleLog::TreeView final : public SubtreeHashSource {
 public:
  // REQUIRES: the levels hold at least `tree_size` leaves; they MUST NOT change while the
  // view is used.
  TreeView(const std::vector<std::unique_ptr<Level>>& levels, std::uint64_t tree_size)
      : levels_(levels), tree_size_(tree_size) {
    // suffix_[h] = MTH(D[(n >> h) << h : n]) for every h where that range is not empty.
    bool have = false;
    Hash acc{};
    const int width = static_cast<int>(std::bit_width(tree_size));
    for (int h = 0; h < width; ++h) {
      if (((tree_size >> h) & 1) != 0) {
        const Hash& perfect = (*levels_[h])[(tree_size >> h) - 1];
        acc = have ? NodeHash(perfect, acc) : perfect;
        have = true;
      }
      suffix_[h + 1] = acc;
    }
  }

  Hash SubtreeHash(std::uint64_t begin, std::uint64_t end, std::uint64_t tree_size) const override {
    REGISTRY_CHECK(tree_size == tree_size_ && begin < end && end <= tree_size_,
                   "MerkleLog: subtree outside the tree");
    const std::uint64_t len = end - begin;
    if (std::has_single_bit(len) && begin % len == 0) {
      const int h = std::countr_zero(len);
      return (*levels_[h])[begin >> h];
    }
    const int h = static_cast<int>(std::bit_width(len - 1));  // smallest 2^h >= len
    REGISTRY_CHECK(end == tree_size_ && begin == (tree_size_ >> h) << h,
                   "MerkleLog: a subtree that is not perfect must be on the right edge");
    return suffix_[h];
  }

 private:
  const std::vector<std::unique_ptr<Level>>& levels_;
  const std::uint64_t tree_size_;
  std::array<Hash, 65> suffix_{};
};

std::vector<storage::MerkleNode> NodesCompletedBy(const MerkleFrontier& before,
                                                  const Hash& leaf_hash) {
  // The frontier's last subtrees have heights 0, 1, … for each trailing one bit of its size:
  // they are the left siblings the new leaf merges with, like a binary carry.
  std::vector<storage::MerkleNode> out;
  const std::vector<Hash>& subtrees = before.subtrees();
  const int t = std::countr_one(before.size());
  REGISTRY_CHECK(static_cast<std::size_t>(t) <= subtrees.size(), "MerkleLog: frontier too short");
  Hash right = leaf_hash;
  for (int h = 1; h <= t; ++h) {
    right = NodeHash(subtrees[subtrees.size() - static_cast<std::size_t>(h)], right);
    out.push_back(
        storage::MerkleNode{static_cast<std::uint8_t>(h), ((before.size() + 1) >> h) - 1, right});
  }
  return out;
}

MerkleLog::MerkleLog() = default;
MerkleLog::~MerkleLog() = default;

std::uint64_t MerkleLog::size() const {
  std::shared_lock lock(mu_);
  return size_;
}

void MerkleLog::Append(std::span<const Hash> leaf_hashes) {
  std::lock_guard append(append_mu_);
  for (std::size_t i = 0; i < leaf_hashes.size(); i += kLoadBatch) {
    AppendBatch(leaf_hashes.subspan(i, std::min(kLoadBatch, leaf_hashes.size() - i)));
    std::unique_lock lock(mu_);
    size_ = filled_;
  }
}

void MerkleLog::AppendBatch(std::span<const Hash> leaf_hashes) {
  // Hash without the reader lock: only this appender writes levels_, so it may read them
  // unlocked, and readers never look past size_.
  const std::uint64_t start = filled_;
  std::vector<std::vector<Hash>> staged(1);
  staged[0].reserve(leaf_hashes.size());
  auto node = [&](std::size_t h, std::uint64_t i) -> const Hash& {
    const std::uint64_t stored = h < levels_.size() ? levels_[h]->size() : 0;
    return i < stored ? (*levels_[h])[i] : staged[h][i - stored];
  };
  for (std::size_t j = 0; j < leaf_hashes.size(); ++j) {
    staged[0].push_back(leaf_hashes[j]);
    // Each leaf that completes a pair completes a node one level up, like a binary carry.
    std::uint64_t i = start + j;
    Hash right = leaf_hashes[j];
    for (std::size_t h = 0; (i & 1) != 0; ++h, i >>= 1) {
      right = NodeHash(node(h, i - 1), right);
      if (staged.size() <= h + 1) staged.emplace_back();
      staged[h + 1].push_back(right);
    }
  }
  PublishBatch(staged, start + leaf_hashes.size());
}

void MerkleLog::PublishBatch(const std::vector<std::vector<Hash>>& staged, std::uint64_t filled) {
  std::unique_lock lock(mu_);
  while (levels_.size() < staged.size()) levels_.push_back(std::make_unique<Level>());
  for (std::size_t h = 0; h < staged.size(); ++h) {
    for (const Hash& x : staged[h]) levels_[h]->PushBack(x);
  }
  filled_ = filled;
}

void MerkleLog::TruncateTo(std::uint64_t tree_size) {
  std::unique_lock lock(mu_);
  for (std::size_t h = 0; h < levels_.size(); ++h) levels_[h]->Truncate(tree_size >> h);
  filled_ = tree_size;
}

util::Status MerkleLog::CatchUp(storage::Store& store, std::uint64_t tree_size) {
  std::lock_guard append(append_mu_);
  const std::uint64_t old_size = filled_;
  if (old_size >= tree_size) return util::Status::Ok();
  auto fail = [&](const std::string& why) -> util::Status {
    TruncateTo(old_size);
    return Error(ErrorCode::kInternal, "merkle log: loading versions " +
                                           std::to_string(old_size + 1) + " to " +
                                           std::to_string(tree_size) + ": " + why);
  };
  while (filled_ < tree_size) {
    const std::size_t want =
        static_cast<std::size_t>(std::min<std::uint64_t>(kLoadBatch, tree_size - filled_));
    util::Result<std::vector<storage::LeafHash>> leaves = store.ReadLeafHashes(filled_ + 1, want);
    if (!leaves.ok()) return fail(leaves.error().message());
    if (leaves->size() != want) {
      return fail("the store has no version " + std::to_string(filled_ + leaves->size() + 1));
    }
    // The interior nodes these leaves complete are stored too: level h gains the nodes
    // filled_ >> h … (end >> h) − 1, and no level above the first that gains none does.
    const std::uint64_t end = filled_ + want;
    std::vector<std::vector<Hash>> staged;
    staged.push_back(std::move(leaves).value());
    for (int h = 1; h < 64 && (end >> h) > (filled_ >> h); ++h) {
      const std::uint64_t first = filled_ >> h;
      const std::uint64_t n = (end >> h) - first;
      util::Result<std::vector<storage::MerkleNode>> nodes =
          store.ReadMerkleNodes(static_cast<std::uint8_t>(h), first, static_cast<std::size_t>(n));
      if (!nodes.ok()) return fail(nodes.error().message());
      std::vector<Hash>& level = staged.emplace_back();
      level.reserve(static_cast<std::size_t>(n));
      for (const storage::MerkleNode& node : *nodes) {
        if (node.level != h || node.index != first + level.size()) break;
        level.push_back(node.hash);
      }
      if (level.size() != n) {
        return fail("the store has no Merkle node (" + std::to_string(h) + ", " +
                    std::to_string(first + level.size()) + ")");
      }
    }
    PublishBatch(staged, end);
  }
  // Nothing new is visible to readers until the store's root agrees.
  util::Result<std::optional<storage::CommitMeta>> meta = store.ReadCommitMeta(tree_size);
  if (!meta.ok()) return fail(meta.error().message());
  if (!meta->has_value()) return fail("the store has no version " + std::to_string(tree_size));
  if (TreeView(levels_, tree_size).SubtreeHash(0, tree_size, tree_size) != (*meta)->root) {
    return fail(
        "the root of the stored leaf hashes and nodes does not match the stored root of "
        "version " +
        std::to_string(tree_size));
  }
  std::unique_lock lock(mu_);
  size_ = filled_;
  return util::Status::Ok();
}

util::Result<Hash> MerkleLog::Root(std::uint64_t tree_size) const {
  std::shared_lock lock(mu_);
  if (tree_size > size_) {
    return Error(ErrorCode::kMalformed, "tree size " + std::to_string(tree_size) +
                                            " is beyond the log (" + std::to_string(size_) +
                                            " leaves)");
  }
  if (tree_size == 0) return EmptyRoot();
  return TreeView(levels_, tree_size).SubtreeHash(0, tree_size, tree_size);
}

util::Result<std::vector<Hash>> MerkleLog::InclusionProof(std::uint64_t index,
                                                          std::uint64_t tree_size) const {
  std::shared_lock lock(mu_);
  if (tree_size > size_ || index >= tree_size) {
    return Error(ErrorCode::kMalformed, "no inclusion proof of leaf " + std::to_string(index) +
                                            " in a tree of size " + std::to_string(tree_size) +
                                            " (the log has " + std::to_string(size_) + " leaves)");
  }
  return core::InclusionProof(index, tree_size, TreeView(levels_, tree_size));
}

util::Result<std::vector<Hash>> MerkleLog::ConsistencyProof(std::uint64_t m,
                                                            std::uint64_t n) const {
  std::shared_lock lock(mu_);
  if (m == 0 || m > n || n > size_) {
    return Error(ErrorCode::kMalformed, "no consistency proof from size " + std::to_string(m) +
                                            " to " + std::to_string(n) + " (the log has " +
                                            std::to_string(size_) + " leaves)");
  }
  return core::ConsistencyProof(m, n, TreeView(levels_, n));
}

}  // namespace registry::core
