#include "registry/util/private_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace registry::util {

namespace {

Error FileError(std::string_view what, const std::string& path, std::string_view cause,
                int errnum) {
  return Error(ErrorCode::kInternal, std::string(what) + " " + path + ": " + std::string(cause) +
                                         ": " + std::strerror(errnum));
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

}  // namespace

Result<std::string> ReadPrivateFile(const std::string& path, std::size_t max_bytes,
                                    std::string_view what) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (fd.get() < 0) return FileError(what, path, "cannot open", errno);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return FileError(what, path, "cannot stat", errno);
  if (!S_ISREG(st.st_mode)) {
    return Error(ErrorCode::kInternal, std::string(what) + " " + path + " is not a regular file");
  }
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return Error(ErrorCode::kInternal, std::string(what) + " " + path + " has mode " + mode +
                                           "; it must not be accessible by group or others "
                                           "(chmod 600 " +
                                           path + ")");
  }
  std::string bytes(max_bytes + 1, '\0');
  std::size_t size = 0;
  while (size < bytes.size()) {
    const ssize_t n = ::read(fd.get(), bytes.data() + size, bytes.size() - size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return FileError(what, path, "cannot read", errno);
    if (n == 0) break;
    size += static_cast<std::size_t>(n);
  }
  bytes.resize(size);  // shrinking keeps the buffer: nothing is copied
  return bytes;
}

Status WritePrivateFile(const std::string& path, std::string_view content, std::string_view what) {
  // O_EXCL refuses an existing file (and, with O_CREAT, a dangling symlink).
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (fd.get() < 0) return FileError(what, path, "cannot create", errno);
  int error = 0;
  // The creation mode was filtered through the umask; set exactly 0600.
  if (::fchmod(fd.get(), 0600) != 0) error = errno;
  while (error == 0 && !content.empty()) {
    const ssize_t n = ::write(fd.get(), content.data(), content.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error = n < 0 ? errno : EIO;
      break;
    }
    content.remove_prefix(static_cast<std::size_t>(n));
  }
  if (error == 0 && ::fsync(fd.get()) != 0) error = errno;
  if (fd.Close() != 0 && error == 0) error = errno;
  if (error != 0) {
    ::unlink(path.c_str());
    return FileError(what, path, "cannot write", error);
  }
  return Status::Ok();
}

}  // namespace registry::util
