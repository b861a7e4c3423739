#include "registry/auth/root_key.h"

#include <fcntl.h>
#include <string.h>  // explicit_bzero
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "registry/util/check.h"
#include "registry/util/error.h"
#include "registry/util/hex.h"
#include "registry/util/private_file.h"

namespace registry::auth {
namespace {

// Anything larger than one line of hex is not a key file; do not read it all.
constexpr std::size_t kMaxFileBytes = 256;

}  // namespace

RootKey::~RootKey() { explicit_bzero(bytes_.data(), bytes_.size()); }

RootKey RootKey::Generate() {
  std::array<std::uint8_t, kRootKeySize> bytes;
  std::size_t filled = 0;
  while (filled < bytes.size()) {
    // Blocks only until the kernel's pool is first initialised; never returns short for
    // requests of at most 256 bytes once it is, but loop on EINTR anyway.
    const ssize_t n = ::getrandom(bytes.data() + filled, bytes.size() - filled, 0);
    if (n < 0 && errno == EINTR) continue;
    REGISTRY_CHECK(n > 0, "getrandom failed");
    filled += static_cast<std::size_t>(n);
  }
  RootKey key(bytes);
  explicit_bzero(bytes.data(), bytes.size());
  return key;
}

util::Status WriteRootKeyFile(const std::string& path) {
  // A key is never overwritten: every token minted from it would silently stop verifying.
  const RootKey key = RootKey::Generate();
  std::string text = util::HexEncode(key.bytes()) + "\n";
  util::Status written = util::WritePrivateFile(path, text, "root key file");
  explicit_bzero(text.data(), text.size());
  return written;
}

util::Result<RootKey> LoadRootKeyFile(const std::string& path) {
  REGISTRY_ASSIGN_OR_RETURN(std::string text,
                            util::ReadPrivateFile(path, kMaxFileBytes, "root key file"));
  std::string_view line(text);
  if (line.ends_with('\n')) line.remove_suffix(1);
  std::optional<std::vector<std::uint8_t>> bytes;
  if (line.size() == 2 * kRootKeySize) bytes = util::HexDecode(line);
  explicit_bzero(text.data(), text.size());
  if (!bytes) {
    return util::Error(util::ErrorCode::kMalformed,
                       "root key file " + path + " must hold exactly " +
                           std::to_string(2 * kRootKeySize) +
                           " hex digits on one line (see registryctl)");
  }
  std::array<std::uint8_t, kRootKeySize> key_bytes;
  std::copy(bytes->begin(), bytes->end(), key_bytes.begin());
  explicit_bzero(bytes->data(), bytes->size());
  RootKey key(key_bytes);
  explicit_bzero(key_bytes.data(), key_bytes.size());
  return key;
}

}  // namespace registry::auth
