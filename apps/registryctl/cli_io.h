// Small I/O helpers shared by registryctl's commands: reading an input file or stdin,
// writing results to stdout, and reporting errors on stderr. Not thread-safe (they use the
// process's standard streams); registryctl is single-threaded.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "registry/util/error.h"
#include "registry/util/result.h"

namespace registry::ctl {

// Largest input registryctl reads (a payload is at most 64 MiB, SPEC §1.2; the rest is
// headroom for pretty-printed input).
inline constexpr std::size_t kMaxInputBytes = std::size_t{256} << 20;

// The bytes of the file at `path`, or of stdin when `path` is empty or "-".
// Fails (kMalformed) when the file cannot be read or exceeds kMaxInputBytes.
util::Result<std::string> ReadInput(const std::string& path);

// Writes `bytes` to stdout and flushes. False when the write failed (e.g. a closed pipe).
bool WriteStdout(std::string_view bytes);

// Prints "registryctl: <message>" and a newline on stderr; returns kExitFailure.
int Fail(std::string_view message);
int Fail(const util::Error& error);

// Writes `bytes` to stdout, or reports the failure; returns the exit code.
int Output(std::string_view bytes);

}  // namespace registry::ctl
