#include "registry/api/corr_id.h"

#include <random>

namespace registry::api {

namespace {

constexpr char kCrockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

// Correlation ids are not secrets: a per-thread PRNG seeded once is enough.
std::uint64_t NextRandom() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng();
}

}  // namespace

std::string NewUlid(util::UnixMillis now) {
  std::string out(26, '0');
  std::uint64_t t = static_cast<std::uint64_t>(now) & ((std::uint64_t{1} << 48) - 1);
  // 10 characters of time (50 bits, the top two always zero), most significant first.
  for (int i = 9; i >= 0; --i) {
    out[i] = kCrockford[t & 31];
    t >>= 5;
  }
  // 16 characters of randomness (80 bits).
  std::uint64_t hi = NextRandom();
  std::uint64_t lo = NextRandom();
  for (int i = 25; i >= 10; --i) {
    out[i] = kCrockford[lo & 31];
    lo = (lo >> 5) | (hi << 59);
    hi >>= 5;
  }
  return out;
}

bool IsAcceptableCorrId(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace registry::api
