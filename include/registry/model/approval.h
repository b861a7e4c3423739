// Approval: one signer's Ed25519 signature over a payload_b3 (SPEC §1.5).
//
// The signed message is kApprovalContext ("ron:svc-registry:v1\n") followed by the 67
// ASCII bytes of payload_b3. `signed_at` is informative and not signed.
#pragma once

#include <string>
#include <string_view>

#include "registry/crypto/ed25519.h"
#include "registry/json/value.h"
#include "registry/util/clock.h"
#include "registry/util/result.h"

namespace registry::model {

struct Approval {
  std::string signer_id;
  std::string algo;  // "ed25519"
  crypto::Ed25519Signature sig;
  std::string signed_at;          // RFC 3339 UTC, as given
  util::UnixMillis signed_at_ms;  // parsed signed_at

  friend bool operator==(const Approval&, const Approval&) = default;
};

// The bytes a signer signs for `payload_b3`.
std::string ApprovalMessage(std::string_view payload_b3);

// Strict decoding of an approval body; `path` prefixes error messages.
util::Result<Approval> DecodeApproval(const json::Value& value, std::string_view path);
json::Value EncodeApproval(const Approval& approval);

// Signs `payload_b3` (registryctl and tests; the service never signs).
Approval SignApproval(std::string_view signer_id, const crypto::Ed25519Seed& seed,
                      std::string_view payload_b3, util::UnixMillis signed_at);

// True when `approval.sig` verifies under `key` for `payload_b3`.
bool VerifyApproval(const Approval& approval, const crypto::Ed25519PublicKey& key,
                    std::string_view payload_b3);

}  // namespace registry::model
