// The service's checkpoint signer (include/registry/tlog/log_signer.h).
#include "registry/tlog/log_signer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <thread>
#include <vector>

#include "registry/tlog/checkpoint.h"
#include "storage/temp_dir.h"
#include "tlog/golden.h"

namespace registry::tlog {
namespace {

using ::testing::HasSubstr;

class LogSignerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    crypto::Init();
    key_path_ = dir_.Sub("log.key");
    ASSERT_TRUE(WritePrivateKeyFile(key_path_, golden::kPrivateKey).ok());
  }
  storage::testing::TempDir dir_;
  std::string key_path_;
};

TEST_F(LogSignerTest, LoadsTheKeyOfItsOrigin) {
  util::Result<std::unique_ptr<LogSigner>> signer = LogSigner::Load(key_path_, golden::kName);
  ASSERT_TRUE(signer.ok()) << signer.error().message();
  EXPECT_EQ((*signer)->origin(), golden::kName);
  EXPECT_EQ((*signer)->verifier().ToString(), golden::kVerifierKey);
  EXPECT_EQ(*(*signer)->SignedCheckpoint(42, golden::Root()), golden::kCheckpointNote);
}

TEST_F(LogSignerTest, RefusesAKeyNamedOtherwise) {
  util::Result<std::unique_ptr<LogSigner>> signer =
      LogSigner::Load(key_path_, "other.example.com/log");
  ASSERT_FALSE(signer.ok());
  EXPECT_EQ(signer.error().code(), util::ErrorCode::kMalformed);
  EXPECT_THAT(signer.error().message(), HasSubstr("named \"registry.example.com/log\""));
  EXPECT_THAT(signer.error().message(), HasSubstr("tlog.origin is \"other.example.com/log\""));
  util::Result<std::unique_ptr<LogSigner>> empty = LogSigner::Load(key_path_, "");
  ASSERT_FALSE(empty.ok());
  EXPECT_THAT(empty.error().message(), HasSubstr("tlog.origin must be set"));
  ::chmod(key_path_.c_str(), 0644);
  util::Result<std::unique_ptr<LogSigner>> open = LogSigner::Load(key_path_, golden::kName);
  ASSERT_FALSE(open.ok());
  EXPECT_THAT(open.error().message(), HasSubstr("0644"));
}

TEST_F(LogSignerTest, SignsEachSizeOnce) {
  LogSigner signer{NoteSigningKey(std::string(golden::kName), golden::Seed())};
  crypto::Sha256Digest root = golden::Root();
  std::shared_ptr<const std::string> a = signer.SignedCheckpoint(1, root);
  std::shared_ptr<const std::string> b = signer.SignedCheckpoint(1, root);
  EXPECT_EQ(a, b);  // the same shared bytes
  EXPECT_EQ(signer.signatures(), 1u);
  root[0] ^= 1;
  std::shared_ptr<const std::string> c = signer.SignedCheckpoint(2, root);
  EXPECT_NE(*a, *c);
  EXPECT_EQ(signer.signatures(), 2u);
  util::Result<Checkpoint> opened = OpenCheckpoint(*c, signer.verifier());
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(opened->size, 2u);
  EXPECT_EQ(opened->root, root);
  // A request still holding an older HEAD gets its note without evicting the newest.
  EXPECT_EQ(*signer.SignedCheckpoint(1, golden::Root()), *a);
  EXPECT_EQ(signer.SignedCheckpoint(2, root), c);
}

TEST_F(LogSignerTest, ConcurrentRequestsSignOnce) {
  LogSigner signer{NoteSigningKey(std::string(golden::kName), golden::Seed())};
  std::vector<std::thread> threads;
  std::vector<std::shared_ptr<const std::string>> notes(8);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] { notes[i] = signer.SignedCheckpoint(42, golden::Root()); });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(signer.signatures(), 1u);
  for (const auto& n : notes) EXPECT_EQ(*n, golden::kCheckpointNote);
}

}  // namespace
}  // namespace registry::tlog
