// C2SP checkpoints (https://c2sp.org/tlog-checkpoint): the signed statement of a log's size
// and root (SPEC §5, GET /registry/checkpoint). The body is
//
//   <origin>\n<tree size, decimal>\n<base64 of the 32-byte RFC 6962 root>\n
//
// optionally followed by extension lines, and it is published as a signed note (note.h)
// by the log key whose name is the origin.
//
// Pure functions; thread-safe once crypto::Init() has run.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "registry/crypto/sha256.h"
#include "registry/tlog/note_key.h"
#include "registry/util/result.h"

namespace registry::tlog {

struct Checkpoint {
  std::string origin;
  std::uint64_t size = 0;
  crypto::Sha256Digest root{};
  std::vector<std::string> extensions;  // extension lines, in order (none written here)

  bool operator==(const Checkpoint&) const = default;
};

// The checkpoint body. REQUIRES: the origin is non-empty, valid UTF-8 without control
// characters (CheckOrigin OK), and every extension is a non-empty such line.
std::string FormatCheckpoint(const Checkpoint& checkpoint);

// OK when `origin` can be the first line of a checkpoint; kMalformed naming the problem.
util::Status CheckOrigin(std::string_view origin);

// Parses a checkpoint body. kMalformed naming the line that is wrong: a missing or empty
// origin, a size that is not a decimal without leading zeros or does not fit 63 bits, a root
// that is not the base64 of 32 bytes, an empty extension line, or a missing final newline.
util::Result<Checkpoint> ParseCheckpoint(std::string_view body);

// The signed note of the checkpoint (origin, size, root), signed by `key`. kMalformed when
// the origin is not acceptable (CheckOrigin).
util::Result<std::string> SignCheckpoint(std::string_view origin, std::uint64_t size,
                                         const crypto::Sha256Digest& root,
                                         const NoteSigningKey& key);

// Verifies `note` with `verifier` (OpenNote) and parses its text (ParseCheckpoint). The
// caller MUST still compare the origin with the log it expects.
util::Result<Checkpoint> OpenCheckpoint(std::string_view note, const NoteVerifierKey& verifier);

}  // namespace registry::tlog
