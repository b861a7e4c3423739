// Builders for the API's JSON responses: the error body of SPEC §2.3 and the common
// headers every response carries. Pure; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "registry/http/message.h"
#include "registry/util/error.h"

namespace registry::api {

inline constexpr std::string_view kJsonContentType = "application/json; charset=utf-8";

// {"error":{"code","message","corr_id","details"}} with the status of `error.code()`.
// Busy, NotReady and Frozen carry Retry-After: `retry_after_seconds`.
http::Response ErrorResponse(const util::Error& error, std::string_view corr_id,
                             std::uint32_t retry_after_seconds = 1);

// The same from a raw status and code name (errors the HTTP server decides itself).
http::Response ErrorResponse(int status, std::string_view code, std::string_view message,
                             std::string_view corr_id, std::uint32_t retry_after_seconds = 1);

// A JSON response with the given status and body.
http::Response JsonResponse(int status, std::string body);

}  // namespace registry::api
