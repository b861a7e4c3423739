// End-to-end tests of registryctl's setup and network commands: `registryctl init` makes a
// local registry directory, the real svc-registry starts on it (port 0, memory storage), and
// registryctl proposes, approves, commits, reads and watches over HTTP, exactly as an operator
// would. Also: token minting, init's refusals, and approve's refusal to sign a hash it could
// not check (against a fake service).
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/server_fixture.h"
#include "registry/auth/root_key.h"
#include "registry/auth/verifier.h"
#include "registry/crypto/blake3.h"
#include "registry/http/server.h"
#include "registry/json/canonical.h"
#include "registry/json/parse.h"
#include "registry/json/value.h"
#include "registry/model/commit_record.h"
#include "registry/model/governance.h"
#include "registry/model/payload.h"
#include "registry/util/clock.h"
#include "registryctl/child_process.h"
#include "registryctl/subprocess.h"

namespace registry {
namespace {

using ::registry::testing::ChildProcess;
using ::registry::testing::EnvOverrides;
using ::registry::testing::ProcessResult;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;
constexpr std::chrono::seconds kStartTimeout{30};

// The environment of every registryctl run here: nothing inherited from the developer's
// shell may point a test at a real registry.
const EnvOverrides kCleanEnv = {"REGISTRYCTL_URL=", "REGISTRYCTL_TOKEN="};

ProcessResult Ctl(const std::vector<std::string>& args, EnvOverrides env = {}) {
  EnvOverrides all = kCleanEnv;
  all.insert(all.end(), env.begin(), env.end());
  return registry::testing::RunProcess(REGISTRYCTL_PATH, args, {}, all);
}

std::string Describe(const ProcessResult& r) {
  return "exit " + std::to_string(r.exit_code) + "\nstdout: " + r.out + "\nstderr: " + r.err;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void WriteFile(const std::string& path, std::string_view content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

mode_t ModeOf(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return static_cast<mode_t>(-1);
  return st.st_mode & 07777;
}

json::Value ParseOrDie(std::string_view bytes) {
  util::Result<json::Value> v = json::Parse(bytes);
  REGISTRY_CHECK(v.ok(), "expected JSON");
  return std::move(v).value();
}

// Parses the single JSON line a command printed.
json::Value OutputJson(const ProcessResult& r) {
  EXPECT_FALSE(r.out.empty()) << Describe(r);
  if (r.out.empty()) return json::Value();
  EXPECT_EQ(r.out.back(), '\n') << Describe(r);
  util::Result<json::Value> v = json::Parse(std::string_view(r.out).substr(0, r.out.size() - 1));
  EXPECT_TRUE(v.ok()) << Describe(r);
  return v.ok() ? std::move(v).value() : json::Value();
}

std::string Str(const json::Value& v, std::string_view member) {
  const json::Value* m = v.Find(member);
  return m != nullptr && m->is_string() ? m->as_string() : std::string();
}

std::int64_t Int(const json::Value& v, std::string_view member) {
  const json::Value* m = v.Find(member);
  std::optional<std::int64_t> n = m != nullptr ? m->AsSafeInteger() : std::nullopt;
  return n.value_or(-1);
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/registryctl_net_test.XXXXXX";
    REGISTRY_CHECK(::mkdtemp(tmpl) != nullptr, "mkdtemp");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A registry directory made by `registryctl init`, and svc-registry running on it.
class LocalRegistry {
 public:
  // `extra` are more svc-registry arguments.
  explicit LocalRegistry(std::vector<std::string> extra = {}) {
    data_ = tmp_.path() + "/data";
    ProcessResult init = Ctl({"init", "--dir", data_});
    EXPECT_EQ(init.exit_code, kExitOk) << Describe(init);
    report_ = ParseOrDie(init.out);
    std::vector<std::string> args = {"--storage",    "memory",      "--data-dir",     data_,
                                     "--bind",       "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0",
                                     "--log-format", "json"};
    args.insert(args.end(), extra.begin(), extra.end());
    std::string error;
    service_ = ChildProcess::Spawn(SVC_REGISTRY_PATH, args, {}, &error);
    EXPECT_NE(service_, nullptr) << error;
    if (service_ == nullptr) return;
    // Start-up logs JSON lines on stdout; the "listening" one names the bound ports.
    const bool listening =
        service_->WaitFor(ChildProcess::Stream::kOut, "\"event\":\"listening\"", kStartTimeout);
    EXPECT_TRUE(listening) << "svc-registry did not start:\n" << service_->out() << service_->err();
    if (!listening) return;
    const std::string out = service_->out();
    const std::size_t at = out.find("\"event\":\"listening\"");
    const std::size_t begin =
        out.rfind('\n', at) == std::string::npos ? 0 : out.rfind('\n', at) + 1;
    const json::Value line = ParseOrDie(out.substr(begin, out.find('\n', at) - begin));
    url_ = "http://127.0.0.1:" + std::to_string(Int(line, "api_port"));
    admin_url_ = "http://127.0.0.1:" + std::to_string(Int(line, "admin_port"));
  }

  // Stops the service with SIGTERM and returns its exit code.
  int Stop() {
    if (service_ == nullptr) return -1;
    service_->Signal(SIGTERM);
    return service_->Wait(std::chrono::seconds(20));
  }

  bool running() const { return service_ != nullptr && !url_.empty(); }
  const std::string& url() const { return url_; }
  const std::string& admin_url() const { return admin_url_; }
  const std::string& data() const { return data_; }
  const std::string& tmp() const { return tmp_.path(); }
  const json::Value& report() const { return report_; }
  std::string Token(const std::string& scope) const {
    return data_ + "/tokens/" + scope + ".token";
  }
  std::string Key(int i) const { return data_ + "/signers/signer-" + std::to_string(i) + ".key"; }
  static std::string SignerId(int i) { return "org:local#k" + std::to_string(i); }

  // registryctl with --url pointing here.
  ProcessResult Run(std::vector<std::string> args, EnvOverrides env = {}) const {
    args.insert(args.end(), {"--url", url_});
    return Ctl(args, std::move(env));
  }

  // propose → approve ×2 → commit; returns the commit's JSON.
  json::Value CommitPayload(const std::string& payload_file) const {
    ProcessResult proposed =
        Run({"propose", "--payload", payload_file, "--token-file", Token("propose")});
    EXPECT_EQ(proposed.exit_code, kExitOk) << Describe(proposed);
    const std::string id = Str(OutputJson(proposed), "proposal_id");
    for (int i = 1; i <= 2; ++i) {
      ProcessResult approved = Run({"approve", id, "--key", Key(i), "--signer-id", SignerId(i),
                                    "--token-file", Token("approve")});
      EXPECT_EQ(approved.exit_code, kExitOk) << Describe(approved);
    }
    ProcessResult committed = Run({"commit", id, "--token-file", Token("commit")});
    EXPECT_EQ(committed.exit_code, kExitOk) << Describe(committed);
    return OutputJson(committed);
  }

  // A valid next version on top of `prev`: the example's governance, one descriptor.
  std::string WriteNextPayload(std::uint64_t version, const std::string& prev_b3) const {
    json::Value example = ParseOrDie(ReadFile(Str(report_, "example_payload")));
    json::Value next = json::MakeObject(
        {{"version", version},
         {"prev_hash", prev_b3},
         {"governance", *example.Find("governance")},
         {"items", json::Value(json::Array{json::MakeObject(
                       {{"kind", "node"}, {"id", "node:v" + std::to_string(version)}})})}});
    const std::string path = tmp_.path() + "/payload-v" + std::to_string(version) + ".json";
    WriteFile(path, json::Canonicalize(next));
    return path;
  }

 private:
  TempDir tmp_;
  std::string data_;
  json::Value report_;
  std::unique_ptr<ChildProcess> service_;
  std::string url_;
  std::string admin_url_;
};

TEST(RegistryctlInitTest, CreatesAPrivateRegistryDirectory) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/a/b/data";
  ProcessResult r =
      Ctl({"init", "--dir", dir, "--signers", "4", "--quorum", "3", "--realm", "ops-eu"});
  ASSERT_EQ(r.exit_code, kExitOk) << Describe(r);
  const json::Value report = ParseOrDie(r.out);
  EXPECT_EQ(ModeOf(dir), 0700u);
  EXPECT_EQ(ModeOf(dir + "/signers"), 0700u);
  EXPECT_EQ(ModeOf(dir + "/tokens"), 0700u);
  EXPECT_EQ(ModeOf(dir + "/root.key"), 0600u);
  for (const char* t : {"propose", "approve", "commit", "admin"}) {
    EXPECT_EQ(ModeOf(dir + "/tokens/" + t + ".token"), 0600u) << t;
  }

  // The trust roots: quorum 3 of the four keys, which pubkey prints back.
  const std::string roots_text = ReadFile(dir + "/trust_roots.json");
  util::Result<model::Governance> roots =
      model::LoadTrustRoots(roots_text, Str(report, "trust_roots_hash"));
  ASSERT_TRUE(roots.ok()) << roots.error().ToString();
  EXPECT_EQ(roots->m, 3u);
  ASSERT_EQ(roots->n(), 4u);
  for (int i = 1; i <= 4; ++i) {
    const std::string key = dir + "/signers/signer-" + std::to_string(i) + ".key";
    EXPECT_EQ(ModeOf(key), 0600u);
    const std::string id = "org:ops-eu#k" + std::to_string(i);
    ProcessResult pub = Ctl({"pubkey", "--key", key, "--id", id});
    ASSERT_EQ(pub.exit_code, kExitOk) << Describe(pub);
    EXPECT_EQ(pub.out, json::Canonicalize(model::EncodeGovernance(*roots)
                                              .Find("signers")
                                              ->as_array()[static_cast<std::size_t>(i - 1)]) +
                           "\n");
  }

  // The example payload is a valid version 1 on the genesis HEAD under those trust roots.
  ProcessResult hash = Ctl({"hash", "--proposal-id", dir + "/example-payload.json"});
  ASSERT_EQ(hash.exit_code, kExitOk) << Describe(hash);
  EXPECT_EQ(hash.out,
            Str(report, "example_payload_b3") + "\n" + Str(report, "example_proposal_id") + "\n");
  util::Result<model::CanonicalPayload> example =
      model::MakeCanonicalPayload(ParseOrDie(ReadFile(dir + "/example-payload.json")), {});
  ASSERT_TRUE(example.ok()) << example.error().ToString();
  EXPECT_EQ(example->payload.version, 1u);
  EXPECT_EQ(example->payload.prev_hash, crypto::ZeroB3());
  EXPECT_EQ(example->payload.governance, *roots);
  EXPECT_GE(example->payload.items.size(), 2u);

  // The tokens verify against the root key, each with its one scope, for about 30 days.
  util::Result<auth::RootKey> key = auth::LoadRootKeyFile(dir + "/root.key");
  ASSERT_TRUE(key.ok()) << key.error().ToString();
  auth::TokenVerifier verifier(*key);
  const util::UnixMillis now = util::SystemClock().NowMillis();
  const util::UnixMillis day = 24 * 3600 * 1000;
  const std::vector<std::pair<std::string, auth::Scope>> tokens = {
      {"propose", auth::Scope::kPropose},
      {"approve", auth::Scope::kApprove},
      {"commit", auth::Scope::kCommit},
      {"admin", auth::Scope::kAdmin}};
  for (const auto& [name, scope] : tokens) {
    SCOPED_TRACE(name);
    std::string token = ReadFile(dir + "/tokens/" + name + ".token");
    ASSERT_FALSE(token.empty());
    token.pop_back();  // the newline
    EXPECT_TRUE(verifier.Verify("Bearer " + token, scope, now).ok());
    EXPECT_TRUE(verifier.Verify("Bearer " + token, scope, now + 29 * day).ok());
    EXPECT_FALSE(verifier.Verify("Bearer " + token, scope, now + 31 * day).ok());
    for (auth::Scope other : auth::kAllScopes) {
      if (other != scope) {
        EXPECT_FALSE(verifier.Verify("Bearer " + token, other, now).ok());
      }
    }
  }
}

TEST(RegistryctlInitTest, NeverOverwritesAnything) {
  TempDir tmp;
  const std::string dir = tmp.path() + "/data";
  ASSERT_EQ(Ctl({"init", "--dir", dir}).exit_code, kExitOk);
  const std::string roots = ReadFile(dir + "/trust_roots.json");
  const std::string key1 = ReadFile(dir + "/signers/signer-1.key");

  ProcessResult again = Ctl({"init", "--dir", dir});
  EXPECT_EQ(again.exit_code, kExitFailure) << Describe(again);
  EXPECT_THAT(again.err, HasSubstr("already exists"));
  EXPECT_EQ(again.out, "");
  EXPECT_EQ(ReadFile(dir + "/trust_roots.json"), roots);
  EXPECT_EQ(ReadFile(dir + "/signers/signer-1.key"), key1);

  // One existing file anywhere in the plan stops it before anything is created.
  const std::string other = tmp.path() + "/other";
  ASSERT_EQ(::mkdir(other.c_str(), 0700), 0);
  WriteFile(other + "/example-payload.json", "mine");
  ProcessResult blocked = Ctl({"init", "--dir", other});
  EXPECT_EQ(blocked.exit_code, kExitFailure) << Describe(blocked);
  EXPECT_THAT(blocked.err, HasSubstr(other + "/example-payload.json"));
  EXPECT_EQ(ReadFile(other + "/example-payload.json"), "mine");
  EXPECT_FALSE(std::filesystem::exists(other + "/signers"));
  EXPECT_FALSE(std::filesystem::exists(other + "/root.key"));

  // An existing but empty private directory is filled in.
  const std::string empty = tmp.path() + "/empty";
  ASSERT_EQ(::mkdir(empty.c_str(), 0700), 0);
  EXPECT_EQ(Ctl({"init", "--dir", empty}).exit_code, kExitOk);
  EXPECT_TRUE(std::filesystem::exists(empty + "/root.key"));
}

TEST(RegistryctlInitTest, RefusesBadOptionsAndOpenDirectories) {
  TempDir tmp;
  const std::string open_dir = tmp.path() + "/open";
  ASSERT_EQ(::mkdir(open_dir.c_str(), 0700), 0);
  ASSERT_EQ(::chmod(open_dir.c_str(), 0755), 0);
  ProcessResult open = Ctl({"init", "--dir", open_dir});
  EXPECT_EQ(open.exit_code, kExitFailure) << Describe(open);
  EXPECT_THAT(open.err, HasSubstr("chmod 700"));
  EXPECT_TRUE(std::filesystem::is_empty(open_dir));

  const std::string dir = tmp.path() + "/never";
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"init", "--dir", dir, "--signers", "3", "--quorum", "4"},
        std::vector<std::string>{"init", "--dir", dir, "--realm", "Upper"},
        std::vector<std::string>{"init", "--dir", dir, "--realm", "a#b"},
        std::vector<std::string>{"init", "--dir", dir, "--token-ttl", "30d"}}) {
    SCOPED_TRACE(::testing::PrintToString(args));
    ProcessResult r = Ctl(args);
    EXPECT_EQ(r.exit_code, kExitFailure) << Describe(r);
    EXPECT_THAT(r.err, StartsWith("registryctl: "));
    EXPECT_FALSE(std::filesystem::exists(dir));
  }
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"init"},
        std::vector<std::string>{"init", "--dir", dir, "--signers", "0"},
        std::vector<std::string>{"init", "--dir", dir, "--signers", "257"}}) {
    SCOPED_TRACE(::testing::PrintToString(args));
    EXPECT_EQ(Ctl(args).exit_code, kExitUsage);
    EXPECT_FALSE(std::filesystem::exists(dir));
  }
}

TEST(RegistryctlTokenTest, MintsScopedExpiringTokens) {
  TempDir tmp;
  ASSERT_EQ(Ctl({"init", "--dir", tmp.path() + "/data"}).exit_code, kExitOk);
  const std::string root_key = tmp.path() + "/data/root.key";
  ProcessResult r = Ctl({"token", "--root-key", root_key, "--scope", "propose,registry:commit",
                         "--ttl", "2h", "--id", "ci-bot"});
  ASSERT_EQ(r.exit_code, kExitOk) << Describe(r);
  ASSERT_FALSE(r.out.empty());
  const std::string token = r.out.substr(0, r.out.size() - 1);
  util::Result<auth::RootKey> key = auth::LoadRootKeyFile(root_key);
  ASSERT_TRUE(key.ok());
  auth::TokenVerifier verifier(*key);
  const util::UnixMillis now = util::SystemClock().NowMillis();
  EXPECT_TRUE(verifier.Verify("Bearer " + token, auth::Scope::kPropose, now).ok());
  EXPECT_TRUE(verifier.Verify("Bearer " + token, auth::Scope::kCommit, now).ok());
  util::Status approve = verifier.Verify("Bearer " + token, auth::Scope::kApprove, now);
  ASSERT_FALSE(approve.ok());
  EXPECT_EQ(approve.error().code(), util::ErrorCode::kForbidden);
  EXPECT_TRUE(verifier.Verify("Bearer " + token, auth::Scope::kCommit, now + 7100 * 1000).ok());
  EXPECT_FALSE(verifier.Verify("Bearer " + token, auth::Scope::kCommit, now + 7300 * 1000).ok());

  ProcessResult all = Ctl({"token", "--root-key", root_key, "--scope", "all"});
  ASSERT_EQ(all.exit_code, kExitOk) << Describe(all);
  for (auth::Scope s : auth::kAllScopes) {
    EXPECT_TRUE(verifier.Verify("Bearer " + all.out.substr(0, all.out.size() - 1), s, now).ok());
  }

  for (const std::vector<std::string>& bad :
       {std::vector<std::string>{"token", "--root-key", root_key, "--scope", "read"},
        std::vector<std::string>{"token", "--root-key", root_key, "--scope", "propose", "--ttl",
                                 "0s"},
        std::vector<std::string>{"token", "--root-key", root_key, "--scope", "propose", "--ttl",
                                 "1d"},
        std::vector<std::string>{"token", "--root-key", tmp.path() + "/missing", "--scope",
                                 "propose"}}) {
    SCOPED_TRACE(::testing::PrintToString(bad));
    ProcessResult failed = Ctl(bad);
    EXPECT_EQ(failed.exit_code, kExitFailure) << Describe(failed);
    EXPECT_EQ(failed.out, "");
  }
  EXPECT_EQ(Ctl({"token", "--scope", "propose"}).exit_code, kExitUsage);
  EXPECT_EQ(Ctl({"token", "--root-key", root_key}).exit_code, kExitUsage);
}

TEST(RegistryctlNetworkTest, ProposeApproveCommitReadWatch) {
  LocalRegistry registry;
  ASSERT_TRUE(registry.running());
  const json::Value& report = registry.report();
  const std::string payload = Str(report, "example_payload");
  const std::string id = Str(report, "example_proposal_id");
  const std::string b3 = Str(report, "example_payload_b3");

  ProcessResult head0 = registry.Run({"head"});
  ASSERT_EQ(head0.exit_code, kExitOk) << Describe(head0);
  EXPECT_EQ(Int(OutputJson(head0), "version"), 0);
  EXPECT_EQ(Str(OutputJson(head0), "payload_b3"), crypto::ZeroB3());

  ProcessResult proposed =
      registry.Run({"propose", "--payload", payload, "--token-file", registry.Token("propose")});
  ASSERT_EQ(proposed.exit_code, kExitOk) << Describe(proposed);
  json::Value p = OutputJson(proposed);
  EXPECT_EQ(Str(p, "proposal_id"), id);
  EXPECT_EQ(Str(p, "payload_b3"), b3);
  EXPECT_EQ(Str(p, "status"), "pending");
  // Proposing the same payload again is the same proposal.
  ProcessResult again =
      registry.Run({"propose", "--payload", payload, "--token-file", registry.Token("propose")});
  ASSERT_EQ(again.exit_code, kExitOk) << Describe(again);
  EXPECT_EQ(Str(OutputJson(again), "proposal_id"), id);

  ProcessResult list = registry.Run({"proposals"});
  ASSERT_EQ(list.exit_code, kExitOk) << Describe(list);
  const json::Value listed = OutputJson(list);
  ASSERT_NE(listed.Find("proposals"), nullptr);
  ASSERT_EQ(listed.Find("proposals")->as_array().size(), 1u);
  EXPECT_EQ(Str(listed.Find("proposals")->as_array()[0], "proposal_id"), id);

  ProcessResult shown = registry.Run({"proposal", id});
  ASSERT_EQ(shown.exit_code, kExitOk) << Describe(shown);
  EXPECT_EQ(Str(OutputJson(shown), "payload_b3"), b3);

  // Error paths: the API's code and message on stderr, exit 1, nothing on stdout.
  struct Case {
    std::vector<std::string> args;
    EnvOverrides env;
    std::string code;
  };
  const std::vector<Case> errors = {
      {{"approve", id, "--key", registry.Key(1), "--signer-id", registry.SignerId(1),
        "--token-file", registry.Token("propose")},
       {},
       "Forbidden"},
      {{"approve", "p_000000000000000000000000", "--key", registry.Key(1), "--signer-id",
        registry.SignerId(1), "--token-file", registry.Token("approve")},
       {},
       "NotFound"},
      {{"approve", id, "--key", registry.Key(1), "--signer-id", registry.SignerId(1)},
       {},
       "Unauthorized"},
      {{"approve", id, "--key", registry.Key(1), "--signer-id", "org:local#k9", "--token-file",
        registry.Token("approve")},
       {},
       "UnknownSigner"},
      {{"commit", id, "--token-file", registry.Token("commit")}, {}, "QuorumFailed"},
      {{"propose", "--payload", payload},
       {"REGISTRYCTL_TOKEN=" + ReadFile(registry.Token("commit"))},
       "Forbidden"},
      {{"get", "1"}, {}, "NotFound"},
  };
  for (const Case& c : errors) {
    SCOPED_TRACE(::testing::PrintToString(c.args));
    ProcessResult r = registry.Run(c.args, c.env);
    EXPECT_EQ(r.exit_code, kExitFailure) << Describe(r);
    EXPECT_EQ(r.out, "");
    EXPECT_THAT(r.err, StartsWith("registryctl: " + c.code + ": ")) << Describe(r);
    EXPECT_THAT(r.err, HasSubstr("corr_id"));
  }

  // Approvals: one with --token-file, one with the URL and token from the environment.
  ProcessResult a1 =
      registry.Run({"approve", id, "--key", registry.Key(1), "--signer-id", registry.SignerId(1),
                    "--token-file", registry.Token("approve")});
  ASSERT_EQ(a1.exit_code, kExitOk) << Describe(a1);
  EXPECT_EQ(Str(OutputJson(a1), "status"), "accepted");
  EXPECT_EQ(Int(OutputJson(a1), "approvals"), 1);
  ProcessResult duplicate =
      registry.Run({"approve", id, "--key", registry.Key(1), "--signer-id", registry.SignerId(1),
                    "--token-file", registry.Token("approve")});
  EXPECT_EQ(duplicate.exit_code, kExitFailure) << Describe(duplicate);
  EXPECT_THAT(duplicate.err, StartsWith("registryctl: DuplicateApproval: "));
  // A token as `cat` prints it, newline included, works from the environment too.
  ProcessResult a2 =
      Ctl({"approve", id, "--key", registry.Key(2), "--signer-id", registry.SignerId(2)},
          {"REGISTRYCTL_URL=" + registry.url(),
           "REGISTRYCTL_TOKEN=" + ReadFile(registry.Token("approve"))});
  ASSERT_EQ(a2.exit_code, kExitOk) << Describe(a2);
  EXPECT_EQ(Int(OutputJson(a2), "approvals"), 2);

  ProcessResult committed = registry.Run({"commit", id, "--token-file", registry.Token("commit")});
  ASSERT_EQ(committed.exit_code, kExitOk) << Describe(committed);
  json::Value c = OutputJson(committed);
  EXPECT_EQ(Int(c, "version"), 1);
  EXPECT_EQ(Str(c, "payload_b3"), b3);
  // A retried commit answers the same version.
  ProcessResult retried = registry.Run({"commit", id, "--token-file", registry.Token("commit")});
  ASSERT_EQ(retried.exit_code, kExitOk) << Describe(retried);
  EXPECT_EQ(Int(OutputJson(retried), "version"), 1);

  ProcessResult head1 = registry.Run({"head"});
  ASSERT_EQ(head1.exit_code, kExitOk) << Describe(head1);
  EXPECT_EQ(Int(OutputJson(head1), "version"), 1);
  EXPECT_EQ(Str(OutputJson(head1), "payload_b3"), b3);

  // get prints the record's exact canonical bytes: no newline, and its payload hashes back
  // to the payload_b3 it names.
  ProcessResult got = registry.Run({"get", "1"});
  ASSERT_EQ(got.exit_code, kExitOk) << Describe(got);
  const json::Value record = ParseOrDie(got.out);
  EXPECT_EQ(json::Canonicalize(record), got.out);
  EXPECT_EQ(Int(record, "version"), 1);
  EXPECT_EQ(Str(record, "payload_b3"), b3);
  ASSERT_NE(record.Find("payload"), nullptr);
  EXPECT_EQ(crypto::PayloadB3(json::Canonicalize(*record.Find("payload"))), b3);
  EXPECT_EQ(record.Find("approvals")->as_array().size(), 2u);

  ProcessResult watched = registry.Run({"watch", "--since", "0", "--count", "1"});
  ASSERT_EQ(watched.exit_code, kExitOk) << Describe(watched);
  const json::Value event = OutputJson(watched);
  EXPECT_EQ(Int(event, "version"), 1);
  EXPECT_EQ(Str(event, "payload_b3"), b3);

  EXPECT_EQ(registry.Stop(), 0);
}

TEST(RegistryctlNetworkTest, WatchFollowsAndResumesWithoutGapOrDuplicate) {
  // No heartbeat for a minute, so that a short --idle-timeout makes the watcher reconnect.
  LocalRegistry registry({"--set", "sse.heartbeat=60s"});
  ASSERT_TRUE(registry.running());
  const json::Value v1 = registry.CommitPayload(Str(registry.report(), "example_payload"));
  ASSERT_EQ(Int(v1, "version"), 1);

  std::string error;
  std::unique_ptr<ChildProcess> watch = ChildProcess::Spawn(
      REGISTRYCTL_PATH,
      {"watch", "--url", registry.url(), "--since", "0", "--count", "3", "--idle-timeout", "300ms"},
      kCleanEnv, &error);
  ASSERT_NE(watch, nullptr) << error;
  ASSERT_TRUE(watch->WaitFor(ChildProcess::Stream::kOut, "\"version\":1}", kStartTimeout))
      << watch->err();
  // The idle stream is dropped and resumed after version 1.
  ASSERT_TRUE(watch->WaitFor(ChildProcess::Stream::kErr, "reconnecting", kStartTimeout))
      << watch->err();
  EXPECT_THAT(watch->err(), HasSubstr("after version 1"));

  const json::Value v2 =
      registry.CommitPayload(registry.WriteNextPayload(2, Str(v1, "payload_b3")));
  ASSERT_EQ(Int(v2, "version"), 2);
  const json::Value v3 =
      registry.CommitPayload(registry.WriteNextPayload(3, Str(v2, "payload_b3")));
  ASSERT_EQ(Int(v3, "version"), 3);

  ASSERT_EQ(watch->Wait(kStartTimeout), kExitOk) << watch->out() << watch->err();
  const std::string out = watch->out();
  std::vector<json::Value> lines;
  for (std::size_t begin = 0; begin < out.size();) {
    const std::size_t end = out.find('\n', begin);
    ASSERT_NE(end, std::string::npos) << out;
    lines.push_back(ParseOrDie(out.substr(begin, end - begin)));
    begin = end + 1;
  }
  ASSERT_EQ(lines.size(), 3u) << out;
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(Int(lines[i], "version"), static_cast<int>(i) + 1);
  EXPECT_EQ(Str(lines[1], "payload_b3"), Str(v2, "payload_b3"));
  EXPECT_EQ(Str(lines[2], "payload_b3"), Str(v3, "payload_b3"));
  EXPECT_EQ(registry.Stop(), 0);
}

TEST(RegistryctlNetworkTest, TransportAndUsageErrors) {
  // A port nothing listens on: bind one, then let it go.
  std::uint16_t port = 0;
  {
    http::testing::FnHandler handler(http::testing::EchoFn());
    auto server = http::testing::StartServer(&handler, http::testing::TestLimits(), nullptr);
    ASSERT_NE(server, nullptr);
    port = server->api_port();
    server->Stop();
  }
  const std::string dead = "http://127.0.0.1:" + std::to_string(port);
  ProcessResult refused = Ctl({"head", "--url", dead});
  EXPECT_EQ(refused.exit_code, kExitFailure) << Describe(refused);
  EXPECT_THAT(refused.err, HasSubstr("cannot connect"));
  ProcessResult from_env = Ctl({"head"}, {"REGISTRYCTL_URL=" + dead});
  EXPECT_EQ(from_env.exit_code, kExitFailure);
  EXPECT_THAT(from_env.err, HasSubstr(dead));
  ProcessResult tls = Ctl({"head", "--url", "https://127.0.0.1:9444"});
  EXPECT_EQ(tls.exit_code, kExitFailure) << Describe(tls);
  EXPECT_THAT(tls.err, HasSubstr("TLS"));
  ProcessResult watch = Ctl({"watch", "--url", dead, "--retries", "1"});
  EXPECT_EQ(watch.exit_code, kExitFailure) << Describe(watch);
  EXPECT_THAT(watch.err, HasSubstr("giving up after 2 attempt(s)"));

  TempDir tmp;
  const std::string token_file = tmp.path() + "/t";
  WriteFile(token_file, "two words\n");
  ProcessResult bad_token =
      Ctl({"commit", "p_000000000000000000000000", "--url", dead, "--token-file", token_file});
  EXPECT_EQ(bad_token.exit_code, kExitFailure) << Describe(bad_token);
  EXPECT_THAT(bad_token.err, HasSubstr("not a token"));

  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"get"},
        std::vector<std::string>{"approve", "p_000000000000000000000000", "--signer-id",
                                 "org:local#k1"},
        std::vector<std::string>{"approve", "p_000000000000000000000000", "--key", "k"},
        std::vector<std::string>{"approve", "p_000000000000000000000000", "--key", "k",
                                 "--signer-id", "org:local#k1", "--payload-b3", "b3:00"},
        std::vector<std::string>{"commit"}, std::vector<std::string>{"propose"},
        std::vector<std::string>{"commit", "p_000000000000000000000000", "--token", "a",
                                 "--token-file", "b"},
        std::vector<std::string>{"watch", "--count", "-1"},
        std::vector<std::string>{"head", "extra"}}) {
    SCOPED_TRACE(::testing::PrintToString(args));
    ProcessResult r = Ctl(args);
    EXPECT_EQ(r.exit_code, kExitUsage) << Describe(r);
    EXPECT_EQ(r.out, "");
  }
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"get", "one", "--url", dead},
        std::vector<std::string>{"proposal", "p_1", "--url", dead},
        std::vector<std::string>{"commit", "P_000000000000000000000000", "--url", dead},
        std::vector<std::string>{"head", "--url", dead, "--timeout", "5"}}) {
    SCOPED_TRACE(::testing::PrintToString(args));
    ProcessResult r = Ctl(args);
    EXPECT_EQ(r.exit_code, kExitFailure) << Describe(r);
    EXPECT_THAT(r.err, StartsWith("registryctl: "));
  }
}

// A fake service whose GET /registry/proposals/{id} answers `view`, counting approvals posted.
struct FakeService {
  explicit FakeService(std::string view)
      : handler([this, view](http::Request r, http::Responder respond) {
          if (r.method == "POST") ++posts;
          respond(http::Response::Text(200, "application/json", view));
        }) {
    server = http::testing::StartServer(&handler, http::testing::TestLimits(), nullptr);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server->api_port()); }

  std::atomic<int> posts{0};
  http::testing::FnHandler handler;
  std::unique_ptr<http::HttpServer> server;
};

TEST(RegistryctlNetworkTest, ApproveRefusesToSignWhatItCannotCheck) {
  TempDir tmp;
  const std::string data = tmp.path() + "/data";
  ProcessResult init = Ctl({"init", "--dir", data});
  ASSERT_EQ(init.exit_code, kExitOk) << Describe(init);
  const json::Value report = ParseOrDie(init.out);
  const json::Value payload = ParseOrDie(ReadFile(Str(report, "example_payload")));
  const std::string b3 = Str(report, "example_payload_b3");
  const std::string id = Str(report, "example_proposal_id");
  auto view = [&](const json::Value& p, const std::string& claimed) {
    return json::Canonicalize(json::MakeObject(
        {{"payload", p}, {"payload_b3", claimed}, {"proposal_id", id}, {"status", "pending"}}));
  };
  json::Value tampered = payload;
  for (auto& [name, value] : tampered.as_object()) {
    if (name == "items") value.as_array().pop_back();
  }
  const std::string other_b3 = crypto::PayloadB3(json::Canonicalize(tampered));
  const std::vector<std::pair<std::string, std::string>> lies = {
      {view(tampered, b3), "refusing to sign"},        // the payload was swapped
      {view(payload, other_b3), "refusing to sign"},   // the hash was swapped
      {view(tampered, other_b3), "refusing to sign"},  // both: another proposal's content
      {R"({"payload_b3":")" + b3 + R"("})", "no payload"},
      {"not json", "syntax"},
  };
  for (const auto& [body, expected] : lies) {
    SCOPED_TRACE(body.substr(0, 120));
    FakeService fake(body);
    ASSERT_NE(fake.server, nullptr);
    ProcessResult r = Ctl({"approve", id, "--url", fake.url(), "--key",
                           data + "/signers/signer-1.key", "--signer-id", "org:local#k1"});
    EXPECT_EQ(r.exit_code, kExitFailure) << Describe(r);
    EXPECT_THAT(r.err, HasSubstr(expected)) << Describe(r);
    EXPECT_EQ(fake.posts.load(), 0) << "nothing may be signed and sent";
  }
  // The honest answer is signed and sent.
  FakeService honest(view(payload, b3));
  ASSERT_NE(honest.server, nullptr);
  ProcessResult ok = Ctl({"approve", id, "--url", honest.url(), "--key",
                          data + "/signers/signer-1.key", "--signer-id", "org:local#k1"});
  EXPECT_EQ(ok.exit_code, kExitOk) << Describe(ok);
  EXPECT_EQ(honest.posts.load(), 1);
}

}  // namespace
}  // namespace registry

namespace registry {
namespace {

TEST(RegistryctlNetworkTest, VerifyChecksTheWholeLogAndTheAuditTrail) {
  LocalRegistry registry;
  ASSERT_TRUE(registry.running());
  const json::Value v1 = registry.CommitPayload(Str(registry.report(), "example_payload"));
  const json::Value v2 =
      registry.CommitPayload(registry.WriteNextPayload(2, Str(v1, "payload_b3")));
  ASSERT_EQ(Int(v2, "version"), 2);
  const std::string roots = registry.data() + "/trust_roots.json";
  ProcessResult ok = Ctl({"verify", "--url", registry.url(), "--trust-roots", roots, "--audit",
                          "--admin-url", registry.admin_url()});
  EXPECT_EQ(ok.exit_code, kExitOk) << Describe(ok);
  EXPECT_THAT(ok.err, HasSubstr("2 versions verified"));
  EXPECT_THAT(ok.err, HasSubstr("chain intact"));
  EXPECT_EQ(Int(ParseOrDie(ok.out), "version"), 2);

  // Against other trust roots, version 1's approvals are not a quorum of known signers.
  TempDir other;
  ProcessResult init = Ctl({"init", "--dir", other.path() + "/d"});
  ASSERT_EQ(init.exit_code, kExitOk) << Describe(init);
  ProcessResult bad = Ctl(
      {"verify", "--url", registry.url(), "--trust-roots", other.path() + "/d/trust_roots.json"});
  EXPECT_EQ(bad.exit_code, kExitFailure) << Describe(bad);
  EXPECT_THAT(bad.err, HasSubstr("version 1"));
  EXPECT_EQ(registry.Stop(), 0);
}

// `keygen --log --name ORIGIN --out FILE`: a Go-note private key in a new 0600 file, and its
// verifier key on stdout; `verify --verifier-key` takes that string.
std::string MakeLogKey(const std::string& origin, const std::string& out) {
  ProcessResult r = Ctl({"keygen", "--log", "--name", origin, "--out", out});
  EXPECT_EQ(r.exit_code, kExitOk) << Describe(r);
  std::string key = r.out;
  if (!key.empty() && key.back() == '\n') key.pop_back();
  return key;
}

// svc-registry arguments that make it sign checkpoints with the key file under `origin`.
std::vector<std::string> LogKeyArgs(const std::string& origin, const std::string& key_file) {
  return {"--set", "tlog.signing_key_path=" + key_file, "--set", "tlog.origin=" + origin};
}

constexpr const char* kOrigin = "registry.test/log";

TEST(RegistryctlNetworkTest, KeygenLogWritesANoteKeyAndPrintsItsVerifierKey) {
  TempDir dir;
  const std::string out = dir.path() + "/log.key";
  ProcessResult r = Ctl({"keygen", "--log", "--name", kOrigin, "--out", out});
  ASSERT_EQ(r.exit_code, kExitOk) << Describe(r);
  EXPECT_THAT(r.out,
              ::testing::MatchesRegex("registry\\.test/log\\+[0-9a-f]{8}\\+[A-Za-z0-9+/]{44}\n"));
  const std::string key_id = r.out.substr(std::string(kOrigin).size() + 1, 8);
  EXPECT_THAT(ReadFile(out),
              StartsWith(std::string("PRIVATE+KEY+") + kOrigin + "+" + key_id + "+"));
  EXPECT_EQ(ModeOf(out), 0600u);

  // Never replaces a key; --name is required and must be a valid key name.
  const std::string before = ReadFile(out);
  ProcessResult again = Ctl({"keygen", "--log", "--name", kOrigin, "--out", out});
  EXPECT_EQ(again.exit_code, kExitFailure) << Describe(again);
  EXPECT_EQ(ReadFile(out), before);
  ProcessResult unnamed = Ctl({"keygen", "--log", "--out", dir.path() + "/b.key"});
  EXPECT_EQ(unnamed.exit_code, kExitFailure) << Describe(unnamed);
  EXPECT_THAT(unnamed.err, HasSubstr("--name"));
  ProcessResult plus = Ctl({"keygen", "--log", "--name", "a+b", "--out", dir.path() + "/c.key"});
  EXPECT_EQ(plus.exit_code, kExitFailure) << Describe(plus);
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/c.key"));
}

TEST(RegistryctlNetworkTest, VerifyChecksTheSignedCheckpointAndConsistency) {
  TempDir keys;
  const std::string key_file = keys.path() + "/log.key";
  const std::string verifier = MakeLogKey(kOrigin, key_file);
  ASSERT_FALSE(verifier.empty());
  LocalRegistry registry(LogKeyArgs(kOrigin, key_file));
  ASSERT_TRUE(registry.running());
  const json::Value v1 = registry.CommitPayload(Str(registry.report(), "example_payload"));
  const json::Value v2 =
      registry.CommitPayload(registry.WriteNextPayload(2, Str(v1, "payload_b3")));
  ASSERT_EQ(Int(v2, "version"), 2);
  const std::string roots = registry.data() + "/trust_roots.json";
  const std::vector<std::string> base = {"verify", "--url", registry.url(), "--trust-roots", roots};
  auto verify = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = base;
    args.insert(args.end(), extra.begin(), extra.end());
    return Ctl(args);
  };

  const std::string cp2 = keys.path() + "/cp2";
  ProcessResult ok = verify({"--verifier-key", verifier, "--save-checkpoint", cp2});
  ASSERT_EQ(ok.exit_code, kExitOk) << Describe(ok);
  EXPECT_THAT(ok.err, HasSubstr("2 versions verified"));
  EXPECT_THAT(ok.err, HasSubstr("checkpoint: size 2 signed by registry.test/log"));
  EXPECT_THAT(ok.err, HasSubstr("2 inclusion proofs verified"));
  EXPECT_EQ(Int(ParseOrDie(ok.out), "version"), 2);
  const std::string note2 = ReadFile(cp2);
  ASSERT_THAT(note2, StartsWith(std::string(kOrigin) + "\n2\n"));

  // One more version; consistency from the saved size-2 checkpoint to size 3, key from @FILE.
  registry.CommitPayload(registry.WriteNextPayload(3, Str(v2, "payload_b3")));
  const std::string verifier_file = keys.path() + "/log.pub";
  WriteFile(verifier_file, verifier + "\n");
  const std::string cp3 = keys.path() + "/cp3";
  ProcessResult consistent = verify({"--verifier-key", "@" + verifier_file, "--previous-checkpoint",
                                     cp2, "--save-checkpoint", cp3});
  ASSERT_EQ(consistent.exit_code, kExitOk) << Describe(consistent);
  EXPECT_THAT(consistent.err, HasSubstr("checkpoint: size 3"));
  EXPECT_THAT(consistent.err, HasSubstr("consistency from 2 to 3 verified"));
  EXPECT_THAT(ReadFile(cp3), StartsWith(std::string(kOrigin) + "\n3\n"));
  ProcessResult same = verify({"--verifier-key", verifier, "--previous-checkpoint", cp3});
  EXPECT_EQ(same.exit_code, kExitOk) << Describe(same);
  EXPECT_THAT(same.err, HasSubstr("consistency from 3 to 3 verified"));

  // A saved note whose size was changed keeps a signature that no longer verifies.
  std::string tampered = note2;
  tampered.replace(std::string(kOrigin).size() + 1, 1, "1");
  const std::string tampered_file = keys.path() + "/tampered";
  WriteFile(tampered_file, tampered);
  ProcessResult bad_sig =
      verify({"--verifier-key", verifier, "--previous-checkpoint", tampered_file});
  EXPECT_EQ(bad_sig.exit_code, kExitFailure) << Describe(bad_sig);
  EXPECT_THAT(bad_sig.err, HasSubstr("previous checkpoint " + tampered_file +
                                     ": signature does not verify with the given key"));

  // Another log key (same name) does not open this log's checkpoint.
  const std::string other = MakeLogKey(kOrigin, keys.path() + "/other.key");
  ProcessResult wrong_key = verify({"--verifier-key", other});
  EXPECT_EQ(wrong_key.exit_code, kExitFailure) << Describe(wrong_key);
  EXPECT_THAT(wrong_key.err, HasSubstr("checkpoint: signature does not verify with the given key"));
  ProcessResult garbage = verify({"--verifier-key", "not-a-key"});
  EXPECT_EQ(garbage.exit_code, kExitFailure) << Describe(garbage);
  EXPECT_THAT(garbage.err, HasSubstr("--verifier-key"));

  // A fork: another registry signing with the SAME log key but holding a different version 1.
  // Its checkpoint is validly signed, yet no consistency proof links it to this log.
  LocalRegistry fork(LogKeyArgs(kOrigin, key_file));
  ASSERT_TRUE(fork.running());
  fork.CommitPayload(Str(fork.report(), "example_payload"));
  const std::string forked = keys.path() + "/forked";
  ProcessResult fork_ok =
      Ctl({"verify", "--url", fork.url(), "--trust-roots", fork.data() + "/trust_roots.json",
           "--verifier-key", verifier, "--save-checkpoint", forked});
  ASSERT_EQ(fork_ok.exit_code, kExitOk) << Describe(fork_ok);
  ProcessResult split = verify({"--verifier-key", verifier, "--previous-checkpoint", forked});
  EXPECT_EQ(split.exit_code, kExitFailure) << Describe(split);
  EXPECT_THAT(split.err, HasSubstr("consistency from 1 to 3 does not verify"));

  // A mirror serving this log's records and HEAD, but the fork's (validly signed) checkpoint,
  // or this log's checkpoint with audit paths that lead elsewhere.
  std::map<std::string, std::string> routes;
  routes["/registry/head"] = json::Canonicalize(ParseOrDie(registry.Run({"head"}).out));
  for (int v = 1; v <= 3; ++v) {
    ProcessResult record = registry.Run({"get", std::to_string(v)});
    ASSERT_EQ(record.exit_code, kExitOk) << Describe(record);
    routes["/registry/" + std::to_string(v)] = record.out;
  }
  routes["/registry/proof/inclusion"] = R"({"hashes":[]})";
  auto mirror_verify = [&](const std::string& checkpoint) {
    routes["/registry/checkpoint"] = checkpoint;
    http::testing::FnHandler handler([&routes](http::Request r, http::Responder respond) {
      auto it = routes.find(r.path);
      respond(it == routes.end() ? http::Response::Text(404, "text/plain", "no")
                                 : http::Response::Text(200, "application/json", it->second));
    });
    std::unique_ptr<http::HttpServer> server =
        http::testing::StartServer(&handler, http::testing::TestLimits(), nullptr);
    EXPECT_NE(server, nullptr);
    if (server == nullptr) return ProcessResult{};
    return Ctl({"verify", "--url", "http://127.0.0.1:" + std::to_string(server->api_port()),
                "--trust-roots", roots, "--verifier-key", verifier});
  };
  ProcessResult wrong_root = mirror_verify(ReadFile(forked));
  EXPECT_EQ(wrong_root.exit_code, kExitFailure) << Describe(wrong_root);
  EXPECT_THAT(wrong_root.err, HasSubstr("checkpoint: root at size 1 does not match the log"));
  ProcessResult bad_path = mirror_verify(ReadFile(cp3));
  EXPECT_EQ(bad_path.exit_code, kExitFailure) << Describe(bad_path);
  EXPECT_THAT(bad_path.err, HasSubstr("inclusion of version 1 does not verify"));
  EXPECT_EQ(fork.Stop(), 0);
  EXPECT_EQ(registry.Stop(), 0);
}

// An HTTP server answering fixed routes (path → status and body), 404 for any other: a mirror
// that serves what a test wants, tampered or pruned.
class Mirror {
 public:
  struct Route {
    int status = 200;
    std::string body;
  };
  explicit Mirror(std::map<std::string, Route> routes) : routes_(std::move(routes)) {
    server_ = http::testing::StartServer(&handler_, http::testing::TestLimits(), nullptr);
    EXPECT_NE(server_, nullptr);
  }
  std::string url() const {
    return server_ == nullptr ? "http://127.0.0.1:1"
                              : "http://127.0.0.1:" + std::to_string(server_->api_port());
  }

 private:
  std::map<std::string, Route> routes_;
  http::testing::FnHandler handler_{[this](http::Request r, http::Responder respond) {
    auto it = routes_.find(r.path);
    respond(it == routes_.end()
                ? http::Response::Text(404, "application/json",
                                       R"({"error":{"code":"NotFound","message":"no"}})")
                : http::Response::Text(it->second.status, "application/json", it->second.body));
  }};
  std::unique_ptr<http::HttpServer> server_;
};

std::string RecordFile(const std::string& dir, int v) {
  const std::string digits = std::to_string(v);
  return dir + "/records/" + std::string(20 - digits.size(), '0') + digits + ".json";
}

// A copy of the archive `from`, to tamper with.
std::string CopyArchive(const std::string& from, const std::string& to) {
  std::filesystem::copy(from, to, std::filesystem::copy_options::recursive);
  return to;
}

void SwapFiles(const std::string& a, const std::string& b) {
  const std::string tmp = a + ".swap";
  std::filesystem::rename(a, tmp);
  std::filesystem::rename(b, a);
  std::filesystem::rename(tmp, b);
}

TEST(RegistryctlNetworkTest, FetchArchivesTheLogIncrementallyAndVerifyDirChecksIt) {
  TempDir keys;
  const std::string key_file = keys.path() + "/log.key";
  const std::string verifier = MakeLogKey(kOrigin, key_file);
  ASSERT_FALSE(verifier.empty());
  LocalRegistry registry(LogKeyArgs(kOrigin, key_file));
  ASSERT_TRUE(registry.running());
  const json::Value v1 = registry.CommitPayload(Str(registry.report(), "example_payload"));
  const json::Value v2 =
      registry.CommitPayload(registry.WriteNextPayload(2, Str(v1, "payload_b3")));
  ASSERT_EQ(Int(v2, "version"), 2);
  const std::string roots = registry.data() + "/trust_roots.json";
  const std::string dir = keys.path() + "/archive";
  auto verify_dir = [&](const std::string& d, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"verify", "--dir", d, "--trust-roots", roots};
    args.insert(args.end(), extra.begin(), extra.end());
    return Ctl(args);
  };

  ProcessResult fetched = Ctl({"fetch", "--url", registry.url(), "--out", dir});
  ASSERT_EQ(fetched.exit_code, kExitOk) << Describe(fetched);
  EXPECT_EQ(Int(OutputJson(fetched), "fetched"), 2);
  EXPECT_EQ(Int(OutputJson(fetched), "version"), 2);
  // The layout: one file per version with the exact bytes served, HEAD and the checkpoint.
  for (int v = 1; v <= 2; ++v) {
    EXPECT_EQ(ReadFile(RecordFile(dir, v)), registry.Run({"get", std::to_string(v)}).out) << v;
  }
  EXPECT_EQ(ParseOrDie(ReadFile(dir + "/head.json")), ParseOrDie(registry.Run({"head"}).out));
  EXPECT_THAT(ReadFile(dir + "/checkpoint"), StartsWith(std::string(kOrigin) + "\n2\n"));

  const std::string cp2 = keys.path() + "/cp2";
  ProcessResult ok = verify_dir(dir, {"--verifier-key", verifier, "--save-checkpoint", cp2});
  ASSERT_EQ(ok.exit_code, kExitOk) << Describe(ok);
  EXPECT_THAT(ok.err, HasSubstr("2 versions verified"));
  EXPECT_THAT(ok.err, HasSubstr("checkpoint: size 2 signed by registry.test/log"));
  EXPECT_THAT(ok.err, HasSubstr("2 inclusion proofs verified"));
  EXPECT_EQ(Int(ParseOrDie(ok.out), "version"), 2);
  EXPECT_EQ(ReadFile(cp2), ReadFile(dir + "/checkpoint"));

  // Incremental: a version already archived is not fetched again (a marker in version 1's file
  // survives), the new one is; --server is --url.
  const std::string record1 = ReadFile(RecordFile(dir, 1));
  WriteFile(RecordFile(dir, 1), "marker");
  const json::Value v3 =
      registry.CommitPayload(registry.WriteNextPayload(3, Str(v2, "payload_b3")));
  ASSERT_EQ(Int(v3, "version"), 3);
  ProcessResult again = Ctl({"fetch", "--server", registry.url(), "--out", dir});
  ASSERT_EQ(again.exit_code, kExitOk) << Describe(again);
  EXPECT_EQ(Int(OutputJson(again), "fetched"), 1);
  EXPECT_EQ(Int(OutputJson(again), "version"), 3);
  EXPECT_EQ(ReadFile(RecordFile(dir, 1)), "marker");
  WriteFile(RecordFile(dir, 1), record1);
  ProcessResult consistent =
      verify_dir(dir, {"--verifier-key", verifier, "--previous-checkpoint", cp2});
  ASSERT_EQ(consistent.exit_code, kExitOk) << Describe(consistent);
  EXPECT_THAT(consistent.err, HasSubstr("3 versions verified"));
  EXPECT_THAT(consistent.err, HasSubstr("consistency from 2 to 3 verified"));
  // The archive and the server verify to the same HEAD.
  ProcessResult online = Ctl({"verify", "--url", registry.url(), "--trust-roots", roots});
  ASSERT_EQ(online.exit_code, kExitOk) << Describe(online);
  EXPECT_EQ(online.out, consistent.out);

  // Tampered archives: each fails (exit 1) naming the version and the rule.
  ProcessResult modified_ok = verify_dir(dir);
  ASSERT_EQ(modified_ok.exit_code, kExitOk) << Describe(modified_ok);
  const std::string modified = CopyArchive(dir, keys.path() + "/modified");
  std::string record3 = ReadFile(RecordFile(modified, 3));
  ASSERT_NE(record3.find("node:v3"), std::string::npos);
  record3.replace(record3.find("node:v3"), 7, "node:v9");
  WriteFile(RecordFile(modified, 3), record3);
  ProcessResult bad_record = verify_dir(modified);
  EXPECT_EQ(bad_record.exit_code, kExitFailure) << Describe(bad_record);
  EXPECT_THAT(bad_record.err, HasSubstr("version 3: payload_b3 "));
  EXPECT_THAT(bad_record.err, HasSubstr("does not match the payload"));

  const std::string reordered = CopyArchive(dir, keys.path() + "/reordered");
  SwapFiles(RecordFile(reordered, 2), RecordFile(reordered, 3));
  ProcessResult swapped = verify_dir(reordered);
  EXPECT_EQ(swapped.exit_code, kExitFailure) << Describe(swapped);
  EXPECT_THAT(swapped.err, HasSubstr("version 2: record carries version 3"));

  const std::string gap = CopyArchive(dir, keys.path() + "/gap");
  std::filesystem::remove(RecordFile(gap, 2));
  ProcessResult missing = verify_dir(gap);
  EXPECT_EQ(missing.exit_code, kExitFailure) << Describe(missing);
  EXPECT_THAT(missing.err, HasSubstr("version 2: missing from the archive"));
  EXPECT_THAT(missing.err, HasSubstr("the archive has a gap"));

  // A forked checkpoint: another registry signing with the SAME log key holds a different
  // version 1. Its checkpoint (size 1, a size this log has) is validly signed, yet it is not
  // this log at size 1 — as the archive's checkpoint, and as a previous checkpoint.
  LocalRegistry fork(LogKeyArgs(kOrigin, key_file));
  ASSERT_TRUE(fork.running());
  fork.CommitPayload(Str(fork.report(), "example_payload"));
  const std::string fork_dir = keys.path() + "/fork";
  ProcessResult fork_fetched = Ctl({"fetch", "--url", fork.url(), "--out", fork_dir});
  ASSERT_EQ(fork_fetched.exit_code, kExitOk) << Describe(fork_fetched);
  ASSERT_THAT(ReadFile(fork_dir + "/checkpoint"), StartsWith(std::string(kOrigin) + "\n1\n"));
  const std::string forked = CopyArchive(dir, keys.path() + "/forked");
  WriteFile(forked + "/checkpoint", ReadFile(fork_dir + "/checkpoint"));
  ProcessResult wrong_root = verify_dir(forked, {"--verifier-key", verifier});
  EXPECT_EQ(wrong_root.exit_code, kExitFailure) << Describe(wrong_root);
  EXPECT_THAT(wrong_root.err, HasSubstr("checkpoint: root at size 1 does not match the log"));
  ProcessResult split = verify_dir(
      dir, {"--verifier-key", verifier, "--previous-checkpoint", fork_dir + "/checkpoint"});
  EXPECT_EQ(split.exit_code, kExitFailure) << Describe(split);
  EXPECT_THAT(split.err, HasSubstr("consistency from 1 to 3 does not verify"));

  // The same tampering served over HTTP by a mirror of this log.
  std::map<std::string, Mirror::Route> routes;
  routes["/registry/head"] = {200, ReadFile(dir + "/head.json")};
  for (int v = 1; v <= 3; ++v)
    routes["/registry/" + std::to_string(v)] = {200, ReadFile(RecordFile(dir, v))};
  {
    Mirror faithful(routes);
    ProcessResult r = Ctl({"verify", "--url", faithful.url(), "--trust-roots", roots});
    EXPECT_EQ(r.exit_code, kExitOk) << Describe(r);
  }
  {
    std::map<std::string, Mirror::Route> changed = routes;
    changed["/registry/3"].body = record3;
    Mirror mirror(changed);
    ProcessResult r = Ctl({"verify", "--url", mirror.url(), "--trust-roots", roots});
    EXPECT_EQ(r.exit_code, kExitFailure) << Describe(r);
    EXPECT_THAT(r.err, HasSubstr("version 3: payload_b3 "));
  }
  {
    std::map<std::string, Mirror::Route> changed = routes;
    std::swap(changed["/registry/2"], changed["/registry/3"]);
    Mirror mirror(changed);
    ProcessResult r = Ctl({"verify", "--url", mirror.url(), "--trust-roots", roots});
    EXPECT_EQ(r.exit_code, kExitFailure) << Describe(r);
    EXPECT_THAT(r.err, HasSubstr("version 2: record carries version 3"));
  }

  ProcessResult both =
      Ctl({"verify", "--dir", dir, "--url", registry.url(), "--trust-roots", roots});
  EXPECT_EQ(both.exit_code, kExitFailure) << Describe(both);
  EXPECT_THAT(both.err, HasSubstr("exclusive"));
  EXPECT_EQ(fork.Stop(), 0);
  EXPECT_EQ(registry.Stop(), 0);
}

// Retention (410 Pruned) as a mirror serves it, without svc-registry: verify and fetch stop
// with exit 3 and say what is needed, not that anything was tampered with.
TEST(RegistryctlNetworkTest, VerifyAndFetchStopAtAPrunedVersion) {
  TempDir tmp;
  ProcessResult init = Ctl({"init", "--dir", tmp.path() + "/d"});
  ASSERT_EQ(init.exit_code, kExitOk) << Describe(init);
  const std::string roots = tmp.path() + "/d/trust_roots.json";
  model::Head head;
  head.version = 3;
  head.payload_b3 = crypto::PayloadB3("{}");
  head.committed_at = "2026-11-26T00:00:00.000Z";
  head.root = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
  std::map<std::string, Mirror::Route> routes;
  routes["/registry/head"] = {200, json::Canonicalize(model::EncodeHead(head))};
  const std::string pruned =
      R"json({"error":{"code":"Pruned","message":"version 1 is pruned (retention)","corr_id":"c1","details":{}}})json";
  routes["/registry/1"] = {410, pruned};
  Mirror mirror(routes);

  ProcessResult verify = Ctl({"verify", "--url", mirror.url(), "--trust-roots", roots});
  EXPECT_EQ(verify.exit_code, 3) << Describe(verify);
  EXPECT_EQ(verify.out, "");
  EXPECT_THAT(verify.err, StartsWith("registryctl: version 1 is pruned: " + mirror.url() +
                                     " no longer serves it (GET /registry/1 answered 410 (Pruned: "
                                     "version 1 is pruned (retention)))"));
  EXPECT_THAT(verify.err, HasSubstr("a full verification needs an archive made with "
                                    "`registryctl fetch` before pruning"));
  EXPECT_THAT(verify.err, ::testing::Not(HasSubstr("does not verify")));

  const std::string dir = tmp.path() + "/archive";
  ProcessResult fetch = Ctl({"fetch", "--url", mirror.url(), "--out", dir});
  EXPECT_EQ(fetch.exit_code, 3) << Describe(fetch);
  EXPECT_EQ(fetch.out, "");
  EXPECT_THAT(fetch.err, HasSubstr("serves no checkpoint"));
  EXPECT_THAT(fetch.err, HasSubstr("\nregistryctl: version 1 is pruned: " + mirror.url()));
  EXPECT_THAT(fetch.err, HasSubstr("cannot be archived any more"));
  // Nothing claims a complete archive.
  EXPECT_FALSE(std::filesystem::exists(dir + "/head.json"));
  ProcessResult dir_verify = Ctl({"verify", "--dir", dir, "--trust-roots", roots});
  EXPECT_EQ(dir_verify.exit_code, kExitFailure) << Describe(dir_verify);
  EXPECT_THAT(dir_verify.err, HasSubstr("is not a complete archive"));
}

}  // namespace
}  // namespace registry
