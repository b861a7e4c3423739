#include "new_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace registry::ctl {

util::Status WriteNewFile(const std::string& path, std::string_view content, mode_t mode) {
  // O_EXCL with O_CREAT also refuses a dangling symlink, so nothing is written elsewhere.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, mode);
  if (fd < 0) {
    if (errno == EEXIST) {
      return util::Error(util::ErrorCode::kMalformed,
                         path + " already exists; refusing to overwrite it");
    }
    return util::Error(util::ErrorCode::kMalformed,
                       "cannot create " + path + ": " + std::strerror(errno));
  }
  int err = 0;
  if (::fchmod(fd, mode) != 0) err = errno;
  std::size_t written = 0;
  while (err == 0 && written < content.size()) {
    const ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      err = errno;
      break;
    }
    written += static_cast<std::size_t>(n);
  }
  if (err == 0 && ::fsync(fd) != 0) err = errno;
  if (::close(fd) != 0 && err == 0) err = errno;
  if (err != 0) {
    ::unlink(path.c_str());
    return util::Error(util::ErrorCode::kMalformed,
                       "cannot write " + path + ": " + std::strerror(err));
  }
  return util::Status::Ok();
}

}  // namespace registry::ctl
