// C2SP signed notes (https://c2sp.org/signed-note), byte for byte as Go's
// golang.org/x/mod/sumdb/note writes and reads them:
//
//   <text, ending in "\n">
//   "\n"
//   "— <key name> <base64(4-byte big-endian key ID ‖ 64-byte Ed25519 signature)>\n" ...
//
// ("—" is U+2014 EM DASH.) The signature covers the text exactly, its final newline
// included. A note is UTF-8 without control characters other than "\n".
//
// Pure functions; thread-safe once crypto::Init() has run.
#pragma once

#include <string>
#include <string_view>

#include "registry/tlog/note_key.h"
#include "registry/util/result.h"

namespace registry::tlog {

// The signature line prefix: U+2014 EM DASH, then a space.
inline constexpr std::string_view kSignaturePrefix = "\xE2\x80\x94 ";

// `text` signed by `key`. kMalformed when the text is empty, does not end in "\n", or holds
// invalid UTF-8 or a control character other than "\n".
util::Result<std::string> SignNote(std::string_view text, const NoteSigningKey& key);

// The text of `note` (its final newline included) once the signature of `verifier` on it
// verifies; signatures by other keys are ignored, as Go's note.Open does with unknown
// keys. kMalformed naming the problem when the note is not a well-formed signed note;
// kInvalidSig when it carries no signature by that key (name and key ID), or a signature by
// that key that does not verify.
util::Result<std::string> OpenNote(std::string_view note, const NoteVerifierKey& verifier);

}  // namespace registry::tlog
