#include "registryctl/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace registry::testing {

std::unique_ptr<ChildProcess> ChildProcess::Spawn(const std::string& program,
                                                  const std::vector<std::string>& args,
                                                  const EnvOverrides& env, std::string* error) {
  ::signal(SIGPIPE, SIG_IGN);
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0) {
    *error = std::string("pipe2: ") + std::strerror(errno);
    return nullptr;
  }
  if (::pipe2(err, O_CLOEXEC) != 0) {
    *error = std::string("pipe2: ") + std::strerror(errno);
    ::close(out[0]);
    ::close(out[1]);
    return nullptr;
  }
  posix_spawn_file_actions_t actions;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  ::posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  ::posix_spawn_file_actions_adddup2(&actions, err[1], STDERR_FILENO);

  std::vector<std::string> argv_storage;
  argv_storage.push_back(program);
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_storage = ChildEnvironment(env);
  std::vector<char*> envp;
  for (std::string& e : env_storage) envp.push_back(e.data());
  envp.push_back(nullptr);

  std::unique_ptr<ChildProcess> child(new ChildProcess());
  const int rc =
      ::posix_spawn(&child->pid_, program.c_str(), &actions, nullptr, argv.data(), envp.data());
  ::posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  ::close(err[1]);
  if (rc != 0) {
    *error = std::string("posix_spawn ") + program + ": " + std::strerror(rc);
    ::close(out[0]);
    ::close(err[0]);
    return nullptr;
  }
  // glibc 2.36 declares pidfd_open without C linkage for C++: call the syscall directly.
  child->pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, child->pid_, 0));
  child->reader_ = std::thread([c = child.get(), o = out[0], e = err[0]] { c->ReadLoop(o, e); });
  return child;
}

ChildProcess::~ChildProcess() {
  if (!reaped_) {
    ::kill(pid_, SIGKILL);
    Wait(std::chrono::seconds(10));
  }
  if (reader_.joinable()) reader_.join();
  if (pidfd_ >= 0) ::close(pidfd_);
}

void ChildProcess::ReadLoop(int out_fd, int err_fd) {
  int fds[2] = {out_fd, err_fd};
  while (fds[0] >= 0 || fds[1] >= 0) {
    pollfd p[2];
    nfds_t n = 0;
    for (int fd : fds) {
      if (fd >= 0) p[n++] = {fd, POLLIN, 0};
    }
    if (::poll(p, n, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (nfds_t i = 0; i < n; ++i) {
      if (p[i].revents == 0) continue;
      char buf[16384];
      const ssize_t r = ::read(p[i].fd, buf, sizeof buf);
      if (r < 0 && errno == EINTR) continue;
      const bool is_out = p[i].fd == fds[0];
      if (r <= 0) {
        ::close(p[i].fd);
        (is_out ? fds[0] : fds[1]) = -1;
        continue;
      }
      std::lock_guard lock(mu_);
      (is_out ? out_ : err_).append(buf, static_cast<std::size_t>(r));
      cv_.notify_all();
    }
  }
  for (int fd : fds) {
    if (fd >= 0) ::close(fd);
  }
  std::lock_guard lock(mu_);
  pipes_open_ = false;
  cv_.notify_all();
}

bool ChildProcess::WaitFor(Stream stream, std::string_view needle,
                           std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  const std::string& text = stream == Stream::kOut ? out_ : err_;
  cv_.wait_for(lock, timeout,
               [&] { return text.find(needle) != std::string::npos || !pipes_open_; });
  return text.find(needle) != std::string::npos;
}

std::string ChildProcess::out() const {
  std::lock_guard lock(mu_);
  return out_;
}

std::string ChildProcess::err() const {
  std::lock_guard lock(mu_);
  return err_;
}

void ChildProcess::Signal(int sig) {
  if (!reaped_) ::kill(pid_, sig);
}

int ChildProcess::Wait(std::chrono::milliseconds timeout) {
  if (reaped_) return exit_code_;
  pollfd p{pidfd_, POLLIN, 0};
  if (pidfd_ >= 0 && ::poll(&p, 1, static_cast<int>(timeout.count())) != 1) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    reaped_ = true;
    exit_code_ = -1;
    return exit_code_;
  }
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  reaped_ = true;
  if (WIFEXITED(status)) exit_code_ = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) exit_code_ = 128 + WTERMSIG(status);
  // The child is gone, so its pipes reach EOF: drain them before anyone reads out()/err().
  if (reader_.joinable()) reader_.join();
  return exit_code_;
}

}  // namespace registry::testing
