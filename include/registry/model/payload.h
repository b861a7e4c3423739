// Descriptor and Payload: one registry snapshot, the object that is hashed and signed
// (SPEC §1.1–§1.3).
//
// DecodePayload is strict: unknown members are rejected at every level and every field
// rule is enforced with a message naming the field ("payload.items[3].id: ..."). Decoded
// values are immutable and safe to share between threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "registry/json/value.h"
#include "registry/model/governance.h"
#include "registry/util/result.h"

namespace registry::model {

struct Descriptor {
  std::string kind;
  std::string id;
  std::optional<std::string> endpoint;
  std::optional<std::string> region;
  std::optional<json::Value> meta;  // an object

  friend bool operator==(const Descriptor&, const Descriptor&) = default;
};

enum class SupersedeReason : std::uint8_t { kKeyCompromise, kDataError, kGovernanceAction, kOther };
std::string_view SupersedeReasonName(SupersedeReason reason);

struct Supersede {
  SupersedeReason reason = SupersedeReason::kOther;
  std::optional<std::string> note;

  friend bool operator==(const Supersede&, const Supersede&) = default;
};

struct Payload {
  std::uint64_t version = 0;
  std::string prev_hash;  // "b3:..."
  Governance governance;
  std::vector<Descriptor> items;
  std::optional<std::string> created_at;  // RFC 3339 UTC, as given
  std::optional<std::string> expiry;      // RFC 3339 UTC, as given
  std::optional<Supersede> supersede;

  friend bool operator==(const Payload&, const Payload&) = default;
};

struct PayloadLimits {
  std::size_t max_items = 100000;
};

// Strict decoding of a payload object.
util::Result<Payload> DecodePayload(const json::Value& value, const PayloadLimits& limits);

// The JSON form of `payload`; Canonicalize(EncodePayload(DecodePayload(v))) equals
// Canonicalize(v) for every accepted v.
json::Value EncodePayload(const Payload& payload);

// A payload together with its canonical bytes and identity, computed once.
struct CanonicalPayload {
  Payload payload;
  std::string canonical;    // RFC 8785 bytes of the payload
  std::string payload_b3;   // "b3:" + hex BLAKE3-256(canonical)
  std::string proposal_id;  // "p_" + first 24 hex digits of the BLAKE3
};

// Decodes `value` strictly, canonicalizes it and hashes it.
util::Result<CanonicalPayload> MakeCanonicalPayload(const json::Value& value,
                                                    const PayloadLimits& limits);

// "p_" + the first 24 hex digits of payload_b3's hash. REQUIRES IsWellFormedB3(payload_b3).
std::string ProposalIdFor(std::string_view payload_b3);

// True when `id` is "p_" followed by 24 lower-case hex digits.
bool IsWellFormedProposalId(std::string_view id);

}  // namespace registry::model
