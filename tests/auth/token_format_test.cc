// Hostile token structures: each must be refused as "invalid token" without reaching the
// parts of libmacaroons 0.3 that misbehave on them (an endless loop on a zero-length packet,
// a leak on JSON-looking input).
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "registry/auth/root_key.h"
#include "registry/auth/scope.h"
#include "registry/auth/token.h"
#include "registry/auth/verifier.h"
#include "registry/crypto/base64.h"
#include "registry/util/error.h"

namespace registry::auth {
namespace {

constexpr util::UnixMillis kNow = 1'767'225'600'000;

RootKey TestKey() {
  std::array<std::uint8_t, kRootKeySize> bytes{};
  bytes.fill(0x5a);
  return RootKey(bytes);
}

std::string EncodeToken(const std::string& raw) {
  std::string b64 = crypto::Base64Encode(raw);
  while (!b64.empty() && b64.back() == '=') b64.pop_back();
  for (char& c : b64) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return b64;
}

std::string DecodeToken(std::string token) {
  for (char& c : token) {
    if (c == '-') c = '+';
    if (c == '_') c = '/';
  }
  while (token.size() % 4 != 0) token += '=';
  const std::optional<std::vector<std::uint8_t>> bytes = crypto::Base64Decode(token);
  EXPECT_TRUE(bytes.has_value());
  return bytes ? std::string(bytes->begin(), bytes->end()) : std::string();
}

class TokenFormatTest : public ::testing::Test {
 protected:
  void ExpectInvalid(const std::string& token) {
    const util::Status s = verifier_.Verify("Bearer " + token, Scope::kPropose, kNow);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().code(), util::ErrorCode::kUnauthorized);
    EXPECT_EQ(s.error().message(), "invalid token");
  }

  std::string Minted() {
    const std::array scopes = {Scope::kPropose};
    return Mint(key_, scopes, std::nullopt, "fmt");
  }

  RootKey key_ = TestKey();
  TokenVerifier verifier_{TestKey()};
};

TEST_F(TokenFormatTest, MintedTokensOfEveryLengthVerify) {
  // Identifiers of 0..5 bytes cover every length residue of the base64 encoding.
  const std::array scopes = {Scope::kPropose};
  for (std::size_t n = 0; n < 6; ++n) {
    const std::string token = Mint(key_, scopes, kNow + 1000, std::string(n, 'i'));
    EXPECT_EQ(token.find('='), std::string::npos);
    EXPECT_TRUE(verifier_.Verify("Bearer " + token, Scope::kPropose, kNow).ok()) << n;
  }
}

TEST_F(TokenFormatTest, DecodedLayoutIsV1Packets) {
  const std::string raw = DecodeToken(Minted());
  EXPECT_EQ(raw.substr(0, 26), "001alocation svc-registry\n");
  EXPECT_EQ(raw.substr(26, 19), "0013identifier fmt\n");
  EXPECT_EQ(raw.substr(45, 33), "0021cid scope = registry:propose\n");
  EXPECT_EQ(raw.substr(78, 14), "002fsignature ");
  EXPECT_EQ(raw.size(), 78u + 47u);
  EXPECT_EQ(EncodeToken(raw), Minted());
}

TEST_F(TokenFormatTest, ZeroLengthPacketIsRefused) {
  // libmacaroons 0.3 loops forever on this one.
  const std::string raw = DecodeToken(Minted());
  ExpectInvalid(EncodeToken(raw.substr(0, 45) + "0000" + raw.substr(45)));
  ExpectInvalid(EncodeToken("0000"));
  ExpectInvalid(EncodeToken(raw.substr(0, 26) + "0000"));
}

TEST_F(TokenFormatTest, JsonLookingInputIsRefused) {
  // Decodes to '{'..., which libmacaroons 0.3 leaks on.
  ExpectInvalid("e00");
  ExpectInvalid(EncodeToken("{\"v\":2}"));
}

TEST_F(TokenFormatTest, StructuralDeviationsAreRefused) {
  const std::string raw = DecodeToken(Minted());
  const std::string head = raw.substr(0, 78);  // location, identifier, caveat
  const std::string signature = raw.substr(78);
  // Trailing bytes after the signature.
  ExpectInvalid(EncodeToken(raw + "\n"));
  ExpectInvalid(EncodeToken(raw + "0007a b\n"));
  // Third-party caveat packets.
  ExpectInvalid(EncodeToken(head + "000bvid xyz\n" + signature));
  ExpectInvalid(EncodeToken(head + "000acl xyz\n" + signature));
  // Upper-case length header (libmacaroons writes lower case).
  std::string upper = raw;
  upper.replace(78, 4, "002F");
  ExpectInvalid(EncodeToken(upper));
  // Packet length past the end, and signature of the wrong size.
  std::string long_sig = raw;
  long_sig.replace(78, 4, "0030");
  ExpectInvalid(EncodeToken(long_sig));
  ExpectInvalid(EncodeToken(head + "002esignature " + signature.substr(14, 31) + "\n"));
  // Missing signature, location or identifier; packets out of order.
  ExpectInvalid(EncodeToken(head));
  ExpectInvalid(EncodeToken(raw.substr(26)));
  ExpectInvalid(EncodeToken(raw.substr(26, 19) + raw.substr(0, 26) + raw.substr(45)));
  // Packet without a space or without the final newline.
  ExpectInvalid(EncodeToken(raw.substr(0, 45) + "0007abc\n" + raw.substr(78)));
  std::string no_newline = raw;
  no_newline[44] = ' ';
  ExpectInvalid(EncodeToken(no_newline));
}

TEST_F(TokenFormatTest, NonCanonicalEncodingsAreRefused) {
  const std::string token = Minted();
  ExpectInvalid(token + "=");
  ExpectInvalid(token + "==");
  std::string standard = token;
  for (char& c : standard) {
    if (c == '-') c = '+';
    if (c == '_') c = '/';
  }
  if (standard != token) ExpectInvalid(standard);
  ExpectInvalid(token + "A");  // a dangling base64 character
  ExpectInvalid(token.substr(0, token.size() - 1));
}

}  // namespace
}  // namespace registry::auth
