// DumpToml(): the effective configuration as TOML, for `--print-config`. The output is read
// back by Load() in tests, so everything written here must stay valid TOML.
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <variant>

#include "keys.h"
#include "registry/config/config.h"

namespace registry::config {
namespace {

using internal::KeySpec;
using internal::Kind;

constexpr std::string_view kRedacted = "<redacted>";

// A TOML basic string.
std::string TomlString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (u < 0x20 || u == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04X", u);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

// A comment must stay on its line.
std::string CommentText(std::string_view s) {
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u == 0x7f) ? '?' : c;
  }
  return out;
}

std::string FormatValue(const KeySpec& spec, const internal::Value& value) {
  switch (spec.kind) {
    case Kind::kBool:
      return std::get<bool>(value) ? "true" : "false";
    case Kind::kInt:
      return std::to_string(std::get<std::int64_t>(value));
    case Kind::kDuration:
      return TomlString(FormatDuration(milliseconds(std::get<std::int64_t>(value))));
    case Kind::kString:
    case Kind::kEnum:
    case Kind::kAddr: {
      const std::string& s = std::get<std::string>(value);
      if (spec.secret && !s.empty()) return TomlString(kRedacted);
      return TomlString(s);
    }
  }
  return "\"\"";
}

}  // namespace

std::string DumpToml(const Config& config) {
  std::string out = "# svc-registry effective configuration (secrets redacted)\n";
  std::string_view section;
  for (const KeySpec& spec : internal::AllKeys()) {
    const auto dot = spec.name.find('.');
    const std::string_view this_section =
        dot == std::string_view::npos ? std::string_view() : spec.name.substr(0, dot);
    const std::string_view leaf =
        dot == std::string_view::npos ? spec.name : spec.name.substr(dot + 1);
    if (this_section != section) {
      out += "\n[";
      out += this_section;
      out += "]\n";
      section = this_section;
    }
    out += leaf;
    out += " = ";
    out += FormatValue(spec, spec.get(config));
    auto it = config.origins.find(spec.name);
    if (it != config.origins.end() && it->second.kind != Origin::Kind::kDefault) {
      out += "  # from " + CommentText(it->second.ToString());
    }
    out += '\n';
  }
  return out;
}

}  // namespace registry::config
