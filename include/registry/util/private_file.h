// Files that hold secrets (the macaroon root key, the log signing key): created with mode
// exactly 0600 and never replaced, and read only when no group or other permission bit is
// set. Callers own the bytes they get back and SHOULD wipe them once parsed. Thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "registry/util/result.h"

namespace registry::util {

// Reads the file at `path`, which MUST be a regular file (symlinks are followed: secret
// mounts use them) with no group or other permission bits. Returns at most max_bytes + 1
// bytes: a longer file is cut there, so that the caller can refuse it in its own terms.
// Errors are kInternal and read "<what> <path>: <cause>" (e.g. "root key file /k has mode
// 0644; it must not be accessible by group or others (chmod 600 /k)").
util::Result<std::string> ReadPrivateFile(const std::string& path, std::size_t max_bytes,
                                          std::string_view what);

// Creates `path` with mode exactly 0600 (whatever the umask), writes `content` and fsyncs
// it. Refuses to replace an existing file or to follow a symlink; removes the file when the
// write fails. Errors are kInternal and name `what` and the path.
util::Status WritePrivateFile(const std::string& path, std::string_view content,
                              std::string_view what);

}  // namespace registry::util
