// Amnesia mode (storage issue, "Must show"): under `storage.kind = memory` the real service
// runs a full propose → approve → commit flow, admin actions included, and creates no file
// or directory anywhere: not in its working directory, not under HOME (nor the XDG and
// TMPDIR locations, pointed into watched directories), not at storage.data_dir or next to
// it, and nothing next to its trust roots and root key.
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "harness.h"
#include "registry/crypto/blake3.h"

namespace registry::itest {
namespace {

namespace fs = std::filesystem;

constexpr std::chrono::milliseconds kStartTimeout{10000};

fs::path MakeTempDir(const std::string& prefix) {
  std::string templ = (fs::temp_directory_path() / (prefix + "-XXXXXX")).string();
  char* made = ::mkdtemp(templ.data());
  return made == nullptr ? fs::path() : fs::path(made);
}

// Every entry under `dir`, recursively and hidden ones included, relative to `dir`.
std::vector<std::string> ListRecursive(const fs::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  fs::recursive_directory_iterator it(dir, fs::directory_options::none, ec);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    out.push_back(fs::relative(it->path(), dir).string());
  }
  if (ec) out.push_back("<cannot list " + dir.string() + ": " + ec.message() + ">");
  return out;
}

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) out += "\n  " + s;
  return out;
}

class AmnesiaTest : public ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    cwd_ = MakeTempDir("svcr-amnesia-cwd");
    home_ = MakeTempDir("svcr-amnesia-home");
    tmp_ = MakeTempDir("svcr-amnesia-tmp");
    data_parent_ = MakeTempDir("svcr-amnesia-data");
    for (const fs::path& d : {cwd_, home_, tmp_, data_parent_}) ASSERT_FALSE(d.empty());
    data_dir_ = data_parent_ / "data";
  }

  void TearDown() override {
    ServiceTest::TearDown();
    for (const fs::path& d : {cwd_, home_, tmp_, data_parent_}) {
      std::error_code ec;
      if (!d.empty()) fs::remove_all(d, ec);
    }
  }

  // ServiceTest::StartService, but with the memory store, in the empty working directory,
  // with HOME (and TMPDIR, the XDG base directories) in empty watched directories, and with
  // storage.data_dir = `data_dir` (the default, ./data, when nullopt).
  void StartAmnesiac(const std::optional<fs::path>& data_dir) {
    ASSERT_EQ(service_, nullptr);
    const std::string roots_path = (dir_ / "trust_roots.json").string();
    {
      std::ofstream out(roots_path, std::ios::binary | std::ios::trunc);
      out << trust_roots_json_;
      ASSERT_TRUE(out.good());
    }
    std::vector<std::string> args = {
        "--storage",      "memory",
        "--bind",         "127.0.0.1:0",
        "--metrics-addr", "127.0.0.1:0",
        "--set",          "bootstrap.trust_roots_path=" + roots_path,
        "--set",          "auth.root_key_path=" + (dir_ / "root.key").string()};
    if (data_dir.has_value()) {
      args.push_back("--set");
      args.push_back("storage.data_dir=" + data_dir->string());
    }
    SpawnOptions spawn;
    spawn.cwd = cwd_.string();
    spawn.env = {{"HOME", home_.string()},
                 {"PWD", cwd_.string()},
                 {"TMPDIR", tmp_.string()},
                 {"XDG_CONFIG_HOME", (home_ / ".config").string()},
                 {"XDG_DATA_HOME", (home_ / ".local/share").string()},
                 {"XDG_STATE_HOME", (home_ / ".local/state").string()},
                 {"XDG_CACHE_HOME", (home_ / ".cache").string()},
                 {"XDG_RUNTIME_DIR", tmp_.string()}};
    std::string error;
    service_ = ServiceProcess::Start(SVC_REGISTRY_PATH, args, spawn, kStartTimeout, &error);
    ASSERT_NE(service_, nullptr) << error;
    api_ = std::make_unique<HttpClient>(service_->api_port());
    admin_ = std::make_unique<HttpClient>(service_->admin_port());
    ASSERT_TRUE(api_->connected()) << api_->connect_error();
    ASSERT_TRUE(admin_->connected()) << admin_->connect_error();
    auto_commit_ = false;
    head_version_ = 0;
    head_b3_ = crypto::ZeroB3();
  }

  // Propose → approve → commit twice, then reads, the audit trail and freeze/thaw.
  void RunFullFlow() {
    for (int i = 0; i < 2; ++i) {
      Committed c = CommitNext();
      ASSERT_TRUE(c.ok);
      ASSERT_EQ(c.version, static_cast<std::uint64_t>(i + 1));
    }
    ASSERT_TRUE(HasStatus(Get("/registry/head"), 200));
    ASSERT_TRUE(HasStatus(Get("/registry/1"), 200));
    ASSERT_TRUE(HasStatus(Get("/registry/2"), 200));
    HttpResponse audit = AdminGet("/admin/audit", {{"Authorization", Bearer(admin_token())}});
    ASSERT_TRUE(HasStatus(audit, 200));
    ASSERT_NE(audit.body.find("\"commit\""), std::string::npos) << audit.body;
    ASSERT_TRUE(HasStatus(Freeze(true), 200));
    ASSERT_TRUE(HasStatus(Freeze(false), 200));
    ASSERT_TRUE(HasStatus(AdminGet("/metrics"), 200));
  }

  // Nothing was created in any watched place; the key directory holds only what the test
  // put there.
  void ExpectNothingCreated(const std::string& when) {
    SCOPED_TRACE(when);
    EXPECT_TRUE(ListRecursive(cwd_).empty()) << "working directory:" << Join(ListRecursive(cwd_));
    EXPECT_TRUE(ListRecursive(home_).empty()) << "HOME:" << Join(ListRecursive(home_));
    EXPECT_TRUE(ListRecursive(tmp_).empty()) << "TMPDIR:" << Join(ListRecursive(tmp_));
    EXPECT_TRUE(ListRecursive(data_parent_).empty())
        << "storage.data_dir's parent:" << Join(ListRecursive(data_parent_));
    std::error_code ec;
    EXPECT_FALSE(fs::exists(fs::symlink_status(data_dir_, ec)))
        << data_dir_ << " exists: " << Join(ListRecursive(data_dir_));
    std::vector<std::string> keys = ListRecursive(dir_);
    std::sort(keys.begin(), keys.end());
    EXPECT_EQ(keys, (std::vector<std::string>{"root.key", "trust_roots.json"}))
        << "next to the trust roots:" << Join(keys);
  }

  fs::path cwd_;
  fs::path home_;
  fs::path tmp_;
  fs::path data_parent_;
  fs::path data_dir_;  // inside data_parent_; never created
};

TEST_F(AmnesiaTest, FullFlowUnderMemoryCreatesNoFileAnywhere) {
  ASSERT_NO_FATAL_FAILURE(StartAmnesiac(data_dir_));
  ASSERT_NO_FATAL_FAILURE(RunFullFlow());
  ExpectNothingCreated("while running");
  // A clean stop writes the final storage checkpoint: into memory too.
  StopServiceGracefully();
  ExpectNothingCreated("after a clean stop");
}

// With the default storage.data_dir (./data, relative to the working directory).
TEST_F(AmnesiaTest, DefaultDataDirIsNotCreatedEither) {
  ASSERT_NO_FATAL_FAILURE(StartAmnesiac(std::nullopt));
  ASSERT_NO_FATAL_FAILURE(RunFullFlow());
  StopServiceGracefully();
  ExpectNothingCreated("after a clean stop");
  EXPECT_FALSE(fs::exists(cwd_ / "data"));
}

}  // namespace
}  // namespace registry::itest
