// SHA-256 (libsodium), used by the RFC 6962 Merkle log and key IDs. Thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string_view>

namespace registry::crypto {

using Sha256Digest = std::array<std::uint8_t, 32>;

Sha256Digest Sha256(std::string_view data);

class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;

  void Update(std::string_view data);
  Sha256Digest Finalize();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace registry::crypto
