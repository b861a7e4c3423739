#include "registry/crypto/blake3.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "registry/util/hex.h"

namespace registry::crypto {
namespace {

// The input of the official BLAKE3 test vectors: byte i is i mod 251.
std::string PatternInput(std::size_t len) {
  std::string s(len, '\0');
  for (std::size_t i = 0; i < len; ++i) s[i] = static_cast<char>(i % 251);
  return s;
}

struct Blake3Case {
  std::size_t input_len;
  std::string hash;  // 64 lower-case hex digits
};

std::vector<Blake3Case> LoadVectors() {
  const std::string path = std::string(REGISTRY_VECTORS_DIR) + "/blake3/vectors.json";
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  std::vector<Blake3Case> out;
  if (auto error = parser.load(path).get(doc); error) {
    ADD_FAILURE() << path << ": " << simdjson::error_message(error);
    return out;
  }
  simdjson::dom::array cases;
  if (doc["cases"].get_array().get(cases) != simdjson::SUCCESS) {
    ADD_FAILURE() << path << ": no \"cases\" array";
    return out;
  }
  for (simdjson::dom::element c : cases) {
    std::uint64_t len = 0;
    std::string_view hash;
    if (c["input_len"].get_uint64().get(len) != simdjson::SUCCESS ||
        c["hash"].get_string().get(hash) != simdjson::SUCCESS) {
      ADD_FAILURE() << path << ": malformed case";
      continue;
    }
    out.push_back({static_cast<std::size_t>(len), std::string(hash)});
  }
  return out;
}

std::string Hex(const Blake3Digest& d) { return util::HexEncode(d); }

TEST(Blake3Test, MatchesEveryVector) {
  const std::vector<Blake3Case> cases = LoadVectors();
  ASSERT_EQ(cases.size(), 36u);  // catches a truncated or silently skipped vector file
  for (const Blake3Case& c : cases) {
    SCOPED_TRACE(c.input_len);
    const std::string input = PatternInput(c.input_len);
    EXPECT_EQ(Hex(Blake3(input)), c.hash);
    const std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(input.data()),
                                              input.size());
    EXPECT_EQ(Hex(Blake3(bytes)), c.hash);
    EXPECT_EQ(PayloadB3(input), "b3:" + c.hash);
  }
}

TEST(Blake3Test, StreamingEqualsOneShotForEverySplit) {
  const std::vector<Blake3Case> cases = LoadVectors();
  ASSERT_FALSE(cases.empty());
  // Chunk sizes around the block (64) and chunk (1024) boundaries, and odd ones.
  const std::size_t kChunkSizes[] = {1, 3, 63, 64, 65, 1000, 1023, 1024, 1025, 4096, 65537};
  for (const Blake3Case& c : cases) {
    const std::string input = PatternInput(c.input_len);
    for (const std::size_t chunk : kChunkSizes) {
      if (chunk == 1 && c.input_len > 20000) continue;  // keep the byte-wise pass quick
      SCOPED_TRACE(testing::Message() << "len " << c.input_len << " chunk " << chunk);
      Blake3Hasher hasher;
      for (std::size_t pos = 0; pos < input.size(); pos += chunk) {
        hasher.Update(std::string_view(input).substr(pos, chunk));
      }
      EXPECT_EQ(Hex(hasher.Finalize()), c.hash);
    }
  }
}

TEST(Blake3Test, StreamingEqualsOneShotForEveryTwoWaySplit) {
  const std::string input = PatternInput(2049);
  const Blake3Digest want = Blake3(input);
  for (std::size_t cut = 0; cut <= input.size(); ++cut) {
    Blake3Hasher hasher;
    hasher.Update(std::string_view(input).substr(0, cut));
    hasher.Update(std::string_view(input).substr(cut));
    ASSERT_EQ(hasher.Finalize(), want) << "cut at " << cut;
  }
}

TEST(Blake3Test, FinalizeDoesNotDisturbTheHasher) {
  Blake3Hasher hasher;
  hasher.Update("hello ");
  EXPECT_EQ(hasher.Finalize(), Blake3("hello "));
  EXPECT_EQ(hasher.Finalize(), Blake3("hello "));
  hasher.Update("world");
  EXPECT_EQ(hasher.Finalize(), Blake3("hello world"));
  EXPECT_EQ(Blake3Hasher().Finalize(), Blake3(""));
}

TEST(Blake3Test, ZeroB3IsTheGenesisHash) {
  EXPECT_EQ(ZeroB3(), "b3:" + std::string(64, '0'));
  EXPECT_EQ(&ZeroB3(), &ZeroB3());
  EXPECT_TRUE(IsWellFormedB3(ZeroB3()));
}

TEST(Blake3Test, PayloadB3Shape) {
  const std::string b3 = PayloadB3("{}");
  EXPECT_EQ(b3.size(), 67u);
  EXPECT_TRUE(IsWellFormedB3(b3));
  EXPECT_NE(b3, PayloadB3("{} "));
}

TEST(Blake3Test, IsWellFormedB3) {
  const std::string hex = "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262";
  EXPECT_TRUE(IsWellFormedB3("b3:" + hex));
  EXPECT_FALSE(IsWellFormedB3(hex));          // no prefix
  EXPECT_FALSE(IsWellFormedB3("B3:" + hex));  // upper-case prefix
  EXPECT_FALSE(IsWellFormedB3("b3-" + hex));
  EXPECT_FALSE(IsWellFormedB3("b3:" + hex.substr(1)));    // 63 digits
  EXPECT_FALSE(IsWellFormedB3("b3:" + hex + "0"));        // 65 digits
  EXPECT_FALSE(IsWellFormedB3("b3:AF" + hex.substr(2)));  // upper-case hex
  EXPECT_FALSE(IsWellFormedB3("b3:g" + hex.substr(1)));
  EXPECT_FALSE(IsWellFormedB3("b3: " + hex.substr(1)));
  EXPECT_FALSE(IsWellFormedB3(" b3:" + hex.substr(1)));
  EXPECT_FALSE(IsWellFormedB3(""));
  EXPECT_FALSE(IsWellFormedB3("b3:"));
}

}  // namespace
}  // namespace registry::crypto
