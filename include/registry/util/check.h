// REGISTRY_CHECK: an invariant that must hold in every build. A failure is a bug, not bad
// input: it prints the condition, the location and the message to stderr, then aborts.
// Untrusted input never reaches a CHECK; it gets an Error instead.
#pragma once

namespace registry::util {
[[noreturn]] void CheckFailed(const char* condition, const char* file, int line,
                              const char* message);
}  // namespace registry::util

#define REGISTRY_CHECK(cond, message)                                      \
  do {                                                                     \
    if (!(cond)) [[unlikely]] {                                            \
      ::registry::util::CheckFailed(#cond, __FILE__, __LINE__, (message)); \
    }                                                                      \
  } while (false)
