// Creating the files registryctl writes (init's trust roots, tokens, payloads) without ever
// replacing an existing one. Secret content is the caller's to wipe. Not thread-safe with
// respect to other writers of the same path (none are expected).
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "registry/util/result.h"

namespace registry::ctl {

// Creates `path` with exactly `mode` (whatever the umask), writes `content` and fsyncs it.
// Fails (kMalformed, naming the path) when `path` exists (a dangling symlink included) or
// cannot be written; a partly written file is removed.
util::Status WriteNewFile(const std::string& path, std::string_view content, mode_t mode);

}  // namespace registry::ctl
