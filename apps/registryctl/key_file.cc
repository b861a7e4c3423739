#include "key_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <span>
#include <vector>

#include "registry/util/hex.h"

namespace registry::ctl {

namespace {

constexpr std::size_t kSeedHexLength = 2 * std::tuple_size_v<crypto::Ed25519Seed>;

util::Error KeyError(const std::string& path, std::string_view problem) {
  return util::Error(util::ErrorCode::kMalformed, "key file " + path + ": " + std::string(problem));
}

// Zeroes secret bytes in a way the compiler may not drop as a dead store.
void Wipe(void* p, std::size_t n) { ::explicit_bzero(p, n); }

// Closes the descriptor on every path out of a function.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  // Closes now, reporting the error close(2) returned.
  int Close() {
    int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

}  // namespace

util::Result<crypto::Ed25519Seed> ReadSeedFile(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (fd.get() < 0) return KeyError(path, std::strerror(errno));
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return KeyError(path, std::strerror(errno));
  if (!S_ISREG(st.st_mode)) return KeyError(path, "not a regular file");
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return KeyError(path, std::string("permissions ") + mode +
                              " are too open: a private key must not be accessible by group "
                              "or others (chmod 600 " +
                              path + ")");
  }

  // One byte more than the longest valid content, so that longer files are detected.
  char buf[kSeedHexLength + 2];
  std::size_t len = 0;
  while (len < sizeof buf) {
    ssize_t n = ::read(fd.get(), buf + len, sizeof buf - len);
    if (n < 0) {
      if (errno == EINTR) continue;
      Wipe(buf, sizeof buf);
      return KeyError(path, std::strerror(errno));
    }
    if (n == 0) break;
    len += static_cast<std::size_t>(n);
  }
  const bool well_formed =
      (len == kSeedHexLength || (len == kSeedHexLength + 1 && buf[kSeedHexLength] == '\n')) &&
      std::all_of(buf, buf + kSeedHexLength,
                  [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
  std::optional<std::vector<std::uint8_t>> raw;
  if (well_formed) raw = util::HexDecode(std::string_view(buf, kSeedHexLength));
  Wipe(buf, sizeof buf);
  if (!raw.has_value()) {
    return KeyError(path, "malformed: expected 64 lower-case hex digits and a newline");
  }
  crypto::Ed25519Seed seed;
  std::copy(raw->begin(), raw->end(), seed.begin());
  Wipe(raw->data(), raw->size());
  return seed;
}

util::Status WriteNewSeedFile(const std::string& path, const crypto::Ed25519Seed& seed) {
  // O_EXCL with O_CREAT also refuses a dangling symlink, so nothing is written elsewhere.
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0600));
  if (fd.get() < 0) {
    if (errno == EEXIST) return KeyError(path, "already exists; refusing to overwrite it");
    return KeyError(path, std::strerror(errno));
  }
  std::string hex = util::HexEncode(seed);
  std::string content;
  content.reserve(hex.size() + 1);  // no reallocation that would leave a copy behind
  content.append(hex);
  content.push_back('\n');
  Wipe(hex.data(), hex.size());
  std::size_t written = 0;
  int err = 0;
  // The umask may have cleared bits of 0600, never added any; make the mode exact.
  if (::fchmod(fd.get(), 0600) != 0) err = errno;
  while (err == 0 && written < content.size()) {
    ssize_t n = ::write(fd.get(), content.data() + written, content.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      err = errno;
      break;
    }
    written += static_cast<std::size_t>(n);
  }
  Wipe(content.data(), content.size());
  if (err == 0 && ::fsync(fd.get()) != 0) err = errno;
  if (fd.Close() != 0 && err == 0) err = errno;
  if (err != 0) {
    ::unlink(path.c_str());
    return KeyError(path, std::strerror(err));
  }
  return util::Status::Ok();
}

}  // namespace registry::ctl
