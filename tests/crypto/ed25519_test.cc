#include "registry/crypto/ed25519.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "registry/util/hex.h"

namespace registry::crypto {
namespace {

template <std::size_t N>
std::array<std::uint8_t, N> FromHex(std::string_view hex) {
  std::array<std::uint8_t, N> out{};
  const auto bytes = util::HexDecode(hex);
  EXPECT_TRUE(bytes.has_value() && bytes->size() == N) << hex;
  if (bytes && bytes->size() == N) std::copy(bytes->begin(), bytes->end(), out.begin());
  return out;
}

class Ed25519Test : public testing::Test {
 protected:
  static void SetUpTestSuite() { Init(); }
};

struct Rfc8032Case {
  std::string_view seed;
  std::string_view public_key;
  std::string message;
  std::string_view signature;
};

// RFC 8032 §7.1, TEST 1 (empty message) and TEST 2 (one byte, 0x72).
const Rfc8032Case kRfc8032[] = {
    {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
     "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"},
    {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "\x72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
     "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
};

TEST_F(Ed25519Test, Rfc8032Vectors) {
  for (const Rfc8032Case& c : kRfc8032) {
    SCOPED_TRACE(c.public_key);
    const auto seed = FromHex<32>(c.seed);
    const auto want_pk = FromHex<32>(c.public_key);
    const auto want_sig = FromHex<64>(c.signature);
    const Ed25519KeyPair pair = Ed25519FromSeed(seed);
    EXPECT_EQ(pair.seed, seed);
    EXPECT_EQ(pair.public_key, want_pk);
    EXPECT_EQ(Ed25519Sign(seed, c.message), want_sig);  // Ed25519 signing is deterministic
    EXPECT_TRUE(Ed25519Verify(want_pk, c.message, want_sig));
  }
}

TEST_F(Ed25519Test, SignVerifyRoundTrip) {
  const Ed25519KeyPair pair = GenerateEd25519();
  EXPECT_EQ(Ed25519FromSeed(pair.seed).public_key, pair.public_key);
  const std::string message =
      "ron:svc-registry:v1\nb3:0000000000000000000000000000000000000000000000000000000000000000";
  const Ed25519Signature sig = Ed25519Sign(pair.seed, message);
  EXPECT_TRUE(Ed25519Verify(pair.public_key, message, sig));
  EXPECT_FALSE(Ed25519Verify(pair.public_key, message + "x", sig));
  EXPECT_FALSE(Ed25519Verify(pair.public_key, message.substr(1), sig));
}

TEST_F(Ed25519Test, GeneratedKeysDiffer) {
  const Ed25519KeyPair a = GenerateEd25519();
  const Ed25519KeyPair b = GenerateEd25519();
  EXPECT_NE(a.seed, b.seed);
  EXPECT_NE(a.public_key, b.public_key);
}

TEST_F(Ed25519Test, EveryFlippedSignatureBitFails) {
  const Ed25519KeyPair pair = Ed25519FromSeed(FromHex<32>(kRfc8032[0].seed));
  const std::string message = "approve";
  const Ed25519Signature sig = Ed25519Sign(pair.seed, message);
  ASSERT_TRUE(Ed25519Verify(pair.public_key, message, sig));
  for (std::size_t bit = 0; bit < sig.size() * 8; ++bit) {
    Ed25519Signature bad = sig;
    bad[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    EXPECT_FALSE(Ed25519Verify(pair.public_key, message, bad)) << "bit " << bit;
  }
}

TEST_F(Ed25519Test, EveryFlippedMessageBitFails) {
  const Ed25519KeyPair pair = Ed25519FromSeed(FromHex<32>(kRfc8032[1].seed));
  const std::string message = "ron:svc-registry:v1\n";
  const Ed25519Signature sig = Ed25519Sign(pair.seed, message);
  for (std::size_t bit = 0; bit < message.size() * 8; ++bit) {
    std::string bad = message;
    bad[bit / 8] = static_cast<char>(bad[bit / 8] ^ (1 << (bit % 8)));
    EXPECT_FALSE(Ed25519Verify(pair.public_key, bad, sig)) << "bit " << bit;
  }
}

TEST_F(Ed25519Test, EveryFlippedPublicKeyBitFails) {
  const Ed25519KeyPair pair = Ed25519FromSeed(FromHex<32>(kRfc8032[0].seed));
  const std::string message = "approve";
  const Ed25519Signature sig = Ed25519Sign(pair.seed, message);
  for (std::size_t bit = 0; bit < pair.public_key.size() * 8; ++bit) {
    Ed25519PublicKey bad = pair.public_key;
    bad[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    EXPECT_FALSE(Ed25519Verify(bad, message, sig)) << "bit " << bit;
  }
}

TEST_F(Ed25519Test, AnotherSignersKeyFails) {
  const Ed25519KeyPair a = Ed25519FromSeed(FromHex<32>(kRfc8032[0].seed));
  const Ed25519KeyPair b = Ed25519FromSeed(FromHex<32>(kRfc8032[1].seed));
  const Ed25519Signature sig = Ed25519Sign(a.seed, "m");
  EXPECT_TRUE(Ed25519Verify(a.public_key, "m", sig));
  EXPECT_FALSE(Ed25519Verify(b.public_key, "m", sig));
}

// Strict verification: S + L (the group order) is the same scalar mod L, so a lax verifier
// would accept it; the registry must not, or signatures become malleable.
TEST_F(Ed25519Test, NonCanonicalScalarIsRejected) {
  const auto seed = FromHex<32>(kRfc8032[0].seed);
  const auto pk = FromHex<32>(kRfc8032[0].public_key);
  const Ed25519Signature sig = Ed25519Sign(seed, "");
  const auto order = FromHex<32>(
      "edd3f55c1a631258d69cf7a2def9de14"
      "0000000000000000000000000000"
      "0010");
  Ed25519Signature malleated = sig;
  unsigned carry = 0;
  for (std::size_t i = 0; i < 32; ++i) {  // little-endian S += L
    const unsigned sum = malleated[32 + i] + order[i] + carry;
    malleated[32 + i] = static_cast<std::uint8_t>(sum);
    carry = sum >> 8;
  }
  ASSERT_EQ(carry, 0u);
  ASSERT_NE(malleated, sig);
  EXPECT_TRUE(Ed25519Verify(pk, "", sig));
  EXPECT_FALSE(Ed25519Verify(pk, "", malleated));
}

TEST_F(Ed25519Test, SmallOrderPublicKeyIsRejected) {
  // The identity point (y = 1): every signature with R = identity and S = 0 "verifies"
  // under a lax verifier.
  Ed25519PublicKey identity{};
  identity[0] = 1;
  Ed25519Signature sig{};
  sig[0] = 1;  // R = identity, S = 0
  EXPECT_FALSE(Ed25519Verify(identity, "anything", sig));
}

TEST(Ed25519InitTest, IdempotentAndThreadSafe) {
  const Ed25519KeyPair pair = Ed25519FromSeed(FromHex<32>(kRfc8032[0].seed));
  const Ed25519Signature sig = Ed25519Sign(pair.seed, "m");
  std::vector<std::thread> threads;
  std::vector<int> ok(4, 0);
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      Init();
      Init();
      ok[i] = Ed25519Verify(pair.public_key, "m", sig) ? 1 : 0;
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(ok, std::vector<int>(4, 1));
}

}  // namespace
}  // namespace registry::crypto
