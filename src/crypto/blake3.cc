#include "registry/crypto/blake3.h"

// The reference C implementation (Debian's librust-blake3-dev sources, built by
// cmake/Blake3.cmake). Only this file sees it.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "blake3.h"
#include "registry/util/hex.h"

namespace registry::crypto {
namespace {

constexpr std::string_view kB3Prefix = "b3:";
constexpr std::size_t kB3HexLen = 2 * BLAKE3_OUT_LEN;

static_assert(sizeof(Blake3Digest) == BLAKE3_OUT_LEN);

Blake3Digest Hash(const void* data, std::size_t len) {
  blake3_hasher hasher;
  blake3_hasher_init(&hasher);
  blake3_hasher_update(&hasher, data, len);
  Blake3Digest out;
  blake3_hasher_finalize(&hasher, out.data(), out.size());
  return out;
}

}  // namespace

Blake3Digest Blake3(std::span<const std::uint8_t> data) { return Hash(data.data(), data.size()); }

Blake3Digest Blake3(std::string_view data) { return Hash(data.data(), data.size()); }

std::string PayloadB3(std::string_view canonical_bytes) {
  const Blake3Digest digest = Blake3(canonical_bytes);
  std::string out(kB3Prefix);
  out += util::HexEncode(digest);
  return out;
}

const std::string& ZeroB3() {
  // Leaked on purpose: no destructor runs at exit while another thread may still read it.
  static const std::string* const kZero =
      new std::string(std::string(kB3Prefix) + std::string(kB3HexLen, '0'));
  return *kZero;
}

bool IsWellFormedB3(std::string_view s) {
  if (s.size() != kB3Prefix.size() + kB3HexLen || !s.starts_with(kB3Prefix)) return false;
  for (const char c : s.substr(kB3Prefix.size())) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

struct Blake3Hasher::State {
  blake3_hasher hasher;
};

Blake3Hasher::Blake3Hasher() : state_(std::make_unique<State>()) {
  blake3_hasher_init(&state_->hasher);
}

Blake3Hasher::~Blake3Hasher() = default;

void Blake3Hasher::Update(std::string_view data) {
  blake3_hasher_update(&state_->hasher, data.data(), data.size());
}

Blake3Digest Blake3Hasher::Finalize() const {
  // blake3_hasher_finalize leaves the state untouched, so the hasher may keep absorbing.
  Blake3Digest out;
  blake3_hasher_finalize(&state_->hasher, out.data(), out.size());
  return out;
}

}  // namespace registry::crypto
