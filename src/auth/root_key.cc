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

namespace registry::auth {
namespace {

// Anything larger than one line of hex is not a key file; do not read it all.
constexpr std::size_t kMaxFileBytes = 256;

util::Error FileError(const std::string& path, std::string_view what, int errnum) {
  return util::Error(
      util::ErrorCode::kInternal,
      "root key file " + path + ": " + std::string(what) + ": " + std::string(strerror(errnum)));
}

std::string OctalMode(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

// Closes the descriptor on every path out.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  // Closes now and reports the result (close can surface a delayed write error).
  int Close() {
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

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
  // O_EXCL refuses an existing file (and, with O_CREAT, a dangling symlink): a key is never
  // overwritten, since every token minted from it would silently stop verifying.
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (fd.get() < 0) return FileError(path, "cannot create", errno);

  // The creation mode was filtered through the umask; set exactly 0600.
  std::string text;
  bool ok = ::fchmod(fd.get(), 0600) == 0;
  int errnum = errno;
  if (ok) {
    const RootKey key = RootKey::Generate();
    text = util::HexEncode(key.bytes()) + "\n";
    ok = WriteAll(fd.get(), text) && ::fsync(fd.get()) == 0;
    errnum = errno;
    explicit_bzero(text.data(), text.size());
  }
  if (ok) {
    ok = fd.Close() == 0;
    errnum = errno;
  }
  if (!ok) {
    ::unlink(path.c_str());
    return FileError(path, "cannot write", errnum);
  }
  return util::Status::Ok();
}

util::Result<RootKey> LoadRootKeyFile(const std::string& path) {
  // Symlinks are followed (secret mounts use them); the checks apply to the file opened.
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (fd.get() < 0) return FileError(path, "cannot open", errno);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return FileError(path, "cannot stat", errno);
  if (!S_ISREG(st.st_mode)) {
    return util::Error(util::ErrorCode::kInternal,
                       "root key file " + path + " is not a regular file");
  }
  if ((st.st_mode & 077) != 0) {
    return util::Error(util::ErrorCode::kInternal,
                       "root key file " + path + " has mode " + OctalMode(st.st_mode) +
                           "; it must not be accessible by group or others (chmod 600)");
  }

  std::array<char, kMaxFileBytes + 1> buf;
  std::size_t size = 0;
  while (size < buf.size()) {
    const ssize_t n = ::read(fd.get(), buf.data() + size, buf.size() - size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return FileError(path, "cannot read", errno);
    if (n == 0) break;
    size += static_cast<std::size_t>(n);
  }
  std::string_view text(buf.data(), size);
  if (text.ends_with('\n')) text.remove_suffix(1);

  std::optional<std::vector<std::uint8_t>> bytes;
  if (text.size() == 2 * kRootKeySize) bytes = util::HexDecode(text);
  explicit_bzero(buf.data(), buf.size());
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
