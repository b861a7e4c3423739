// Issue 5 "Must show": Go's own verifiers (golang.org/x/mod/sumdb/note and sumdb/tlog,
// Debian's golang-golang-x-mod-dev, GOPATH mode, no network) check a running registry's
// signed checkpoint, the inclusion proof of every version and consistency proofs between
// several sizes, and reject tampered ones: tests/interop/tlog_interop.go, built with `go
// build` and run against the real binary. Skipped only when `go` is not installed.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "harness.h"
#include "registry/tlog/note_key.h"

#ifndef TLOG_INTEROP_GO_SOURCE
#error "TLOG_INTEROP_GO_SOURCE must name tests/interop/tlog_interop.go"
#endif

extern char** environ;

namespace registry::itest {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

constexpr std::string_view kOrigin = "interop.registry.test/log";
// A cold Go build cache compiles net/http and friends first: allow for a slow machine.
constexpr std::chrono::seconds kBuildTimeout{600};
constexpr std::chrono::seconds kRunTimeout{120};

// `go` on PATH (or Debian's /usr/bin/go), or "".
std::string FindGo() {
  std::vector<std::string> dirs;
  if (const char* path = std::getenv("PATH")) {
    std::stringstream ss(path);
    for (std::string d; std::getline(ss, d, ':');) dirs.push_back(d);
  }
  dirs.push_back("/usr/bin");
  dirs.push_back("/usr/lib/go/bin");
  for (const std::string& d : dirs) {
    const std::string candidate = (d.empty() ? std::string(".") : d) + "/go";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

struct ChildRun {
  int exit_code = -1;  // 128 + signal when killed; -1 when it could not start or timed out
  bool timed_out = false;
  std::string output;  // stdout and stderr, interleaved
};

// Runs `argv` with `env` overrides, output to a file, waiting at most `timeout` (a pidfd
// poll: no sleeping). A child past its time is killed.
ChildRun RunWithTimeout(const std::vector<std::string>& argv,
                        const std::vector<std::pair<std::string, std::string>>& env,
                        const fs::path& output_file, std::chrono::milliseconds timeout) {
  ChildRun run;
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view entry(*e);
    bool overridden = false;
    for (const auto& [name, value] : env) {
      overridden = overridden || entry.starts_with(name + "=");
    }
    if (!overridden) env_strings.emplace_back(entry);
  }
  for (const auto& [name, value] : env) env_strings.push_back(name + "=" + value);
  std::vector<char*> envp;
  for (std::string& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = argv;
  std::vector<char*> argp;
  for (std::string& s : args) argp.push_back(s.data());
  argp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, output_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0600);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, argp[0], &actions, nullptr, argp.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    run.output = "posix_spawn " + argv[0] + ": " + std::strerror(rc);
    return run;
  }
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  bool exited = false;
  if (pidfd >= 0) {
    pollfd pfd{pidfd, POLLIN, 0};
    int n = 0;
    do {
      n = ::poll(&pfd, 1, static_cast<int>(timeout.count()));
    } while (n < 0 && errno == EINTR);
    exited = n > 0;
    ::close(pidfd);
  }
  if (!exited) {
    ::kill(pid, SIGKILL);
    run.timed_out = true;
  }
  int status = 0;
  pid_t r = 0;
  do {
    r = ::waitpid(pid, &status, 0);
  } while (r < 0 && errno == EINTR);
  if (r == pid && !run.timed_out) {
    run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  std::ifstream in(output_file);
  std::stringstream ss;
  ss << in.rdbuf();
  run.output = ss.str();
  return run;
}

class TlogInteropTest : public ServiceTest {
 protected:
  // GOPATH mode against Debian's packaged sources; nothing is fetched.
  std::vector<std::pair<std::string, std::string>> GoEnv() const {
    return {{"GO111MODULE", "off"},
            {"GOPATH", "/usr/share/gocode"},
            {"GOFLAGS", ""},
            {"GOPROXY", "off"},
            {"GOTOOLCHAIN", "local"},
            {"CGO_ENABLED", "0"},
            {"GOCACHE", std::string(REGISTRY_BINARY_DIR) + "/tests/integration/go-build-cache"},
            {"HOME", dir_.string()}};
  }
};

TEST_F(TlogInteropTest, GoVerifiesTheCheckpointEveryInclusionProofAndConsistency) {
  const std::string go = FindGo();
  if (go.empty()) {
    GTEST_SKIP() << "go is not installed: scripts/setup.sh installs golang-go and "
                    "golang-golang-x-mod-dev for this test";
  }
  // Build first (the slow part), so the service is not left idle meanwhile.
  const fs::path binary = dir_ / "tlog_interop";
  ChildRun build = RunWithTimeout({go, "build", "-o", binary.string(), TLOG_INTEROP_GO_SOURCE},
                                  GoEnv(), dir_ / "build.log", kBuildTimeout);
  ASSERT_FALSE(build.timed_out) << "go build took longer than " << kBuildTimeout.count() << " s";
  ASSERT_EQ(build.exit_code, 0) << "go build failed (is golang-golang-x-mod-dev installed?):\n"
                                << build.output;

  util::Result<tlog::GeneratedLogKey> key = tlog::GenerateLogKey(kOrigin);
  ASSERT_TRUE(key.ok());
  const std::string key_path = (dir_ / "log.key").string();
  ASSERT_TRUE(tlog::WritePrivateKeyFile(key_path, key->private_key).ok());
  ASSERT_NO_FATAL_FAILURE(StartServiceWith(
      {"tlog.origin=" + std::string(kOrigin), "tlog.signing_key_path=" + key_path}));
  for (int i = 0; i < 7; ++i) ASSERT_TRUE(CommitNext().ok);

  const std::string url = "http://127.0.0.1:" + std::to_string(api_port());
  ChildRun verify = RunWithTimeout({binary.string(), url, key->verifier_key}, GoEnv(),
                                   dir_ / "verify.log", kRunTimeout);
  ASSERT_FALSE(verify.timed_out) << verify.output;
  EXPECT_EQ(verify.exit_code, 0) << verify.output;
  EXPECT_THAT(verify.output, HasSubstr("checkpoint: origin interop.registry.test/log, size 7"));
  EXPECT_THAT(verify.output, HasSubstr("inclusion: 7 records verified with tlog.CheckRecord"));
  EXPECT_THAT(verify.output, HasSubstr("verified with tlog.CheckTree"));
  EXPECT_THAT(verify.output, HasSubstr("tampering: inclusion proof, consistency proof and "
                                       "checkpoint rejected"));
  EXPECT_THAT(verify.output, HasSubstr("tlog_interop: OK"));

  // Go refuses the checkpoint under another key of the same name.
  util::Result<tlog::GeneratedLogKey> other = tlog::GenerateLogKey(kOrigin);
  ASSERT_TRUE(other.ok());
  ChildRun wrong = RunWithTimeout({binary.string(), url, other->verifier_key}, GoEnv(),
                                  dir_ / "wrong.log", kRunTimeout);
  EXPECT_EQ(wrong.exit_code, 1) << wrong.output;
  EXPECT_THAT(wrong.output, HasSubstr("note.Open of the checkpoint"));
}

}  // namespace
}  // namespace registry::itest
