// BLAKE3-256 (the payload identity, SPEC §1.3), from the reference C implementation with
// its x86-64 SIMD back ends chosen at run time. Pure functions and a small streaming
// hasher; a Blake3Hasher is not thread-safe, the free functions are.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace registry::crypto {

using Blake3Digest = std::array<std::uint8_t, 32>;

Blake3Digest Blake3(std::span<const std::uint8_t> data);
Blake3Digest Blake3(std::string_view data);

// "b3:" + 64 lower-case hex digits of BLAKE3-256(data): the payload_b3 form.
std::string PayloadB3(std::string_view canonical_bytes);

// The genesis prev_hash / payload_b3: "b3:" + 64 zeros.
const std::string& ZeroB3();

// True when `s` is "b3:" followed by exactly 64 lower-case hex digits.
bool IsWellFormedB3(std::string_view s);

class Blake3Hasher {
 public:
  Blake3Hasher();
  ~Blake3Hasher();
  Blake3Hasher(const Blake3Hasher&) = delete;
  Blake3Hasher& operator=(const Blake3Hasher&) = delete;

  void Update(std::string_view data);
  Blake3Digest Finalize() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace registry::crypto
