// RFC 6962 Merkle proofs over the log of commit records (SPEC §5): the audit path of one
// leaf (RFC 6962 §2.1.1, PATH(m, D[n])), the consistency proof between two tree sizes
// (§2.1.2, PROOF(m, D[n])), and their verifiers (RFC 9162 §2.1.3.2 and §2.1.4.2). Hashes
// are ordered exactly as the RFC defines them, deepest first, so Go's sumdb/tlog and
// every other RFC 6962 verifier accept them.
//
// The proof algorithms are written once, over a SubtreeHashSource that answers MTH of the
// subtrees they visit: MerkleLog (merkle_log.h) answers from cached interior nodes in
// O(1) each (O(log n) work per proof); LeafHashSource answers from a plain list of leaf
// hashes by recursion (O(n) per proof: for tools that hold a whole log, and for tests).
//
// Everything here is a pure function of its arguments and thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "registry/core/merkle.h"
#include "registry/util/result.h"

namespace registry::core {

// MTH(D[begin:end]) for the subtrees a proof visits.
class SubtreeHashSource {
 public:
  virtual ~SubtreeHashSource() = default;
  // The hash of leaves [begin, end) of the tree of size `tree_size` the proof is for.
  // REQUIRES: [begin, end) is a node of that RFC 6962 tree: begin < end <= tree_size and,
  // with 2^h the smallest power of two >= end - begin, begin is a multiple of 2^h and
  // either end - begin = 2^h (a perfect subtree) or end = tree_size (the right edge).
  virtual Hash SubtreeHash(std::uint64_t begin, std::uint64_t end,
                           std::uint64_t tree_size) const = 0;
};

// PATH(index, D[tree_size]): the audit path of leaf `index`. REQUIRES: index < tree_size.
std::vector<Hash> InclusionProof(std::uint64_t index, std::uint64_t tree_size,
                                 const SubtreeHashSource& source);

// PROOF(m, D[n]): proves that the tree of size m is a prefix of the tree of size n. Empty
// when m = n. REQUIRES: 0 < m <= n.
std::vector<Hash> ConsistencyProof(std::uint64_t m, std::uint64_t n,
                                   const SubtreeHashSource& source);

// A SubtreeHashSource over all leaf hashes of a tree (leaf i = leaves[i]); each subtree hash
// is recomputed from its leaves. The span MUST outlive the source.
class LeafHashSource final : public SubtreeHashSource {
 public:
  explicit LeafHashSource(std::span<const Hash> leaves) : leaves_(leaves) {}
  // REQUIRES (beyond the interface's): tree_size <= leaves.size().
  Hash SubtreeHash(std::uint64_t begin, std::uint64_t end, std::uint64_t tree_size) const override;

 private:
  std::span<const Hash> leaves_;
};

// MTH(D[n]) of these leaf hashes (EmptyRoot() for none), by the RFC's recursion.
Hash RootOfLeafHashes(std::span<const Hash> leaves);

// RFC 9162 §2.1.3.2: OK when `proof` proves that `leaf_hash` is leaf `index` of the tree of
// size `tree_size` whose root is `root`. kMalformed when the arguments cannot form a proof
// (index >= tree_size, wrong number of hashes); kInvalidSig when the proof is well formed
// but leads to another root.
util::Status VerifyInclusion(std::uint64_t index, std::uint64_t tree_size, const Hash& leaf_hash,
                             std::span<const Hash> proof, const Hash& root);

// The root that an audit path leads to, or kMalformed as in VerifyInclusion.
util::Result<Hash> RootFromInclusionProof(std::uint64_t index, std::uint64_t tree_size,
                                          const Hash& leaf_hash, std::span<const Hash> proof);

// RFC 9162 §2.1.4.2: OK when `proof` proves that the tree of size m with root `root_m` is a
// prefix of the tree of size n with root `root_n`. m = n needs an empty proof and equal
// roots; m = 0 (the empty tree is a prefix of every tree) needs an empty proof. kMalformed
// when m > n or the proof has the wrong shape; kInvalidSig when it leads to other roots.
util::Status VerifyConsistency(std::uint64_t m, std::uint64_t n, const Hash& root_m,
                               const Hash& root_n, std::span<const Hash> proof);

}  // namespace registry::core
