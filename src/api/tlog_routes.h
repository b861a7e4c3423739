// The transparency-log routes of the API plane (SPEC §5): GET /registry/checkpoint,
// GET /registry/proof/inclusion and GET /registry/proof/consistency, as functions from the
// request's query and HEAD to a response, so ApiService only dispatches them. Private to
// src/api. Thread-safe (everything they touch is).
#pragma once

#include <cstdint>
#include <string_view>

#include "registry/api/service.h"
#include "registry/http/message.h"
#include "registry/util/result.h"

namespace registry::api::internal {

// GET /registry/checkpoint: the signed C2SP checkpoint note of HEAD, signed once per HEAD
// (LogSigner caches it). kNotFound when no log key is configured.
util::Result<http::Response> CheckpointResponse(const Deps& deps);

// Which proof a request asks for, validated against HEAD.
struct ProofQuery {
  enum class Kind { kInclusion, kConsistency };
  Kind kind = Kind::kInclusion;
  // kInclusion: version (leaf first - 1) in the tree of size second.
  // kConsistency: from the tree of size first to the tree of size second.
  std::uint64_t first = 0;
  std::uint64_t second = 0;
};

// Parses ?version=V&tree_size=N (1 <= V <= N <= head) or ?from=A&to=B (1 <= A <= B <= head).
// kMalformed naming the parameter that is missing, not a number, or out of range.
util::Result<ProofQuery> ParseProofQuery(ProofQuery::Kind kind, std::string_view query,
                                         std::uint64_t head);

// True when serving `q` first needs to load more than a few leaf hashes from the store (a
// cold or far-behind MerkleLog): then the caller runs ProofResponse on a worker thread.
bool ProofNeedsLoad(const Deps& deps, const ProofQuery& q);

// {"hashes":["<base64>",...]} for `q`, after loading the log up to `head` when it is behind.
// kInternal when the store fails or disagrees with itself. REQUIRES: q came from
// ParseProofQuery with this head.
util::Result<http::Response> ProofResponse(const Deps& deps, const ProofQuery& q,
                                           std::uint64_t head);

}  // namespace registry::api::internal
