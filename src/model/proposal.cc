#include "registry/model/proposal.h"

#include "decode_util.h"
#include "registry/model/constants.h"

namespace registry::model {

using internal::CheckObject;
using internal::FieldError;

std::string_view ProposalStatusName(ProposalStatus status) {
  switch (status) {
    case ProposalStatus::kPending:
      return "pending";
    case ProposalStatus::kCommitted:
      return "committed";
    case ProposalStatus::kExpired:
      return "expired";
    case ProposalStatus::kStale:
      return "stale";
  }
  return "pending";
}

std::optional<ProposalStatus> ParseProposalStatus(std::string_view name) {
  for (ProposalStatus s : {ProposalStatus::kPending, ProposalStatus::kCommitted,
                           ProposalStatus::kExpired, ProposalStatus::kStale}) {
    if (ProposalStatusName(s) == name) return s;
  }
  return std::nullopt;
}

util::Result<CanonicalPayload> DecodeProposeRequest(const json::Value& value,
                                                    const PayloadLimits& limits) {
  constexpr std::string_view kPath = "body";
  REGISTRY_RETURN_IF_ERROR(CheckObject(value, kPath, {"schema_version", "payload", "payload_b3"}));
  REGISTRY_ASSIGN_OR_RETURN(std::string schema_version,
                            internal::RequiredString(value, kPath, "schema_version"));
  if (schema_version != kSchemaVersion) {
    return FieldError("body.schema_version", "must be \"1.0.0\"");
  }
  const json::Value* payload = value.Find("payload");
  if (payload == nullptr) return FieldError("body.payload", "required");
  REGISTRY_ASSIGN_OR_RETURN(std::optional<std::string> claimed,
                            internal::OptionalString(value, kPath, "payload_b3"));
  REGISTRY_ASSIGN_OR_RETURN(CanonicalPayload canonical, MakeCanonicalPayload(*payload, limits));
  if (claimed.has_value() && *claimed != canonical.payload_b3) {
    return FieldError("body.payload_b3", "does not match the computed " + canonical.payload_b3);
  }
  return canonical;
}

}  // namespace registry::model
