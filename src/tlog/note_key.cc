#include "registry/tlog/note_key.h"

#include <fcntl.h>
#include <string.h>  // explicit_bzero
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <optional>
#include <vector>

#include "registry/crypto/base64.h"
#include "registry/crypto/sha256.h"
#include "registry/util/check.h"
#include "registry/util/private_file.h"
#include "utf8.h"

namespace registry::tlog {

using util::Error;
using util::ErrorCode;

namespace {

// A key file is one line; anything much larger is not one.
constexpr std::size_t kMaxKeyFileBytes = 4096;

Error Malformed(std::string message) { return Error(ErrorCode::kMalformed, std::move(message)); }

// Splits at the first '+': the text before it and after it (all and "" when there is none),
// as Go's note package does.
std::pair<std::string_view, std::string_view> Chop(std::string_view s) {
  std::size_t i = s.find('+');
  if (i == std::string_view::npos) return {s, {}};
  return {s.substr(0, i), s.substr(i + 1)};
}

std::optional<std::uint32_t> ParseKeyIdHex(std::string_view hex) {
  if (hex.size() != 8) return std::nullopt;
  std::uint32_t v = 0;
  for (char c : hex) {
    int d = -1;
    if (c >= '0' && c <= '9') d = c - '0';
    if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
    if (d < 0) return std::nullopt;
    v = (v << 4) | static_cast<std::uint32_t>(d);
  }
  return v;
}

// base64(0x01 ‖ 32 bytes) → the 32 bytes.
util::Result<std::array<std::uint8_t, 32>> DecodeKeyBytes(std::string_view b64,
                                                          std::string_view what) {
  std::optional<std::vector<std::uint8_t>> raw = crypto::Base64Decode(b64);
  if (!raw.has_value() || raw->empty()) {
    return Malformed(std::string(what) + ": the key is not base64");
  }
  if ((*raw)[0] != kAlgEd25519) {
    const std::uint8_t alg = (*raw)[0];
    explicit_bzero(raw->data(), raw->size());
    return Malformed(std::string(what) + ": unknown key algorithm " + std::to_string(alg) +
                     " (only 1, Ed25519)");
  }
  if (raw->size() != 33) {
    const std::size_t size = raw->size() - 1;
    explicit_bzero(raw->data(), raw->size());
    return Malformed(std::string(what) + ": an Ed25519 key has 32 bytes, this one " +
                     std::to_string(size));
  }
  std::array<std::uint8_t, 32> out;
  std::copy(raw->begin() + 1, raw->end(), out.begin());
  explicit_bzero(raw->data(), raw->size());
  return out;
}

std::string EncodeKeyBytes(std::span<const std::uint8_t, 32> key) {
  std::array<std::uint8_t, 33> raw;
  raw[0] = kAlgEd25519;
  std::copy(key.begin(), key.end(), raw.begin() + 1);
  std::string out = crypto::Base64Encode(raw);
  explicit_bzero(raw.data(), raw.size());
  return out;
}

}  // namespace

bool IsValidKeyName(std::string_view name) {
  if (name.empty() || !internal::IsValidUtf8(name)) return false;
  for (std::size_t i = 0; i < name.size();) {
    const char32_t cp = internal::DecodeUtf8(name, i);
    if (cp == U'+' || internal::IsUnicodeSpace(cp)) return false;
  }
  return true;
}

std::uint32_t KeyId(std::string_view name, const crypto::Ed25519PublicKey& public_key) {
  crypto::Sha256Hasher h;
  h.Update(name);
  h.Update("\n");
  const char alg = static_cast<char>(kAlgEd25519);
  h.Update(std::string_view(&alg, 1));
  h.Update(std::string_view(reinterpret_cast<const char*>(public_key.data()), public_key.size()));
  const crypto::Sha256Digest sum = h.Finalize();
  return (std::uint32_t{sum[0]} << 24) | (std::uint32_t{sum[1]} << 16) |
         (std::uint32_t{sum[2]} << 8) | std::uint32_t{sum[3]};
}

std::string KeyIdHex(std::uint32_t key_id) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", static_cast<unsigned>(key_id));
  return buf;
}

std::string NoteVerifierKey::ToString() const {
  return name + "+" + KeyIdHex(key_id) + "+" + EncodeKeyBytes(public_key);
}

NoteSigningKey::NoteSigningKey(std::string name, const crypto::Ed25519Seed& seed) : seed_(seed) {
  REGISTRY_CHECK(IsValidKeyName(name), "NoteSigningKey: invalid key name");
  verifier_.public_key = crypto::Ed25519FromSeed(seed).public_key;
  verifier_.key_id = KeyId(name, verifier_.public_key);
  verifier_.name = std::move(name);
}

NoteSigningKey::~NoteSigningKey() { explicit_bzero(seed_.data(), seed_.size()); }

std::string NoteSigningKey::ToString() const {
  return "PRIVATE+KEY+" + verifier_.name + "+" + KeyIdHex(verifier_.key_id) + "+" +
         EncodeKeyBytes(seed_);
}

util::Result<GeneratedLogKey> GenerateLogKey(std::string_view name) {
  if (!IsValidKeyName(name)) {
    return Malformed("log key name \"" + std::string(name) +
                     "\": must be non-empty UTF-8 without white space or '+'");
  }
  crypto::Ed25519KeyPair pair = crypto::GenerateEd25519();
  NoteSigningKey key{std::string(name), pair.seed};
  explicit_bzero(pair.seed.data(), pair.seed.size());
  return GeneratedLogKey{key.ToString(), key.verifier().ToString()};
}

util::Result<NoteSigningKey> ParsePrivateKey(std::string_view text) {
  auto [priv1, rest1] = Chop(text);
  auto [priv2, rest2] = Chop(rest1);
  if (priv1 != "PRIVATE" || priv2 != "KEY") {
    return Malformed("private log key: must start with PRIVATE+KEY+");
  }
  auto [name, rest3] = Chop(rest2);
  auto [hex, b64] = Chop(rest3);
  if (!IsValidKeyName(name)) return Malformed("private log key: invalid key name");
  std::optional<std::uint32_t> id = ParseKeyIdHex(hex);
  if (!id.has_value()) return Malformed("private log key: the key ID must be 8 hex digits");
  REGISTRY_ASSIGN_OR_RETURN(crypto::Ed25519Seed seed, DecodeKeyBytes(b64, "private log key"));
  NoteSigningKey key{std::string(name), seed};
  explicit_bzero(seed.data(), seed.size());
  if (key.key_id() != *id) {
    return Malformed("private log key \"" + std::string(name) + "\": key ID " + std::string(hex) +
                     " does not match the key (" + KeyIdHex(key.key_id()) + ")");
  }
  return key;
}

util::Result<NoteVerifierKey> ParseVerifierKey(std::string_view text) {
  auto [name, rest] = Chop(text);
  auto [hex, b64] = Chop(rest);
  if (!IsValidKeyName(name)) return Malformed("verifier key: invalid key name");
  std::optional<std::uint32_t> id = ParseKeyIdHex(hex);
  if (!id.has_value()) return Malformed("verifier key: the key ID must be 8 hex digits");
  REGISTRY_ASSIGN_OR_RETURN(crypto::Ed25519PublicKey public_key,
                            DecodeKeyBytes(b64, "verifier key"));
  NoteVerifierKey key{std::string(name), *id, public_key};
  if (KeyId(name, public_key) != *id) {
    return Malformed("verifier key \"" + std::string(name) + "\": key ID " + std::string(hex) +
                     " does not match the key (" + KeyIdHex(KeyId(name, public_key)) + ")");
  }
  return key;
}

util::Result<NoteSigningKey> LoadPrivateKeyFile(const std::string& path) {
  REGISTRY_ASSIGN_OR_RETURN(std::string bytes,
                            util::ReadPrivateFile(path, kMaxKeyFileBytes, "log key file"));
  std::string_view text(bytes);
  util::Result<NoteSigningKey> key = Malformed("");
  if (bytes.size() > kMaxKeyFileBytes) {
    key = Malformed("longer than one key");
  } else {
    if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    key = ParsePrivateKey(text);
  }
  explicit_bzero(bytes.data(), bytes.size());
  if (!key.ok()) {
    return Malformed("log key file " + path + ": " + key.error().message());
  }
  return key;
}

util::Status WritePrivateKeyFile(const std::string& path, std::string_view private_key) {
  std::string line(private_key);
  line += '\n';
  util::Status written = util::WritePrivateFile(path, line, "log key file");
  explicit_bzero(line.data(), line.size());
  return written;
}

}  // namespace registry::tlog
