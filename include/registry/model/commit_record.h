// CommitRecord: an immutable version (SPEC §1.7), and HEAD (SPEC §1.8).
//
// A commit record's canonical bytes are what GET /registry/{V} returns and what the
// Merkle log hashes as leaf V-1; they are built once, at commit, and never re-derived
// differently: EncodeCommitRecordCanonical splices the payload's canonical bytes into the
// record without re-serializing the payload.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "registry/json/value.h"
#include "registry/model/approval.h"
#include "registry/model/payload.h"
#include "registry/util/result.h"

namespace registry::model {

struct CommitRecord {
  std::string schema_version;  // "1.0.0"
  std::uint64_t version = 0;
  Payload payload;
  std::string payload_b3;
  std::vector<Approval> approvals;  // sorted by signer_id
  std::string committed_at;         // RFC 3339 UTC with milliseconds
};

// Canonical bytes of the record built from its parts. `canonical_payload` MUST be the
// canonical form of the payload; `approvals` MUST be sorted by signer_id.
std::string EncodeCommitRecordCanonical(std::uint64_t version, std::string_view canonical_payload,
                                        std::string_view payload_b3,
                                        const std::vector<Approval>& approvals,
                                        std::string_view committed_at);

// Strict decoding of a commit record (registryctl verify, storage recovery).
util::Result<CommitRecord> DecodeCommitRecord(const json::Value& value,
                                              const PayloadLimits& limits);

struct Head {
  std::uint64_t version = 0;
  std::string payload_b3;                   // ZeroB3() at genesis
  std::optional<std::string> committed_at;  // null at genesis
  std::string root;                         // base64 Merkle root at tree size = version

  friend bool operator==(const Head&, const Head&) = default;
};

json::Value EncodeHead(const Head& head);
util::Result<Head> DecodeHead(const json::Value& value);

}  // namespace registry::model
