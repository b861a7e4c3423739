// MerkleLog: the in-memory state of the RFC 6962 log that the proof endpoints read
// (SPEC §5): every leaf hash, and the hash of every complete perfect subtree (level h holds
// the roots of the aligned subtrees of 2^h leaves), so that an inclusion or consistency
// proof for any tree size up to size() costs O(log n) lookups plus at most popcount(n) − 1
// node hashes for the right edge of that tree, and never touches the store.
//
// Memory: about 2 × 32 bytes per leaf (64 MB for a million versions), in chunks that never
// move once written. CatchUp loads from the Store lazily, the first time a size beyond
// size() is asked for, in batches: the leaf hashes (Store::ReadLeafHashes) and the interior
// nodes the store persisted with each commit (Store::ReadMerkleNodes, one range read per
// level and batch), so loading hashes nothing but the right edge of the new size. The
// stored root of the new size is checked before the new nodes are used, so a log whose
// root disagrees with the store is never served. That check covers the right edge only:
// every other stored interior node is recomputed from the leaves and compared by the
// registry's verification of the stored history (Registry::VerifyHistorySlice, which fails
// loudly naming the node). Append takes leaf hashes directly and hashes the nodes itself
// (tests, benchmarks, tools).
//
// Thread-safety: every method may be called from any thread. Appends (Append, CatchUp) are
// serialized by an internal mutex, so there is at most one appender at a time; it works
// outside the reader lock and publishes each batch under a short exclusive lock. Readers
// (size, Root, InclusionProof, ConsistencyProof) take the reader lock shared and run
// concurrently with each other and with the appender; they see whole batches only. The
// Store passed to CatchUp is not owned.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <vector>

#include "registry/core/merkle.h"
#include "registry/storage/store.h"
#include "registry/util/result.h"

namespace registry::core {

// The interior nodes (level >= 1) that appending `leaf_hash` to a tree whose frontier is
// `before` completes, lowest level first: what CommitRow::nodes carries (one per trailing
// one bit of before.size()).
std::vector<storage::MerkleNode> NodesCompletedBy(const MerkleFrontier& before,
                                                  const Hash& leaf_hash);

class MerkleLog {
 public:
  // Leaves read from the store per ReadLeafHashes call (and published per batch); each
  // batch reads the interior nodes it completes with one ReadMerkleNodes call per level.
  static constexpr std::size_t kLoadBatch = 65536;

  MerkleLog();
  ~MerkleLog();
  MerkleLog(const MerkleLog&) = delete;
  MerkleLog& operator=(const MerkleLog&) = delete;

  // Number of leaves held.
  std::uint64_t size() const;

  // Appends leaf hashes (leaf size() first).
  void Append(std::span<const Hash> leaf_hashes);

  // Makes the log hold at least `tree_size` leaves, reading the missing ones and the
  // interior nodes they complete from `store` (versions size()+1 … tree_size). Before they
  // are published, the root of the new size is compared with the store's root of that
  // version (CommitMeta::root). Errors: kInternal when the store fails, holds fewer
  // versions or nodes (naming the first missing one), or disagrees on the root; the log
  // then stays as it was. A no-op when size() >= tree_size.
  util::Status CatchUp(storage::Store& store, std::uint64_t tree_size);

  // MTH(D[tree_size]); EmptyRoot() for 0. kMalformed when tree_size > size().
  util::Result<Hash> Root(std::uint64_t tree_size) const;

  // PATH(index, D[tree_size]) (RFC 6962 §2.1.1). kMalformed unless
  // index < tree_size <= size().
  util::Result<std::vector<Hash>> InclusionProof(std::uint64_t index,
                                                 std::uint64_t tree_size) const;

  // PROOF(m, D[n]) (RFC 6962 §2.1.2). kMalformed unless 0 < m <= n <= size().
  util::Result<std::vector<Hash>> ConsistencyProof(std::uint64_t m, std::uint64_t n) const;

 private:
  class Level;
  class TreeView;

  // Hashes the leaves into new nodes of every level and publishes them. Appender only.
  void AppendBatch(std::span<const Hash> leaf_hashes);
  // Publishes staged[h] as the next nodes of level h (staged[0]: leaves); the levels then
  // hold `filled` leaves. Appender only.
  void PublishBatch(const std::vector<std::vector<Hash>>& staged, std::uint64_t filled);
  // Drops every node past `tree_size` leaves (undoes a CatchUp that failed). Appender only.
  void TruncateTo(std::uint64_t tree_size);

  std::mutex append_mu_;  // held by the one appender for a whole Append or CatchUp
  mutable std::shared_mutex mu_;
  // levels_[h][i] = root of leaves [i·2^h, (i+1)·2^h). Guarded by mu_ for readers; the
  // appender (holding append_mu_) also reads it without mu_, since only it writes.
  std::vector<std::unique_ptr<Level>> levels_;
  std::uint64_t size_ = 0;  // guarded by mu_: the leaves readers may use
  // Leaves the levels hold (>= size_): written and read by the appender only, so a batch
  // loaded by CatchUp stays invisible until the store's root agrees with it.
  std::uint64_t filled_ = 0;
};

}  // namespace registry::core
