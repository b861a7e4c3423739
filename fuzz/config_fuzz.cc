// libFuzzer target: arbitrary bytes as the TOML file layer of the configuration, through the
// same load and validation path as `svc-registry --config`. Whatever the input, Load must
// return a Config or an Error, never crash or throw. An accepted Config must also survive
// DumpToml → load unchanged.
//
// Build (not wired into CMake yet), from the repository root, as one command:
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude
//     -DTOML_HEADER_ONLY=0 -DTOML_SHARED_LIB=1
//     fuzz/config_fuzz.cc src/config/*.cc src/util/*.cc -ltomlplusplus -o config_fuzz
// Link toml++ as the product does (Debian's release libtomlplusplus.so). Compiled header-only
// without NDEBUG, toml++ 3.3 asserts on input such as "[.a]" (parser.inl parse_key), and with
// clang and NDEBUG that assertion becomes __builtin_assume, i.e. undefined behaviour; the
// shared library reports a parse error instead.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>

#include "registry/config/config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using registry::config::Config;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto loaded = registry::config::LoadFromText(text, "fuzz.toml");
  if (!loaded.ok()) {
    // Every rejection carries a message; an empty one would leave an operator guessing.
    if (loaded.error().message().empty()) std::abort();
    return 0;
  }
  // The dump redacts storage.postgres_url, so such a config does not load back as is.
  if (!loaded->storage.postgres_url.empty()) return 0;
  const std::string dump = registry::config::DumpToml(*loaded);
  auto again = registry::config::LoadFromText(dump, "dump.toml");
  if (!again.ok()) std::abort();
  Config a = std::move(loaded).value();
  Config b = std::move(again).value();
  a.origins.clear();
  b.origins.clear();
  if (!(a == b)) std::abort();
  return 0;
}
