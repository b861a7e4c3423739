// Pretty-printed JSON for the files people read and edit (trust roots, example payloads,
// init's report): members in canonical (RFC 8785) order, two-space indentation, one member or
// element per line, strings and numbers exactly as in the canonical form, so that
// Canonicalize(Parse(PrettyJson(v))) == Canonicalize(v). Pure; thread-safe.
#pragma once

#include <string>

#include "registry/json/value.h"

namespace registry::ctl {

// `value` pretty-printed, with a final newline.
std::string PrettyJson(const json::Value& value);

}  // namespace registry::ctl
