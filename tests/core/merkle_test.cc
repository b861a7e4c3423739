#include "registry/core/merkle.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "registry/crypto/base64.h"

namespace registry::core {
namespace {

// RFC 6962 §2.1 MTH, straight from the definition.
Hash ReferenceRoot(const std::vector<std::string>& leaves, std::size_t begin, std::size_t end) {
  std::size_t n = end - begin;
  if (n == 0) return EmptyRoot();
  if (n == 1) return LeafHash(leaves[begin]);
  std::size_t k = 1;
  while (k * 2 < n) k *= 2;
  return NodeHash(ReferenceRoot(leaves, begin, begin + k), ReferenceRoot(leaves, begin + k, end));
}

TEST(MerkleTest, EmptyRootIsSha256OfNothing) {
  EXPECT_EQ(crypto::Base64Encode(EmptyRoot()), "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
  EXPECT_EQ(MerkleFrontier().Root(), EmptyRoot());
}

TEST(MerkleTest, FrontierRootMatchesDefinitionAtEverySize) {
  std::vector<std::string> leaves;
  MerkleFrontier frontier;
  for (int i = 0; i < 130; ++i) {
    leaves.push_back("leaf " + std::to_string(i));
    frontier.AppendLeaf(leaves.back());
    ASSERT_EQ(frontier.size(), leaves.size());
    ASSERT_EQ(frontier.Root(), ReferenceRoot(leaves, 0, leaves.size())) << "size " << i + 1;
  }
}

TEST(MerkleTest, DomainSeparation) {
  // A leaf whose bytes equal an interior node's input must not hash the same.
  Hash a = LeafHash("a");
  Hash b = LeafHash("b");
  std::string node_input(reinterpret_cast<const char*>(a.data()), a.size());
  node_input.append(reinterpret_cast<const char*>(b.data()), b.size());
  EXPECT_NE(LeafHash(node_input), NodeHash(a, b));
}

}  // namespace
}  // namespace registry::core
