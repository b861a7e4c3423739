#include <algorithm>
#include <cstdint>
#include <numeric>
#include <vector>

#include "parse_internal.h"

namespace registry::json::internal {

std::size_t FindDuplicateMember(const Object& members) {
  const std::size_t n = members.size();
  if (n < 2) return kNoDuplicate;
  // Objects in registry payloads have a handful of members: pairwise comparison (length
  // first, inside operator==) is faster than anything that allocates.
  constexpr std::size_t kPairwiseLimit = 16;
  if (n <= kPairwiseLimit) {
    for (std::size_t j = 1; j < n; ++j) {
      for (std::size_t i = 0; i < j; ++i) {
        if (members[i].first == members[j].first) return j;
      }
    }
    return kNoDuplicate;
  }
  // Sort indices by (name, index): equal names become neighbours, the later one second.
  std::vector<std::uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0u);
  std::sort(order.begin(), order.end(), [&members](std::uint32_t a, std::uint32_t b) {
    const int c = members[a].first.compare(members[b].first);
    return c < 0 || (c == 0 && a < b);
  });
  std::size_t first = kNoDuplicate;
  for (std::size_t k = 1; k < n; ++k) {
    if (members[order[k]].first == members[order[k - 1]].first) {
      first = std::min<std::size_t>(first, order[k]);
    }
  }
  return first;
}

}  // namespace registry::json::internal
