// Signed notes (include/registry/tlog/note.h): the exact bytes Go's note.Sign writes, and
// note.Open's acceptance rules, including tampering.
#include "registry/tlog/note.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "registry/crypto/base64.h"
#include "tlog/golden.h"

namespace registry::tlog {
namespace {

using ::testing::HasSubstr;

class NoteTest : public ::testing::Test {
 protected:
  void SetUp() override { crypto::Init(); }
  NoteSigningKey key_{std::string(golden::kName), golden::Seed()};
  NoteVerifierKey verifier_ = key_.verifier();
  // The golden note's text and signature block.
  std::string_view Text() const {
    return golden::kCheckpointNote.substr(0, golden::kCheckpointNote.find("\n\n") + 1);
  }
};

TEST_F(NoteTest, SignsExactlyAsGo) {
  util::Result<std::string> note = SignNote(Text(), key_);
  ASSERT_TRUE(note.ok()) << note.error().message();
  EXPECT_EQ(*note, golden::kCheckpointNote);
}

TEST_F(NoteTest, OpensGoNotes) {
  util::Result<std::string> text = OpenNote(golden::kCheckpointNote, verifier_);
  ASSERT_TRUE(text.ok()) << text.error().message();
  EXPECT_EQ(*text, Text());
}

TEST_F(NoteTest, RefusesTextsGoCannotSign) {
  EXPECT_FALSE(SignNote("", key_).ok());
  EXPECT_FALSE(SignNote("no newline", key_).ok());
  EXPECT_FALSE(SignNote("tab\there\n", key_).ok());
  EXPECT_FALSE(SignNote("bad \xFF utf8\n", key_).ok());
  EXPECT_EQ(SignNote("x", key_).error().code(), util::ErrorCode::kMalformed);
}

TEST_F(NoteTest, TamperedTextFails) {
  std::string note(golden::kCheckpointNote);
  note[note.find("42")] = '4';
  note[note.find("42") + 1] = '3';  // size 43
  util::Result<std::string> r = OpenNote(note, verifier_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), util::ErrorCode::kInvalidSig);
  EXPECT_THAT(r.error().message(),
              HasSubstr("invalid signature for key " + std::string(golden::kName) + "+b8183496"));
}

TEST_F(NoteTest, EveryFlippedSignatureBitFails) {
  const std::size_t sig_start = golden::kCheckpointNote.rfind(' ') + 1;
  const std::string b64(
      golden::kCheckpointNote.substr(sig_start, golden::kCheckpointNote.size() - 1 - sig_start));
  std::vector<std::uint8_t> blob = *crypto::Base64Decode(b64);
  for (std::size_t i = 4; i < blob.size(); i += 7) {  // skip the key ID: that is another key
    std::vector<std::uint8_t> bad = blob;
    bad[i] ^= 0x01;
    std::string note = std::string(golden::kCheckpointNote.substr(0, sig_start)) +
                       crypto::Base64Encode(bad) + "\n";
    util::Result<std::string> r = OpenNote(note, verifier_);
    ASSERT_FALSE(r.ok()) << i;
    EXPECT_EQ(r.error().code(), util::ErrorCode::kInvalidSig);
  }
}

TEST_F(NoteTest, WrongKeyFails) {
  // Same name, another key: a different key ID, so no signature by the verifier's key.
  crypto::Ed25519Seed other_seed = golden::Seed();
  other_seed[0] ^= 0xff;
  NoteSigningKey other{std::string(golden::kName), other_seed};
  util::Result<std::string> r = OpenNote(golden::kCheckpointNote, other.verifier());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), util::ErrorCode::kInvalidSig);
  EXPECT_THAT(r.error().message(), HasSubstr("no signature by key"));
  EXPECT_THAT(r.error().message(), HasSubstr("signed by: " + std::string(golden::kName)));
}

TEST_F(NoteTest, WrongKeyIdFails) {
  // The verifier's key ID claimed by a signature made with another key: looks like ours,
  // does not verify.
  crypto::Ed25519Seed other_seed = golden::Seed();
  other_seed[31] ^= 0x01;
  const crypto::Ed25519Signature sig = crypto::Ed25519Sign(other_seed, Text());
  std::vector<std::uint8_t> blob = {0xb8, 0x18, 0x34, 0x96};
  blob.insert(blob.end(), sig.begin(), sig.end());
  std::string note = std::string(Text()) + "\n" + std::string(kSignaturePrefix) +
                     std::string(golden::kName) + " " + crypto::Base64Encode(blob) + "\n";
  util::Result<std::string> r = OpenNote(note, verifier_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), util::ErrorCode::kInvalidSig);
  EXPECT_THAT(r.error().message(), HasSubstr("invalid signature"));

  // Our signature under another key ID: not ours.
  std::string note2(golden::kCheckpointNote);
  const std::size_t sig_start = note2.rfind(' ') + 1;
  std::vector<std::uint8_t> good = *crypto::Base64Decode(
      std::string_view(note2).substr(sig_start, note2.size() - 1 - sig_start));
  good[3] ^= 0x01;
  note2 = note2.substr(0, sig_start) + crypto::Base64Encode(good) + "\n";
  util::Result<std::string> r2 = OpenNote(note2, verifier_);
  ASSERT_FALSE(r2.ok());
  EXPECT_THAT(r2.error().message(), HasSubstr("no signature by key"));
}

TEST_F(NoteTest, OtherSignaturesAreIgnoredAndDuplicatesCountOnce) {
  NoteSigningKey witness{"witness.example.org", golden::Seed()};
  std::string witness_note = *SignNote(Text(), witness);
  std::string witness_line = witness_note.substr(witness_note.find("\n\n") + 2);
  std::string both = std::string(golden::kCheckpointNote) + witness_line;
  util::Result<std::string> r = OpenNote(both, verifier_);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(*r, Text());
  std::string witness_first = std::string(Text()) + "\n" + witness_line +
                              std::string(golden::kCheckpointNote.substr(Text().size() + 1));
  EXPECT_TRUE(OpenNote(witness_first, verifier_).ok());
  std::string only_witness = witness_note;
  EXPECT_FALSE(OpenNote(only_witness, verifier_).ok());
  std::string twice = std::string(golden::kCheckpointNote) +
                      std::string(golden::kCheckpointNote.substr(Text().size() + 1));
  EXPECT_TRUE(OpenNote(twice, verifier_).ok());
}

TEST_F(NoteTest, MalformedNotesAreRejected) {
  const std::string good(golden::kCheckpointNote);
  const std::string sigline = good.substr(Text().size() + 1);
  const std::vector<std::string> bad = {
      "",
      std::string(Text()),                                 // no signatures
      good.substr(0, good.size() - 1),                     // no final newline
      std::string(Text()) + "\n" + sigline.substr(4),      // no em dash
      std::string(Text()) + "\n- " + sigline.substr(4),    // ASCII dash
      std::string(Text()) + "\n" + sigline + "garbage\n",  // a line that is not a signature
      std::string(Text()) + "\n\xE2\x80\x94 " + std::string(golden::kName) + "\n",       // no sig
      std::string(Text()) + "\n\xE2\x80\x94 " + std::string(golden::kName) + " AAAA\n",  // short
      std::string(Text()) + "\n\xE2\x80\x94 " + std::string(golden::kName) + " !!!!\n",
      std::string(Text()) + "\n\xE2\x80\x94 bad+name AAAAAAAA\n",
      "tab\tin text\n\n" + sigline,
      "bad utf8 \xFF\n\n" + sigline,
  };
  for (const std::string& note : bad) {
    util::Result<std::string> r = OpenNote(note, verifier_);
    ASSERT_FALSE(r.ok()) << note;
    EXPECT_EQ(r.error().code(), util::ErrorCode::kMalformed) << note;
  }
  std::string many(Text());
  many += "\n";
  NoteSigningKey witness{"w", golden::Seed()};
  std::string wline = SignNote(Text(), witness)->substr(Text().size() + 1);
  for (int i = 0; i < 101; ++i) many += wline;
  util::Result<std::string> r = OpenNote(many + sigline, verifier_);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message(), HasSubstr("more than 100"));
}

}  // namespace
}  // namespace registry::tlog
