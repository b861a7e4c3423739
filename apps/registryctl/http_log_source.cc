#include "http_log_source.h"

#include <algorithm>
#include <optional>

#include "registry/crypto/base64.h"
#include "registry/json/parse.h"

namespace registry::ctl {

std::string ApiErrorSuffix(std::string_view body) {
  util::Result<json::Value> parsed = json::Parse(body);
  const json::Value* error = parsed.ok() ? parsed->Find("error") : nullptr;
  const json::Value* code = error != nullptr ? error->Find("code") : nullptr;
  const json::Value* message = error != nullptr ? error->Find("message") : nullptr;
  if (code == nullptr || !code->is_string()) return "";
  std::string out = " (" + code->as_string();
  if (message != nullptr && message->is_string()) out += ": " + message->as_string();
  return out + ")";
}

std::string HttpLogSource::Describe() const { return client_.url_base(); }

util::Result<json::Value> HttpLogSource::GetJson(const std::string& target) {
  REGISTRY_ASSIGN_OR_RETURN(http::ClientResponse r, client_.Request("GET", target, {}));
  if (r.status != 200) {
    return util::Error(
        util::ErrorCode::kMalformed,
        "GET " + target + " answered " + std::to_string(r.status) + ApiErrorSuffix(r.body));
  }
  return json::Parse(r.body);
}

util::Result<std::vector<core::Hash>> HttpLogSource::GetProof(const std::string& target) {
  REGISTRY_ASSIGN_OR_RETURN(json::Value body, GetJson(target));
  const json::Value* hashes = body.Find("hashes");
  if (hashes == nullptr || !hashes->is_array()) {
    return util::Error(util::ErrorCode::kMalformed, "GET " + target + " is not {\"hashes\":[...]}");
  }
  std::vector<core::Hash> out;
  for (const json::Value& h : hashes->as_array()) {
    std::optional<std::vector<std::uint8_t>> bytes =
        h.is_string() ? crypto::Base64Decode(h.as_string()) : std::nullopt;
    core::Hash hash{};
    if (!bytes.has_value() || bytes->size() != hash.size()) {
      return util::Error(util::ErrorCode::kMalformed,
                         "GET " + target + ": a hash is not the base64 of 32 bytes");
    }
    std::copy(bytes->begin(), bytes->end(), hash.begin());
    out.push_back(hash);
  }
  return out;
}

util::Result<std::string> HttpLogSource::Checkpoint() {
  REGISTRY_ASSIGN_OR_RETURN(http::ClientResponse r,
                            client_.Request("GET", "/registry/checkpoint", {}));
  if (r.status == 200) return std::move(r.body);
  return util::Error(
      r.status == 404 ? util::ErrorCode::kNotFound : util::ErrorCode::kMalformed,
      "GET /registry/checkpoint answered " + std::to_string(r.status) + ApiErrorSuffix(r.body));
}

util::Result<json::Value> HttpLogSource::Head() { return GetJson("/registry/head"); }

util::Result<std::string> HttpLogSource::Record(std::uint64_t v) {
  const std::string target = "/registry/" + std::to_string(v);
  REGISTRY_ASSIGN_OR_RETURN(http::ClientResponse r, client_.Request("GET", target, {}));
  if (r.status == 200) return std::move(r.body);
  const std::string answered =
      "GET " + target + " answered " + std::to_string(r.status) + ApiErrorSuffix(r.body);
  // 410 on a version read means retention removed it (the only 410 of this route).
  if (r.status == 410) return util::Error(util::ErrorCode::kPruned, answered);
  return util::Error(util::ErrorCode::kMalformed, "version " + std::to_string(v) + ": " + answered);
}

util::Result<std::vector<core::Hash>> HttpLogSource::InclusionProof(
    std::uint64_t v, std::uint64_t n, std::span<const core::Hash> /*leaves*/) {
  return GetProof("/registry/proof/inclusion?version=" + std::to_string(v) +
                  "&tree_size=" + std::to_string(n));
}

util::Result<std::vector<core::Hash>> HttpLogSource::ConsistencyProof(
    std::uint64_t m, std::uint64_t n, std::span<const core::Hash> /*leaves*/) {
  return GetProof("/registry/proof/consistency?from=" + std::to_string(m) +
                  "&to=" + std::to_string(n));
}

}  // namespace registry::ctl
