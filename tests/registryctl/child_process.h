// A child process that runs in the background while a test talks to it: svc-registry, or a
// long-running `registryctl watch`. Its stdout and stderr are collected by a reader thread;
// the test waits (with a time limit) for text to appear, signals it, and waits for its exit.
// Tests only. Methods are thread-safe.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "registryctl/subprocess.h"

namespace registry::testing {

class ChildProcess {
 public:
  // Starts `program` with `args` and `env` applied to the inherited environment; stdin is
  // /dev/null. Returns nullptr (and a reason in *error) when it cannot be started.
  static std::unique_ptr<ChildProcess> Spawn(const std::string& program,
                                             const std::vector<std::string>& args,
                                             const EnvOverrides& env, std::string* error);

  // Kills the child (SIGKILL) if it still runs, and reaps it.
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  enum class Stream { kOut, kErr };
  // Waits until the collected `stream` contains `needle` (true), or `timeout` passes or both
  // pipes closed without it (false).
  bool WaitFor(Stream stream, std::string_view needle, std::chrono::milliseconds timeout);

  std::string out() const;
  std::string err() const;
  pid_t pid() const { return pid_; }

  void Signal(int sig);
  // Waits up to `timeout` for the child to exit and returns its exit code (128 + signal when
  // a signal ended it). After the timeout it is killed with SIGKILL and -1 is returned.
  int Wait(std::chrono::milliseconds timeout);

 private:
  ChildProcess() = default;
  void ReadLoop(int out_fd, int err_fd);

  pid_t pid_ = -1;
  int pidfd_ = -1;
  int exit_code_ = -1;
  bool reaped_ = false;
  std::thread reader_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::string out_;         // guarded by mu_
  std::string err_;         // guarded by mu_
  bool pipes_open_ = true;  // guarded by mu_
};

}  // namespace registry::testing
