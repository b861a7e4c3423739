// tests/vectors/approvals.json, the crypto half: seeds → public keys, canonical bytes →
// payload_b3, and signatures over "ron:svc-registry:v1\n" + payload_b3, byte for byte.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "registry/crypto/base64.h"
#include "registry/crypto/blake3.h"
#include "registry/crypto/ed25519.h"
#include "registry/util/hex.h"

namespace registry::crypto {
namespace {

constexpr std::string_view kContext = "ron:svc-registry:v1\n";

struct Approval {
  std::string signer_id;
  std::string sig_b64;
};

struct Case {
  std::string name;
  std::string canonical_hex;
  std::string payload_b3;
  std::vector<Approval> approvals;
};

struct Vectors {
  std::string context_hex;
  std::map<std::string, std::string> seed_hex;    // signer id → seed
  std::map<std::string, std::string> pubkey_b64;  // signer id → pubkey, wherever listed
  std::vector<Case> cases;
  std::vector<Case> invalid;  // one approval each
};

std::string Str(simdjson::dom::element e) {
  std::string_view s;
  EXPECT_EQ(e.get_string().get(s), simdjson::SUCCESS);
  return std::string(s);
}

// Records every signer listed in a governance object; a signer listed twice must agree.
void CollectSigners(simdjson::dom::element governance, Vectors& v) {
  simdjson::dom::array signers;
  ASSERT_EQ(governance["signers"].get_array().get(signers), simdjson::SUCCESS);
  for (simdjson::dom::element s : signers) {
    const std::string id = Str(s["id"]);
    const std::string pubkey = Str(s["pubkey"]);
    EXPECT_EQ(Str(s["algo"]), "ed25519");
    const auto [it, inserted] = v.pubkey_b64.emplace(id, pubkey);
    EXPECT_EQ(it->second, pubkey) << id << " listed with two keys";
  }
}

Approval ReadApproval(simdjson::dom::element a) { return {Str(a["signer_id"]), Str(a["sig"])}; }

class ApprovalsVectorTest : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    Init();
    vectors_ = new Vectors();
    Load(*vectors_);
  }
  static void TearDownTestSuite() {
    delete vectors_;
    vectors_ = nullptr;
  }

  static void Load(Vectors& v) {
    const std::string path = std::string(REGISTRY_VECTORS_DIR) + "/approvals.json";
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    ASSERT_EQ(parser.load(path).get(doc), simdjson::SUCCESS) << path;
    v.context_hex = Str(doc["context_hex"]);

    simdjson::dom::object seeds;
    ASSERT_EQ(doc["signer_seeds_hex"].get_object().get(seeds), simdjson::SUCCESS);
    for (const auto field : seeds) {
      v.seed_hex.emplace(std::string(field.key), Str(field.value));
    }
    CollectSigners(doc["trust_roots"].value(), v);

    simdjson::dom::array cases;
    ASSERT_EQ(doc["cases"].get_array().get(cases), simdjson::SUCCESS);
    for (simdjson::dom::element c : cases) {
      Case out{Str(c["name"]), Str(c["canonical_hex"]), Str(c["payload_b3"]), {}};
      CollectSigners(c["payload"]["governance"].value(), v);
      simdjson::dom::array approvals;
      ASSERT_EQ(c["approvals"].get_array().get(approvals), simdjson::SUCCESS);
      for (simdjson::dom::element a : approvals) out.approvals.push_back(ReadApproval(a));
      v.cases.push_back(std::move(out));
    }

    simdjson::dom::array invalid;
    ASSERT_EQ(doc["invalid"].get_array().get(invalid), simdjson::SUCCESS);
    for (simdjson::dom::element c : invalid) {
      v.invalid.push_back(
          {Str(c["name"]), "", Str(c["payload_b3"]), {ReadApproval(c["approval"].value())}});
    }
  }

  static Ed25519Seed Seed(const std::string& signer_id) {
    Ed25519Seed seed{};
    const auto it = vectors_->seed_hex.find(signer_id);
    EXPECT_NE(it, vectors_->seed_hex.end()) << signer_id;
    if (it == vectors_->seed_hex.end()) return seed;
    const auto bytes = util::HexDecode(it->second);
    EXPECT_TRUE(bytes && bytes->size() == seed.size()) << signer_id;
    if (bytes && bytes->size() == seed.size())
      std::copy(bytes->begin(), bytes->end(), seed.begin());
    return seed;
  }

  static Ed25519PublicKey ListedKey(const std::string& signer_id) {
    Ed25519PublicKey key{};
    const auto it = vectors_->pubkey_b64.find(signer_id);
    EXPECT_NE(it, vectors_->pubkey_b64.end()) << signer_id;
    if (it == vectors_->pubkey_b64.end()) return key;
    const auto bytes = Base64Decode(it->second);
    EXPECT_TRUE(bytes && bytes->size() == key.size()) << signer_id;
    if (bytes && bytes->size() == key.size()) std::copy(bytes->begin(), bytes->end(), key.begin());
    return key;
  }

  static Vectors* vectors_;
};

Vectors* ApprovalsVectorTest::vectors_ = nullptr;

TEST_F(ApprovalsVectorTest, FileLoaded) {
  EXPECT_EQ(vectors_->seed_hex.size(), 6u);
  EXPECT_EQ(vectors_->cases.size(), 2u);
  EXPECT_EQ(vectors_->invalid.size(), 1u);
}

TEST_F(ApprovalsVectorTest, ContextIsTheSpecPrefix) {
  const auto context = util::HexDecode(vectors_->context_hex);
  ASSERT_TRUE(context.has_value());
  EXPECT_EQ(std::string(context->begin(), context->end()), kContext);
  EXPECT_EQ(kContext.size(), 20u);
}

TEST_F(ApprovalsVectorTest, EachSeedYieldsItsListedPublicKey) {
  for (const auto& [id, seed_hex] : vectors_->seed_hex) {
    SCOPED_TRACE(id);
    ASSERT_TRUE(vectors_->pubkey_b64.contains(id)) << "seed without a listed key";
    const Ed25519KeyPair pair = Ed25519FromSeed(Seed(id));
    EXPECT_EQ(pair.public_key, ListedKey(id));
    EXPECT_EQ(Base64Encode(pair.public_key), vectors_->pubkey_b64.at(id));
  }
}

TEST_F(ApprovalsVectorTest, CanonicalBytesHashToPayloadB3) {
  for (const Case& c : vectors_->cases) {
    SCOPED_TRACE(c.name);
    const auto canonical = util::HexDecode(c.canonical_hex);
    ASSERT_TRUE(canonical.has_value());
    EXPECT_TRUE(IsWellFormedB3(c.payload_b3));
    EXPECT_EQ(PayloadB3(std::string_view(reinterpret_cast<const char*>(canonical->data()),
                                         canonical->size())),
              c.payload_b3);
  }
}

TEST_F(ApprovalsVectorTest, SigningReproducesEverySignatureByteForByte) {
  std::size_t checked = 0;
  for (const Case& c : vectors_->cases) {
    const std::string message = std::string(kContext) + c.payload_b3;
    ASSERT_EQ(message.size(), 87u);
    for (const Approval& a : c.approvals) {
      SCOPED_TRACE(c.name + " / " + a.signer_id);
      const Ed25519Signature sig = Ed25519Sign(Seed(a.signer_id), message);
      EXPECT_EQ(Base64Encode(sig), a.sig_b64);

      const auto listed = Base64Decode(a.sig_b64);
      ASSERT_TRUE(listed && listed->size() == 64);
      Ed25519Signature listed_sig;
      std::copy(listed->begin(), listed->end(), listed_sig.begin());
      EXPECT_EQ(listed_sig, sig);
      EXPECT_TRUE(Ed25519Verify(ListedKey(a.signer_id), message, listed_sig));
      // Bound to this exact payload_b3: the same signature over the other case fails.
      for (const Case& other : vectors_->cases) {
        if (other.payload_b3 == c.payload_b3) continue;
        EXPECT_FALSE(Ed25519Verify(ListedKey(a.signer_id), std::string(kContext) + other.payload_b3,
                                   listed_sig));
      }
      ++checked;
    }
  }
  EXPECT_EQ(checked, 7u);
}

TEST_F(ApprovalsVectorTest, InvalidApprovalsDoNotVerify) {
  for (const Case& c : vectors_->invalid) {
    SCOPED_TRACE(c.name);
    const Approval& a = c.approvals.at(0);
    const auto sig_bytes = Base64Decode(a.sig_b64);
    ASSERT_TRUE(sig_bytes && sig_bytes->size() == 64);
    Ed25519Signature sig;
    std::copy(sig_bytes->begin(), sig_bytes->end(), sig.begin());
    EXPECT_FALSE(Ed25519Verify(ListedKey(a.signer_id), std::string(kContext) + c.payload_b3, sig));
  }
}

}  // namespace
}  // namespace registry::crypto
