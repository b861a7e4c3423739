#include "registry/util/clock.h"

#include <chrono>

namespace registry::util {

UnixMillis SystemClock::NowMillis() const {
  // system_clock measures Unix time (C++20 guarantees its epoch), so no offset is needed.
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace registry::util
