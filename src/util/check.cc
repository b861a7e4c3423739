#include "registry/util/check.h"

#include <cstdio>
#include <cstdlib>

namespace registry::util {

void CheckFailed(const char* condition, const char* file, int line, const char* message) {
  // stdio rather than a logger: this runs when the process state is already suspect, and it
  // must work before logging is configured.
  std::fprintf(stderr, "%s:%d: REGISTRY_CHECK failed: %s: %s\n", file != nullptr ? file : "?", line,
               condition != nullptr ? condition : "?",
               message != nullptr ? message : "(no message)");
  std::fflush(stderr);
  std::abort();
}

}  // namespace registry::util
