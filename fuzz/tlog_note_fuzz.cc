// libFuzzer target: C2SP signed notes, checkpoints and note keys (src/tlog, SPEC §5),
// which registryctl and third-party verifiers read from the network.
//
// Properties on every input (a violation aborts, which libFuzzer reports):
//  1. ParseCheckpoint never crashes; an accepted body re-formats to a body that parses to
//     the same checkpoint, with an acceptable origin.
//  2. OpenNote / OpenCheckpoint under the fixed fuzz key: an opened note's text is a prefix
//     of the input ending in "\n"; an opened checkpoint is ParseCheckpoint of that text.
//     Errors are kMalformed or kInvalidSig only.
//  3. SignNote then OpenNote gives the text back (whatever the text, when SignNote takes
//     it), and a note signed by the fuzz key is not opened by another key of the same name.
//  4. ParseVerifierKey / ParsePrivateKey: an accepted key prints back to a string that
//     parses to the same key.
// The seed corpus holds checkpoints signed by the fuzz key, so mutations reach the
// signature check.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "registry/crypto/ed25519.h"
#include "registry/tlog/checkpoint.h"
#include "registry/tlog/note.h"
#include "registry/tlog/note_key.h"
#include "registry/util/error.h"
#include "registry/util/result.h"

namespace {

namespace tlog = registry::tlog;
using registry::util::ErrorCode;

#define FUZZ_CHECK(cond, what)                                               \
  do {                                                                       \
    if (!(cond)) {                                                           \
      std::fprintf(stderr, "tlog_note_fuzz: property violated: %s\n", what); \
      std::abort();                                                          \
    }                                                                        \
  } while (false)

// The fuzz log key: name kOrigin, seed bytes 0, 1, ..., 31 (+ `salt`).
constexpr std::string_view kOrigin = "fuzz.example/log";

tlog::NoteSigningKey FuzzKey(std::uint8_t salt) {
  registry::crypto::Ed25519Seed seed{};
  for (std::size_t i = 0; i < seed.size(); ++i) seed[i] = static_cast<std::uint8_t>(i + salt);
  return tlog::NoteSigningKey(std::string(kOrigin), seed);
}

bool SameVerifier(const tlog::NoteVerifierKey& a, const tlog::NoteVerifierKey& b) {
  return a.name == b.name && a.key_id == b.key_id && a.public_key == b.public_key;
}

void Checkpoint(std::string_view input) {
  auto cp = tlog::ParseCheckpoint(input);
  if (!cp.ok()) {
    FUZZ_CHECK(cp.error().code() == ErrorCode::kMalformed, "ParseCheckpoint: not kMalformed");
    return;
  }
  FUZZ_CHECK(tlog::CheckOrigin(cp->origin).ok(), "ParseCheckpoint: accepted a bad origin");
  const std::string body = tlog::FormatCheckpoint(*cp);
  auto again = tlog::ParseCheckpoint(body);
  FUZZ_CHECK(again.ok() && *again == *cp, "checkpoint: parse(format(x)) != x");
}

void Open(std::string_view input, const tlog::NoteVerifierKey& verifier) {
  auto text = tlog::OpenNote(input, verifier);
  if (!text.ok()) {
    FUZZ_CHECK(text.error().code() == ErrorCode::kMalformed ||
                   text.error().code() == ErrorCode::kInvalidSig,
               "OpenNote: unexpected error class");
  } else {
    FUZZ_CHECK(input.substr(0, text->size()) == *text, "OpenNote: text is not the note's");
    FUZZ_CHECK(!text->empty() && text->back() == '\n', "OpenNote: text without final newline");
  }
  auto cp = tlog::OpenCheckpoint(input, verifier);
  if (!cp.ok()) {
    FUZZ_CHECK(
        cp.error().code() == ErrorCode::kMalformed || cp.error().code() == ErrorCode::kInvalidSig,
        "OpenCheckpoint: unexpected error class");
    return;
  }
  FUZZ_CHECK(text.ok(), "OpenCheckpoint accepted a note OpenNote refuses");
  auto parsed = tlog::ParseCheckpoint(*text);
  FUZZ_CHECK(parsed.ok() && *parsed == *cp, "OpenCheckpoint differs from ParseCheckpoint");
}

void SignAndOpen(std::string_view text, const tlog::NoteSigningKey& key,
                 const tlog::NoteSigningKey& other) {
  auto note = tlog::SignNote(text, key);
  if (!note.ok()) {
    FUZZ_CHECK(note.error().code() == ErrorCode::kMalformed, "SignNote: not kMalformed");
    return;
  }
  auto opened = tlog::OpenNote(*note, key.verifier());
  FUZZ_CHECK(opened.ok() && *opened == text, "OpenNote(SignNote(text)) != text");
  auto foreign = tlog::OpenNote(*note, other.verifier());
  FUZZ_CHECK(!foreign.ok(), "a note opened under a key that did not sign it");
}

void Keys(std::string_view input) {
  if (auto v = tlog::ParseVerifierKey(input); v.ok()) {
    FUZZ_CHECK(tlog::IsValidKeyName(v->name), "verifier key: invalid name accepted");
    auto again = tlog::ParseVerifierKey(v->ToString());
    FUZZ_CHECK(again.ok() && SameVerifier(*again, *v), "verifier key: parse(print(k)) != k");
  } else {
    FUZZ_CHECK(v.error().code() == ErrorCode::kMalformed, "ParseVerifierKey: not kMalformed");
  }
  if (auto k = tlog::ParsePrivateKey(input); k.ok()) {
    auto again = tlog::ParsePrivateKey(k->ToString());
    FUZZ_CHECK(
        again.ok() && SameVerifier(again->verifier(), k->verifier()) && again->seed() == k->seed(),
        "private key: parse(print(k)) != k");
  } else {
    FUZZ_CHECK(k.error().code() == ErrorCode::kMalformed, "ParsePrivateKey: not kMalformed");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  registry::crypto::Init();
  static const tlog::NoteSigningKey key = FuzzKey(0);
  static const tlog::NoteSigningKey other = FuzzKey(1);
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  Checkpoint(input);
  Open(input, key.verifier());
  SignAndOpen(input, key, other);
  Keys(input);
  return 0;
}
