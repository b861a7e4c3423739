// Test fixtures shared by the model, core and storage tests: deterministic signer sets,
// payload builders and approval signing. Header-only; tests only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "registry/crypto/ed25519.h"
#include "registry/crypto/sha256.h"
#include "registry/json/value.h"
#include "registry/model/approval.h"
#include "registry/model/governance.h"
#include "registry/model/payload.h"
#include "registry/util/result.h"

namespace registry::testing {

struct TestSigner {
  std::string id;
  crypto::Ed25519KeyPair keys;
};

// Signer `i` of realm `realm`: id "org:<realm>#k<i>", seed SHA-256("<realm> <i>").
inline TestSigner MakeSigner(const std::string& realm, int i) {
  crypto::Init();
  crypto::Sha256Digest d = crypto::Sha256(realm + " " + std::to_string(i));
  crypto::Ed25519Seed seed;
  std::copy(d.begin(), d.end(), seed.begin());
  return TestSigner{"org:" + realm + "#k" + std::to_string(i), crypto::Ed25519FromSeed(seed)};
}

inline std::vector<TestSigner> MakeSigners(const std::string& realm, int n) {
  std::vector<TestSigner> out;
  for (int i = 0; i < n; ++i) out.push_back(MakeSigner(realm, i));
  return out;
}

inline model::Governance MakeGovernance(const std::vector<TestSigner>& signers, std::uint32_t m) {
  model::Governance g;
  g.m = m;
  for (const TestSigner& s : signers) {
    g.signers.push_back(model::Signer{s.id, "ed25519", s.keys.public_key});
  }
  return g;
}

// A payload JSON value with `n_items` simple descriptors.
inline json::Value MakePayloadValue(std::uint64_t version, const std::string& prev_hash,
                                    const model::Governance& governance, int n_items = 2,
                                    const std::string& tag = "x") {
  json::Array items;
  for (int i = 0; i < n_items; ++i) {
    items.push_back(json::MakeObject({{"kind", "node"},
                                      {"id", "node:" + tag + "-" + std::to_string(i)},
                                      {"region", "eu-1"},
                                      {"meta", json::MakeObject({{"i", i}})}}));
  }
  return json::MakeObject({{"version", static_cast<std::uint64_t>(version)},
                           {"prev_hash", prev_hash},
                           {"governance", model::EncodeGovernance(governance)},
                           {"items", json::Value(std::move(items))}});
}

inline model::CanonicalPayload MakeCanonical(const json::Value& value) {
  util::Result<model::CanonicalPayload> r = model::MakeCanonicalPayload(value, {});
  REGISTRY_CHECK(r.ok(), "fixture payload must be valid");
  return std::move(r).value();
}

inline model::Approval Sign(const TestSigner& signer, const std::string& payload_b3,
                            util::UnixMillis signed_at) {
  return model::SignApproval(signer.id, signer.keys.seed, payload_b3, signed_at);
}

}  // namespace registry::testing
