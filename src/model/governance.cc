#include "registry/model/governance.h"

#include <algorithm>
#include <unordered_set>

#include "decode_util.h"
#include "registry/crypto/base64.h"
#include "registry/crypto/blake3.h"
#include "registry/json/canonical.h"
#include "registry/json/parse.h"
#include "registry/model/constants.h"

namespace registry::model {

using internal::CheckObject;
using internal::FieldError;
using internal::Index;
using internal::Join;

const Signer* Governance::Find(std::string_view id) const {
  for (const Signer& s : signers) {
    if (s.id == id) return &s;
  }
  return nullptr;
}

bool Governance::Equivalent(const Governance& other) const {
  if (m != other.m || signers.size() != other.signers.size()) return false;
  // Ids are unique within a governance, so equal sizes plus every signer found equal
  // means equal sets.
  for (const Signer& s : signers) {
    const Signer* o = other.Find(s.id);
    if (o == nullptr || !(*o == s)) return false;
  }
  return true;
}

bool IsValidSignerId(std::string_view id) {
  constexpr std::string_view kPrefix = "org:";
  if (id.size() > kMaxIdLength || id.substr(0, kPrefix.size()) != kPrefix) return false;
  std::string_view rest = id.substr(kPrefix.size());
  std::size_t hash = rest.find('#');
  if (hash == std::string_view::npos || hash == 0 || hash + 1 == rest.size()) return false;
  std::string_view realm = rest.substr(0, hash);
  std::string_view key_id = rest.substr(hash + 1);
  return internal::AllOf(realm,
                         [](unsigned char c) { return internal::IsLowerAlnum(c) || c == '-'; }) &&
         internal::AllOf(key_id, [](unsigned char c) {
           return internal::IsAlnum(c) || c == '.' || c == '_' || c == '-';
         });
}

namespace {

util::Result<Signer> DecodeSigner(const json::Value& value, std::string_view path) {
  REGISTRY_RETURN_IF_ERROR(CheckObject(value, path, {"id", "algo", "pubkey"}));
  Signer signer;
  REGISTRY_ASSIGN_OR_RETURN(signer.id, internal::RequiredString(value, path, "id"));
  if (!IsValidSignerId(signer.id)) {
    return FieldError(Join(path, "id"),
                      "must match org:<realm>#<key-id> ([a-z0-9-]+ realm, "
                      "[A-Za-z0-9._-]+ key id)");
  }
  REGISTRY_ASSIGN_OR_RETURN(signer.algo, internal::RequiredString(value, path, "algo"));
  if (signer.algo != kAlgoEd25519) {
    return FieldError(Join(path, "algo"), "must be \"ed25519\"");
  }
  REGISTRY_ASSIGN_OR_RETURN(std::string pubkey, internal::RequiredString(value, path, "pubkey"));
  std::optional<std::vector<std::uint8_t>> raw = crypto::Base64Decode(pubkey);
  if (!raw.has_value() || raw->size() != signer.pubkey.size()) {
    return FieldError(Join(path, "pubkey"), "must be standard base64 of 32 bytes");
  }
  std::copy(raw->begin(), raw->end(), signer.pubkey.begin());
  return signer;
}

}  // namespace

util::Result<Governance> DecodeGovernance(const json::Value& value, std::string_view path) {
  REGISTRY_RETURN_IF_ERROR(CheckObject(value, path, {"quorum", "signers"}));
  const json::Value* quorum = value.Find("quorum");
  if (quorum == nullptr) return FieldError(Join(path, "quorum"), "required");
  std::string quorum_path = Join(path, "quorum");
  REGISTRY_RETURN_IF_ERROR(CheckObject(*quorum, quorum_path, {"m"}));
  Governance governance;
  REGISTRY_ASSIGN_OR_RETURN(std::uint64_t m,
                            internal::RequiredUint(*quorum, quorum_path, "m", 1, kMaxSigners));
  governance.m = static_cast<std::uint32_t>(m);

  const json::Value* signers = value.Find("signers");
  std::string signers_path = Join(path, "signers");
  if (signers == nullptr) return FieldError(signers_path, "required");
  if (!signers->is_array()) return FieldError(signers_path, "must be an array");
  const json::Array& list = signers->as_array();
  if (list.empty() || list.size() > kMaxSigners) {
    return FieldError(signers_path, "must hold 1 to 256 signers");
  }
  governance.signers.reserve(list.size());
  std::unordered_set<std::string_view> seen;
  for (std::size_t i = 0; i < list.size(); ++i) {
    REGISTRY_ASSIGN_OR_RETURN(Signer signer, DecodeSigner(list[i], Index(signers_path, i)));
    governance.signers.push_back(std::move(signer));
    if (!seen.insert(governance.signers.back().id).second) {
      return FieldError(Join(Index(signers_path, i), "id"),
                        "duplicate signer id \"" + governance.signers.back().id + "\"");
    }
  }
  if (governance.m > governance.signers.size()) {
    return FieldError(Join(quorum_path, "m"), "must not exceed the number of signers (" +
                                                  std::to_string(governance.signers.size()) + ")");
  }
  return governance;
}

json::Value EncodeGovernance(const Governance& governance) {
  json::Array signers;
  signers.reserve(governance.signers.size());
  for (const Signer& s : governance.signers) {
    signers.push_back(json::MakeObject(
        {{"id", s.id}, {"algo", s.algo}, {"pubkey", crypto::Base64Encode(s.pubkey)}}));
  }
  return json::MakeObject({{"quorum", json::MakeObject({{"m", static_cast<int>(governance.m)}})},
                           {"signers", json::Value(std::move(signers))}});
}

util::Result<Governance> LoadTrustRoots(std::string_view file_bytes,
                                        std::optional<std::string_view> pinned_hash) {
  REGISTRY_ASSIGN_OR_RETURN(json::Value value, json::Parse(file_bytes));
  REGISTRY_ASSIGN_OR_RETURN(Governance governance, DecodeGovernance(value, "trust_roots"));
  if (pinned_hash.has_value()) {
    std::string actual = crypto::PayloadB3(json::Canonicalize(value));
    if (actual != *pinned_hash) {
      return util::Error(util::ErrorCode::kMalformed,
                         "trust_roots: hash " + actual + " does not match the pinned " +
                             "bootstrap.trust_roots_hash " + std::string(*pinned_hash));
    }
  }
  return governance;
}

}  // namespace registry::model
