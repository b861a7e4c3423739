#include "registry/crypto/base64.h"

#include <sodium.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "registry/crypto/ed25519.h"  // Init()

namespace registry::crypto {
namespace {

constexpr int kVariant = sodium_base64_VARIANT_ORIGINAL;

std::string Encode(const unsigned char* data, std::size_t len) {
  Init();
  // sodium_base64_ENCODED_LEN counts the NUL terminator that sodium_bin2base64 writes.
  const std::size_t encoded_len = sodium_base64_ENCODED_LEN(len, kVariant);
  std::string out(encoded_len, '\0');
  sodium_bin2base64(out.data(), out.size(), data, len, kVariant);
  out.resize(encoded_len - 1);
  return out;
}

}  // namespace

std::string Base64Encode(std::span<const std::uint8_t> bytes) {
  return Encode(bytes.data(), bytes.size());
}

std::string Base64Encode(std::string_view bytes) {
  return Encode(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
}

std::optional<std::vector<std::uint8_t>> Base64Decode(std::string_view text) {
  Init();
  if (text.empty()) return std::vector<std::uint8_t>();
  // Padded base64 always comes in whole 4-character groups.
  if (text.size() % 4 != 0) return std::nullopt;

  std::vector<std::uint8_t> out(text.size() / 4 * 3);
  std::size_t bin_len = 0;
  const char* b64_end = nullptr;
  // ignore = nullptr: no whitespace or other skipped characters are tolerated.
  if (sodium_base642bin(out.data(), out.size(), text.data(), text.size(), /*ignore=*/nullptr,
                        &bin_len, &b64_end, kVariant) != 0) {
    return std::nullopt;
  }
  // With b64_end given, libsodium stops at the first byte it cannot use and still succeeds;
  // strictness means the whole input was consumed.
  if (b64_end != text.data() + text.size()) return std::nullopt;
  out.resize(bin_len);
  // One encoding per byte string: libsodium already rejects non-zero trailing bits, and the
  // round trip makes that property independent of the library version.
  if (Encode(out.data(), out.size()) != text) return std::nullopt;
  return out;
}

}  // namespace registry::crypto
