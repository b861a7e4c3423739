#include "cli_io.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "commands.h"

namespace registry::ctl {

namespace {

util::Error IoError(std::string_view what, const std::string& name, int err) {
  return util::Error(util::ErrorCode::kMalformed,
                     std::string(what) + " " + name + ": " + std::strerror(err));
}

util::Result<std::string> ReadAll(int fd, const std::string& name) {
  std::string out;
  char buf[64 * 1024];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError("cannot read", name, errno);
    }
    if (n == 0) break;
    if (out.size() + static_cast<std::size_t>(n) > kMaxInputBytes) {
      return util::Error(util::ErrorCode::kPayloadTooLarge,
                         name + " is larger than " + std::to_string(kMaxInputBytes) + " bytes");
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

}  // namespace

util::Result<std::string> ReadInput(const std::string& path) {
  if (path.empty() || path == "-") return ReadAll(STDIN_FILENO, "stdin");
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return IoError("cannot open", path, errno);
  util::Result<std::string> bytes = ReadAll(fd, path);
  ::close(fd);
  return bytes;
}

bool WriteStdout(std::string_view bytes) {
  if (!bytes.empty() && std::fwrite(bytes.data(), 1, bytes.size(), stdout) != bytes.size()) {
    return false;
  }
  return std::fflush(stdout) == 0;
}

int Fail(std::string_view message) {
  std::fprintf(stderr, "registryctl: %.*s\n", static_cast<int>(message.size()), message.data());
  return kExitFailure;
}

int Fail(const util::Error& error) { return Fail(error.message()); }

int Output(std::string_view bytes) {
  if (!WriteStdout(bytes))
    return Fail(std::string("cannot write to stdout: ") + std::strerror(errno));
  return kExitOk;
}

}  // namespace registry::ctl
