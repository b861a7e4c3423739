// Strict standard base64 (RFC 4648 §4, with '+' and '/'): padding required, no whitespace,
// no trailing bytes, non-canonical trailing bits rejected. Thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace registry::crypto {

std::string Base64Encode(std::span<const std::uint8_t> bytes);
std::string Base64Encode(std::string_view bytes);

// The decoded bytes, or nullopt for anything that is not strict padded standard base64.
std::optional<std::vector<std::uint8_t>> Base64Decode(std::string_view text);

}  // namespace registry::crypto
