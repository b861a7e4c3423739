// Lower-case hexadecimal encoding and strict decoding. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace registry::util {

std::string HexEncode(std::span<const std::uint8_t> bytes);
// Accepts upper- and lower-case digits; an odd length or any other character is nullopt.
std::optional<std::vector<std::uint8_t>> HexDecode(std::string_view hex);

}  // namespace registry::util
