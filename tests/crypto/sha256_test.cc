#include "registry/crypto/sha256.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "registry/util/hex.h"

namespace registry::crypto {
namespace {

std::string Hex(const Sha256Digest& d) { return util::HexEncode(d); }

// FIPS 180-2 Appendix B examples.
TEST(Sha256Test, FipsVectors) {
  EXPECT_EQ(Hex(Sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Hex(Sha256("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Hex(Sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256Test, MillionAsStreamed) {
  Sha256Hasher hasher;
  const std::string block(1000, 'a');
  for (int i = 0; i < 1000; ++i) hasher.Update(block);
  EXPECT_EQ(Hex(hasher.Finalize()),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256Test, StreamingEqualsOneShotForEverySplit) {
  std::string input(300, '\0');
  for (std::size_t i = 0; i < input.size(); ++i) input[i] = static_cast<char>(i * 7);
  const Sha256Digest want = Sha256(input);
  for (std::size_t cut = 0; cut <= input.size(); ++cut) {
    Sha256Hasher hasher;
    hasher.Update(std::string_view(input).substr(0, cut));
    hasher.Update(std::string_view(input).substr(cut));
    ASSERT_EQ(hasher.Finalize(), want) << cut;
  }
}

TEST(Sha256Test, FinalizeResetsTheHasher) {
  Sha256Hasher hasher;
  hasher.Update("abc");
  EXPECT_EQ(hasher.Finalize(), Sha256("abc"));
  EXPECT_EQ(hasher.Finalize(), Sha256(""));
  hasher.Update("ab");
  hasher.Update("c");
  EXPECT_EQ(hasher.Finalize(), Sha256("abc"));
}

}  // namespace
}  // namespace registry::crypto
