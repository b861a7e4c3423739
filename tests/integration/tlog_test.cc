// The transparency-log routes of the real binary (SPEC §5, issue 5): the signed checkpoint
// of HEAD, RFC 6962 inclusion and consistency proofs that verify against it, 400s for every
// out-of-range argument, 404 for the checkpoint with no log key, and start-up refusing a key
// that does not match tlog.origin.
#include <sys/stat.h>

#include <fstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "harness.h"
#include "registry/core/merkle.h"
#include "registry/core/merkle_proof.h"
#include "registry/crypto/base64.h"
#include "registry/json/parse.h"
#include "registry/tlog/checkpoint.h"
#include "registry/tlog/note_key.h"

namespace registry::itest {
namespace {

using ::testing::HasSubstr;

constexpr std::string_view kOrigin = "registry.test/log";

class TlogTest : public ServiceTest {
 protected:
  // Writes a fresh log key named `name` (mode 0600) and returns its path; the verifier
  // key string goes to verifier_key_.
  std::string WriteLogKey(std::string_view name, const std::string& file = "log.key") {
    util::Result<tlog::GeneratedLogKey> key = tlog::GenerateLogKey(name);
    EXPECT_TRUE(key.ok());
    const std::string path = (dir_ / file).string();
    util::Status written = tlog::WritePrivateKeyFile(path, key->private_key);
    EXPECT_TRUE(written.ok()) << written.error().message();
    verifier_key_ = key->verifier_key;
    return path;
  }

  void StartWithLogKey() {
    const std::string path = WriteLogKey(kOrigin);
    ASSERT_NO_FATAL_FAILURE(
        StartServiceWith({"tlog.origin=" + std::string(kOrigin), "tlog.signing_key_path=" + path}));
  }

  tlog::NoteVerifierKey Verifier() const { return *tlog::ParseVerifierKey(verifier_key_); }

  // Commits `n` versions and keeps their leaf hashes (of the exact GET /registry/{v} bytes).
  void CommitVersions(int n) {
    for (int i = 0; i < n; ++i) {
      Committed c = CommitNext();
      ASSERT_TRUE(c.ok);
      HttpResponse r = Get("/registry/" + std::to_string(c.version));
      ASSERT_TRUE(HasStatus(r, 200));
      leaves_.push_back(core::LeafHash(r.body));
    }
  }

  core::Hash RootOf(std::uint64_t size) const {
    return core::RootOfLeafHashes(std::span(leaves_).first(size));
  }

  // The hashes of a proof response; records a failure when it is not one.
  std::vector<core::Hash> ProofHashes(const HttpResponse& r) {
    std::vector<core::Hash> out;
    EXPECT_EQ(r.Header("content-type").value_or(""), "application/json; charset=utf-8");
    json::Value body = ParseJsonOrFail(r.body);
    const json::Value* hashes = body.Find("hashes");
    if (hashes == nullptr || !hashes->is_array() || body.as_object().size() != 1) {
      ADD_FAILURE() << "not {\"hashes\":[...]}: " << r.body;
      return out;
    }
    for (const json::Value& h : hashes->as_array()) {
      std::optional<std::vector<std::uint8_t>> bytes =
          h.is_string() ? crypto::Base64Decode(h.as_string()) : std::nullopt;
      if (!bytes.has_value() || bytes->size() != 32) {
        ADD_FAILURE() << "not a base64 hash: " << r.body;
        return out;
      }
      core::Hash x;
      std::copy(bytes->begin(), bytes->end(), x.begin());
      out.push_back(x);
    }
    return out;
  }

  tlog::Checkpoint FetchCheckpoint() {
    HttpResponse r = Get("/registry/checkpoint");
    EXPECT_TRUE(HasStatus(r, 200));
    EXPECT_EQ(r.Header("content-type").value_or(""), "text/plain; charset=utf-8");
    EXPECT_EQ(r.Header("cache-control").value_or(""), "no-cache");
    util::Result<tlog::Checkpoint> c = tlog::OpenCheckpoint(r.body, Verifier());
    EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().message()) << "\n" << r.body;
    return c.ok() ? *c : tlog::Checkpoint{};
  }

  std::string verifier_key_;
  std::vector<core::Hash> leaves_;
};

TEST_F(TlogTest, CheckpointIsSignedAndFollowsHead) {
  ASSERT_NO_FATAL_FAILURE(StartWithLogKey());
  std::optional<std::string> enabled = service().WaitForLine(
      [](const std::string& l) {
        return l.find("\"event\":\"tlog_enabled\"") != std::string::npos;
      },
      std::chrono::milliseconds(0));
  ASSERT_TRUE(enabled.has_value());
  EXPECT_THAT(*enabled, HasSubstr(verifier_key_));

  tlog::Checkpoint genesis = FetchCheckpoint();
  EXPECT_EQ(genesis.origin, kOrigin);
  EXPECT_EQ(genesis.size, 0u);
  EXPECT_EQ(genesis.root, core::EmptyRoot());

  ASSERT_NO_FATAL_FAILURE(CommitVersions(3));
  HttpResponse first = Get("/registry/checkpoint");
  tlog::Checkpoint c = FetchCheckpoint();
  EXPECT_EQ(c.origin, kOrigin);
  EXPECT_EQ(c.size, 3u);
  EXPECT_EQ(c.root, RootOf(3));
  // The same root as HEAD's, and the same bytes on every request until the next commit.
  json::Value head = ParseJsonOrFail(Get("/registry/head").body);
  EXPECT_EQ(JsonStr(head, {"root"}), crypto::Base64Encode(c.root));
  EXPECT_EQ(Get("/registry/checkpoint").body, first.body);
  EXPECT_EQ(first.Header("x-registry-version").value_or(""), "3");

  ASSERT_NO_FATAL_FAILURE(CommitVersions(1));
  tlog::Checkpoint next = FetchCheckpoint();
  EXPECT_EQ(next.size, 4u);
  EXPECT_EQ(next.root, RootOf(4));

  // Another key with the same name does not verify it.
  util::Result<tlog::GeneratedLogKey> other = tlog::GenerateLogKey(kOrigin);
  ASSERT_TRUE(other.ok());
  util::Result<tlog::Checkpoint> wrong = tlog::OpenCheckpoint(
      Get("/registry/checkpoint").body, *tlog::ParseVerifierKey(other->verifier_key));
  EXPECT_FALSE(wrong.ok());
}

TEST_F(TlogTest, InclusionProofsVerifyForEveryVersionAndSize) {
  ASSERT_NO_FATAL_FAILURE(StartWithLogKey());
  ASSERT_NO_FATAL_FAILURE(CommitVersions(6));
  ASSERT_EQ(FetchCheckpoint().root, RootOf(6));
  for (std::uint64_t n = 1; n <= 6; ++n) {
    for (std::uint64_t v = 1; v <= n; ++v) {
      HttpResponse r = Get("/registry/proof/inclusion?version=" + std::to_string(v) +
                           "&tree_size=" + std::to_string(n));
      ASSERT_TRUE(HasStatus(r, 200));
      EXPECT_EQ(r.Header("cache-control").value_or(""), "public, max-age=31536000, immutable");
      std::vector<core::Hash> proof = ProofHashes(r);
      util::Status ok = core::VerifyInclusion(v - 1, n, leaves_[v - 1], proof, RootOf(n));
      EXPECT_TRUE(ok.ok()) << "version " << v << " in " << n << ": " << ok.error().message();
      // The RFC's ordering exactly: the reference from all leaves gives the same list.
      core::LeafHashSource source{std::span<const core::Hash>(leaves_).first(n)};
      EXPECT_EQ(proof, core::InclusionProof(v - 1, n, source));
    }
  }
  // Parameters in either order.
  HttpResponse swapped = Get("/registry/proof/inclusion?tree_size=6&version=2");
  ASSERT_TRUE(HasStatus(swapped, 200));
  EXPECT_TRUE(core::VerifyInclusion(1, 6, leaves_[1], ProofHashes(swapped), RootOf(6)).ok());
}

TEST_F(TlogTest, ConsistencyProofsVerifyBetweenEverySize) {
  ASSERT_NO_FATAL_FAILURE(StartWithLogKey());
  ASSERT_NO_FATAL_FAILURE(CommitVersions(5));
  for (std::uint64_t b = 1; b <= 5; ++b) {
    for (std::uint64_t a = 1; a <= b; ++a) {
      HttpResponse r =
          Get("/registry/proof/consistency?from=" + std::to_string(a) + "&to=" + std::to_string(b));
      ASSERT_TRUE(HasStatus(r, 200));
      std::vector<core::Hash> proof = ProofHashes(r);
      if (a == b) {
        EXPECT_TRUE(proof.empty());
      }
      util::Status ok = core::VerifyConsistency(a, b, RootOf(a), RootOf(b), proof);
      EXPECT_TRUE(ok.ok()) << a << " -> " << b << ": " << ok.error().message();
    }
  }
  // New commits extend the same tree: the old checkpoint is a prefix of the new one.
  tlog::Checkpoint old_cp = FetchCheckpoint();
  ASSERT_NO_FATAL_FAILURE(CommitVersions(2));
  tlog::Checkpoint new_cp = FetchCheckpoint();
  HttpResponse r = Get("/registry/proof/consistency?from=" + std::to_string(old_cp.size) +
                       "&to=" + std::to_string(new_cp.size));
  ASSERT_TRUE(HasStatus(r, 200));
  EXPECT_TRUE(
      core::VerifyConsistency(old_cp.size, new_cp.size, old_cp.root, new_cp.root, ProofHashes(r))
          .ok());
}

TEST_F(TlogTest, OutOfRangeArgumentsAre400NamingTheParameter) {
  ASSERT_NO_FATAL_FAILURE(StartService());  // proofs need no log key
  // At genesis there is nothing to prove.
  HttpResponse empty = Get("/registry/proof/inclusion?version=1&tree_size=1");
  EXPECT_TRUE(IsError(empty, 400, "Malformed"));
  EXPECT_THAT(empty.body, HasSubstr("version: 1 is beyond HEAD (HEAD is 0)"));
  EXPECT_TRUE(IsError(Get("/registry/proof/consistency?from=1&to=1"), 400, "Malformed"));
  ASSERT_NO_FATAL_FAILURE(CommitVersions(3));
  struct Case {
    std::string target;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"/registry/proof/inclusion", "version: required"},
      {"/registry/proof/inclusion?version=1", "tree_size: required"},
      {"/registry/proof/inclusion?tree_size=1", "version: required"},
      {"/registry/proof/inclusion?version=&tree_size=2", "version: must be a non-negative"},
      {"/registry/proof/inclusion?version=x&tree_size=2", "version: must be a non-negative"},
      {"/registry/proof/inclusion?version=-1&tree_size=2", "version: must be a non-negative"},
      {"/registry/proof/inclusion?version=01&tree_size=2", "version: must be a non-negative"},
      {"/registry/proof/inclusion?version=1&tree_size=2.0", "tree_size: must be a non-negative"},
      {"/registry/proof/inclusion?version=1&tree_size=99999999999999999999",
       "tree_size: must be a non-negative"},
      {"/registry/proof/inclusion?version=0&tree_size=2", "version: must be at least 1"},
      {"/registry/proof/inclusion?version=3&tree_size=2", "tree_size: must be at least version"},
      {"/registry/proof/inclusion?version=2&tree_size=4", "tree_size: 4 is beyond HEAD"},
      {"/registry/proof/inclusion?version=4&tree_size=4", "version: 4 is beyond HEAD"},
      {"/registry/proof/consistency", "from: required"},
      {"/registry/proof/consistency?from=1", "to: required"},
      {"/registry/proof/consistency?to=2", "from: required"},
      {"/registry/proof/consistency?from=a&to=2", "from: must be a non-negative"},
      {"/registry/proof/consistency?from=0&to=2", "from: must be at least 1"},
      {"/registry/proof/consistency?from=3&to=2", "to: must be at least from"},
      {"/registry/proof/consistency?from=1&to=4", "to: 4 is beyond HEAD (HEAD is 3)"},
  };
  for (const Case& c : cases) {
    HttpResponse r = Get(c.target);
    EXPECT_TRUE(IsError(r, 400, "Malformed")) << c.target;
    EXPECT_THAT(r.body, HasSubstr(c.message)) << c.target;
    EXPECT_EQ(r.Header("cache-control").value_or(""), "no-store") << c.target;
  }
  EXPECT_TRUE(IsError(Post("/registry/proof/inclusion?version=1&tree_size=1", ""), 405,
                      "MethodNotAllowed"));
  // In range, they work.
  EXPECT_TRUE(HasStatus(Get("/registry/proof/inclusion?version=3&tree_size=3"), 200));
  EXPECT_TRUE(HasStatus(Get("/registry/proof/consistency?from=3&to=3"), 200));
  MetricsText m = FetchMetrics();
  EXPECT_EQ(m.Value("http_requests_total",
                    {{"route", "/registry/proof/inclusion"}, {"method", "GET"}, {"status", "400"}}),
            14.0);
}

TEST_F(TlogTest, WithoutALogKeyTheCheckpointIs404AndStartUpSaysSo) {
  ASSERT_NO_FATAL_FAILURE(StartService());
  EXPECT_TRUE(service()
                  .WaitForLine(
                      [](const std::string& l) {
                        return l.find("\"event\":\"tlog_disabled\"") != std::string::npos &&
                               l.find("tlog.signing_key_path") != std::string::npos;
                      },
                      std::chrono::milliseconds(0))
                  .has_value());
  HttpResponse r = Get("/registry/checkpoint");
  EXPECT_TRUE(IsError(r, 404, "NotFound"));
  EXPECT_THAT(r.body, HasSubstr("no log signing key is configured (tlog.signing_key_path)"));
  ASSERT_NO_FATAL_FAILURE(CommitVersions(2));
  HttpResponse proof = Get("/registry/proof/inclusion?version=1&tree_size=2");
  ASSERT_TRUE(HasStatus(proof, 200));
  EXPECT_TRUE(core::VerifyInclusion(0, 2, leaves_[0], ProofHashes(proof), RootOf(2)).ok());
}

TEST_F(TlogTest, ProofsSurviveARestartOfTheSqliteBackend) {
  storage_ = "sqlite";
  ASSERT_NO_FATAL_FAILURE(StartWithLogKey());
  ASSERT_NO_FATAL_FAILURE(CommitVersions(4));
  tlog::Checkpoint before = FetchCheckpoint();
  ASSERT_NO_FATAL_FAILURE(StopServiceGracefully());
  service_.reset();
  stopped_ = false;  // TearDown checks and stops the new process
  ASSERT_NO_FATAL_FAILURE(
      StartServiceWith({"tlog.origin=" + std::string(kOrigin),
                        "tlog.signing_key_path=" + (dir_ / "log.key").string()}));
  tlog::Checkpoint after = FetchCheckpoint();
  EXPECT_EQ(after, before);
  // The log reloads from the store's leaf hashes.
  for (std::uint64_t v = 1; v <= 4; ++v) {
    HttpResponse r = Get("/registry/proof/inclusion?version=" + std::to_string(v) + "&tree_size=4");
    ASSERT_TRUE(HasStatus(r, 200));
    EXPECT_TRUE(core::VerifyInclusion(v - 1, 4, leaves_[v - 1], ProofHashes(r), after.root).ok());
  }
}

// Start-up refuses a log key that cannot sign this log's checkpoints.
class TlogStartupTest : public TlogTest {
 protected:
  // Runs the binary with `settings` and returns what it said; it must not start.
  std::string StartFails(const std::vector<std::string>& settings) {
    const std::string roots_path = (dir_ / "trust_roots.json").string();
    std::ofstream(roots_path, std::ios::binary | std::ios::trunc) << trust_roots_json_;
    std::vector<std::string> args = {
        "--storage",      "memory",
        "--bind",         "127.0.0.1:0",
        "--metrics-addr", "127.0.0.1:0",
        "--set",          "bootstrap.trust_roots_path=" + roots_path,
        "--set",          "auth.root_key_path=" + (dir_ / "root.key").string()};
    for (const std::string& s : settings) {
      args.push_back("--set");
      args.push_back(s);
    }
    std::string error;
    std::unique_ptr<ServiceProcess> p =
        ServiceProcess::Start(SVC_REGISTRY_PATH, args, std::chrono::seconds(10), &error);
    EXPECT_EQ(p, nullptr) << "the service started";
    return error;
  }
};

TEST_F(TlogStartupTest, RefusesAKeyNamedOtherThanTheOrigin) {
  const std::string path = WriteLogKey("someone.else/log");
  std::string out =
      StartFails({"tlog.origin=" + std::string(kOrigin), "tlog.signing_key_path=" + path});
  EXPECT_THAT(out, HasSubstr("startup_failed"));
  EXPECT_THAT(out, HasSubstr("is named \\\"someone.else/log\\\""));
  EXPECT_THAT(out, HasSubstr("tlog.origin is \\\"registry.test/log\\\""));
}

TEST_F(TlogStartupTest, RefusesAKeyWithoutAnOrigin) {
  const std::string path = WriteLogKey(kOrigin);
  std::string out = StartFails({"tlog.signing_key_path=" + path});
  EXPECT_THAT(out, HasSubstr("tlog.origin: required when tlog.signing_key_path is set"));
}

TEST_F(TlogStartupTest, RefusesAKeyFileOthersMayRead) {
  const std::string path = WriteLogKey(kOrigin);
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  std::string out =
      StartFails({"tlog.origin=" + std::string(kOrigin), "tlog.signing_key_path=" + path});
  EXPECT_THAT(out, HasSubstr("has mode 0644"));
  std::string missing = StartFails(
      {"tlog.origin=" + std::string(kOrigin), "tlog.signing_key_path=" + path + ".missing"});
  EXPECT_THAT(missing, HasSubstr("cannot open"));
}

}  // namespace
}  // namespace registry::itest
