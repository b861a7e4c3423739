#include "v1_format.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "registry/crypto/base64.h"

namespace registry::auth::internal {
namespace {

constexpr std::size_t kHeaderSize = 4;
constexpr std::size_t kSignatureSize = 32;

// Standard padded base64 from URL-safe unpadded base64, or nullopt if `token` uses any other
// character (including '+', '/', '=' and NUL).
std::optional<std::string> ToStandardBase64(std::string_view token) {
  std::string out;
  out.reserve(token.size() + 3);
  for (char c : token) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
      out += c;
    } else if (c == '-') {
      out += '+';
    } else if (c == '_') {
      out += '/';
    } else {
      return std::nullopt;
    }
  }
  while (out.size() % 4 != 0) out += '=';
  return out;
}

std::string ToUrlSafeUnpadded(std::string standard) {
  while (!standard.empty() && standard.back() == '=') standard.pop_back();
  for (char& c : standard) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return standard;
}

struct Packet {
  std::string_view key;
  std::string_view value;
};

int HexDigit(std::uint8_t c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// The packet at the front of `data`, advancing past it; nullopt unless it is well formed.
std::optional<Packet> NextPacket(std::span<const std::uint8_t>& data) {
  if (data.size() < kHeaderSize) return std::nullopt;
  std::size_t size = 0;
  for (std::size_t i = 0; i < kHeaderSize; ++i) {
    const int digit = HexDigit(data[i]);
    if (digit < 0) return std::nullopt;
    size = size * 16 + static_cast<std::size_t>(digit);
  }
  // Smallest packet: header, a one-byte key, the space and the newline.
  if (size < kHeaderSize + 3 || size > data.size()) return std::nullopt;
  const std::string_view body(reinterpret_cast<const char*>(data.data()) + kHeaderSize,
                              size - kHeaderSize);
  if (body.back() != '\n') return std::nullopt;
  const std::size_t space = body.find(' ');
  if (space == 0 || space == std::string_view::npos) return std::nullopt;
  data = data.subspan(size);
  return Packet{body.substr(0, space), body.substr(space + 1, body.size() - space - 2)};
}

bool IsWellFormed(std::span<const std::uint8_t> data) {
  const std::optional<Packet> location = NextPacket(data);
  if (!location || location->key != "location") return false;
  const std::optional<Packet> identifier = NextPacket(data);
  if (!identifier || identifier->key != "identifier") return false;
  while (true) {
    const std::optional<Packet> packet = NextPacket(data);
    if (!packet) return false;
    if (packet->key == "cid") continue;
    return packet->key == "signature" && packet->value.size() == kSignatureSize && data.empty();
  }
}

}  // namespace

std::optional<std::string> CanonicalV1Token(std::string_view token) {
  const std::optional<std::string> standard = ToStandardBase64(token);
  if (!standard) return std::nullopt;
  const std::optional<std::vector<std::uint8_t>> bytes = crypto::Base64Decode(*standard);
  if (!bytes || !IsWellFormed(*bytes)) return std::nullopt;
  return ToUrlSafeUnpadded(crypto::Base64Encode(*bytes));
}

}  // namespace registry::auth::internal
