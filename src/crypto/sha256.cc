#include "registry/crypto/sha256.h"

#include <sodium.h>

#include <memory>
#include <string_view>

#include "registry/crypto/ed25519.h"  // Init()

namespace registry::crypto {

static_assert(sizeof(Sha256Digest) == crypto_hash_sha256_BYTES);

Sha256Digest Sha256(std::string_view data) {
  Init();
  Sha256Digest out;
  crypto_hash_sha256(out.data(), reinterpret_cast<const unsigned char*>(data.data()), data.size());
  return out;
}

struct Sha256Hasher::State {
  crypto_hash_sha256_state state;
};

Sha256Hasher::Sha256Hasher() : state_(std::make_unique<State>()) {
  Init();
  crypto_hash_sha256_init(&state_->state);
}

Sha256Hasher::~Sha256Hasher() = default;

void Sha256Hasher::Update(std::string_view data) {
  crypto_hash_sha256_update(&state_->state, reinterpret_cast<const unsigned char*>(data.data()),
                            data.size());
}

Sha256Digest Sha256Hasher::Finalize() {
  Sha256Digest out;
  crypto_hash_sha256_final(&state_->state, out.data());
  // crypto_hash_sha256_final wipes the state; start afresh so the hasher stays usable.
  crypto_hash_sha256_init(&state_->state);
  return out;
}

}  // namespace registry::crypto
