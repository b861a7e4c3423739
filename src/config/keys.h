// The table of configuration keys (internal to the config module): name, type, range,
// convenience flag, and how to read and write the key in a Config. Every layer (file, env,
// flags) goes through the same checks here, so a value is validated the same way whatever its
// source. Immutable static data; thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "registry/config/config.h"
#include "registry/util/error.h"
#include "registry/util/result.h"

namespace registry::config::internal {

enum class Kind : std::uint8_t { kBool, kInt, kString, kDuration, kEnum, kAddr };

// The typed value of one key: bool (kBool), int64 (kInt; kDuration in milliseconds) or the
// text (kString, kEnum, kAddr).
using Value = std::variant<bool, std::int64_t, std::string>;

struct KeySpec {
  std::string_view name;
  Kind kind;
  std::int64_t min = 0;  // kInt: the value; kDuration: milliseconds
  std::int64_t max = 0;
  std::span<const std::string_view> choices;  // kEnum, in the enum's order
  std::string_view flag;                      // convenience flag, or ""
  bool secret = false;                        // never echo the value in messages
  // Extra check of a kString value: an empty view when fine, else what is wrong.
  std::string_view (*check)(std::string_view value) = nullptr;
  void (*set)(Config& config, const Value& value) = nullptr;
  Value (*get)(const Config& config) = nullptr;
};

std::span<const KeySpec> AllKeys();
const KeySpec* FindKey(std::string_view name);
const KeySpec* FindKeyByEnv(std::string_view env_name);
// True for the table names: "limits", "storage", ...
bool IsSection(std::string_view name);
// "a boolean", "an integer", "a string", "a duration string such as \"5s\"", ...
std::string ExpectedType(const KeySpec& spec);
// "bool", "integer", "string", "duration", "enum", "address".
std::string_view TypeName(Kind kind);

// The closest known key to `name` (edit distance), or "" when nothing is close.
std::string_view Suggest(std::string_view name);
std::string SuggestEnv(std::string_view env_name);

// "config: <key>: <message> (from <origin>)".
util::Error KeyError(std::string_view key, std::string_view message, const Origin& origin);

// Converts the text form (environment, command line) of a value of `spec`.
util::Result<Value> ParseText(const KeySpec& spec, std::string_view text, const Origin& origin);

// Checks `value` against the key's range or grammar, then stores it and records `origin`.
util::Status Assign(Config& config, const KeySpec& spec, Value value, const Origin& origin);

}  // namespace registry::config::internal
