// Correlation ids (X-Corr-ID): a client's own id is echoed when it is a reasonable token;
// otherwise the server mints a ULID. Thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "registry/util/clock.h"

namespace registry::api {

// A new ULID (26 Crockford base32 characters: 48-bit millisecond time, 80 random bits).
std::string NewUlid(util::UnixMillis now);

// True for 1-128 characters of [A-Za-z0-9._:-] (safe to echo and to log).
bool IsAcceptableCorrId(std::string_view id);

}  // namespace registry::api
