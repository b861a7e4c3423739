// Note keys in Go's text formats (include/registry/tlog/note_key.h), pinned by golden values
// from Go's sumdb/note.
#include "registry/tlog/note_key.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "storage/temp_dir.h"
#include "tlog/golden.h"

namespace registry::tlog {
namespace {

using ::testing::HasSubstr;

class NoteKeyTest : public ::testing::Test {
 protected:
  void SetUp() override { crypto::Init(); }
};

TEST_F(NoteKeyTest, KeyNamesFollowGo) {
  EXPECT_TRUE(IsValidKeyName("registry.example.com/log"));
  EXPECT_TRUE(IsValidKeyName("a"));
  EXPECT_TRUE(
      IsValidKeyName("h\xC3\xBC"  // ü
                     "gel"));
  EXPECT_FALSE(IsValidKeyName(""));
  EXPECT_FALSE(IsValidKeyName("a b"));
  EXPECT_FALSE(IsValidKeyName("a+b"));
  EXPECT_FALSE(IsValidKeyName("a\tb"));
  EXPECT_FALSE(IsValidKeyName("a\nb"));
  EXPECT_FALSE(
      IsValidKeyName("a\xC2\xA0"
                     "b"));  // U+00A0 NO-BREAK SPACE
  EXPECT_FALSE(
      IsValidKeyName("a\xE2\x80\x83"
                     "b"));  // U+2003 EM SPACE
  EXPECT_FALSE(
      IsValidKeyName("a\xE3\x80\x80"
                     "b"));                          // U+3000 IDEOGRAPHIC SPACE
  EXPECT_FALSE(IsValidKeyName("\xFF"));              // not UTF-8
  EXPECT_FALSE(IsValidKeyName("\xC0\xAF"));          // overlong
  EXPECT_FALSE(IsValidKeyName("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(IsValidKeyName("\xF4\x90\x80\x80"));  // beyond U+10FFFF
  EXPECT_FALSE(IsValidKeyName("abc\xE2\x80"));       // truncated
}

TEST_F(NoteKeyTest, KeyIdAndStringsMatchGo) {
  NoteSigningKey key{std::string(golden::kName), golden::Seed()};
  EXPECT_EQ(key.key_id(), golden::kKeyId);
  EXPECT_EQ(KeyId(golden::kName, key.verifier().public_key), golden::kKeyId);
  EXPECT_EQ(KeyIdHex(golden::kKeyId), "b8183496");
  EXPECT_EQ(KeyIdHex(0x0000abcd), "0000abcd");
  EXPECT_EQ(key.ToString(), golden::kPrivateKey);
  EXPECT_EQ(key.verifier().ToString(), golden::kVerifierKey);
  // The key ID depends on the name.
  EXPECT_NE(KeyId("other.example.com/log", key.verifier().public_key), golden::kKeyId);
}

TEST_F(NoteKeyTest, ParsesGoKeys) {
  util::Result<NoteSigningKey> priv = ParsePrivateKey(golden::kPrivateKey);
  ASSERT_TRUE(priv.ok()) << priv.error().message();
  EXPECT_EQ(priv->name(), golden::kName);
  EXPECT_EQ(priv->key_id(), golden::kKeyId);
  EXPECT_EQ(priv->seed(), golden::Seed());
  util::Result<NoteVerifierKey> ver = ParseVerifierKey(golden::kVerifierKey);
  ASSERT_TRUE(ver.ok()) << ver.error().message();
  EXPECT_EQ(ver->name, golden::kName);
  EXPECT_EQ(ver->key_id, golden::kKeyId);
  EXPECT_EQ(ver->public_key, priv->verifier().public_key);
  EXPECT_EQ(ver->ToString(), golden::kVerifierKey);
  // Go's ParseUint accepts upper-case hex too.
  EXPECT_TRUE(ParseVerifierKey("registry.example.com/log+B8183496+"
                               "AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4")
                  .ok());
}

TEST_F(NoteKeyTest, RejectsMalformedKeysNamingTheProblem) {
  struct Case {
    std::string text;
    std::string message;
  };
  const std::string b64_priv = "AQABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f";
  const std::vector<Case> priv_cases = {
      {"", "must start with PRIVATE+KEY+"},
      {"PRIVATE+KEYS+registry.example.com/log+b8183496+" + b64_priv, "PRIVATE+KEY+"},
      {"PRIVATE+KEY+registry example+b8183496+" + b64_priv, "invalid key name"},
      {"PRIVATE+KEY++b8183496+" + b64_priv, "invalid key name"},
      {"PRIVATE+KEY+registry.example.com/log+b818349+" + b64_priv, "8 hex digits"},
      {"PRIVATE+KEY+registry.example.com/log+b818349g+" + b64_priv, "8 hex digits"},
      {"PRIVATE+KEY+registry.example.com/log+b8183497+" + b64_priv, "does not match the key"},
      {"PRIVATE+KEY+registry.example.com/log+b8183496+AQABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4",
       "not base64"},
      {"PRIVATE+KEY+registry.example.com/log+b8183496+AgABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f",
       "unknown key algorithm 2"},
      {"PRIVATE+KEY+registry.example.com/log+b8183496+AQABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHQ==",
       "32 bytes, this one 30"},
      {"PRIVATE+KEY+registry.example.com/log+b8183496+", "not base64"},
  };
  for (const Case& c : priv_cases) {
    util::Result<NoteSigningKey> r = ParsePrivateKey(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.error().code(), util::ErrorCode::kMalformed);
    EXPECT_THAT(r.error().message(), HasSubstr(c.message)) << c.text;
    EXPECT_THAT(r.error().message(), ::testing::Not(HasSubstr(b64_priv)));  // no secret echoed
  }
  const std::vector<Case> ver_cases = {
      {"", "invalid key name"},
      {"registry.example.com/log", "8 hex digits"},
      {"registry.example.com/log+b8183496", "not base64"},
      {"registry.example.com/log+b8183497+AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4",
       "does not match the key"},
      {"other.example.com/log+b8183496+AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4",
       "does not match the key"},
      {"registry.example.com/log+b8183496+AgOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4",
       "unknown key algorithm"},
      {"registry.example.com/log+b8183496+AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4AA==",
       "32 bytes"},
  };
  for (const Case& c : ver_cases) {
    util::Result<NoteVerifierKey> r = ParseVerifierKey(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.error().code(), util::ErrorCode::kMalformed);
    EXPECT_THAT(r.error().message(), HasSubstr(c.message)) << c.text;
  }
}

TEST_F(NoteKeyTest, GeneratedKeysRoundTrip) {
  util::Result<GeneratedLogKey> a = GenerateLogKey("example.org/registry");
  util::Result<GeneratedLogKey> b = GenerateLogKey("example.org/registry");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->private_key, b->private_key);
  EXPECT_TRUE(a->private_key.starts_with("PRIVATE+KEY+example.org/registry+"));
  EXPECT_TRUE(a->verifier_key.starts_with("example.org/registry+"));
  util::Result<NoteSigningKey> priv = ParsePrivateKey(a->private_key);
  util::Result<NoteVerifierKey> ver = ParseVerifierKey(a->verifier_key);
  ASSERT_TRUE(priv.ok() && ver.ok());
  EXPECT_EQ(priv->verifier().ToString(), a->verifier_key);
  EXPECT_EQ(ver->public_key, priv->verifier().public_key);
  EXPECT_EQ(priv->ToString(), a->private_key);

  util::Result<GeneratedLogKey> bad = GenerateLogKey("has space");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), util::ErrorCode::kMalformed);
  EXPECT_FALSE(GenerateLogKey("").ok());
  EXPECT_FALSE(GenerateLogKey("a+b").ok());
}

class KeyFileTest : public NoteKeyTest {
 protected:
  std::string WriteText(const std::string& name, const std::string& text, mode_t mode) {
    std::string path = dir_.Sub(name);
    std::ofstream(path) << text;
    ::chmod(path.c_str(), mode);
    return path;
  }
  storage::testing::TempDir dir_;
};

TEST_F(KeyFileTest, WritesAndLoadsPrivateFiles) {
  const std::string path = dir_.Sub("log.key");
  ASSERT_TRUE(WritePrivateKeyFile(path, golden::kPrivateKey).ok());
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  util::Result<NoteSigningKey> key = LoadPrivateKeyFile(path);
  ASSERT_TRUE(key.ok()) << key.error().message();
  EXPECT_EQ(key->ToString(), golden::kPrivateKey);
  // Never overwrites.
  util::Status again = WritePrivateKeyFile(path, golden::kPrivateKey);
  ASSERT_FALSE(again.ok());
  EXPECT_THAT(again.error().message(), HasSubstr(path));
  // Without a final newline, and with CRLF.
  EXPECT_TRUE(LoadPrivateKeyFile(WriteText("bare", std::string(golden::kPrivateKey), 0600)).ok());
  EXPECT_TRUE(
      LoadPrivateKeyFile(WriteText("crlf", std::string(golden::kPrivateKey) + "\r\n", 0400)).ok());
}

TEST_F(KeyFileTest, RefusesFilesOthersMayRead) {
  for (mode_t mode : {0640, 0604, 0660, 0644, 0601, 0610}) {
    const std::string path =
        WriteText("open" + std::to_string(mode), std::string(golden::kPrivateKey) + "\n", mode);
    util::Result<NoteSigningKey> key = LoadPrivateKeyFile(path);
    ASSERT_FALSE(key.ok()) << std::oct << mode;
    EXPECT_EQ(key.error().code(), util::ErrorCode::kInternal);
    char octal[8];
    std::snprintf(octal, sizeof octal, "%04o", static_cast<unsigned>(mode));
    EXPECT_THAT(key.error().message(), HasSubstr(octal));
    EXPECT_THAT(key.error().message(), HasSubstr(path));
    EXPECT_THAT(key.error().message(), HasSubstr("group or others"));
  }
}

TEST_F(KeyFileTest, RefusesWhatIsNotOneKey) {
  util::Result<NoteSigningKey> missing = LoadPrivateKeyFile(dir_.Sub("missing"));
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.error().message(), HasSubstr("cannot open"));
  util::Result<NoteSigningKey> dir = LoadPrivateKeyFile(dir_.path());
  ASSERT_FALSE(dir.ok());
  EXPECT_THAT(dir.error().message(), HasSubstr("not a regular file"));
  // A verifier key is not a private key.
  const std::string path = WriteText("verifier", std::string(golden::kVerifierKey) + "\n", 0600);
  util::Result<NoteSigningKey> wrong = LoadPrivateKeyFile(path);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code(), util::ErrorCode::kMalformed);
  EXPECT_THAT(wrong.error().message(), HasSubstr(path));
  const std::string two = WriteText(
      "two", std::string(golden::kPrivateKey) + "\n" + std::string(golden::kPrivateKey) + "\n",
      0600);
  EXPECT_FALSE(LoadPrivateKeyFile(two).ok());
  EXPECT_FALSE(LoadPrivateKeyFile(WriteText("big", std::string(10000, 'A'), 0600)).ok());
}

}  // namespace
}  // namespace registry::tlog
