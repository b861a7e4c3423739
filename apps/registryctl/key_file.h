// Signer key files: the 32-byte Ed25519 seed as 64 hex digits and a newline, in a file only
// its owner may read (mode 0600).
//
// Reading refuses, like ssh does, a key file that its group or others may access, as well as
// anything that is not a regular file of exactly that shape. Writing never replaces an
// existing file. Seeds are secrets: callers MUST NOT print or log them.
#pragma once

#include <string>

#include "registry/crypto/ed25519.h"
#include "registry/util/result.h"

namespace registry::ctl {

// The seed held in the key file at `path`. Errors (kMalformed) name the file and the
// problem: missing, not a regular file, group/world-accessible, or malformed content.
util::Result<crypto::Ed25519Seed> ReadSeedFile(const std::string& path);

// Creates `path` with mode 0600 and writes `seed` to it. Fails, leaving any existing file
// untouched, when `path` already exists (symlinks included) or cannot be written.
util::Status WriteNewSeedFile(const std::string& path, const crypto::Ed25519Seed& seed);

}  // namespace registry::ctl
