#include "registry/config/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "registry/util/error.h"

namespace registry::config {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;
using ::testing::Not;
using util::ErrorCode;

// A file under the build tree that is removed when the test ends.
class TempFile {
 public:
  explicit TempFile(const std::string& contents, mode_t mode = 0600) {
    std::string tmpl = std::string(REGISTRY_BINARY_DIR) + "/config_test_XXXXXX";
    int fd = ::mkstemp(tmpl.data());
    EXPECT_GE(fd, 0);
    path_ = tmpl;
    EXPECT_EQ(::write(fd, contents.data(), contents.size()), static_cast<ssize_t>(contents.size()));
    ::close(fd);
    EXPECT_EQ(::chmod(path_.c_str(), mode), 0);
  }
  ~TempFile() { ::unlink(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

Config WithoutOrigins(Config c) {
  c.origins.clear();
  return c;
}

// The message of a load that must fail with kMalformed.
std::string LoadError(const LoadOptions& opts) {
  auto r = Load(opts);
  EXPECT_FALSE(r.ok());
  if (r.ok()) return "";
  EXPECT_EQ(r.error().code(), ErrorCode::kMalformed) << r.error().message();
  return r.error().message();
}

std::string TextError(std::string_view toml, const LoadOptions& opts = {}) {
  auto r = LoadFromText(toml, "test.toml", opts);
  EXPECT_FALSE(r.ok()) << toml;
  if (r.ok()) return "";
  EXPECT_EQ(r.error().code(), ErrorCode::kMalformed) << r.error().message();
  return r.error().message();
}

std::string EnvError(const std::string& name, const std::string& value) {
  return LoadError(LoadOptions{.env = {{name, value}}});
}

TEST(ConfigDefaults, MatchTheDocumentedValues) {
  auto r = Load({});
  ASSERT_TRUE(r.ok()) << r.error().message();
  const Config& c = *r;
  EXPECT_EQ(c.bind_addr, "127.0.0.1:9444");
  EXPECT_EQ(c.metrics_addr, "127.0.0.1:9909");
  EXPECT_EQ(c.threads, 0);
  EXPECT_EQ(c.max_conns, 1024);
  EXPECT_EQ(c.read_timeout, milliseconds(5000));
  EXPECT_EQ(c.write_timeout, milliseconds(5000));
  EXPECT_EQ(c.idle_timeout, milliseconds(60000));
  EXPECT_EQ(c.drain_deadline, milliseconds(3000));
  EXPECT_EQ(c.limits.inflight, 512);
  EXPECT_EQ(c.limits.rps, 0);
  EXPECT_EQ(c.limits.max_body_bytes, 1048576);
  EXPECT_EQ(c.limits.max_header_bytes, 16384);
  EXPECT_EQ(c.limits.max_items, 100000);
  EXPECT_EQ(c.storage.kind, StorageKind::kSqlite);
  EXPECT_EQ(c.storage.data_dir, "./data");
  EXPECT_TRUE(c.storage.fsync);
  EXPECT_EQ(c.storage.checkpoint_interval, milliseconds(30000));
  EXPECT_EQ(c.storage.postgres_url, "");
  EXPECT_TRUE(c.storage.group_commit);
  EXPECT_EQ(c.governance.proposal_ttl, std::chrono::hours(72));
  EXPECT_EQ(c.governance.max_pending, 1024);
  EXPECT_EQ(c.governance.max_clock_skew, std::chrono::minutes(5));
  EXPECT_FALSE(c.governance.auto_commit);
  EXPECT_EQ(c.bootstrap.trust_roots_path, "");
  EXPECT_EQ(c.bootstrap.trust_roots_hash, "");
  EXPECT_EQ(c.auth.mode, AuthMode::kMacaroon);
  EXPECT_EQ(c.sse.heartbeat, milliseconds(15000));
  EXPECT_EQ(c.sse.queue_len, 256);
  EXPECT_EQ(c.sse.max_clients, 10000);
  EXPECT_EQ(c.retention.policy, RetentionPolicy::kNone);
  EXPECT_EQ(c.retention.keep_min, 100);
  EXPECT_EQ(c.retention.keep_versions, 0);
  EXPECT_EQ(c.retention.max_age, milliseconds(0));
  EXPECT_FALSE(c.tls.enabled);
  EXPECT_EQ(c.log.format, LogFormat::kJson);
  EXPECT_EQ(c.log.level, LogLevel::kInfo);
  EXPECT_EQ(c.cache.record_entries, 1024);
  EXPECT_TRUE(c.origins.empty());
  EXPECT_EQ(c, Config{});
}

TEST(ConfigDefaults, EffectivePathsFollowDataDir) {
  Config c;
  c.storage.data_dir = "/var/lib/svcr";
  EXPECT_EQ(EffectiveTrustRootsPath(c), "/var/lib/svcr/trust_roots.json");
  EXPECT_EQ(EffectiveRootKeyPath(c), "/var/lib/svcr/root.key");
  c.bootstrap.trust_roots_path = "/etc/roots.json";
  c.auth.root_key_path = "/etc/root.key";
  EXPECT_EQ(EffectiveTrustRootsPath(c), "/etc/roots.json");
  EXPECT_EQ(EffectiveRootKeyPath(c), "/etc/root.key");
  EXPECT_GE(EffectiveThreads(c), 1);
  c.threads = 3;
  EXPECT_EQ(EffectiveThreads(c), 3);
}

TEST(ConfigFile, OverridesDefaultsAndRecordsTheLine) {
  TempFile file(R"(# comment
bind_addr = "0.0.0.0:0"
threads = 4
read_timeout = "250ms"

[limits]
inflight = 64
max_body_bytes = 67108864

[storage]
kind = "memory"
fsync = false

[governance]
proposal_ttl = "15m"
auto_commit = true

[log]
format = "text"
level = "debug"
)");
  auto r = Load(LoadOptions{.config_path = file.path()});
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->bind_addr, "0.0.0.0:0");
  EXPECT_EQ(r->threads, 4);
  EXPECT_EQ(r->read_timeout, milliseconds(250));
  EXPECT_EQ(r->limits.inflight, 64);
  EXPECT_EQ(r->limits.max_body_bytes, 64 * 1024 * 1024);
  EXPECT_EQ(r->storage.kind, StorageKind::kMemory);
  EXPECT_FALSE(r->storage.fsync);
  EXPECT_EQ(r->governance.proposal_ttl, std::chrono::minutes(15));
  EXPECT_TRUE(r->governance.auto_commit);
  EXPECT_EQ(r->log.format, LogFormat::kText);
  EXPECT_EQ(r->log.level, LogLevel::kDebug);
  EXPECT_EQ(r->metrics_addr, "127.0.0.1:9909");  // untouched
  const Origin& o = r->origins.at("limits.inflight");
  EXPECT_EQ(o.kind, Origin::Kind::kFile);
  EXPECT_EQ(o.where, file.path() + ":7:1");
  EXPECT_EQ(r->origins.count("metrics_addr"), 0u);
}

TEST(ConfigFile, DottedKeysAndInlineTablesWork) {
  auto r = LoadFromText("limits.inflight = 7\nsse = { queue_len = 3 }\n", "t.toml");
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->limits.inflight, 7);
  EXPECT_EQ(r->sse.queue_len, 3);
}

TEST(ConfigFile, MissingFileIsNotFound) {
  auto r = Load(LoadOptions{.config_path = std::string(REGISTRY_BINARY_DIR) + "/no/such.toml"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kNotFound);
  EXPECT_THAT(r.error().message(), HasSubstr("no/such.toml"));
}

TEST(ConfigFile, InvalidTomlNamesThePosition) {
  std::string m = TextError("threads = 1\nlimits = [\n");
  EXPECT_THAT(m, HasSubstr("test.toml:"));
  EXPECT_THAT(m, HasSubstr("invalid TOML"));
  m = TextError("threads = 1\nthreads = 2\n");  // duplicate key
  EXPECT_THAT(m, HasSubstr("test.toml:2:"));
}

TEST(ConfigFile, UnknownKeysAreRejectedWithTheirName) {
  std::string m = TextError("[limits]\ninflgiht = 5\n");
  EXPECT_THAT(m, HasSubstr("unknown key \"limits.inflgiht\""));
  EXPECT_THAT(m, HasSubstr("did you mean \"limits.inflight\""));
  EXPECT_THAT(m, HasSubstr("test.toml:2:1"));

  EXPECT_THAT(TextError("bogus = 1\n"), HasSubstr("unknown key \"bogus\""));
  EXPECT_THAT(TextError("[nosuch]\nx = 1\n"), HasSubstr("unknown key \"nosuch\""));
  EXPECT_THAT(TextError("[limits.deeper]\nx = 1\n"), HasSubstr("unknown key \"limits.deeper\""));
  // A quoted key with a dot is not the dotted key.
  EXPECT_THAT(TextError("\"limits.inflight\" = 1\n"), HasSubstr("unknown key \"limits.inflight\""));
  // A section used as a value.
  EXPECT_THAT(TextError("limits = 5\n"), HasSubstr("limits: expected a table, got integer"));
}

TEST(ConfigFile, WrongTypesNameKeyAndExpectedType) {
  EXPECT_THAT(
      TextError("threads = \"4\"\n"),
      HasSubstr("config: threads: expected an integer, got string (from file test.toml:1:1)"));
  EXPECT_THAT(TextError("[storage]\nfsync = \"yes\"\n"),
              HasSubstr("storage.fsync: expected a boolean (true or false), got string"));
  EXPECT_THAT(TextError("read_timeout = 5\n"),
              HasSubstr("read_timeout: expected a duration string such as \"5s\", got integer"));
  EXPECT_THAT(TextError("[limits]\ninflight = 1.5\n"),
              HasSubstr("limits.inflight: expected an integer, got float"));
  EXPECT_THAT(TextError("bind_addr = 9444\n"),
              HasSubstr("bind_addr: expected a \"host:port\" string, got integer"));
  EXPECT_THAT(TextError("[storage]\nkind = \"mysql\"\n"),
              HasSubstr("storage.kind: expected one of \"sqlite\", \"memory\" or \"postgres\", got "
                        "\"mysql\""));
  EXPECT_THAT(TextError("[storage]\nkind = [\"sqlite\"]\n"),
              HasSubstr("storage.kind: expected one of"));
  EXPECT_THAT(TextError("[limits]\ninflight = { a = 1 }\n"),
              HasSubstr("limits.inflight: expected an integer, got table"));
}

TEST(ConfigEnv, OverridesFile) {
  TempFile file("[limits]\ninflight = 64\nrps = 10\n");
  auto r = Load(LoadOptions{.config_path = file.path(),
                            .env = {{"SVCR_LIMITS__INFLIGHT", "128"},
                                    {"SVCR_STORAGE__KIND", "memory"},
                                    {"SVCR_BIND_ADDR", "[::1]:0"},
                                    {"SVCR_READ_TIMEOUT", "2s"},
                                    {"SVCR_STORAGE__FSYNC", "false"},
                                    {"HOME", "/root"},
                                    {"svcr_lower", "ignored"}}});
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->limits.inflight, 128);
  EXPECT_EQ(r->limits.rps, 10);  // from the file
  EXPECT_EQ(r->storage.kind, StorageKind::kMemory);
  EXPECT_EQ(r->bind_addr, "[::1]:0");
  EXPECT_EQ(r->read_timeout, milliseconds(2000));
  EXPECT_FALSE(r->storage.fsync);
  EXPECT_EQ(r->origins.at("limits.inflight"),
            (Origin{Origin::Kind::kEnv, "SVCR_LIMITS__INFLIGHT"}));
  EXPECT_EQ(r->origins.at("limits.rps").kind, Origin::Kind::kFile);
}

TEST(ConfigEnv, UnknownVariableIsRejected) {
  std::string m = EnvError("SVCR_LIMITS__INFLIGT", "5");
  EXPECT_THAT(m, HasSubstr("unknown environment variable SVCR_LIMITS__INFLIGT"));
  EXPECT_THAT(m, HasSubstr("did you mean SVCR_LIMITS__INFLIGHT"));
  // Single underscore instead of the double one for the dot.
  EXPECT_THAT(EnvError("SVCR_STORAGE_KIND", "memory"), HasSubstr("SVCR_STORAGE_KIND"));
  // Env names are exact: a lower-case key after the prefix is not a key.
  EXPECT_THAT(EnvError("SVCR_bind_addr", "127.0.0.1:1"), HasSubstr("SVCR_bind_addr"));
}

TEST(ConfigEnv, BadValuesNameKeyAndVariable) {
  EXPECT_EQ(EnvError("SVCR_LIMITS__INFLIGHT", "0"),
            "config: limits.inflight: must be between 1 and 1000000, got 0 (from env "
            "SVCR_LIMITS__INFLIGHT)");
  EXPECT_THAT(EnvError("SVCR_LIMITS__INFLIGHT", "12abc"),
              HasSubstr("limits.inflight: expected an integer, got \"12abc\""));
  EXPECT_THAT(EnvError("SVCR_LIMITS__INFLIGHT", ""), HasSubstr("expected an integer"));
  EXPECT_THAT(EnvError("SVCR_LIMITS__INFLIGHT", "+5"), HasSubstr("expected an integer"));
  EXPECT_THAT(EnvError("SVCR_LIMITS__INFLIGHT", "99999999999999999999"),
              HasSubstr("expected an integer"));
  EXPECT_THAT(EnvError("SVCR_TLS__ENABLED", "1"),
              HasSubstr("tls.enabled: expected a boolean (true or false), got \"1\""));
  EXPECT_THAT(EnvError("SVCR_IDLE_TIMEOUT", "5"),
              HasSubstr("idle_timeout: invalid duration \"5\": missing unit"));
  EXPECT_THAT(EnvError("SVCR_LOG__LEVEL", "verbose"), HasSubstr("log.level: expected one of"));
  EXPECT_THAT(EnvError("SVCR_STORAGE__DATA_DIR", ""),
              HasSubstr("storage.data_dir: must not be empty"));
  EXPECT_THAT(EnvError("SVCR_TLS__CERT_PATH", "a\nb"),
              HasSubstr("tls.cert_path: must not contain control characters"));
  EXPECT_THAT(EnvError("SVCR_TLS__CERT_PATH", "\xff"), HasSubstr("must be valid UTF-8"));
}

TEST(ConfigFlags, OverrideEnvAndApplyInOrder) {
  auto r = Load(LoadOptions{
      .env = {{"SVCR_LIMITS__INFLIGHT", "128"}, {"SVCR_LOG__FORMAT", "text"}},
      .overrides = {
          {"limits.inflight", "256"}, {"limits.inflight", "300"}, {"sse.heartbeat", "1m"}}});
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->limits.inflight, 300);
  EXPECT_EQ(r->log.format, LogFormat::kText);
  EXPECT_EQ(r->sse.heartbeat, std::chrono::minutes(1));
  EXPECT_EQ(r->origins.at("limits.inflight").kind, Origin::Kind::kFlag);
  EXPECT_EQ(r->origins.at("limits.inflight").ToString(), "command line");
}

TEST(ConfigFlags, UnknownKeyAndBadValueAreRejected) {
  EXPECT_THAT(LoadError(LoadOptions{.overrides = {{"limit.inflight", "3"}}}),
              HasSubstr("unknown key \"limit.inflight\" (did you mean \"limits.inflight\"?) (from "
                        "command line)"));
  EXPECT_THAT(LoadError(LoadOptions{.overrides = {{"sse.queue_len", "0"}}}),
              HasSubstr("sse.queue_len: must be between 1 and 1000000, got 0 (from command line)"));
}

TEST(ConfigValidation, RangesNameTheKey) {
  struct Case {
    const char* toml;
    const char* expected;
  };
  const Case cases[] = {
      {"[limits]\nmax_body_bytes = 1023",
       "limits.max_body_bytes: must be between 1024 and 67108864, got 1023"},
      {"[limits]\nmax_body_bytes = 67108865",
       "limits.max_body_bytes: must be between 1024 and 67108864"},
      {"[limits]\nrps = -1", "limits.rps: must be between 0 and 10000000, got -1"},
      {"[limits]\nmax_header_bytes = 0", "limits.max_header_bytes: must be between"},
      {"[limits]\nmax_items = 0", "limits.max_items: must be between"},
      {"max_conns = 0", "max_conns: must be between 1 and 1000000, got 0"},
      {"threads = -1", "threads: must be between 0 and 1024"},
      {"[retention]\nkeep_min = 99", "retention.keep_min: must be at least 100, got 99"},
      {"[sse]\nqueue_len = 0", "sse.queue_len: must be between 1 and 1000000, got 0"},
      {"[sse]\nmax_clients = 0", "sse.max_clients: must be between 1 and 1000000, got 0"},
      {"[sse]\nheartbeat = \"0s\"", "sse.heartbeat: must be between 100ms and 1h, got 0s"},
      {"read_timeout = \"0s\"", "read_timeout: must be between 1ms and 1h, got 0s"},
      {"write_timeout = \"2h\"", "write_timeout: must be between 1ms and 1h, got 2h"},
      {"[governance]\nproposal_ttl = \"0s\"", "governance.proposal_ttl: must be between 1s and"},
      {"[governance]\nmax_pending = 0", "governance.max_pending: must be between 1 and"},
      {"[cache]\nrecord_entries = 0", "cache.record_entries: must be between 1 and"},
      {"bind_addr = \"127.0.0.1:70000\"", "bind_addr: port must be 0 to 65535"},
      {"bind_addr = \"127.0.0.1\"", "bind_addr: expected \"host:port\""},
      {"bind_addr = \"::1:9444\"", "bind_addr: an IPv6 host must be in brackets"},
      {"metrics_addr = \"[::g]:1\"", "metrics_addr: invalid IPv6 address"},
      {"metrics_addr = \":9909\"", "metrics_addr: missing host"},
      {"metrics_addr = \"127.0.0.1:9444\"", "metrics_addr: must differ from bind_addr"},
      {"[bootstrap]\ntrust_roots_hash = \"b3:ABC\"",
       "bootstrap.trust_roots_hash: must be \"b3:\" followed by 64 lower-case hex digits"},
      {"[tlog]\norigin = \"a b\"", "tlog.origin: must not contain spaces"},
  };
  for (const Case& c : cases) {
    EXPECT_THAT(TextError(c.toml), HasSubstr(c.expected)) << c.toml;
  }
}

TEST(ConfigValidation, AcceptsBoundaryValues) {
  auto r = LoadFromText(R"(
bind_addr = "[::1]:65535"
metrics_addr = "localhost:0"
drain_deadline = "0s"
[limits]
max_body_bytes = 1024
rps = 10000000
[retention]
keep_min = 100
[bootstrap]
trust_roots_hash = "b3:00000000000000000000000000000000000000000000000000000000000000af"
[tlog]
origin = "registry.example.com/log"
)",
                        "t.toml");
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->limits.max_body_bytes, 1024);
  EXPECT_EQ(r->drain_deadline, milliseconds(0));
}

TEST(ConfigValidation, RetentionPolicies) {
  EXPECT_THAT(TextError("[retention]\npolicy = \"by-count\"\n"),
              HasSubstr("retention.keep_versions: must be at least retention.keep_min (100) when "
                        "retention.policy = \"by-count\", got 0"));
  EXPECT_THAT(TextError("[retention]\npolicy = \"by-age\"\n"),
              HasSubstr("retention.max_age: must be greater than 0s"));
  auto r = LoadFromText("[retention]\npolicy = \"by-count\"\nkeep_versions = 500\n", "t.toml");
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->retention.policy, RetentionPolicy::kByCount);
  r = LoadFromText("[retention]\npolicy = \"by-age\"\nmax_age = \"720h\"\n", "t.toml");
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->retention.max_age, std::chrono::hours(720));
}

TEST(ConfigValidation, TlsEnabledRequiresBothPaths) {
  EXPECT_THAT(TextError("[tls]\nenabled = true\n"),
              HasSubstr("tls.cert_path: required when tls.enabled = true"));
  EXPECT_THAT(TextError("[tls]\nenabled = true\ncert_path = \"/c.pem\"\n"),
              HasSubstr("tls.key_path: required when tls.enabled = true"));
  auto r = LoadFromText("[tls]\nenabled = true\ncert_path = \"/c.pem\"\nkey_path = \"/k.pem\"\n",
                        "t.toml");
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_TRUE(r->tls.enabled);
  // The missing key has no origin of its own; the message says where tls.enabled came from.
  EXPECT_EQ(LoadError(LoadOptions{.env = {{"SVCR_TLS__ENABLED", "true"}}}),
            "config: tls.cert_path: required when tls.enabled = true (tls.enabled from env "
            "SVCR_TLS__ENABLED)");
}

TEST(ConfigValidation, AuthNoneOnlyOnLoopback) {
  EXPECT_TRUE(LoadFromText("[auth]\nmode = \"none\"\n", "t.toml").ok());
  EXPECT_TRUE(LoadFromText("bind_addr = \"[::1]:0\"\n[auth]\nmode = \"none\"\n", "t.toml").ok());
  std::string m = TextError("bind_addr = \"0.0.0.0:9444\"\n[auth]\nmode = \"none\"\n");
  EXPECT_THAT(m, HasSubstr("auth.mode: \"none\" is only allowed when bind_addr and metrics_addr "
                           "are loopback"));
  EXPECT_THAT(m, HasSubstr("(from file test.toml:3:1)"));
}

constexpr char kPgUrl[] = "postgresql://svcr:s3cr3t-pw@db.internal:5432/registry";

TEST(ConfigSecrets, PostgresUrlIsRedactedInDump) {
  auto r = Load(LoadOptions{
      .env = {{"SVCR_STORAGE__KIND", "postgres"}, {"SVCR_STORAGE__POSTGRES_URL", kPgUrl}}});
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->storage.postgres_url, kPgUrl);
  std::string dump = DumpToml(*r);
  EXPECT_THAT(dump, HasSubstr("postgres_url = \"<redacted>\""));
  EXPECT_THAT(dump, Not(HasSubstr("s3cr3t")));
  EXPECT_THAT(dump, Not(HasSubstr("db.internal")));
}

TEST(ConfigSecrets, PostgresUrlNeverEchoedInErrors) {
  std::string m = EnvError("SVCR_STORAGE__POSTGRES_URL", "s3cr3t\n");
  EXPECT_THAT(m, HasSubstr("storage.postgres_url: must not contain control characters"));
  EXPECT_THAT(m, Not(HasSubstr("s3cr3t")));
  m = EnvError("SVCR_STORAGE__POSTGRES_URL", "mysql://s3cr3t");
  EXPECT_THAT(m, HasSubstr("storage.postgres_url: must be a postgres://"));
  EXPECT_THAT(m, Not(HasSubstr("s3cr3t")));
}

TEST(ConfigSecrets, PostgresRequiresAUrl) {
  EXPECT_THAT(TextError("[storage]\nkind = \"postgres\"\n"),
              HasSubstr("storage.postgres_url: required when storage.kind = \"postgres\""));
}

TEST(ConfigSecrets, PostgresUrlFileWithMode0600IsRead) {
  TempFile secret(std::string(kPgUrl) + "\n", 0600);
  auto r = LoadFromText(
      "[storage]\nkind = \"postgres\"\npostgres_url_file = \"" + secret.path() + "\"\n", "t.toml");
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->storage.postgres_url, kPgUrl);
  EXPECT_EQ(r->origins.at("storage.postgres_url"), (Origin{Origin::Kind::kFile, secret.path()}));
  EXPECT_THAT(DumpToml(*r), Not(HasSubstr("s3cr3t")));
}

TEST(ConfigSecrets, PostgresUrlFileReadableByOthersIsRejected) {
  TempFile secret(kPgUrl, 0644);
  std::string m =
      TextError("[storage]\nkind = \"postgres\"\npostgres_url_file = \"" + secret.path() + "\"\n");
  EXPECT_THAT(m, HasSubstr("storage.postgres_url_file: "));
  EXPECT_THAT(m, HasSubstr("must not be accessible by group or others (mode 0600), has mode 0644"));
  EXPECT_THAT(m, Not(HasSubstr("s3cr3t")));
  TempFile group(kPgUrl, 0640);
  EXPECT_THAT(
      TextError("[storage]\nkind = \"postgres\"\npostgres_url_file = \"" + group.path() + "\"\n"),
      HasSubstr("has mode 0640"));
}

TEST(ConfigSecrets, PostgresUrlFileProblems) {
  TempFile empty("\n", 0600);
  EXPECT_THAT(
      TextError("[storage]\nkind = \"postgres\"\npostgres_url_file = \"" + empty.path() + "\"\n"),
      HasSubstr("is empty"));
  EXPECT_THAT(TextError("[storage]\nkind = \"postgres\"\npostgres_url_file = \"/no/such/file\"\n"),
              HasSubstr("storage.postgres_url_file: cannot open \"/no/such/file\""));
  EXPECT_THAT(TextError("[storage]\nkind = \"postgres\"\npostgres_url_file = \"/dev/null\"\n"),
              HasSubstr("is not a regular file"));
  TempFile secret(kPgUrl, 0600);
  EXPECT_THAT(TextError("[storage]\nkind = \"postgres\"\npostgres_url = \"postgres://x\"\n"
                        "postgres_url_file = \"" +
                        secret.path() + "\"\n"),
              HasSubstr("set together with storage.postgres_url"));
}

TEST(ConfigDump, RoundTripsThroughLoad) {
  TempFile file(R"(
bind_addr = "[::1]:0"
[limits]
rps = 50
[storage]
kind = "memory"
data_dir = "/tmp/dir with \"quotes\" and \\ backslash"
[retention]
policy = "by-count"
keep_versions = 1000
[tlog]
origin = "example.com/registry"
)");
  auto r = Load(LoadOptions{.config_path = file.path(),
                            .env = {{"SVCR_SSE__HEARTBEAT", "90s"}},
                            .overrides = {{"governance.max_clock_skew", "1500ms"}}});
  ASSERT_TRUE(r.ok()) << r.error().message();
  std::string dump = DumpToml(*r);
  EXPECT_THAT(dump, HasSubstr("heartbeat = \"90s\"  # from env SVCR_SSE__HEARTBEAT"));
  EXPECT_THAT(dump, HasSubstr("max_clock_skew = \"1500ms\"  # from command line"));
  EXPECT_THAT(dump, HasSubstr("rps = 50  # from file " + file.path() + ":4:1"));
  EXPECT_THAT(dump, HasSubstr("\nthreads = 0\n"));
  auto back = LoadFromText(dump, "dump.toml");
  ASSERT_TRUE(back.ok()) << back.error().message() << "\n" << dump;
  EXPECT_EQ(WithoutOrigins(*back), WithoutOrigins(*r));
}

TEST(ConfigDump, DefaultsRoundTripAndEveryKeyIsPresent) {
  std::string dump = DumpToml(Config{});
  for (const KeyInfo& k : Keys()) {
    auto dot = k.key.rfind('.');
    std::string leaf(dot == std::string_view::npos ? k.key : k.key.substr(dot + 1));
    EXPECT_THAT(dump, HasSubstr("\n" + leaf + " = ")) << k.key;
  }
  auto back = LoadFromText(dump, "dump.toml");
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(WithoutOrigins(*back), Config{});
}

TEST(Duration, ParsesIntegerWithUnit) {
  EXPECT_EQ(*ParseDuration("250ms"), milliseconds(250));
  EXPECT_EQ(*ParseDuration("5s"), milliseconds(5000));
  EXPECT_EQ(*ParseDuration("15m"), std::chrono::minutes(15));
  EXPECT_EQ(*ParseDuration("72h"), std::chrono::hours(72));
  EXPECT_EQ(*ParseDuration("0s"), milliseconds(0));
  EXPECT_EQ(*ParseDuration("007s"), milliseconds(7000));
}

TEST(Duration, RejectsEverythingElse) {
  for (const char* bad : {"5", "5x", "-1s", "+1s", "1.5s", "", "s", " 5s", "5s ", "5 s", "1h30m",
                          "5S", "5sec", "5us", "99999999999999999999ms", "9223372036854776h"}) {
    auto r = ParseDuration(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.error().code(), ErrorCode::kMalformed);
      EXPECT_THAT(r.error().message(), HasSubstr("invalid duration"));
    }
  }
  EXPECT_THAT(ParseDuration("1.5s").error().message(), HasSubstr("fractions are not allowed"));
  EXPECT_THAT(ParseDuration("-1s").error().message(), HasSubstr("must not have a sign"));
}

TEST(Duration, FormatIsTheInverse) {
  EXPECT_EQ(FormatDuration(milliseconds(0)), "0s");
  EXPECT_EQ(FormatDuration(milliseconds(250)), "250ms");
  EXPECT_EQ(FormatDuration(milliseconds(1500)), "1500ms");
  EXPECT_EQ(FormatDuration(milliseconds(90000)), "90s");
  EXPECT_EQ(FormatDuration(std::chrono::minutes(5)), "5m");
  EXPECT_EQ(FormatDuration(std::chrono::hours(72)), "72h");
  for (long long ms : {1LL, 999LL, 60001LL, 3600000LL * 5 + 60000}) {
    EXPECT_EQ(*ParseDuration(FormatDuration(milliseconds(ms))), milliseconds(ms));
  }
}

TEST(HostPort, Parses) {
  EXPECT_EQ(*ParseHostPort("127.0.0.1:9444"), (HostPort{"127.0.0.1", 9444}));
  EXPECT_EQ(*ParseHostPort("[::1]:0"), (HostPort{"::1", 0}));
  EXPECT_EQ(*ParseHostPort("localhost:80"), (HostPort{"localhost", 80}));
  EXPECT_EQ(*ParseHostPort("0.0.0.0:65535"), (HostPort{"0.0.0.0", 65535}));
  EXPECT_EQ(*ParseHostPort("reg-1.example.com:1"), (HostPort{"reg-1.example.com", 1}));
  for (const char* bad :
       {"", ":1", "host", "host:", "host:-1", "host:65536", "host:1x", "256.0.0.1:1", "1.2.3:4",
        "[::1]", "[::1]9444", "[zz]:1", "a_b:1", "-a:1", "a-:1", "a..b:1", "[]:1", "host:000001"}) {
    EXPECT_FALSE(ParseHostPort(bad).ok()) << bad;
  }
}

std::vector<const char*> Argv(std::initializer_list<const char*> args) {
  std::vector<const char*> v = {"svc-registry"};
  v.insert(v.end(), args);
  return v;
}

TEST(CommandLine, ConfigSetAndShortcuts) {
  auto argv = Argv({"--config", "/etc/svcr.toml", "--set", "limits.rps=100", "--set",
                    "tlog.origin=a=b", "--bind", "0.0.0.0:0", "--log-level=debug"});
  auto r = ParseCommandLine(static_cast<int>(argv.size()), argv.data());
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->action, CommandLine::Action::kRun);
  EXPECT_EQ(r->load.config_path, "/etc/svcr.toml");
  EXPECT_TRUE(r->load.env.empty());
  const KeyValues expected = {{"limits.rps", "100"},
                              {"tlog.origin", "a=b"},
                              {"bind_addr", "0.0.0.0:0"},
                              {"log.level", "debug"}};
  EXPECT_EQ(r->load.overrides, expected);
}

TEST(CommandLine, ShortcutsWinOverSet) {
  auto argv = Argv({"--storage", "memory", "--set", "storage.kind=sqlite"});
  auto r = ParseCommandLine(static_cast<int>(argv.size()), argv.data());
  ASSERT_TRUE(r.ok()) << r.error().message();
  auto c = Load(r->load);
  ASSERT_TRUE(c.ok()) << c.error().message();
  EXPECT_EQ(c->storage.kind, StorageKind::kMemory);
}

TEST(CommandLine, EndToEndWithFileAndEnv) {
  TempFile file("[limits]\ninflight = 10\nrps = 5\nmax_items = 7\n");
  auto argv = Argv(
      {"--config", file.path().c_str(), "--set", "limits.inflight=30", "--data-dir", "/srv/reg"});
  auto r = ParseCommandLine(static_cast<int>(argv.size()), argv.data());
  ASSERT_TRUE(r.ok()) << r.error().message();
  const char* envp[] = {"PATH=/bin", "SVCR_LIMITS__INFLIGHT=20", "SVCR_LIMITS__RPS=6", nullptr};
  r->load.env = EnvFromEnviron(envp);
  auto c = Load(r->load);
  ASSERT_TRUE(c.ok()) << c.error().message();
  EXPECT_EQ(c->limits.inflight, 30);  // flag > env > file
  EXPECT_EQ(c->limits.rps, 6);        // env > file
  EXPECT_EQ(c->limits.max_items, 7);  // file > default
  EXPECT_EQ(c->storage.data_dir, "/srv/reg");
}

TEST(CommandLine, Actions) {
  auto help = Argv({"--help"});
  auto r = ParseCommandLine(static_cast<int>(help.size()), help.data());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->action, CommandLine::Action::kHelp);
  EXPECT_THAT(r->help_text, HasSubstr("--config"));
  EXPECT_THAT(r->help_text, HasSubstr("--print-config"));

  auto version = Argv({"--version"});
  r = ParseCommandLine(static_cast<int>(version.size()), version.data());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->action, CommandLine::Action::kVersion);

  auto print = Argv({"--print-config", "--auth-mode", "none"});
  r = ParseCommandLine(static_cast<int>(print.size()), print.data());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->action, CommandLine::Action::kPrintConfig);
  EXPECT_EQ(r->load.overrides, (KeyValues{{"auth.mode", "none"}}));

  auto none = Argv({});
  r = ParseCommandLine(static_cast<int>(none.size()), none.data());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->action, CommandLine::Action::kRun);
  EXPECT_FALSE(r->load.config_path.has_value());
  EXPECT_TRUE(r->load.overrides.empty());
}

TEST(CommandLine, Errors) {
  for (auto args : {Argv({"--nope"}), Argv({"stray"}), Argv({"--config"}),
                    Argv({"--set", "noequals"}), Argv({"--set", "=v"})}) {
    auto r = ParseCommandLine(static_cast<int>(args.size()), args.data());
    ASSERT_FALSE(r.ok()) << args.back();
    EXPECT_EQ(r.error().code(), ErrorCode::kMalformed);
  }
  auto args = Argv({"--set", "noequals"});
  EXPECT_THAT(ParseCommandLine(static_cast<int>(args.size()), args.data()).error().message(),
              HasSubstr("--set expects KEY=VALUE, got \"noequals\""));
}

TEST(Env, FromEnvironKeepsOnlySvcrEntries) {
  const char* envp[] = {
      "HOME=/root", "SVCR_BIND_ADDR=127.0.0.1:1", "SVCR_X=a=b", "SVCRX=1", "SVCR_NOEQ", nullptr};
  EXPECT_EQ(EnvFromEnviron(envp),
            (KeyValues{{"SVCR_BIND_ADDR", "127.0.0.1:1"}, {"SVCR_X", "a=b"}}));
  EXPECT_TRUE(EnvFromEnviron(nullptr).empty());
  EXPECT_EQ(EnvName("limits.max_body_bytes"), "SVCR_LIMITS__MAX_BODY_BYTES");
  EXPECT_EQ(EnvName("bind_addr"), "SVCR_BIND_ADDR");
}

TEST(Keys, EveryKeyIsLoadableFromEnvAndDocumented) {
  std::ifstream in(REGISTRY_CONFIG_DOC);
  ASSERT_TRUE(in.good()) << REGISTRY_CONFIG_DOC;
  std::stringstream doc;
  doc << in.rdbuf();
  std::set<std::string_view> seen;
  for (const KeyInfo& k : Keys()) {
    EXPECT_TRUE(seen.insert(k.key).second) << "duplicate " << k.key;
    EXPECT_THAT(doc.str(), HasSubstr("`" + std::string(k.key) + "`")) << k.key;
    EXPECT_THAT(doc.str(), HasSubstr("`" + k.env + "`")) << k.key;
    if (!k.flag.empty()) {
      EXPECT_THAT(doc.str(), HasSubstr("`" + std::string(k.flag))) << k.key;
    }
  }
  EXPECT_EQ(Keys().size(), 43u);
}

TEST(Keys, TheDocumentedExampleLoads) {
  std::ifstream in(REGISTRY_CONFIG_DOC);
  std::stringstream doc;
  doc << in.rdbuf();
  const std::string text = doc.str();
  const auto start = text.find("```toml\n");
  ASSERT_NE(start, std::string::npos);
  const auto end = text.find("```", start + 8);
  ASSERT_NE(end, std::string::npos);
  auto r = LoadFromText(text.substr(start + 8, end - start - 8), "CONFIG.md");
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->retention.policy, RetentionPolicy::kByCount);
  EXPECT_EQ(r->limits.max_body_bytes, 8 * 1024 * 1024);
}

TEST(ConfigValidation, LogKeyNeedsAnOrigin) {
  EXPECT_THAT(TextError("[tlog]\nsigning_key_path = \"/etc/svc-registry/tlog.key\"\n"),
              HasSubstr("tlog.origin: required when tlog.signing_key_path is set"));
  EXPECT_THAT(TextError("", LoadOptions{.env = {{"SVCR_TLOG__SIGNING_KEY_PATH", "/k"}}}),
              HasSubstr("tlog.signing_key_path from env SVCR_TLOG__SIGNING_KEY_PATH"));
  auto r = LoadFromText(
      "[tlog]\norigin = \"registry.example.com/log\"\nsigning_key_path = \"/k\"\n", "t.toml");
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->tlog.signing_key_path, "/k");
  EXPECT_TRUE(LoadFromText("[tlog]\norigin = \"o\"\n", "t.toml").ok());
}

}  // namespace
}  // namespace registry::config
