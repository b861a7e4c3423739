// HttpLogSource: a LogSource over a running svc-registry's read plane (GET /registry/head,
// /registry/{V}, /registry/checkpoint, /registry/proof/*). A version answered with 410 (the
// retention's `Pruned`) is kPruned. Not thread-safe (one http::Client).
#pragma once

#include <memory>
#include <string>

#include "log_source.h"
#include "registry/http/client.h"

namespace registry::ctl {

class HttpLogSource final : public LogSource {
 public:
  explicit HttpLogSource(http::Client client) : client_(std::move(client)) {}

  std::string Describe() const override;
  util::Result<std::string> Checkpoint() override;
  util::Result<json::Value> Head() override;
  util::Result<std::string> Record(std::uint64_t v) override;
  util::Result<std::vector<core::Hash>> InclusionProof(std::uint64_t v, std::uint64_t n,
                                                       std::span<const core::Hash> leaves) override;
  util::Result<std::vector<core::Hash>> ConsistencyProof(
      std::uint64_t m, std::uint64_t n, std::span<const core::Hash> leaves) override;

 private:
  util::Result<json::Value> GetJson(const std::string& target);
  util::Result<std::vector<core::Hash>> GetProof(const std::string& target);

  http::Client client_;
};

// " (Code: message)" from an API error body, or "" when the body is not one.
std::string ApiErrorSuffix(std::string_view body);

}  // namespace registry::ctl
