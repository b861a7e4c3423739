// RootKey: the secret every capability token is minted from and verified against
// (SPEC §6, `auth.root_key_path`), and the file that holds it.
//
// File format: one line of 64 hexadecimal digits (32 bytes), optionally followed by a single
// "\n". The file MUST be a regular file not accessible by group or others (mode & 077 == 0,
// e.g. 0600 or 0400); the service refuses to start otherwise. WriteRootKeyFile creates such a
// file from fresh randomness and never overwrites an existing one.
//
// RootKey is a small value type holding the 32 secret bytes; it wipes them on destruction.
// It MUST NOT be logged or printed. Const access is thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "registry/util/result.h"

namespace registry::auth {

inline constexpr std::size_t kRootKeySize = 32;

class RootKey {
 public:
  explicit RootKey(const std::array<std::uint8_t, kRootKeySize>& bytes) : bytes_(bytes) {}
  RootKey(const RootKey&) = default;
  RootKey& operator=(const RootKey&) = default;
  ~RootKey();

  // A key from the operating system's randomness (getrandom(2)). Aborts if none is available.
  static RootKey Generate();

  std::span<const std::uint8_t, kRootKeySize> bytes() const { return bytes_; }

 private:
  std::array<std::uint8_t, kRootKeySize> bytes_;
};

// Creates `path` holding a fresh random key, mode 0600. Fails (kInternal, naming the path) if
// the file already exists or cannot be written; a partly written file is removed.
util::Status WriteRootKeyFile(const std::string& path);

// Loads the key at `path`. Fails naming the path: kInternal if it cannot be opened or is not a
// regular file, or if its mode grants any access to group or others (the message shows the
// mode); kMalformed if the content is not exactly 64 hex digits plus an optional newline.
util::Result<RootKey> LoadRootKeyFile(const std::string& path);

}  // namespace registry::auth
