#include "registry/model/commit_record.h"

#include <algorithm>

#include "decode_util.h"
#include "registry/crypto/base64.h"
#include "registry/crypto/blake3.h"
#include "registry/json/canonical.h"
#include "registry/model/constants.h"
#include "registry/util/time.h"

namespace registry::model {

using internal::CheckObject;
using internal::FieldError;
using internal::Join;

std::string EncodeCommitRecordCanonical(std::uint64_t version, std::string_view canonical_payload,
                                        std::string_view payload_b3,
                                        const std::vector<Approval>& approvals,
                                        std::string_view committed_at) {
  // Members in JCS order: approvals, committed_at, payload, payload_b3, schema_version,
  // version. The payload's canonical bytes are spliced in as they are.
  std::string out;
  out.reserve(canonical_payload.size() + 256 + approvals.size() * 200);
  out += "{\"approvals\":[";
  for (std::size_t i = 0; i < approvals.size(); ++i) {
    const Approval& a = approvals[i];
    if (i > 0) out += ',';
    out += "{\"algo\":";
    json::AppendCanonicalString(a.algo, out);
    out += ",\"sig\":";
    json::AppendCanonicalString(crypto::Base64Encode(a.sig), out);
    out += ",\"signed_at\":";
    json::AppendCanonicalString(a.signed_at, out);
    out += ",\"signer_id\":";
    json::AppendCanonicalString(a.signer_id, out);
    out += '}';
  }
  out += "],\"committed_at\":";
  json::AppendCanonicalString(committed_at, out);
  out += ",\"payload\":";
  out.append(canonical_payload);
  out += ",\"payload_b3\":";
  json::AppendCanonicalString(payload_b3, out);
  out += ",\"schema_version\":";
  json::AppendCanonicalString(kSchemaVersion, out);
  out += ",\"version\":";
  out += std::to_string(version);
  out += '}';
  return out;
}

util::Result<CommitRecord> DecodeCommitRecord(const json::Value& value,
                                              const PayloadLimits& limits) {
  constexpr std::string_view kPath = "record";
  REGISTRY_RETURN_IF_ERROR(CheckObject(
      value, kPath,
      {"schema_version", "version", "payload", "payload_b3", "approvals", "committed_at"}));
  CommitRecord r;
  REGISTRY_ASSIGN_OR_RETURN(r.schema_version,
                            internal::RequiredString(value, kPath, "schema_version"));
  if (r.schema_version != kSchemaVersion) {
    return FieldError(Join(kPath, "schema_version"), "must be \"1.0.0\"");
  }
  REGISTRY_ASSIGN_OR_RETURN(
      r.version, internal::RequiredUint(value, kPath, "version", 1, (std::uint64_t{1} << 53) - 1));
  const json::Value* payload = value.Find("payload");
  if (payload == nullptr) return FieldError(Join(kPath, "payload"), "required");
  REGISTRY_ASSIGN_OR_RETURN(r.payload, DecodePayload(*payload, limits));
  REGISTRY_ASSIGN_OR_RETURN(r.payload_b3, internal::RequiredString(value, kPath, "payload_b3"));
  if (!crypto::IsWellFormedB3(r.payload_b3)) {
    return FieldError(Join(kPath, "payload_b3"), "must be \"b3:\" + 64 lower-case hex digits");
  }
  const json::Value* approvals = value.Find("approvals");
  std::string approvals_path = Join(kPath, "approvals");
  if (approvals == nullptr) return FieldError(approvals_path, "required");
  if (!approvals->is_array()) return FieldError(approvals_path, "must be an array");
  for (std::size_t i = 0; i < approvals->as_array().size(); ++i) {
    REGISTRY_ASSIGN_OR_RETURN(
        Approval a, DecodeApproval(approvals->as_array()[i], internal::Index(approvals_path, i)));
    r.approvals.push_back(std::move(a));
  }
  REGISTRY_ASSIGN_OR_RETURN(r.committed_at, internal::RequiredString(value, kPath, "committed_at"));
  if (!util::ParseRfc3339(r.committed_at).has_value()) {
    return FieldError(Join(kPath, "committed_at"), "must be an RFC 3339 UTC timestamp");
  }
  return r;
}

json::Value EncodeHead(const Head& head) {
  json::Object o;
  o.emplace_back("version", static_cast<std::uint64_t>(head.version));
  o.emplace_back("payload_b3", head.payload_b3);
  o.emplace_back("committed_at", head.committed_at.has_value() ? json::Value(*head.committed_at)
                                                               : json::Value(nullptr));
  o.emplace_back("root", head.root);
  return json::Value(std::move(o));
}

util::Result<Head> DecodeHead(const json::Value& value) {
  constexpr std::string_view kPath = "head";
  REGISTRY_RETURN_IF_ERROR(
      CheckObject(value, kPath, {"version", "payload_b3", "committed_at", "root"}));
  Head h;
  REGISTRY_ASSIGN_OR_RETURN(
      h.version, internal::RequiredUint(value, kPath, "version", 0, (std::uint64_t{1} << 53) - 1));
  REGISTRY_ASSIGN_OR_RETURN(h.payload_b3, internal::RequiredString(value, kPath, "payload_b3"));
  const json::Value* committed_at = value.Find("committed_at");
  if (committed_at == nullptr) return FieldError(Join(kPath, "committed_at"), "required");
  if (committed_at->is_string()) {
    h.committed_at = committed_at->as_string();
  } else if (!committed_at->is_null()) {
    return FieldError(Join(kPath, "committed_at"), "must be a string or null");
  }
  REGISTRY_ASSIGN_OR_RETURN(h.root, internal::RequiredString(value, kPath, "root"));
  return h;
}

}  // namespace registry::model
