// ServiceProcess: the real svc-registry binary run as a child process for the integration
// tests, and RunProcess, a one-shot helper for other tools (promtool).
//
// Start() spawns the binary (posix_spawn, no shell) with stdout and stderr on pipes and an
// environment without SVCR_* variables (SpawnOptions can change the working directory and
// the environment further), then waits for the JSON log line whose "event" is
// "listening" and takes the two ports from it. A background thread per pipe keeps draining
// it for the life of the process (a full pipe would block the service's logger) and keeps
// every line for assertions.
//
// Ownership: the object owns the child. Terminate() sends SIGTERM and waits for the exit
// status; the destructor kills (SIGKILL) and reaps a child that is still running, so no test
// path leaks a process. Thread-safe for the accessors; Start/Terminate/Kill from one thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace registry::itest {

// Where and with what environment a child runs (default: the test's working directory and
// environment, minus SVCR_*).
struct SpawnOptions {
  std::string cwd;  // empty: inherit the test's working directory
  // Applied in order on top of the inherited environment: a value sets the variable,
  // nullopt removes it.
  std::vector<std::pair<std::string, std::optional<std::string>>> env;
};

class ServiceProcess {
 public:
  // Starts `binary` with `args` and waits up to `timeout` for the "listening" line. Returns
  // null with `*error` set (including the child's stderr and exit status) on failure.
  static std::unique_ptr<ServiceProcess> Start(const std::string& binary,
                                               const std::vector<std::string>& args,
                                               std::chrono::milliseconds timeout,
                                               std::string* error);
  // The same, in the working directory and environment of `spawn`.
  static std::unique_ptr<ServiceProcess> Start(const std::string& binary,
                                               const std::vector<std::string>& args,
                                               const SpawnOptions& spawn,
                                               std::chrono::milliseconds timeout,
                                               std::string* error);
  ~ServiceProcess();
  ServiceProcess(const ServiceProcess&) = delete;
  ServiceProcess& operator=(const ServiceProcess&) = delete;

  pid_t pid() const { return pid_; }
  std::uint16_t api_port() const { return api_port_; }
  std::uint16_t admin_port() const { return admin_port_; }

  // Sends SIGTERM and waits up to `timeout` for the child to exit. Returns its exit code,
  // 128 + signal when a signal killed it, or -1 on timeout (the child is then killed).
  int Terminate(std::chrono::milliseconds timeout);
  // Sends `sig` to the child (tests that stop it themselves). Records that this object
  // signalled it, see signalled().
  void Signal(int sig);
  // True once Signal, Terminate or Kill was called: a "stopping" log line without it means
  // something outside the test stopped the service.
  bool signalled() const { return signalled_; }
  // Waits up to `timeout` for the child to exit on its own; its exit code as in Terminate,
  // or -1 on timeout (the child keeps running).
  int WaitForExit(std::chrono::milliseconds timeout);
  // SIGKILL and reap. Idempotent.
  void Kill();
  bool running() const { return !reaped_; }

  // Every stdout line so far.
  std::vector<std::string> Lines() const;
  // Waits up to `timeout` for a stdout line (seen before or arriving later) for which `pred`
  // holds; returns it, or nullopt on timeout or EOF.
  std::optional<std::string> WaitForLine(const std::function<bool(const std::string&)>& pred,
                                         std::chrono::milliseconds timeout) const;
  std::string Stderr() const;
  // The last `n` stdout lines and all of stderr, for failure messages.
  std::string Tail(std::size_t n = 40) const;

 private:
  ServiceProcess() = default;
  void Reader(int fd, bool is_stdout);
  void JoinReaders();

  pid_t pid_ = -1;
  int pidfd_ = -1;
  bool reaped_ = true;
  bool signalled_ = false;
  int exit_code_ = -1;
  std::uint16_t api_port_ = 0;
  std::uint16_t admin_port_ = 0;

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::vector<std::string> lines_;  // guarded by mu_
  std::string stderr_;              // guarded by mu_
  bool stdout_eof_ = false;         // guarded by mu_
  std::thread out_thread_;
  std::thread err_thread_;
};

struct ProcessResult {
  int exit_code = -1;  // 128 + signal when killed; -1 when it could not run
  std::string out;
  std::string err;
};

// Runs `program` with `args`, feeds `input` on stdin, and waits for it to exit.
ProcessResult RunProcess(const std::string& program, const std::vector<std::string>& args,
                         const std::string& input);

}  // namespace registry::itest
