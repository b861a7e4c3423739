#include "registry/api/responses.h"

#include "registry/json/canonical.h"

namespace registry::api {

namespace {

http::Response MakeError(int status, std::string_view code, std::string_view message,
                         std::string_view corr_id, const util::Error::Details* details,
                         std::uint32_t retry_after_seconds) {
  std::string body = "{\"error\":{\"code\":";
  json::AppendCanonicalString(code, body);
  body += ",\"message\":";
  json::AppendCanonicalString(message, body);
  body += ",\"corr_id\":";
  json::AppendCanonicalString(corr_id, body);
  body += ",\"details\":{";
  if (details != nullptr) {
    for (std::size_t i = 0; i < details->size(); ++i) {
      if (i > 0) body += ',';
      json::AppendCanonicalString((*details)[i].first, body);
      body += ':';
      body += std::to_string((*details)[i].second);
    }
  }
  body += "}}}";
  http::Response r = JsonResponse(status, std::move(body));
  if (status == 429 || status == 503) {
    r.SetHeader("Retry-After", std::to_string(retry_after_seconds));
  }
  return r;
}

}  // namespace

http::Response ErrorResponse(const util::Error& error, std::string_view corr_id,
                             std::uint32_t retry_after_seconds) {
  return MakeError(util::HttpStatus(error.code()), util::ErrorCodeName(error.code()),
                   error.message(), corr_id, &error.details(), retry_after_seconds);
}

http::Response ErrorResponse(int status, std::string_view code, std::string_view message,
                             std::string_view corr_id, std::uint32_t retry_after_seconds) {
  return MakeError(status, code, message, corr_id, nullptr, retry_after_seconds);
}

http::Response JsonResponse(int status, std::string body) {
  http::Response r;
  r.status = status;
  r.headers.emplace_back("Content-Type", std::string(kJsonContentType));
  r.body = std::make_shared<const std::string>(std::move(body));
  return r;
}

}  // namespace registry::api
