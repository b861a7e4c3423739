#include "tlog_routes.h"

#include <optional>
#include <string>
#include <vector>

#include "registry/api/responses.h"
#include "registry/crypto/base64.h"
#include "service_impl.h"

namespace registry::api::internal {

using util::Error;
using util::ErrorCode;

namespace {

// A MerkleLog further behind HEAD than this is loaded on a worker, not an I/O thread.
constexpr std::uint64_t kInlineLoadLeaves = 1024;

Error Malformed(std::string message) { return Error(ErrorCode::kMalformed, std::move(message)); }

util::Result<std::uint64_t> RequiredNumber(std::string_view query, std::string_view name) {
  std::optional<std::string_view> text = QueryParam(query, name);
  if (!text.has_value()) return Malformed(std::string(name) + ": required");
  std::optional<std::uint64_t> n = ParseVersion(*text);
  if (!n.has_value()) {
    return Malformed(std::string(name) + ": must be a non-negative integer, got \"" +
                     std::string(text->substr(0, 32)) + "\"");
  }
  return *n;
}

}  // namespace

util::Result<http::Response> CheckpointResponse(const Deps& deps) {
  if (deps.log_signer == nullptr) {
    return Error(ErrorCode::kNotFound, "no log signing key is configured (tlog.signing_key_path)");
  }
  std::shared_ptr<const core::HeadState> head = deps.registry->Head();
  std::optional<std::vector<std::uint8_t>> root = crypto::Base64Decode(head->head.root);
  crypto::Sha256Digest digest;
  if (!root.has_value() || root->size() != digest.size()) {
    return Error(ErrorCode::kInternal, "HEAD carries no valid Merkle root");
  }
  std::copy(root->begin(), root->end(), digest.begin());
  http::Response r;
  r.status = 200;
  r.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
  r.headers.emplace_back("Cache-Control", "no-cache");
  r.body = deps.log_signer->SignedCheckpoint(head->head.version, digest);
  return r;
}

util::Result<ProofQuery> ParseProofQuery(ProofQuery::Kind kind, std::string_view query,
                                         std::uint64_t head) {
  ProofQuery q;
  q.kind = kind;
  const std::string head_text = " (HEAD is " + std::to_string(head) + ")";
  if (kind == ProofQuery::Kind::kInclusion) {
    REGISTRY_ASSIGN_OR_RETURN(q.first, RequiredNumber(query, "version"));
    REGISTRY_ASSIGN_OR_RETURN(q.second, RequiredNumber(query, "tree_size"));
    if (q.first == 0) return Malformed("version: must be at least 1");
    if (q.first > head) {
      return Malformed("version: " + std::to_string(q.first) + " is beyond HEAD" + head_text);
    }
    if (q.second < q.first) {
      return Malformed("tree_size: must be at least version (" + std::to_string(q.first) +
                       "), got " + std::to_string(q.second));
    }
    if (q.second > head) {
      return Malformed("tree_size: " + std::to_string(q.second) + " is beyond HEAD" + head_text);
    }
    return q;
  }
  REGISTRY_ASSIGN_OR_RETURN(q.first, RequiredNumber(query, "from"));
  REGISTRY_ASSIGN_OR_RETURN(q.second, RequiredNumber(query, "to"));
  if (q.first == 0) {
    return Malformed(
        "from: must be at least 1 (RFC 6962 defines consistency proofs for "
        "0 < from <= to)");
  }
  if (q.second < q.first) {
    return Malformed("to: must be at least from (" + std::to_string(q.first) + "), got " +
                     std::to_string(q.second));
  }
  if (q.second > head) {
    return Malformed("to: " + std::to_string(q.second) + " is beyond HEAD" + head_text);
  }
  return q;
}

bool ProofNeedsLoad(const Deps& deps, const ProofQuery& q) {
  const std::uint64_t have = deps.merkle_log->size();
  return q.second > have && q.second - have > kInlineLoadLeaves;
}

util::Result<http::Response> ProofResponse(const Deps& deps, const ProofQuery& q,
                                           std::uint64_t head) {
  if (deps.merkle_log->size() < q.second) {
    if (util::Status s = deps.merkle_log->CatchUp(*deps.store, head); !s.ok()) {
      return Error(ErrorCode::kInternal, s.error().message());
    }
  }
  util::Result<std::vector<core::Hash>> hashes =
      q.kind == ProofQuery::Kind::kInclusion
          ? deps.merkle_log->InclusionProof(q.first - 1, q.second)
          : deps.merkle_log->ConsistencyProof(q.first, q.second);
  if (!hashes.ok()) return Error(ErrorCode::kInternal, hashes.error().message());
  std::string body = "{\"hashes\":[";
  body.reserve(body.size() + hashes->size() * 47 + 2);
  for (std::size_t i = 0; i < hashes->size(); ++i) {
    if (i > 0) body += ',';
    body += '"';
    body += crypto::Base64Encode((*hashes)[i]);
    body += '"';
  }
  body += "]}";
  http::Response r = JsonResponse(200, std::move(body));
  // The tree of a given size never changes, and neither do its proofs.
  r.headers.emplace_back("Cache-Control", "public, max-age=31536000, immutable");
  return r;
}

}  // namespace registry::api::internal
