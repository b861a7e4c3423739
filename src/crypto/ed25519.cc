#include "registry/crypto/ed25519.h"

#include <sodium.h>

#include <array>
#include <cstdint>
#include <mutex>
#include <string_view>

#include "registry/util/check.h"

namespace registry::crypto {
namespace {

static_assert(sizeof(Ed25519PublicKey) == crypto_sign_PUBLICKEYBYTES);
static_assert(sizeof(Ed25519Seed) == crypto_sign_SEEDBYTES);
static_assert(sizeof(Ed25519Signature) == crypto_sign_BYTES);

// libsodium's 64-byte secret key (seed || public key), wiped when it goes out of scope.
class ExpandedSecretKey {
 public:
  ExpandedSecretKey() = default;
  ~ExpandedSecretKey() { sodium_memzero(bytes_.data(), bytes_.size()); }
  ExpandedSecretKey(const ExpandedSecretKey&) = delete;
  ExpandedSecretKey& operator=(const ExpandedSecretKey&) = delete;

  unsigned char* data() { return bytes_.data(); }

 private:
  std::array<unsigned char, crypto_sign_SECRETKEYBYTES> bytes_{};
};

}  // namespace

void Init() {
  static std::once_flag once;
  std::call_once(once, [] {
    // sodium_init() returns 1 when already initialised (e.g. by another library): fine.
    REGISTRY_CHECK(sodium_init() >= 0, "sodium_init() failed (no usable randomness source?)");
  });
}

Ed25519KeyPair GenerateEd25519() {
  Init();
  Ed25519Seed seed;
  randombytes_buf(seed.data(), seed.size());
  Ed25519KeyPair pair = Ed25519FromSeed(seed);
  sodium_memzero(seed.data(), seed.size());
  return pair;
}

Ed25519KeyPair Ed25519FromSeed(const Ed25519Seed& seed) {
  Init();
  Ed25519KeyPair pair;
  pair.seed = seed;
  ExpandedSecretKey sk;
  // Only fails for impossible arguments; a failure here is a libsodium bug.
  REGISTRY_CHECK(crypto_sign_seed_keypair(pair.public_key.data(), sk.data(), seed.data()) == 0,
                 "crypto_sign_seed_keypair failed");
  return pair;
}

Ed25519Signature Ed25519Sign(const Ed25519Seed& seed, std::string_view message) {
  Init();
  // Re-deriving the expanded key costs one scalar multiplication per signature; signing only
  // happens in registryctl and tests, so keeping the API to the 32-byte seed is worth it.
  Ed25519PublicKey public_key;
  ExpandedSecretKey sk;
  REGISTRY_CHECK(crypto_sign_seed_keypair(public_key.data(), sk.data(), seed.data()) == 0,
                 "crypto_sign_seed_keypair failed");
  Ed25519Signature sig;
  REGISTRY_CHECK(crypto_sign_detached(sig.data(), nullptr,
                                      reinterpret_cast<const unsigned char*>(message.data()),
                                      message.size(), sk.data()) == 0,
                 "crypto_sign_detached failed");
  return sig;
}

bool Ed25519Verify(const Ed25519PublicKey& public_key, std::string_view message,
                   const Ed25519Signature& sig) {
  Init();
  return crypto_sign_verify_detached(sig.data(),
                                     reinterpret_cast<const unsigned char*>(message.data()),
                                     message.size(), public_key.data()) == 0;
}

}  // namespace registry::crypto
