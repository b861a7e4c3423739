#include "service_process.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>

#include "registry/json/parse.h"
#include "registry/json/value.h"

extern char** environ;

namespace registry::itest {

namespace {

using Clock = std::chrono::steady_clock;

int DecodeWaitStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// The environment minus SVCR_* (the service reads those as configuration), then the changes
// of `spawn`.
std::vector<std::string> ChildEnvironment(const SpawnOptions& spawn) {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    if (std::strncmp(*e, "SVCR_", 5) == 0) continue;
    env.emplace_back(*e);
  }
  for (const auto& [name, value] : spawn.env) {
    const std::string prefix = name + "=";
    env.erase(std::remove_if(env.begin(), env.end(),
                             [&](const std::string& e) { return e.rfind(prefix, 0) == 0; }),
              env.end());
    if (value.has_value()) env.push_back(prefix + *value);
  }
  return env;
}

std::vector<char*> Pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// Reads `fd` to EOF into `out`; closes it.
void ReadAll(int fd, std::string* out) {
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out->append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
}

// Spawns `program` with stdin from `stdin_fd` (or /dev/null when -1) and stdout/stderr on the
// write ends given. Returns the pid, or -1 with errno-style `*error`.
pid_t Spawn(const std::string& program, const std::vector<std::string>& args,
            const SpawnOptions& spawn, int stdin_fd, int out_w, int err_w, std::string* error) {
  std::vector<std::string> argv_s;
  argv_s.push_back(program);
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv = Pointers(argv_s);
  std::vector<std::string> env_s = ChildEnvironment(spawn);
  std::vector<char*> envp = Pointers(env_s);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  // glibc >= 2.29; the program path stays as given (absolute paths are unaffected).
  if (!spawn.cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, spawn.cwd.c_str());
  if (stdin_fd >= 0) {
    posix_spawn_file_actions_adddup2(&actions, stdin_fd, 0);
  } else {
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  }
  posix_spawn_file_actions_adddup2(&actions, out_w, 1);
  posix_spawn_file_actions_adddup2(&actions, err_w, 2);
  // The child gets default signal dispositions and an empty mask whatever this process uses.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t all;
  sigfillset(&all);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, program.c_str(), &actions, &attr, argv.data(), envp.data());
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    *error = "posix_spawn " + program + ": " + std::strerror(rc);
    return -1;
  }
  return pid;
}

}  // namespace

std::unique_ptr<ServiceProcess> ServiceProcess::Start(const std::string& binary,
                                                      const std::vector<std::string>& args,
                                                      std::chrono::milliseconds timeout,
                                                      std::string* error) {
  return Start(binary, args, SpawnOptions(), timeout, error);
}

std::unique_ptr<ServiceProcess> ServiceProcess::Start(const std::string& binary,
                                                      const std::vector<std::string>& args,
                                                      const SpawnOptions& spawn,
                                                      std::chrono::milliseconds timeout,
                                                      std::string* error) {
  int out_pipe[2];
  int err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
    *error = std::string("pipe2: ") + std::strerror(errno);
    return nullptr;
  }
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    *error = std::string("pipe2: ") + std::strerror(errno);
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    return nullptr;
  }
  std::unique_ptr<ServiceProcess> p(new ServiceProcess());
  p->pid_ = Spawn(binary, args, spawn, -1, out_pipe[1], err_pipe[1], error);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (p->pid_ < 0) {
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    return nullptr;
  }
  p->reaped_ = false;
  p->pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, p->pid_, 0));
  p->out_thread_ = std::thread([raw = p.get(), fd = out_pipe[0]] { raw->Reader(fd, true); });
  p->err_thread_ = std::thread([raw = p.get(), fd = err_pipe[0]] { raw->Reader(fd, false); });

  std::optional<std::string> line = p->WaitForLine(
      [](const std::string& l) { return l.find("\"event\":\"listening\"") != std::string::npos; },
      timeout);
  if (!line.has_value()) {
    // Usually the child exited (its stdout reached EOF): give it a moment to be reaped, so
    // that its exit code and the whole of its stderr are in the message.
    int code = p->WaitForExit(std::chrono::seconds(5));
    if (code < 0) p->Kill();
    *error = "svc-registry did not report \"listening\" within " + std::to_string(timeout.count()) +
             " ms (exit code " + std::to_string(code) + ")\n" + p->Tail();
    return nullptr;
  }
  util::Result<json::Value> v = json::Parse(*line);
  const json::Value* api = v.ok() ? v->Find("api_port") : nullptr;
  const json::Value* admin = v.ok() ? v->Find("admin_port") : nullptr;
  if (api == nullptr || admin == nullptr || !api->AsSafeInteger() || !admin->AsSafeInteger()) {
    p->Kill();
    *error = "the listening line has no api_port/admin_port: " + *line;
    return nullptr;
  }
  p->api_port_ = static_cast<std::uint16_t>(*api->AsSafeInteger());
  p->admin_port_ = static_cast<std::uint16_t>(*admin->AsSafeInteger());
  return p;
}

ServiceProcess::~ServiceProcess() {
  Kill();
  JoinReaders();
  if (pidfd_ >= 0) ::close(pidfd_);
}

void ServiceProcess::Reader(int fd, bool is_stdout) {
  char buf[8192];
  std::string partial;
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    std::lock_guard lock(mu_);
    if (!is_stdout) {
      stderr_.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    partial.append(buf, static_cast<std::size_t>(n));
    std::size_t start = 0;
    for (std::size_t nl = partial.find('\n'); nl != std::string::npos;
         nl = partial.find('\n', start)) {
      lines_.push_back(partial.substr(start, nl - start));
      start = nl + 1;
    }
    partial.erase(0, start);
    cv_.notify_all();
  }
  ::close(fd);
  std::lock_guard lock(mu_);
  if (is_stdout) {
    if (!partial.empty()) lines_.push_back(partial);
    stdout_eof_ = true;
  }
  cv_.notify_all();
}

void ServiceProcess::JoinReaders() {
  if (out_thread_.joinable()) out_thread_.join();
  if (err_thread_.joinable()) err_thread_.join();
}

int ServiceProcess::WaitForExit(std::chrono::milliseconds timeout) {
  if (reaped_) return exit_code_;
  if (pidfd_ >= 0) {
    pollfd p{pidfd_, POLLIN, 0};
    int ready = 0;
    do {
      ready = ::poll(&p, 1, static_cast<int>(timeout.count()));
    } while (ready < 0 && errno == EINTR);
    if (ready == 0) return -1;
  } else {
    // No pidfd (old kernel): bounded polling of waitpid.
    const Clock::time_point deadline = Clock::now() + timeout;
    for (;;) {
      int status = 0;
      pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        reaped_ = true;
        exit_code_ = DecodeWaitStatus(status);
        JoinReaders();
        return exit_code_;
      }
      if (Clock::now() >= deadline) return -1;
      timespec ts{0, 5'000'000};
      ::nanosleep(&ts, nullptr);
    }
  }
  int status = 0;
  pid_t r = 0;
  do {
    r = ::waitpid(pid_, &status, 0);
  } while (r < 0 && errno == EINTR);
  reaped_ = true;
  exit_code_ = r == pid_ ? DecodeWaitStatus(status) : -1;
  // The pipes reach EOF once the child is gone: every line is in by the time this returns.
  JoinReaders();
  return exit_code_;
}

void ServiceProcess::Signal(int sig) {
  if (reaped_) return;
  signalled_ = true;
  ::kill(pid_, sig);
}

int ServiceProcess::Terminate(std::chrono::milliseconds timeout) {
  if (reaped_) return exit_code_;
  Signal(SIGTERM);
  int code = WaitForExit(timeout);
  if (code < 0 && !reaped_) {
    Kill();
    return -1;
  }
  return code;
}

void ServiceProcess::Kill() {
  if (reaped_) return;
  Signal(SIGKILL);
  int status = 0;
  pid_t r = 0;
  do {
    r = ::waitpid(pid_, &status, 0);
  } while (r < 0 && errno == EINTR);
  reaped_ = true;
  exit_code_ = r == pid_ ? DecodeWaitStatus(status) : -1;
  JoinReaders();  // the pipes reach EOF once the child is gone
}

std::vector<std::string> ServiceProcess::Lines() const {
  std::lock_guard lock(mu_);
  return lines_;
}

std::optional<std::string> ServiceProcess::WaitForLine(
    const std::function<bool(const std::string&)>& pred, std::chrono::milliseconds timeout) const {
  const Clock::time_point deadline = Clock::now() + timeout;
  std::unique_lock lock(mu_);
  std::size_t next = 0;
  for (;;) {
    for (; next < lines_.size(); ++next) {
      if (pred(lines_[next])) return lines_[next];
    }
    if (stdout_eof_) return std::nullopt;
    if (cv_.wait_until(lock, deadline) == std::cv_status::timeout && next == lines_.size()) {
      return std::nullopt;
    }
  }
}

std::string ServiceProcess::Stderr() const {
  std::lock_guard lock(mu_);
  return stderr_;
}

std::string ServiceProcess::Tail(std::size_t n) const {
  std::lock_guard lock(mu_);
  std::string out = "--- svc-registry stdout (last lines) ---\n";
  std::size_t from = lines_.size() > n ? lines_.size() - n : 0;
  for (std::size_t i = from; i < lines_.size(); ++i) out += lines_[i] + "\n";
  out += "--- svc-registry stderr ---\n" + stderr_;
  return out;
}

ProcessResult RunProcess(const std::string& program, const std::vector<std::string>& args,
                         const std::string& input) {
  ProcessResult result;
  int in_pipe[2];
  int out_pipe[2];
  int err_pipe[2];
  if (::pipe2(in_pipe, O_CLOEXEC) != 0) return result;
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
    ::close(in_pipe[0]);
    ::close(in_pipe[1]);
    return result;
  }
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    for (int fd : {in_pipe[0], in_pipe[1], out_pipe[0], out_pipe[1]}) ::close(fd);
    return result;
  }
  std::string error;
  pid_t pid = Spawn(program, args, SpawnOptions(), in_pipe[0], out_pipe[1], err_pipe[1], &error);
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (pid < 0) {
    for (int fd : {in_pipe[1], out_pipe[0], err_pipe[0]}) ::close(fd);
    result.err = error;
    return result;
  }
  std::thread writer([fd = in_pipe[1], &input] {
    // A child that exits without reading must not kill the test with SIGPIPE: blocked in
    // this thread, the signal stays pending and write fails with EPIPE instead.
    sigset_t pipe_set;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, nullptr);
    std::size_t off = 0;
    while (off < input.size()) {
      ssize_t n = ::write(fd, input.data() + off, input.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      off += static_cast<std::size_t>(n);
    }
    ::close(fd);
  });
  std::thread err_reader([fd = err_pipe[0], &result] { ReadAll(fd, &result.err); });
  ReadAll(out_pipe[0], &result.out);
  writer.join();
  err_reader.join();
  int status = 0;
  pid_t r = 0;
  do {
    r = ::waitpid(pid, &status, 0);
  } while (r < 0 && errno == EINTR);
  result.exit_code = r == pid ? DecodeWaitStatus(status) : -1;
  return result;
}

}  // namespace registry::itest
