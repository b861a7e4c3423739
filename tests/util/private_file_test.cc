#include "registry/util/private_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace registry::util {
namespace {

class PrivateFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (std::filesystem::temp_directory_path() / "private-file-XXXXXX").string();
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    dir_ = templ;
    path_ = dir_ + "/secret";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string dir_;
  std::string path_;
};

TEST_F(PrivateFileTest, WritesMode0600WhateverTheUmaskAndNeverReplaces) {
  const mode_t old = ::umask(0);
  Status written = WritePrivateFile(path_, "s3cret\n", "test key");
  ::umask(old);
  ASSERT_TRUE(written.ok()) << written.error().ToString();
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  Status again = WritePrivateFile(path_, "other", "test key");
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().message().find("test key " + path_), std::string::npos);
  Result<std::string> read = ReadPrivateFile(path_, 64, "test key");
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(*read, "s3cret\n");
}

TEST_F(PrivateFileTest, RefusesFilesOthersCanReach) {
  ASSERT_TRUE(WritePrivateFile(path_, "x", "test key").ok());
  for (mode_t mode : {0644, 0640, 0604, 0660, 0601, 0610}) {
    ASSERT_EQ(::chmod(path_.c_str(), mode), 0);
    Result<std::string> r = ReadPrivateFile(path_, 64, "test key");
    ASSERT_FALSE(r.ok()) << std::oct << mode;
    EXPECT_EQ(r.error().code(), ErrorCode::kInternal);
    char octal[8];
    std::snprintf(octal, sizeof(octal), "%04o", static_cast<unsigned>(mode));
    EXPECT_NE(r.error().message().find(std::string("has mode ") + octal), std::string::npos)
        << r.error().message();
  }
  ASSERT_EQ(::chmod(path_.c_str(), 0400), 0);
  EXPECT_TRUE(ReadPrivateFile(path_, 64, "test key").ok());
}

TEST_F(PrivateFileTest, CutsLongFilesAndRefusesNonFiles) {
  ASSERT_TRUE(WritePrivateFile(path_, std::string(100, 'a'), "test key").ok());
  Result<std::string> r = ReadPrivateFile(path_, 10, "test key");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->size(), 11u);  // max + 1: the caller sees that it was too long
  Result<std::string> dir = ReadPrivateFile(dir_, 10, "test key");
  ASSERT_FALSE(dir.ok());
  EXPECT_NE(dir.error().message().find("not a regular file"), std::string::npos);
  Result<std::string> missing = ReadPrivateFile(dir_ + "/none", 10, "test key");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message().find("cannot open"), std::string::npos);
}

}  // namespace
}  // namespace registry::util
