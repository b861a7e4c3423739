// Ed25519 keys, signing and verification (libsodium). Signing exists for registryctl and
// tests; the service itself holds no governance keys and only verifies (SPEC §0).
// All functions are thread-safe once Init() has run (it runs sodium_init()).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "registry/util/result.h"

namespace registry::crypto {

using Ed25519PublicKey = std::array<std::uint8_t, 32>;
using Ed25519Seed = std::array<std::uint8_t, 32>;
using Ed25519Signature = std::array<std::uint8_t, 64>;

// Initialises libsodium. Idempotent and thread-safe; every other crypto call REQUIRES it.
// Aborts if libsodium cannot initialise (no usable randomness source).
void Init();

struct Ed25519KeyPair {
  Ed25519Seed seed;  // the 32-byte secret seed; callers MUST NOT log it
  Ed25519PublicKey public_key;
};

// A key pair from fresh randomness.
Ed25519KeyPair GenerateEd25519();
// The key pair determined by `seed` (RFC 8032).
Ed25519KeyPair Ed25519FromSeed(const Ed25519Seed& seed);

Ed25519Signature Ed25519Sign(const Ed25519Seed& seed, std::string_view message);

// True when `sig` is a valid signature of `message` by `public_key` (libsodium's strict
// verification: canonical encodings, small-order keys rejected).
bool Ed25519Verify(const Ed25519PublicKey& public_key, std::string_view message,
                   const Ed25519Signature& sig);

}  // namespace registry::crypto
