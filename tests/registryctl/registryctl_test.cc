// Integration tests of registryctl's offline commands (keygen, pubkey, canon, hash, sign): each
// test runs the real binary and checks stdout, stderr and the exit code, against the golden
// vectors of tests/vectors/approvals.json where there are some.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "registry/crypto/base64.h"
#include "registry/crypto/ed25519.h"
#include "registry/json/canonical.h"
#include "registry/json/number_format.h"
#include "registry/json/parse.h"
#include "registry/json/value.h"
#include "registry/model/payload.h"
#include "registry/util/clock.h"
#include "registry/util/hex.h"
#include "registry/util/time.h"
#include "registryctl/subprocess.h"

namespace registry {
namespace {

using ::registry::testing::ProcessResult;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

ProcessResult Ctl(const std::vector<std::string>& args, std::string_view input = {}) {
  return registry::testing::RunProcess(REGISTRYCTL_PATH, args, input);
}

// Everything gtest needs to explain a failed run.
std::string Describe(const ProcessResult& r) {
  return "exit " + std::to_string(r.exit_code) + "\nstdout: " + r.out + "\nstderr: " + r.err;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

json::Value ParseOrDie(std::string_view bytes) {
  util::Result<json::Value> v = json::Parse(bytes);
  REGISTRY_CHECK(v.ok(), "test input must parse");
  return std::move(v).value();
}

std::string HexToBytes(std::string_view hex) {
  std::optional<std::vector<std::uint8_t>> raw = util::HexDecode(hex);
  REGISTRY_CHECK(raw.has_value(), "test vector hex must decode");
  return std::string(raw->begin(), raw->end());
}

// A JSON string literal that is valid but far from canonical: every non-ASCII character and
// '/' escaped as \uXXXX (surrogate pairs above the BMP).
void AppendEscapedString(std::string_view s, std::string& out) {
  char buf[16];
  auto append_u = [&](std::uint32_t unit) {
    std::snprintf(buf, sizeof buf, "\\u%04X", static_cast<unsigned>(unit));
    out += buf;
  };
  out.push_back('"');
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c == '"' || c == '\\') {
        out.push_back('\\');
        out.push_back(static_cast<char>(c));
      } else if (c < 0x20 || c == '/') {
        append_u(c);
      } else {
        out.push_back(static_cast<char>(c));
      }
      ++i;
      continue;
    }
    const int len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
    std::uint32_t cp = c & (0x7F >> len);
    for (int k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    i += static_cast<std::size_t>(len);
    if (cp >= 0x10000) {
      cp -= 0x10000;
      append_u(0xD800 + (cp >> 10));
      append_u(0xDC00 + (cp & 0x3FF));
    } else {
      append_u(cp);
    }
  }
  out.push_back('"');
}

// Pretty-prints `v` with object members shuffled by `rng`, so that what registryctl reads is
// as unlike the canonical form as JSON allows.
void AppendPretty(const json::Value& v, int indent, std::mt19937& rng, std::string& out) {
  const std::string pad(static_cast<std::size_t>(indent + 2), ' ');
  switch (v.type()) {
    case json::Type::kNull:
      out += "null";
      return;
    case json::Type::kBool:
      out += v.as_bool() ? "true" : "false";
      return;
    case json::Type::kNumber:
      json::AppendEs6Number(v.as_number(), out);
      return;
    case json::Type::kString:
      AppendEscapedString(v.as_string(), out);
      return;
    case json::Type::kArray: {
      out += "[\n";
      const json::Array& a = v.as_array();
      for (std::size_t i = 0; i < a.size(); ++i) {
        out += pad;
        AppendPretty(a[i], indent + 2, rng, out);
        out += i + 1 < a.size() ? ",\n" : "\n";
      }
      out += std::string(static_cast<std::size_t>(indent), ' ') + "]";
      return;
    }
    case json::Type::kObject: {
      json::Object members = v.as_object();
      std::shuffle(members.begin(), members.end(), rng);
      out += "{\n";
      for (std::size_t i = 0; i < members.size(); ++i) {
        out += pad;
        AppendEscapedString(members[i].first, out);
        out += " :\t";
        AppendPretty(members[i].second, indent + 2, rng, out);
        out += i + 1 < members.size() ? ",\n" : "\n";
      }
      out += std::string(static_cast<std::size_t>(indent), ' ') + "}";
      return;
    }
  }
}

std::string Pretty(const json::Value& v, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::string out;
  AppendPretty(v, 0, rng, out);
  out += "\n";
  return out;
}

struct Vectors {
  json::Value doc;
  std::map<std::string, std::string> seed_hex;    // signer id → seed
  std::map<std::string, std::string> pubkey_b64;  // signer id → pubkey, wherever listed
};

void CollectSigners(const json::Value& governance, Vectors& v) {
  for (const json::Value& s : governance.Find("signers")->as_array()) {
    v.pubkey_b64.emplace(s.Find("id")->as_string(), s.Find("pubkey")->as_string());
  }
}

const Vectors& LoadVectors() {
  static const Vectors* vectors = [] {
    auto* v = new Vectors();
    const std::string path = std::string(REGISTRY_VECTORS_DIR) + "/approvals.json";
    v->doc = ParseOrDie(ReadFile(path));
    for (const auto& [id, seed] : v->doc.Find("signer_seeds_hex")->as_object()) {
      v->seed_hex.emplace(id, seed.as_string());
    }
    CollectSigners(*v->doc.Find("trust_roots"), *v);
    for (const json::Value& c : v->doc.Find("cases")->as_array()) {
      CollectSigners(*c.Find("payload")->Find("governance"), *v);
    }
    return v;
  }();
  return *vectors;
}

const json::Array& Cases() { return LoadVectors().doc.Find("cases")->as_array(); }

class RegistryctlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/registryctl_test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr) << std::strerror(errno);
    dir_ = tmpl;
    ASSERT_FALSE(Cases().empty());
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

  // Writes `content` to a new file `name` with `mode` (exactly, whatever the umask).
  std::string WriteFile(const std::string& name, std::string_view content, mode_t mode = 0644) {
    const std::string path = Path(name);
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    EXPECT_GE(fd, 0) << path << ": " << std::strerror(errno);
    if (fd < 0) return path;
    EXPECT_EQ(::fchmod(fd, mode), 0);
    EXPECT_EQ(::write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
    ::close(fd);
    return path;
  }

  std::string WriteKeyFile(const std::string& name, const std::string& seed_hex,
                           mode_t mode = 0600) {
    return WriteFile(name, seed_hex + "\n", mode);
  }

  static mode_t ModeOf(const std::string& path) {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return static_cast<mode_t>(-1);
    return st.st_mode & 07777;
  }

  // Expects a bad-input failure: exit 1, nothing on stdout, one "registryctl: " line on stderr.
  static void ExpectFailure(const ProcessResult& r) {
    EXPECT_EQ(r.exit_code, kExitFailure) << Describe(r);
    EXPECT_EQ(r.out, "") << Describe(r);
    EXPECT_THAT(r.err, StartsWith("registryctl: ")) << Describe(r);
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << Describe(r);
  }

  std::string dir_;
};

std::string SignerEntry(const std::string& id, const std::string& pubkey_b64) {
  return json::Canonicalize(
             json::MakeObject({{"id", id}, {"algo", "ed25519"}, {"pubkey", pubkey_b64}})) +
         "\n";
}

TEST_F(RegistryctlTest, HashAndCanonMatchVectors) {
  std::uint32_t seed = 1;
  for (const json::Value& c : Cases()) {
    const std::string name = c.Find("name")->as_string();
    SCOPED_TRACE(name);
    const json::Value& payload = *c.Find("payload");
    const std::string b3 = c.Find("payload_b3")->as_string();
    const std::string canonical = HexToBytes(c.Find("canonical_hex")->as_string());
    const std::string pretty = Pretty(payload, seed++);
    ASSERT_NE(pretty, canonical);
    const std::string file = WriteFile("payload" + std::to_string(seed) + ".json", pretty);

    ProcessResult hash = Ctl({"hash", file});
    EXPECT_EQ(hash.exit_code, kExitOk) << Describe(hash);
    EXPECT_EQ(hash.out, b3 + "\n");
    EXPECT_EQ(hash.err, "");

    // The proposal id is "p_" + the first 24 hex digits of the hash (SPEC §1.6).
    ProcessResult with_id = Ctl({"hash", "--proposal-id", file});
    EXPECT_EQ(with_id.exit_code, kExitOk) << Describe(with_id);
    EXPECT_EQ(with_id.out, b3 + "\np_" + b3.substr(3, 24) + "\n");

    ProcessResult from_stdin = Ctl({"hash"}, pretty);
    EXPECT_EQ(from_stdin.exit_code, kExitOk) << Describe(from_stdin);
    EXPECT_EQ(from_stdin.out, b3 + "\n");

    ProcessResult canon = Ctl({"canon", file});
    EXPECT_EQ(canon.exit_code, kExitOk) << Describe(canon);
    EXPECT_EQ(canon.out, canonical);
    EXPECT_EQ(canon.err, "");
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"canon"}, std::vector<std::string>{"canon", "-"}}) {
      ProcessResult piped = Ctl(args, pretty);
      EXPECT_EQ(piped.exit_code, kExitOk) << Describe(piped);
      EXPECT_EQ(piped.out, canonical);
    }

    // A propose request body hashes to its payload's payload_b3.
    const json::Value request =
        json::MakeObject({{"payload_b3", b3}, {"payload", payload}, {"schema_version", "1.0.0"}});
    const std::string request_file =
        WriteFile("request" + std::to_string(seed) + ".json", Pretty(request, seed));
    ProcessResult request_hash = Ctl({"hash", request_file});
    EXPECT_EQ(request_hash.exit_code, kExitOk) << Describe(request_hash);
    EXPECT_EQ(request_hash.out, b3 + "\n");
  }
}

TEST_F(RegistryctlTest, SignAndPubkeyMatchVectors) {
  const Vectors& v = LoadVectors();
  std::map<std::string, std::string> key_files;  // signer id → key file
  int approvals_checked = 0;
  int case_index = 0;
  for (const json::Value& c : Cases()) {
    SCOPED_TRACE(c.Find("name")->as_string());
    const std::string b3 = c.Find("payload_b3")->as_string();
    const std::string payload_file = WriteFile("payload" + std::to_string(case_index++) + ".json",
                                               Pretty(*c.Find("payload"), 7));
    for (const json::Value& expected : c.Find("approvals")->as_array()) {
      const std::string signer_id = expected.Find("signer_id")->as_string();
      const std::string signed_at = expected.Find("signed_at")->as_string();
      SCOPED_TRACE(signer_id);
      ASSERT_EQ(v.seed_hex.count(signer_id), 1u);
      auto [it, inserted] = key_files.emplace(signer_id, "");
      if (inserted) {
        it->second =
            WriteKeyFile("key" + std::to_string(key_files.size()), v.seed_hex.at(signer_id));
      }
      const std::string& key = it->second;

      ProcessResult sign = Ctl({"sign", "--key", key, "--signer-id", signer_id, "--payload-b3", b3,
                                "--signed-at", signed_at});
      ASSERT_EQ(sign.exit_code, kExitOk) << Describe(sign);
      EXPECT_EQ(sign.err, "");
      ASSERT_FALSE(sign.out.empty());
      ASSERT_EQ(sign.out.back(), '\n');
      util::Result<json::Value> got = json::Parse(sign.out.substr(0, sign.out.size() - 1));
      ASSERT_TRUE(got.ok()) << got.error().message();
      for (const char* field : {"sig", "signer_id", "algo", "signed_at"}) {
        ASSERT_NE(got->Find(field), nullptr) << field;
        EXPECT_EQ(*got->Find(field), *expected.Find(field)) << field;
      }
      EXPECT_EQ(got->as_object().size(), 4u);
      EXPECT_EQ(sign.out, json::Canonicalize(expected) + "\n");

      // Signing the payload file instead of its hash gives the same approval.
      ProcessResult from_payload = Ctl({"sign", "--key", key, "--signer-id", signer_id, "--payload",
                                        payload_file, "--signed-at", signed_at});
      EXPECT_EQ(from_payload.exit_code, kExitOk) << Describe(from_payload);
      EXPECT_EQ(from_payload.out, sign.out);

      ASSERT_EQ(v.pubkey_b64.count(signer_id), 1u);
      ProcessResult pubkey = Ctl({"pubkey", "--key", key, "--id", signer_id});
      EXPECT_EQ(pubkey.exit_code, kExitOk) << Describe(pubkey);
      EXPECT_EQ(pubkey.out, SignerEntry(signer_id, v.pubkey_b64.at(signer_id)));
      ++approvals_checked;
    }
  }
  EXPECT_GE(approvals_checked, 3);
}

TEST_F(RegistryctlTest, TrustRootPubkeysMatchSeeds) {
  const Vectors& v = LoadVectors();
  int n = 0;
  for (const json::Value& s : v.doc.Find("trust_roots")->Find("signers")->as_array()) {
    const std::string id = s.Find("id")->as_string();
    const std::string key = WriteKeyFile("root" + std::to_string(n++), v.seed_hex.at(id));
    ProcessResult r = Ctl({"pubkey", "--id", id, "--key", key});
    EXPECT_EQ(r.exit_code, kExitOk) << Describe(r);
    EXPECT_EQ(r.out, json::Canonicalize(s) + "\n");
  }
  EXPECT_GT(n, 0);
}

TEST_F(RegistryctlTest, SignDefaultsSignedAtToNow) {
  const Vectors& v = LoadVectors();
  const std::string key = WriteKeyFile("key", v.seed_hex.at("org:alpha#k1"));
  const std::string b3 = Cases()[0].Find("payload_b3")->as_string();
  const util::UnixMillis before = util::SystemClock().NowMillis() / 1000 * 1000;
  ProcessResult r = Ctl({"sign", "--key", key, "--signer-id", "org:alpha#k1", "--payload-b3", b3});
  const util::UnixMillis after = util::SystemClock().NowMillis();
  ASSERT_EQ(r.exit_code, kExitOk) << Describe(r);
  json::Value got = ParseOrDie(r.out.substr(0, r.out.size() - 1));
  const std::string signed_at = got.Find("signed_at")->as_string();
  EXPECT_EQ(signed_at.size(), 20u) << signed_at;  // whole seconds: YYYY-MM-DDTHH:MM:SSZ
  std::optional<util::UnixMillis> t = util::ParseRfc3339(signed_at);
  ASSERT_TRUE(t.has_value()) << signed_at;
  EXPECT_GE(*t, before);
  EXPECT_LE(*t, after);
  // The signature does not cover signed_at: it equals the vector's.
  EXPECT_EQ(*got.Find("sig"), *Cases()[0].Find("approvals")->as_array()[0].Find("sig"));
}

TEST_F(RegistryctlTest, KeygenCreatesPrivateKeyFile) {
  const std::string key = Path("signer.key");
  ProcessResult r = Ctl({"keygen", "--out", key, "--id", "org:ops-eu#key.2024_1"});
  ASSERT_EQ(r.exit_code, kExitOk) << Describe(r);
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(ModeOf(key), 0600u);

  const std::string content = ReadFile(key);
  ASSERT_EQ(content.size(), 65u);
  EXPECT_EQ(content.back(), '\n');
  EXPECT_TRUE(std::all_of(content.begin(), content.end() - 1, [](char ch) {
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f');
  })) << "seed must be lower-case hex";

  // The printed entry is canonical and holds the public key of the seed in the file.
  ASSERT_FALSE(r.out.empty());
  json::Value entry = ParseOrDie(r.out.substr(0, r.out.size() - 1));
  EXPECT_EQ(r.out, json::Canonicalize(entry) + "\n");
  EXPECT_EQ(entry.as_object().size(), 3u);
  EXPECT_EQ(entry.Find("algo")->as_string(), "ed25519");
  EXPECT_EQ(entry.Find("id")->as_string(), "org:ops-eu#key.2024_1");
  crypto::Init();
  crypto::Ed25519Seed seed;
  const std::string raw = HexToBytes(content.substr(0, 64));
  std::copy(raw.begin(), raw.end(), seed.begin());
  EXPECT_EQ(entry.Find("pubkey")->as_string(),
            crypto::Base64Encode(crypto::Ed25519FromSeed(seed).public_key));

  // pubkey reads it back to the same line.
  ProcessResult again = Ctl({"pubkey", "--key", key, "--id", "org:ops-eu#key.2024_1"});
  EXPECT_EQ(again.exit_code, kExitOk) << Describe(again);
  EXPECT_EQ(again.out, r.out);
}

TEST_F(RegistryctlTest, KeygenDefaultsIdAndMakesFreshKeys) {
  ProcessResult a = Ctl({"keygen", "--out", Path("a.key")});
  ProcessResult b = Ctl({"keygen", "--out", Path("b.key")});
  ASSERT_EQ(a.exit_code, kExitOk) << Describe(a);
  ASSERT_EQ(b.exit_code, kExitOk) << Describe(b);
  json::Value ea = ParseOrDie(a.out.substr(0, a.out.size() - 1));
  json::Value eb = ParseOrDie(b.out.substr(0, b.out.size() - 1));
  EXPECT_EQ(ea.Find("id")->as_string(), "org:local#k1");
  EXPECT_NE(ea.Find("pubkey")->as_string(), eb.Find("pubkey")->as_string());
  EXPECT_NE(ReadFile(Path("a.key")), ReadFile(Path("b.key")));
  ProcessResult pa = Ctl({"pubkey", "--key", Path("a.key")});
  EXPECT_EQ(pa.out, a.out);
}

TEST_F(RegistryctlTest, KeygenRefusesToOverwrite) {
  const std::string existing = WriteFile("existing.key", "precious\n", 0600);
  ProcessResult r = Ctl({"keygen", "--out", existing});
  ExpectFailure(r);
  EXPECT_THAT(r.err, HasSubstr("already exists"));
  EXPECT_EQ(ReadFile(existing), "precious\n");

  // Nor through a symlink, dangling or not.
  const std::string target = Path("elsewhere.key");
  const std::string link = Path("link.key");
  ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
  ExpectFailure(Ctl({"keygen", "--out", link}));
  EXPECT_FALSE(std::filesystem::exists(target));
}

TEST_F(RegistryctlTest, KeygenRejectsInvalidSignerId) {
  for (const char* id :
       {"alpha#k1", "org:Alpha#k1", "org:alpha", "org:alpha#", "org:#k1", "org:alpha#k 1"}) {
    SCOPED_TRACE(id);
    const std::string key = Path("never.key");
    ProcessResult r = Ctl({"keygen", "--out", key, "--id", id});
    ExpectFailure(r);
    EXPECT_THAT(r.err, HasSubstr("signer id"));
    EXPECT_FALSE(std::filesystem::exists(key)) << "no key file for a rejected command";
  }
}

TEST_F(RegistryctlTest, KeyFilesReadableByOthersAreRefused) {
  const Vectors& v = LoadVectors();
  const std::string b3 = Cases()[0].Find("payload_b3")->as_string();
  int n = 0;
  for (mode_t mode : {0644, 0640, 0604, 0660, 0601}) {
    SCOPED_TRACE(mode);
    const std::string key =
        WriteKeyFile("open" + std::to_string(n++), v.seed_hex.at("org:alpha#k1"), mode);
    ProcessResult pubkey = Ctl({"pubkey", "--key", key});
    ExpectFailure(pubkey);
    EXPECT_THAT(pubkey.err, HasSubstr("too open"));
    EXPECT_THAT(pubkey.err, HasSubstr(key));
    ProcessResult sign =
        Ctl({"sign", "--key", key, "--signer-id", "org:alpha#k1", "--payload-b3", b3});
    ExpectFailure(sign);
    EXPECT_THAT(sign.err, HasSubstr("too open"));
  }
  // Owner-only modes are fine.
  const std::string ro = WriteKeyFile("readonly", v.seed_hex.at("org:alpha#k1"), 0400);
  ProcessResult r = Ctl({"pubkey", "--key", ro, "--id", "org:alpha#k1"});
  EXPECT_EQ(r.exit_code, kExitOk) << Describe(r);
  EXPECT_EQ(r.out, SignerEntry("org:alpha#k1", v.pubkey_b64.at("org:alpha#k1")));
}

TEST_F(RegistryctlTest, MalformedKeyFilesAreRefused) {
  const std::string good = LoadVectors().seed_hex.at("org:alpha#k1");
  std::string upper = good;
  std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"empty", ""},
      {"short", good.substr(0, 62) + "\n"},
      {"odd", good.substr(0, 63) + "\n"},
      {"long", good + "00\n"},
      {"two newlines", good + "\n\n"},
      {"crlf", good + "\r\n"},
      {"leading space", " " + good + "\n"},
      {"not hex", "g" + good.substr(1) + "\n"},
      {"upper case", upper + "\n"},
      {"second line", good + "\n" + good + "\n"},
  };
  int n = 0;
  for (const auto& [name, content] : bad) {
    SCOPED_TRACE(name);
    const std::string key = WriteFile("bad" + std::to_string(n++), content, 0600);
    ProcessResult r = Ctl({"pubkey", "--key", key});
    ExpectFailure(r);
    EXPECT_THAT(r.err, HasSubstr("malformed"));
  }
  // Without the trailing newline it is accepted.
  const std::string bare = WriteFile("bare", good, 0600);
  EXPECT_EQ(Ctl({"pubkey", "--key", bare}).exit_code, kExitOk);

  ExpectFailure(Ctl({"pubkey", "--key", Path("missing")}));
  ExpectFailure(Ctl({"pubkey", "--key", dir_}));  // a directory
}

TEST_F(RegistryctlTest, CanonRejectsInvalidJson) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"duplicate member", R"({"a":1,"b":2,"a":3})"},
      {"lone high surrogate", R"({"a":"\ud800"})"},
      {"lone low surrogate", R"(["\udc00x"])"},
      {"trailing garbage", R"({"a":1} x)"},
      {"two values", "[1][2]"},
      {"invalid UTF-8", "[\"\xff\"]"},
      {"number out of range", "[1e400]"},
      {"syntax", "{\"a\":}"},
      {"empty", ""},
  };
  int n = 0;
  for (const auto& [name, input] : bad) {
    SCOPED_TRACE(name);
    util::Result<json::Value> expected = json::Parse(input);
    ASSERT_FALSE(expected.ok());
    const std::string message = "registryctl: " + expected.error().message() + "\n";

    ProcessResult piped = Ctl({"canon"}, input);
    ExpectFailure(piped);
    EXPECT_EQ(piped.err, message);

    ProcessResult from_file = Ctl({"canon", WriteFile("bad" + std::to_string(n++), input)});
    ExpectFailure(from_file);
    EXPECT_EQ(from_file.err, message);
  }
  ExpectFailure(Ctl({"canon", Path("missing.json")}));
}

TEST_F(RegistryctlTest, CanonOfCanonicalIsIdentity) {
  const std::string input =
      R"({"b":[1E2,0.5e-6,-0,"\u20ac\ud83d\ude00\n"],"a":{"z":null,"y":true}})";
  ProcessResult first = Ctl({"canon"}, input);
  ASSERT_EQ(first.exit_code, kExitOk) << Describe(first);
  EXPECT_EQ(
      first.out,
      "{\"a\":{\"y\":true,\"z\":null},\"b\":[100,5e-7,0,\"\xE2\x82\xAC\xF0\x9F\x98\x80\\n\"]}");
  ProcessResult second = Ctl({"canon"}, first.out);
  EXPECT_EQ(second.out, first.out);
}

TEST_F(RegistryctlTest, HashRejectsInvalidPayloads) {
  const json::Value& payload = *Cases()[0].Find("payload");

  // An unknown member at the top, and inside a descriptor.
  json::Value top = payload;
  top.as_object().emplace_back("colour", "blue");
  json::Value item = payload;
  for (auto& [name, value] : item.as_object()) {
    if (name == "items") value.as_array()[1].as_object().emplace_back("flavour", 1);
  }
  for (const auto& [value, field] :
       {std::pair<const json::Value&, std::string>{top, "payload.colour"},
        std::pair<const json::Value&, std::string>{item, "payload.items[1].flavour"}}) {
    SCOPED_TRACE(field);
    util::Result<model::CanonicalPayload> expected = model::MakeCanonicalPayload(value, {});
    ASSERT_FALSE(expected.ok());
    ProcessResult r = Ctl({"hash", WriteFile(field, Pretty(value, 3))});
    ExpectFailure(r);
    EXPECT_THAT(r.err, HasSubstr(field));
    EXPECT_EQ(r.err, "registryctl: " + expected.error().message() + "\n");
  }

  // Not JSON at all, and a payload that is not an object.
  ExpectFailure(Ctl({"hash"}, "{\"version\":"));
  ExpectFailure(Ctl({"hash"}, "[]"));
  // A request body whose payload_b3 does not match.
  const json::Value request = json::MakeObject(
      {{"schema_version", "1.0.0"}, {"payload", payload}, {"payload_b3", std::string(67, '0')}});
  ProcessResult mismatch = Ctl({"hash"}, json::Canonicalize(request));
  ExpectFailure(mismatch);
  EXPECT_THAT(mismatch.err, HasSubstr("payload_b3"));
}

TEST_F(RegistryctlTest, HashHonoursMaxItems) {
  const json::Value& payload = *Cases()[0].Find("payload");
  const std::size_t n = payload.Find("items")->as_array().size();
  ASSERT_GE(n, 1u);
  const std::string file = WriteFile("payload.json", json::Canonicalize(payload));
  ProcessResult over = Ctl({"hash", "--max-items", std::to_string(n - 1), file});
  ExpectFailure(over);
  EXPECT_THAT(over.err, HasSubstr("payload.items"));
  ProcessResult exact = Ctl({"hash", "--max-items", std::to_string(n), file});
  EXPECT_EQ(exact.exit_code, kExitOk) << Describe(exact);
  EXPECT_EQ(exact.out, Cases()[0].Find("payload_b3")->as_string() + "\n");
  for (const char* bad : {"lots", "-1", "1.5", "99999999999999999999999"}) {
    ProcessResult r = Ctl({"hash", "--max-items", bad, file});
    EXPECT_EQ(r.exit_code, kExitUsage) << bad << ": " << Describe(r);
  }
}

TEST_F(RegistryctlTest, SignRejectsBadInput) {
  const Vectors& v = LoadVectors();
  const std::string key = WriteKeyFile("key", v.seed_hex.at("org:alpha#k1"));
  const std::string b3 = Cases()[0].Find("payload_b3")->as_string();
  std::string upper = b3;
  std::transform(upper.begin() + 3, upper.end(), upper.begin() + 3, ::toupper);
  for (const std::string& bad_b3 : {b3.substr(0, 66), b3 + "0", upper, "b3:" + std::string(64, 'g'),
                                    "sha256:" + b3.substr(3), std::string("")}) {
    SCOPED_TRACE(bad_b3);
    ProcessResult r = Ctl({"sign", "--key", key, "--signer-id", "org:alpha#k1", "--payload-b3",
                           bad_b3, "--signed-at", "2026-11-26T12:00:00Z"});
    ExpectFailure(r);
    EXPECT_THAT(r.err, HasSubstr("--payload-b3"));
  }

  ProcessResult bad_id = Ctl({"sign", "--key", key, "--signer-id", "alpha#k1", "--payload-b3", b3});
  ExpectFailure(bad_id);
  EXPECT_THAT(bad_id.err, HasSubstr("--signer-id"));

  for (const char* when :
       {"yesterday", "2026-11-26 12:00:00Z", "2026-02-30T12:00:00Z", "2026-11-26T12:00:00+01:00"}) {
    SCOPED_TRACE(when);
    ProcessResult r = Ctl({"sign", "--key", key, "--signer-id", "org:alpha#k1", "--payload-b3", b3,
                           "--signed-at", when});
    ExpectFailure(r);
    EXPECT_THAT(r.err, HasSubstr("--signed-at"));
  }

  ProcessResult bad_payload = Ctl({"sign", "--key", key, "--signer-id", "org:alpha#k1", "--payload",
                                   WriteFile("bad.json", "{\"version\":1}")});
  ExpectFailure(bad_payload);
  ExpectFailure(
      Ctl({"sign", "--key", Path("missing"), "--signer-id", "org:alpha#k1", "--payload-b3", b3}));
}

TEST_F(RegistryctlTest, UsageErrorsExitTwo) {
  const std::string b3 = Cases()[0].Find("payload_b3")->as_string();
  const std::string key = WriteKeyFile("key", LoadVectors().seed_hex.at("org:alpha#k1"));
  const std::vector<std::vector<std::string>> usage_errors = {
      {},
      {"frobnicate"},
      {"canon", "--bogus"},
      {"canon", "a.json", "b.json"},
      {"keygen"},
      {"pubkey"},
      {"sign", "--signer-id", "org:alpha#k1", "--payload-b3", b3},
      {"sign", "--key", key, "--payload-b3", b3},
      {"sign", "--key", key, "--signer-id", "org:alpha#k1"},
      {"sign", "--key", key, "--signer-id", "org:alpha#k1", "--payload-b3", b3, "--payload",
       "p.json"},
  };
  for (const std::vector<std::string>& args : usage_errors) {
    SCOPED_TRACE(::testing::PrintToString(args));
    ProcessResult r = Ctl(args);
    EXPECT_EQ(r.exit_code, kExitUsage) << Describe(r);
    EXPECT_EQ(r.out, "");
    EXPECT_THAT(r.err, StartsWith("registryctl: "));
  }
}

TEST_F(RegistryctlTest, HelpAndVersion) {
  ProcessResult help = Ctl({"--help"});
  EXPECT_EQ(help.exit_code, kExitOk) << Describe(help);
  for (const char* command :
       {"keygen", "pubkey", "canon", "hash", "sign", "init", "token", "head", "get", "proposals",
        "proposal", "propose", "approve", "commit", "watch"}) {
    EXPECT_THAT(help.out, HasSubstr(command));
  }
  ProcessResult sign_help = Ctl({"sign", "--help"});
  EXPECT_EQ(sign_help.exit_code, kExitOk) << Describe(sign_help);
  EXPECT_THAT(sign_help.out, HasSubstr("--payload-b3"));

  ProcessResult version = Ctl({"--version"});
  EXPECT_EQ(version.exit_code, kExitOk) << Describe(version);
  EXPECT_THAT(version.out, StartsWith("registryctl "));
  EXPECT_THAT(version.out, HasSubstr("commit "));
}

}  // namespace
}  // namespace registry
