// Governance: the signer set and quorum in force after a version (SPEC §1.4), and the
// trust-roots file that acts as the governance of the virtual genesis version 0.
//
// Values are immutable once decoded and safe to share between threads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "registry/crypto/ed25519.h"
#include "registry/json/value.h"
#include "registry/util/result.h"

namespace registry::model {

struct Signer {
  std::string id;    // "org:<realm>#<key-id>"
  std::string algo;  // "ed25519"
  crypto::Ed25519PublicKey pubkey;

  friend bool operator==(const Signer&, const Signer&) = default;
};

struct Governance {
  std::uint32_t m = 0;
  std::vector<Signer> signers;  // in document order; ids unique

  std::size_t n() const { return signers.size(); }
  // The signer with `id`, or nullptr.
  const Signer* Find(std::string_view id) const;

  // True when both hold the same quorum and the same set of signers (id, algo, key),
  // whatever their order. A rotation (SPEC §1.4) is a version whose governance is not
  // Equivalent to the one in force.
  bool Equivalent(const Governance& other) const;

  friend bool operator==(const Governance&, const Governance&) = default;
};

// True when `id` matches org:<realm>#<key-id>: realm [a-z0-9-]+, key id [A-Za-z0-9._-]+.
bool IsValidSignerId(std::string_view id);

// Strict decoding of a governance object; `path` prefixes error messages
// ("payload.governance"). Errors are kMalformed and name the field.
util::Result<Governance> DecodeGovernance(const json::Value& value, std::string_view path);

json::Value EncodeGovernance(const Governance& governance);

// Parses and validates a trust-roots file (a JSON governance object). When `pinned_hash`
// is given ("b3:..." of the canonical form), a mismatch is an error.
util::Result<Governance> LoadTrustRoots(std::string_view file_bytes,
                                        std::optional<std::string_view> pinned_hash);

}  // namespace registry::model
