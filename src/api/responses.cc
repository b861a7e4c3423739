#include "registry/api/responses.h"

#include <cstdint>
#include <string>

#include "registry/json/canonical.h"

namespace registry::api {

namespace {

// `text` with every byte that is not part of a well-formed UTF-8 sequence (RFC 3629: no
// overlong forms, no surrogates, nothing past U+10FFFF) replaced by U+FFFD. Error messages
// quote request bytes (a path, a parameter), and the body must stay valid JSON.
std::string ValidUtf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const auto b0 = static_cast<unsigned char>(text[i]);
    std::size_t len = 0;
    std::uint32_t cp = 0;
    std::uint32_t min = 0;
    if (b0 < 0x80) {
      out += static_cast<char>(b0);
      ++i;
      continue;
    } else if ((b0 & 0xE0) == 0xC0) {
      len = 2, cp = b0 & 0x1F, min = 0x80;
    } else if ((b0 & 0xF0) == 0xE0) {
      len = 3, cp = b0 & 0x0F, min = 0x800;
    } else if ((b0 & 0xF8) == 0xF0) {
      len = 4, cp = b0 & 0x07, min = 0x10000;
    }
    bool ok = len != 0 && i + len <= text.size();
    for (std::size_t k = 1; ok && k < len; ++k) {
      const auto b = static_cast<unsigned char>(text[i + k]);
      ok = (b & 0xC0) == 0x80;
      cp = (cp << 6) | (b & 0x3F);
    }
    ok = ok && cp >= min && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
    if (ok) {
      out.append(text.substr(i, len));
      i += len;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

http::Response MakeError(int status, std::string_view code, std::string_view message,
                         std::string_view corr_id, const util::Error::Details* details,
                         std::uint32_t retry_after_seconds) {
  std::string body = "{\"error\":{\"code\":";
  json::AppendCanonicalString(code, body);
  body += ",\"message\":";
  json::AppendCanonicalString(ValidUtf8(message), body);
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
