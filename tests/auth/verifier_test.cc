#include "registry/auth/verifier.h"

#include <gtest/gtest.h>
#include <macaroons.h>

#include <array>
#include <atomic>
#include <cctype>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "registry/auth/root_key.h"
#include "registry/auth/scope.h"
#include "registry/auth/token.h"
#include "registry/util/clock.h"
#include "registry/util/error.h"

namespace registry::auth {
namespace {

using util::ErrorCode;

constexpr util::UnixMillis kNow = 1'767'225'600'000;  // 2026-01-01T00:00:00Z

RootKey FixedKey(std::uint8_t seed) {
  std::array<std::uint8_t, kRootKeySize> bytes;
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<std::uint8_t>(seed + i);
  return RootKey(bytes);
}

std::string Bearer(const std::string& token) { return "Bearer " + token; }

// A token built directly with libmacaroons, for shapes Mint refuses to produce.
std::string RawToken(const RootKey& key, const std::vector<std::string>& caveats) {
  macaroon_returncode err = MACAROON_SUCCESS;
  const std::string loc = "svc-registry";
  const std::string id = "raw";
  macaroon* m = macaroon_create(reinterpret_cast<const unsigned char*>(loc.data()), loc.size(),
                                key.bytes().data(), key.bytes().size(),
                                reinterpret_cast<const unsigned char*>(id.data()), id.size(), &err);
  EXPECT_NE(m, nullptr);
  for (const std::string& c : caveats) {
    macaroon* next = macaroon_add_first_party_caveat(
        m, reinterpret_cast<const unsigned char*>(c.data()), c.size(), &err);
    EXPECT_NE(next, nullptr);
    macaroon_destroy(m);
    m = next;
  }
  std::string buf(macaroon_serialize_size_hint(m), '\0');
  EXPECT_EQ(macaroon_serialize(m, buf.data(), buf.size(), &err), 0);
  macaroon_destroy(m);
  buf.resize(std::char_traits<char>::length(buf.c_str()));
  return buf;
}

void ExpectError(const util::Status& s, ErrorCode code, const std::string& message) {
  ASSERT_FALSE(s.ok()) << "expected " << message;
  EXPECT_EQ(s.error().code(), code) << s.error().ToString();
  EXPECT_EQ(s.error().message(), message);
}

class VerifierTest : public ::testing::Test {
 protected:
  RootKey key_ = FixedKey(1);
  TokenVerifier verifier_{FixedKey(1)};
};

TEST_F(VerifierTest, EachScopeVerifiesForItselfOnly) {
  for (Scope granted : kAllScopes) {
    const std::array scopes = {granted};
    const std::string token = Mint(key_, scopes, std::nullopt, "op-1");
    for (Scope required : kAllScopes) {
      const util::Status s = verifier_.Verify(Bearer(token), required, kNow);
      if (required == granted) {
        EXPECT_TRUE(s.ok()) << ScopeName(granted) << ": " << s.error().ToString();
      } else {
        ExpectError(s, ErrorCode::kForbidden,
                    "token lacks scope " + std::string(ScopeName(required)));
      }
    }
  }
}

TEST_F(VerifierTest, MultiScopeToken) {
  const std::array scopes = {Scope::kPropose, Scope::kCommit};
  const std::string token = Mint(key_, scopes, std::nullopt, "ci");
  EXPECT_TRUE(verifier_.Verify(Bearer(token), Scope::kPropose, kNow).ok());
  EXPECT_TRUE(verifier_.Verify(Bearer(token), Scope::kCommit, kNow).ok());
  ExpectError(verifier_.Verify(Bearer(token), Scope::kApprove, kNow), ErrorCode::kForbidden,
              "token lacks scope registry:approve");
  ExpectError(verifier_.Verify(Bearer(token), Scope::kAdmin, kNow), ErrorCode::kForbidden,
              "token lacks scope registry:admin");
}

TEST_F(VerifierTest, TokenIsUrlSafe) {
  const std::array scopes = {Scope::kPropose, Scope::kApprove, Scope::kCommit, Scope::kAdmin};
  const std::string token = Mint(key_, scopes, kNow + 3'600'000, "ops");
  for (char c : token) {
    EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '=')
        << "unexpected character " << c;
  }
}

TEST_F(VerifierTest, ExpiryIsExclusiveAndInWholeSeconds) {
  const std::array scopes = {Scope::kCommit};
  const std::string token = Mint(key_, scopes, kNow + 1'500, "short");  // floors to kNow + 1 s
  EXPECT_TRUE(verifier_.Verify(Bearer(token), Scope::kCommit, kNow).ok());
  EXPECT_TRUE(verifier_.Verify(Bearer(token), Scope::kCommit, kNow + 999).ok());
  ExpectError(verifier_.Verify(Bearer(token), Scope::kCommit, kNow + 1'000),
              ErrorCode::kUnauthorized, "token expired");
  ExpectError(verifier_.Verify(Bearer(token), Scope::kCommit, kNow + 86'400'000),
              ErrorCode::kUnauthorized, "token expired");
}

TEST_F(VerifierTest, ExpiredBeatsWrongScope) {
  const std::array scopes = {Scope::kPropose};
  const std::string token = Mint(key_, scopes, kNow - 1'000, "old");
  ExpectError(verifier_.Verify(Bearer(token), Scope::kAdmin, kNow), ErrorCode::kUnauthorized,
              "token expired");
}

TEST_F(VerifierTest, WrongRootKeyIsUnauthorized) {
  const std::array scopes = {Scope::kCommit};
  const std::string token = Mint(FixedKey(2), scopes, std::nullopt, "foreign");
  ExpectError(verifier_.Verify(Bearer(token), Scope::kCommit, kNow), ErrorCode::kUnauthorized,
              "invalid token");
}

TEST_F(VerifierTest, TamperedTokenIsUnauthorized) {
  const std::array scopes = {Scope::kPropose};
  const std::string token = Mint(key_, scopes, kNow + 60'000, "tamper");
  ASSERT_TRUE(verifier_.Verify(Bearer(token), Scope::kPropose, kNow).ok());
  // The location packet ("001alocation svc-registry\n", 26 bytes: the first 35 characters) is only
  // a hint and not covered by the signature; the last character may hold only unused bits. Every
  // other character is covered: identifier, caveats, signature.
  ASSERT_GT(token.size(), 100u);
  for (std::size_t i = 36; i + 1 < token.size(); ++i) {
    std::string tampered = token;
    tampered[i] = tampered[i] == 'A' ? 'B' : 'A';
    const util::Status s = verifier_.Verify(Bearer(tampered), Scope::kPropose, kNow);
    ASSERT_FALSE(s.ok()) << "flip at " << i;
    EXPECT_EQ(s.error().code(), ErrorCode::kUnauthorized) << "flip at " << i;
    EXPECT_EQ(s.error().message(), "invalid token") << "flip at " << i;
  }
}

TEST_F(VerifierTest, HeaderMustBeBearerWithOneSpace) {
  const std::array scopes = {Scope::kApprove};
  const std::string token = Mint(key_, scopes, std::nullopt, "signer");
  EXPECT_TRUE(verifier_.Verify("bearer " + token, Scope::kApprove, kNow).ok());
  EXPECT_TRUE(verifier_.Verify("BEARER " + token, Scope::kApprove, kNow).ok());
  EXPECT_TRUE(verifier_.Verify("BeArEr " + token, Scope::kApprove, kNow).ok());
  for (const std::string& header :
       std::vector<std::string>{token, "Basic " + token, "Bearer", "Bearer ", "Bearer  " + token,
                                "Bearer\t" + token, " Bearer " + token, "Bearer " + token + " ",
                                "Bearer " + token + "\n", "Bearertoken", "Token " + token}) {
    ExpectError(verifier_.Verify(header, Scope::kApprove, kNow), ErrorCode::kUnauthorized,
                "invalid token");
  }
}

TEST_F(VerifierTest, GarbageIsUnauthorized) {
  const std::string nul_token("Bearer MDAx\0MWxv", 16);
  for (const std::string& header :
       {std::string(), std::string("Bearer AAAA"), std::string("Bearer !!!!"),
        std::string("Bearer ===="), std::string("Bearer eyJhbGciOiJub25lIn0.e30."),
        "Bearer " + std::string(kMaxTokenBytes + 1, 'A'), nul_token,
        std::string("Bearer MDAxMWxvY2F0aW9uIGxvYwo")}) {
    ExpectError(verifier_.Verify(header, Scope::kPropose, kNow), ErrorCode::kUnauthorized,
                "invalid token");
  }
}

TEST_F(VerifierTest, AttenuationNarrowsScopes) {
  const std::array all = {Scope::kPropose, Scope::kApprove, Scope::kCommit};
  const std::string token = Mint(key_, all, std::nullopt, "wide");
  const std::array commit_only = {Scope::kCommit};
  const util::Result<std::string> narrowed = Attenuate(token, commit_only);
  ASSERT_TRUE(narrowed.ok()) << narrowed.error().ToString();
  EXPECT_NE(*narrowed, token);
  EXPECT_TRUE(verifier_.Verify(Bearer(*narrowed), Scope::kCommit, kNow).ok());
  ExpectError(verifier_.Verify(Bearer(*narrowed), Scope::kPropose, kNow), ErrorCode::kForbidden,
              "token lacks scope registry:propose");
  ExpectError(verifier_.Verify(Bearer(*narrowed), Scope::kApprove, kNow), ErrorCode::kForbidden,
              "token lacks scope registry:approve");
  // The original is unaffected.
  EXPECT_TRUE(verifier_.Verify(Bearer(token), Scope::kPropose, kNow).ok());
}

TEST_F(VerifierTest, AttenuationCannotWiden) {
  const std::array propose = {Scope::kPropose};
  const std::string token = Mint(key_, propose, std::nullopt, "narrow");
  const std::array wider = {Scope::kPropose, Scope::kAdmin};
  const util::Result<std::string> widened = Attenuate(token, wider);
  ASSERT_TRUE(widened.ok());
  EXPECT_TRUE(verifier_.Verify(Bearer(*widened), Scope::kPropose, kNow).ok());
  ExpectError(verifier_.Verify(Bearer(*widened), Scope::kAdmin, kNow), ErrorCode::kForbidden,
              "token lacks scope registry:admin");
}

TEST_F(VerifierTest, AttenuatedExpiryApplies) {
  const std::array scopes = {Scope::kCommit};
  const std::string token = Mint(key_, scopes, std::nullopt, "long-lived");
  const util::Result<std::string> short_lived = AddCaveat(token, ExpiresCaveat(kNow + 10'000));
  ASSERT_TRUE(short_lived.ok());
  EXPECT_TRUE(verifier_.Verify(Bearer(*short_lived), Scope::kCommit, kNow + 9'999).ok());
  ExpectError(verifier_.Verify(Bearer(*short_lived), Scope::kCommit, kNow + 10'000),
              ErrorCode::kUnauthorized, "token expired");
}

TEST_F(VerifierTest, UnknownOrMalformedCaveatIsUnauthorized) {
  const std::array scopes = {Scope::kCommit};
  const std::string token = Mint(key_, scopes, std::nullopt, "caveats");
  for (const char* caveat :
       {"ip = 10.0.0.1", "time < 2030-01-01", "scope = ", "scope = registry:commit ",
        "scope = registry:commit  registry:propose", "scope = registry:read",
        "scope=registry:commit", "Scope = registry:commit", "expires = ", "expires = -5",
        "expires = +5", "expires = 12abc", "expires = 1e12", "expires = 1234567890123456",
        "expires=9999999999"}) {
    const util::Result<std::string> t = AddCaveat(token, caveat);
    ASSERT_TRUE(t.ok()) << caveat;
    ExpectError(verifier_.Verify(Bearer(*t), Scope::kCommit, kNow), ErrorCode::kUnauthorized,
                "invalid token");
  }
}

TEST_F(VerifierTest, TokenWithoutScopeCaveatIsForbidden) {
  ExpectError(verifier_.Verify(Bearer(RawToken(key_, {})), Scope::kPropose, kNow),
              ErrorCode::kForbidden, "token lacks scope registry:propose");
  ExpectError(
      verifier_.Verify(Bearer(RawToken(key_, {"expires = 99999999999"})), Scope::kAdmin, kNow),
      ErrorCode::kForbidden, "token lacks scope registry:admin");
}

TEST_F(VerifierTest, RawTokenWithMintFormatVerifies) {
  // Cross-check: the caveat grammar is what a third-party minting tool would write.
  const std::string token =
      RawToken(key_, {"scope = registry:approve registry:admin", "expires = 1767225601"});
  EXPECT_TRUE(verifier_.Verify(Bearer(token), Scope::kAdmin, kNow).ok());
  ExpectError(verifier_.Verify(Bearer(token), Scope::kAdmin, kNow + 1'000),
              ErrorCode::kUnauthorized, "token expired");
}

TEST_F(VerifierTest, ThirdPartyCaveatIsUnauthorized) {
  const std::array scopes = {Scope::kCommit};
  const std::string token = Mint(key_, scopes, std::nullopt, "3p");
  macaroon_returncode err = MACAROON_SUCCESS;
  macaroon* m = macaroon_deserialize(token.c_str(), &err);
  ASSERT_NE(m, nullptr);
  const std::string loc = "https://auth.example";
  const std::string secret = "0123456789abcdef0123456789abcdef";
  const std::string id = "discharge-me";
  macaroon* m3 = macaroon_add_third_party_caveat(
      m, reinterpret_cast<const unsigned char*>(loc.data()), loc.size(),
      reinterpret_cast<const unsigned char*>(secret.data()), secret.size(),
      reinterpret_cast<const unsigned char*>(id.data()), id.size(), &err);
  ASSERT_NE(m3, nullptr);
  std::string buf(macaroon_serialize_size_hint(m3), '\0');
  ASSERT_EQ(macaroon_serialize(m3, buf.data(), buf.size(), &err), 0);
  buf.resize(std::char_traits<char>::length(buf.c_str()));
  macaroon_destroy(m3);
  macaroon_destroy(m);
  ExpectError(verifier_.Verify(Bearer(buf), Scope::kCommit, kNow), ErrorCode::kUnauthorized,
              "invalid token");
}

TEST_F(VerifierTest, AddCaveatRejectsBadInput) {
  const std::array scopes = {Scope::kCommit};
  const std::string token = Mint(key_, scopes, std::nullopt, "x");
  EXPECT_FALSE(AddCaveat("not a token", "scope = registry:commit").ok());
  EXPECT_FALSE(AddCaveat("AAAA", "scope = registry:commit").ok());
  EXPECT_FALSE(AddCaveat(token, "").ok());
  EXPECT_FALSE(AddCaveat(token, std::string(kMaxIdentifierBytes + 1, 'x')).ok());
}

TEST_F(VerifierTest, ConcurrentVerifyIsIndependent) {
  const std::array commit = {Scope::kCommit};
  const std::array propose = {Scope::kPropose};
  const std::string good = Mint(key_, commit, std::nullopt, "a");
  const std::string forbidden = Mint(key_, propose, std::nullopt, "b");
  const std::string expired = Mint(key_, commit, kNow - 1'000, "c");
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        switch ((i + t) % 3) {
          case 0:
            if (!verifier_.Verify(Bearer(good), Scope::kCommit, kNow).ok()) ++mismatches;
            break;
          case 1: {
            const util::Status s = verifier_.Verify(Bearer(forbidden), Scope::kCommit, kNow);
            if (s.ok() || s.error().code() != ErrorCode::kForbidden) ++mismatches;
            break;
          }
          default: {
            const util::Status s = verifier_.Verify(Bearer(expired), Scope::kCommit, kNow);
            if (s.ok() || s.error().message() != "token expired") ++mismatches;
          }
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(mismatches.load(), 0);
}

}  // namespace
}  // namespace registry::auth
