// C2SP checkpoints (include/registry/tlog/checkpoint.h).
#include "registry/tlog/checkpoint.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "registry/tlog/note.h"
#include "tlog/golden.h"

namespace registry::tlog {
namespace {

using ::testing::HasSubstr;

class CheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override { crypto::Init(); }
  NoteSigningKey key_{std::string(golden::kName), golden::Seed()};
};

TEST_F(CheckpointTest, SignsTheGoldenCheckpoint) {
  util::Result<std::string> note = SignCheckpoint(golden::kName, 42, golden::Root(), key_);
  ASSERT_TRUE(note.ok()) << note.error().message();
  EXPECT_EQ(*note, golden::kCheckpointNote);
}

TEST_F(CheckpointTest, RoundTrips) {
  for (std::uint64_t size : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{1000000},
                             std::uint64_t{9223372036854775807ull}}) {
    crypto::Sha256Digest root = golden::Root();
    root[0] = static_cast<std::uint8_t>(size);
    util::Result<std::string> note = SignCheckpoint(golden::kName, size, root, key_);
    ASSERT_TRUE(note.ok());
    util::Result<Checkpoint> c = OpenCheckpoint(*note, key_.verifier());
    ASSERT_TRUE(c.ok()) << c.error().message();
    EXPECT_EQ(c->origin, golden::kName);
    EXPECT_EQ(c->size, size);
    EXPECT_EQ(c->root, root);
    EXPECT_TRUE(c->extensions.empty());
  }
}

TEST_F(CheckpointTest, FormatAndParseAreInverse) {
  Checkpoint c{"example.com/log", 7, golden::Root(), {"ext one", "ext two"}};
  const std::string body = FormatCheckpoint(c);
  EXPECT_EQ(body,
            "example.com/log\n7\noKGio6SlpqeoqaqrrK2ur7CxsrO0tba3uLm6u7y9vr8=\next one\next two\n");
  util::Result<Checkpoint> back = ParseCheckpoint(body);
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(*back, c);
}

TEST_F(CheckpointTest, RejectsMalformedBodies) {
  const std::string root = "oKGio6SlpqeoqaqrrK2ur7CxsrO0tba3uLm6u7y9vr8=";
  struct Case {
    std::string body;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"", "end with a newline"},
      {"o\n1\n" + root, "end with a newline"},
      {"o\n1\n", "origin, size and root"},
      {"\n1\n" + root + "\n", "origin must not be empty"},
      {"o\n01\n" + root + "\n", "line 2"},
      {"o\n-1\n" + root + "\n", "line 2"},
      {"o\n+1\n" + root + "\n", "line 2"},
      {"o\n1 \n" + root + "\n", "line 2"},
      {"o\n\n" + root + "\n", "line 2"},
      {"o\n9223372036854775808\n" + root + "\n", "line 2"},
      {"o\n99999999999999999999\n" + root + "\n", "line 2"},
      {"o\n1\noKGio6SlpqeoqaqrrK2ur7CxsrO0tba3uLm6u7y9vg==\n", "line 3"},  // 31 bytes
      {"o\n1\noKGio6SlpqeoqaqrrK2ur7CxsrO0tba3uLm6u7y9vr8\n", "line 3"},   // no padding
      {"o\n1\n" + root + "\n\n", "line 4"},
      {"o\n1\n" + root + "\next\n\n", "line 5"},
  };
  for (const Case& c : cases) {
    util::Result<Checkpoint> r = ParseCheckpoint(c.body);
    ASSERT_FALSE(r.ok()) << c.body;
    EXPECT_EQ(r.error().code(), util::ErrorCode::kMalformed);
    EXPECT_THAT(r.error().message(), HasSubstr(c.message)) << c.body;
  }
  EXPECT_TRUE(ParseCheckpoint("o\n0\n" + root + "\n").ok());
}

TEST_F(CheckpointTest, TamperedBodyFailsVerification) {
  std::string note(golden::kCheckpointNote);
  note[note.find("oKGi") + 2] ^= 0x01;  // a character of the root line
  util::Result<Checkpoint> r = OpenCheckpoint(note, key_.verifier());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), util::ErrorCode::kInvalidSig);
}

TEST_F(CheckpointTest, WrongKeyFails) {
  crypto::Ed25519Seed other = golden::Seed();
  other[5] ^= 0x40;
  NoteSigningKey key2{std::string(golden::kName), other};
  util::Result<Checkpoint> r = OpenCheckpoint(golden::kCheckpointNote, key2.verifier());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), util::ErrorCode::kInvalidSig);
  // A differently named key of the same secret is another key too.
  NoteSigningKey renamed{"other.example.com/log", golden::Seed()};
  EXPECT_FALSE(OpenCheckpoint(golden::kCheckpointNote, renamed.verifier()).ok());
}

TEST_F(CheckpointTest, SignedBodyThatIsNotACheckpointIsMalformed) {
  util::Result<std::string> note = SignNote("just a note\n", key_);
  ASSERT_TRUE(note.ok());
  util::Result<Checkpoint> r = OpenCheckpoint(*note, key_.verifier());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), util::ErrorCode::kMalformed);
}

TEST_F(CheckpointTest, RefusesBadOrigins) {
  EXPECT_FALSE(SignCheckpoint("", 1, golden::Root(), key_).ok());
  EXPECT_FALSE(SignCheckpoint("two\nlines", 1, golden::Root(), key_).ok());
  EXPECT_FALSE(CheckOrigin("\xFF").ok());
  EXPECT_TRUE(CheckOrigin("registry.example.com/log").ok());
}

}  // namespace
}  // namespace registry::tlog
