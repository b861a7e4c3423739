#include "registry/auth/root_key.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>

#include "registry/auth/scope.h"
#include "registry/auth/token.h"
#include "registry/auth/verifier.h"
#include "registry/util/error.h"

namespace registry::auth {
namespace {

using util::ErrorCode;

class RootKeyFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "/root_key_test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/root.key";
  }
  void TearDown() override {
    ::unlink(path_.c_str());
    ::rmdir(dir_.c_str());
  }

  void WriteText(const std::string& text, mode_t mode) {
    std::ofstream(path_, std::ios::binary | std::ios::trunc) << text;
    ASSERT_EQ(::chmod(path_.c_str(), mode), 0);
  }

  std::string ReadText() const {
    std::ifstream in(path_, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  mode_t Mode() const {
    struct stat st;
    EXPECT_EQ(::stat(path_.c_str(), &st), 0);
    return st.st_mode & 07777;
  }

  std::string dir_;
  std::string path_;
};

TEST_F(RootKeyFileTest, WriteCreatesHexLineWithMode0600) {
  ASSERT_TRUE(WriteRootKeyFile(path_).ok());
  EXPECT_EQ(Mode(), 0600u);
  const std::string text = ReadText();
  ASSERT_EQ(text.size(), 65u);
  EXPECT_EQ(text.back(), '\n');
  EXPECT_TRUE(std::all_of(text.begin(), text.end() - 1, [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  })) << "not lower-case hex";
}

TEST_F(RootKeyFileTest, WriteIgnoresPermissiveUmask) {
  const mode_t old = ::umask(0);
  const util::Status s = WriteRootKeyFile(path_);
  ::umask(old);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(Mode(), 0600u);
}

TEST_F(RootKeyFileTest, WriteRefusesToOverwrite) {
  WriteText("existing\n", 0600);
  const util::Status s = WriteRootKeyFile(path_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), ErrorCode::kInternal);
  EXPECT_NE(s.error().message().find(path_), std::string::npos);
  EXPECT_EQ(ReadText(), "existing\n");
}

TEST_F(RootKeyFileTest, LoadRoundTripsAndMintsVerifiableTokens) {
  ASSERT_TRUE(WriteRootKeyFile(path_).ok());
  const util::Result<RootKey> a = LoadRootKeyFile(path_);
  ASSERT_TRUE(a.ok()) << a.error().ToString();
  const util::Result<RootKey> b = LoadRootKeyFile(path_);
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(std::ranges::equal(a->bytes(), b->bytes()));

  const std::array scopes = {Scope::kAdmin};
  const std::string token = Mint(*a, scopes, std::nullopt, "from-file");
  EXPECT_TRUE(TokenVerifier(*b).Verify("Bearer " + token, Scope::kAdmin, 0).ok());
}

TEST_F(RootKeyFileTest, LoadAcceptsOwnerOnlyModes) {
  const std::string hex(64, 'a');
  for (mode_t mode : {0600, 0400, 0700}) {
    WriteText(hex + "\n", mode);
    EXPECT_TRUE(LoadRootKeyFile(path_).ok()) << std::oct << mode;
  }
  WriteText(hex, 0600);  // no trailing newline
  const util::Result<RootKey> key = LoadRootKeyFile(path_);
  ASSERT_TRUE(key.ok());
  EXPECT_TRUE(std::ranges::all_of(key->bytes(), [](std::uint8_t b) { return b == 0xaa; }));
}

TEST_F(RootKeyFileTest, LoadRefusesGroupOrWorldAccess) {
  ASSERT_TRUE(WriteRootKeyFile(path_).ok());
  for (mode_t mode : {0644, 0640, 0604, 0660, 0601, 0610}) {
    ASSERT_EQ(::chmod(path_.c_str(), mode), 0);
    const util::Result<RootKey> key = LoadRootKeyFile(path_);
    ASSERT_FALSE(key.ok()) << std::oct << mode;
    EXPECT_EQ(key.error().code(), ErrorCode::kInternal);
    EXPECT_NE(key.error().message().find(path_), std::string::npos) << key.error().message();
    char expected[8];
    std::snprintf(expected, sizeof(expected), "%04o", static_cast<unsigned>(mode));
    EXPECT_NE(key.error().message().find(std::string("mode ") + expected), std::string::npos)
        << key.error().message();
  }
}

TEST_F(RootKeyFileTest, LoadRefusesWrongLengthOrFormat) {
  const std::string hex(64, 'b');
  const std::string raw(32, '\x11');
  for (const std::string& text :
       {std::string(), std::string("\n"), hex.substr(2) + "\n", hex + "bb\n", hex + "\n\n",
        hex + "\r\n", " " + hex + "\n", hex.substr(1) + "g\n", raw,
        hex.substr(0, 32) + "\n" + hex.substr(32) + "\n", std::string(4096, 'c')}) {
    WriteText(text, 0600);
    const util::Result<RootKey> key = LoadRootKeyFile(path_);
    ASSERT_FALSE(key.ok()) << "accepted a " << text.size() << "-byte file";
    EXPECT_EQ(key.error().code(), ErrorCode::kMalformed);
    EXPECT_NE(key.error().message().find(path_), std::string::npos);
  }
}

TEST_F(RootKeyFileTest, LoadRefusesMissingFileAndDirectory) {
  const util::Result<RootKey> missing = LoadRootKeyFile(path_);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message().find(path_), std::string::npos);

  ASSERT_EQ(::mkdir(path_.c_str(), 0700), 0);
  const util::Result<RootKey> dir = LoadRootKeyFile(path_);
  ::rmdir(path_.c_str());
  ASSERT_FALSE(dir.ok());
  EXPECT_NE(dir.error().message().find("not a regular file"), std::string::npos);
}

TEST(RootKeyTest, GenerateIsRandom) {
  const RootKey a = RootKey::Generate();
  const RootKey b = RootKey::Generate();
  EXPECT_FALSE(std::ranges::equal(a.bytes(), b.bytes()));
}

}  // namespace
}  // namespace registry::auth
