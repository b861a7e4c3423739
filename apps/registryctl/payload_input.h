// The payload a registryctl command was given, decoded strictly (SPEC §1.2) and hashed.
// Pure; thread-safe.
#pragma once

#include <string_view>

#include "registry/model/payload.h"
#include "registry/util/result.h"

namespace registry::ctl {

// Parses `bytes` and decodes either a payload object or a propose request body
// ({"schema_version","payload",...}; told apart by a top-level "payload" member and no
// "version" member), then canonicalizes and hashes the payload. Errors are the parser's or
// the model's, naming the offending field.
util::Result<model::CanonicalPayload> LoadCanonicalPayload(std::string_view bytes,
                                                           const model::PayloadLimits& limits);

}  // namespace registry::ctl
