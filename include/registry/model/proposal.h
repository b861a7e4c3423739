// The propose request body (SPEC §2.1) and proposal states (SPEC §1.6).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "registry/json/value.h"
#include "registry/model/payload.h"
#include "registry/util/result.h"

namespace registry::model {

enum class ProposalStatus : std::uint8_t { kPending, kCommitted, kExpired, kStale };
std::string_view ProposalStatusName(ProposalStatus status);
std::optional<ProposalStatus> ParseProposalStatus(std::string_view name);

// {"schema_version":"1.0.0","payload":{...},"payload_b3"?:"b3:..."}, decoded, canonicalized
// and hashed; a supplied payload_b3 must equal the computed one (kMalformed otherwise).
util::Result<CanonicalPayload> DecodeProposeRequest(const json::Value& value,
                                                    const PayloadLimits& limits);

}  // namespace registry::model
