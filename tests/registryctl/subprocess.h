// Runs a program as a child process with posix_spawn (no shell: arguments are passed as they
// are), feeds it stdin and captures its stdout, stderr and exit status. Tests only.
// Not thread-safe with respect to other code that changes the SIGPIPE disposition.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace registry::testing {

struct ProcessResult {
  // The exit status when the child exited normally; 128 + signal number when a signal killed
  // it; -1 when it could not be started.
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs `program` with `args` (argv[1..]), writes `input` to its stdin and then closes it,
// and waits for it to exit. The child inherits the environment.
ProcessResult RunProcess(const std::string& program, const std::vector<std::string>& args,
                         std::string_view input = {});

// "NAME=VALUE" entries that replace (or add to) the inherited environment; an entry "NAME="
// sets NAME to the empty string.
using EnvOverrides = std::vector<std::string>;

// The same with `env` applied on top of the inherited environment.
ProcessResult RunProcess(const std::string& program, const std::vector<std::string>& args,
                         std::string_view input, const EnvOverrides& env);

// The environment block for a child: the process's environment with `env` applied.
std::vector<std::string> ChildEnvironment(const EnvOverrides& env);

}  // namespace registry::testing
