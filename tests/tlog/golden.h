// Golden values made with Go's golang.org/x/mod/sumdb/note (Debian golang-golang-x-mod-dev)
// from a fixed seed, so the tests pin byte-for-byte compatibility with Go's format.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "registry/crypto/ed25519.h"
#include "registry/crypto/sha256.h"

namespace registry::tlog::golden {

inline constexpr std::string_view kName = "registry.example.com/log";
// Seed 00 01 02 … 1f.
inline crypto::Ed25519Seed Seed() {
  crypto::Ed25519Seed s;
  for (std::size_t i = 0; i < s.size(); ++i) s[i] = static_cast<std::uint8_t>(i);
  return s;
}
inline constexpr std::string_view kVerifierKey =
    "registry.example.com/log+b8183496+AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4";
inline constexpr std::string_view kPrivateKey =
    "PRIVATE+KEY+registry.example.com/log+b8183496+AQABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f";
inline constexpr std::uint32_t kKeyId = 0xb8183496;
// Root a0 a1 … bf.
inline crypto::Sha256Digest Root() {
  crypto::Sha256Digest r;
  for (std::size_t i = 0; i < r.size(); ++i) r[i] = static_cast<std::uint8_t>(0xa0 + i);
  return r;
}
// note.Sign of the checkpoint (kName, 42, Root()) with kPrivateKey.
inline constexpr std::string_view kCheckpointNote =
    "registry.example.com/log\n42\noKGio6SlpqeoqaqrrK2ur7CxsrO0tba3uLm6u7y9vr8=\n\n"
    "\xE2\x80\x94 registry.example.com/log "
    "uBg0lgLp8SHopGcpmrWorDz2LHzOFwb+eJcN69iWoZWK5qKe6sNCLzlYYqU9ZHRhZzB1NJCqVgJlzYLAHgKtNiBn0w4="
    "\n";

}  // namespace registry::tlog::golden
