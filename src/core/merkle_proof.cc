#include "registry/core/merkle_proof.h"

#include <bit>
#include <string>

#include "registry/util/check.h"

namespace registry::core {

using util::Error;
using util::ErrorCode;

namespace {

// The largest power of two strictly smaller than n (RFC 6962's k). REQUIRES: n >= 2.
std::uint64_t SplitPoint(std::uint64_t n) { return std::bit_floor(n - 1); }

// PATH(index, D[begin:end]) appended to `out`, deepest first (RFC 6962 §2.1.1).
void AppendPath(std::uint64_t index, std::uint64_t begin, std::uint64_t end,
                std::uint64_t tree_size, const SubtreeHashSource& source, std::vector<Hash>& out) {
  if (end - begin == 1) return;
  const std::uint64_t mid = begin + SplitPoint(end - begin);
  if (index < mid) {
    AppendPath(index, begin, mid, tree_size, source, out);
    out.push_back(source.SubtreeHash(mid, end, tree_size));
  } else {
    AppendPath(index, mid, end, tree_size, source, out);
    out.push_back(source.SubtreeHash(begin, mid, tree_size));
  }
}

// SUBPROOF(m, D[begin:end], complete) appended to `out` (RFC 6962 §2.1.2); m counts leaves
// from `begin`.
void AppendSubproof(std::uint64_t m, std::uint64_t begin, std::uint64_t end, bool complete,
                    std::uint64_t tree_size, const SubtreeHashSource& source,
                    std::vector<Hash>& out) {
  if (m == end - begin) {
    // The old tree's subtree: a verifier who knows the old root needs it only when it is
    // not the old tree itself.
    if (!complete) out.push_back(source.SubtreeHash(begin, end, tree_size));
    return;
  }
  const std::uint64_t k = SplitPoint(end - begin);
  if (m <= k) {
    AppendSubproof(m, begin, begin + k, complete, tree_size, source, out);
    out.push_back(source.SubtreeHash(begin + k, end, tree_size));
  } else {
    AppendSubproof(m - k, begin + k, end, false, tree_size, source, out);
    out.push_back(source.SubtreeHash(begin, begin + k, tree_size));
  }
}

Hash MthOf(std::span<const Hash> leaves, std::uint64_t begin, std::uint64_t end) {
  if (end - begin == 1) return leaves[begin];
  const std::uint64_t mid = begin + SplitPoint(end - begin);
  return NodeHash(MthOf(leaves, begin, mid), MthOf(leaves, mid, end));
}

Error ShapeError(std::string message) { return Error(ErrorCode::kMalformed, std::move(message)); }

// RFC 9162: "right-shift both fn and sn equally until either LSB(fn) is set or fn is 0".
void ShiftWhileEven(std::uint64_t& fn, std::uint64_t& sn) {
  while (fn != 0 && (fn & 1) == 0) {
    fn >>= 1;
    sn >>= 1;
  }
}

}  // namespace

std::vector<Hash> InclusionProof(std::uint64_t index, std::uint64_t tree_size,
                                 const SubtreeHashSource& source) {
  REGISTRY_CHECK(index < tree_size, "InclusionProof: index must be below the tree size");
  std::vector<Hash> out;
  out.reserve(64 - static_cast<std::size_t>(std::countl_zero(tree_size)));
  AppendPath(index, 0, tree_size, tree_size, source, out);
  return out;
}

std::vector<Hash> ConsistencyProof(std::uint64_t m, std::uint64_t n,
                                   const SubtreeHashSource& source) {
  REGISTRY_CHECK(m > 0 && m <= n, "ConsistencyProof: REQUIRES 0 < m <= n");
  std::vector<Hash> out;
  out.reserve(65 - static_cast<std::size_t>(std::countl_zero(n)));
  AppendSubproof(m, 0, n, true, n, source, out);
  return out;
}

Hash LeafHashSource::SubtreeHash(std::uint64_t begin, std::uint64_t end,
                                 std::uint64_t tree_size) const {
  REGISTRY_CHECK(begin < end && end <= tree_size && tree_size <= leaves_.size(),
                 "LeafHashSource: subtree out of range");
  return MthOf(leaves_, begin, end);
}

Hash RootOfLeafHashes(std::span<const Hash> leaves) {
  if (leaves.empty()) return EmptyRoot();
  return MthOf(leaves, 0, leaves.size());
}

util::Result<Hash> RootFromInclusionProof(std::uint64_t index, std::uint64_t tree_size,
                                          const Hash& leaf_hash, std::span<const Hash> proof) {
  if (index >= tree_size) {
    return ShapeError("inclusion proof: leaf index " + std::to_string(index) +
                      " is not below the tree size " + std::to_string(tree_size));
  }
  std::uint64_t fn = index;
  std::uint64_t sn = tree_size - 1;
  Hash r = leaf_hash;
  for (const Hash& p : proof) {
    if (sn == 0) {
      return ShapeError("inclusion proof: " + std::to_string(proof.size()) +
                        " hashes is too many for leaf " + std::to_string(index) + " of " +
                        std::to_string(tree_size));
    }
    if ((fn & 1) != 0 || fn == sn) {
      r = NodeHash(p, r);
      if ((fn & 1) == 0) ShiftWhileEven(fn, sn);
    } else {
      r = NodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) {
    return ShapeError("inclusion proof: " + std::to_string(proof.size()) +
                      " hashes is too few for leaf " + std::to_string(index) + " of " +
                      std::to_string(tree_size));
  }
  return r;
}

util::Status VerifyInclusion(std::uint64_t index, std::uint64_t tree_size, const Hash& leaf_hash,
                             std::span<const Hash> proof, const Hash& root) {
  REGISTRY_ASSIGN_OR_RETURN(Hash computed,
                            RootFromInclusionProof(index, tree_size, leaf_hash, proof));
  if (computed != root) {
    return Error(ErrorCode::kInvalidSig, "inclusion proof: leaf " + std::to_string(index) +
                                             " does not lead to the root of the tree of size " +
                                             std::to_string(tree_size));
  }
  return util::Status::Ok();
}

util::Status VerifyConsistency(std::uint64_t m, std::uint64_t n, const Hash& root_m,
                               const Hash& root_n, std::span<const Hash> proof) {
  const std::string sizes = std::to_string(m) + " → " + std::to_string(n);
  if (m > n) return ShapeError("consistency proof " + sizes + ": the old size is larger");
  if (m == n || m == 0) {
    if (!proof.empty()) {
      return ShapeError("consistency proof " + sizes + ": must be empty, has " +
                        std::to_string(proof.size()) + " hashes");
    }
    if (m == n && root_m != root_n) {
      return Error(ErrorCode::kInvalidSig,
                   "consistency proof " + sizes + ": equal sizes with different roots");
    }
    return util::Status::Ok();
  }
  if (proof.empty()) return ShapeError("consistency proof " + sizes + ": is empty");

  // A power-of-two old tree is a node of the new one; the verifier supplies its hash.
  const bool old_is_node = std::has_single_bit(m);
  const std::size_t count = proof.size() + (old_is_node ? 1 : 0);
  auto at = [&](std::size_t i) -> const Hash& {
    if (old_is_node) return i == 0 ? root_m : proof[i - 1];
    return proof[i];
  };
  std::uint64_t fn = m - 1;
  std::uint64_t sn = n - 1;
  while ((fn & 1) != 0) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash fr = at(0);
  Hash sr = at(0);
  for (std::size_t i = 1; i < count; ++i) {
    const Hash& c = at(i);
    if (sn == 0) {
      return ShapeError("consistency proof " + sizes + ": " + std::to_string(proof.size()) +
                        " hashes is too many");
    }
    if ((fn & 1) != 0 || fn == sn) {
      fr = NodeHash(c, fr);
      sr = NodeHash(c, sr);
      if ((fn & 1) == 0) ShiftWhileEven(fn, sn);
    } else {
      sr = NodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) {
    return ShapeError("consistency proof " + sizes + ": " + std::to_string(proof.size()) +
                      " hashes is too few");
  }
  if (fr != root_m) {
    return Error(ErrorCode::kInvalidSig,
                 "consistency proof " + sizes + ": does not lead to the old root");
  }
  if (sr != root_n) {
    return Error(ErrorCode::kInvalidSig,
                 "consistency proof " + sizes + ": does not lead to the new root");
  }
  return util::Status::Ok();
}

}  // namespace registry::core
