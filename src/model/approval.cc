#include "registry/model/approval.h"

#include <algorithm>

#include "decode_util.h"
#include "registry/crypto/base64.h"
#include "registry/model/constants.h"
#include "registry/model/governance.h"
#include "registry/util/time.h"

namespace registry::model {

using internal::CheckObject;
using internal::FieldError;
using internal::Join;

std::string ApprovalMessage(std::string_view payload_b3) {
  std::string message;
  message.reserve(kApprovalContext.size() + payload_b3.size());
  message.append(kApprovalContext);
  message.append(payload_b3);
  return message;
}

util::Result<Approval> DecodeApproval(const json::Value& value, std::string_view path) {
  REGISTRY_RETURN_IF_ERROR(CheckObject(value, path, {"signer_id", "algo", "sig", "signed_at"}));
  Approval a;
  REGISTRY_ASSIGN_OR_RETURN(a.signer_id, internal::RequiredString(value, path, "signer_id"));
  if (!IsValidSignerId(a.signer_id)) {
    return FieldError(Join(path, "signer_id"), "must match org:<realm>#<key-id>");
  }
  REGISTRY_ASSIGN_OR_RETURN(a.algo, internal::RequiredString(value, path, "algo"));
  if (a.algo != kAlgoEd25519) return FieldError(Join(path, "algo"), "must be \"ed25519\"");
  REGISTRY_ASSIGN_OR_RETURN(std::string sig, internal::RequiredString(value, path, "sig"));
  std::optional<std::vector<std::uint8_t>> raw = crypto::Base64Decode(sig);
  if (!raw.has_value() || raw->size() != a.sig.size()) {
    return FieldError(Join(path, "sig"), "must be standard base64 (with padding) of 64 bytes");
  }
  std::copy(raw->begin(), raw->end(), a.sig.begin());
  REGISTRY_ASSIGN_OR_RETURN(a.signed_at, internal::RequiredString(value, path, "signed_at"));
  std::optional<util::UnixMillis> t = util::ParseRfc3339(a.signed_at);
  if (!t.has_value()) {
    return FieldError(Join(path, "signed_at"), "must be an RFC 3339 UTC timestamp");
  }
  a.signed_at_ms = *t;
  return a;
}

json::Value EncodeApproval(const Approval& approval) {
  return json::MakeObject({{"signer_id", approval.signer_id},
                           {"algo", approval.algo},
                           {"sig", crypto::Base64Encode(approval.sig)},
                           {"signed_at", approval.signed_at}});
}

Approval SignApproval(std::string_view signer_id, const crypto::Ed25519Seed& seed,
                      std::string_view payload_b3, util::UnixMillis signed_at) {
  Approval a;
  a.signer_id = std::string(signer_id);
  a.algo = std::string(kAlgoEd25519);
  a.sig = crypto::Ed25519Sign(seed, ApprovalMessage(payload_b3));
  a.signed_at = util::FormatRfc3339Seconds(signed_at);
  a.signed_at_ms = signed_at - signed_at % 1000;
  return a;
}

bool VerifyApproval(const Approval& approval, const crypto::Ed25519PublicKey& key,
                    std::string_view payload_b3) {
  return crypto::Ed25519Verify(key, ApprovalMessage(payload_b3), approval.sig);
}

}  // namespace registry::model
