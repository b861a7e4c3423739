// The log archive that `registryctl fetch` writes and `registryctl verify --dir` reads
// (docs/TRANSPARENCY.md): a directory holding one file per version with the exact bytes of
// GET /registry/{V}, the HEAD object and the signed checkpoint as fetched.
//
//   DIR/records/00000000000000000001.json   version 1 (20-digit zero-padded: names sort
//   DIR/records/00000000000000000002.json   in version order), ...
//   DIR/head.json                           GET /registry/head, as served
//   DIR/checkpoint                          GET /registry/checkpoint, as served (absent when
//                                           the server had no log key)
//
// Files are replaced atomically (written beside, then renamed), and head.json and checkpoint
// are written only after every record up to HEAD is in place, so an interrupted fetch leaves
// an archive that still verifies up to its previous HEAD. Plain functions; thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "registry/util/result.h"

namespace registry::ctl {

inline constexpr const char* kArchiveRecordsDir = "records";
inline constexpr const char* kArchiveHeadFile = "head.json";
inline constexpr const char* kArchiveCheckpointFile = "checkpoint";

// "records/00000000000000000042.json" for version 42 (relative to the archive directory).
std::string ArchiveRecordName(std::uint64_t version);
// DIR + "/" + ArchiveRecordName(version).
std::string ArchiveRecordPath(const std::string& dir, std::uint64_t version);
// The version a file name in records/ stands for ("00000000000000000042.json" → 42), or
// nullopt for any other name (temporary files included).
std::optional<std::uint64_t> ParseArchiveRecordFileName(std::string_view name);

// The whole content of `path`. kNotFound when it does not exist; kMalformed when it cannot be
// read.
util::Result<std::string> ReadArchiveFile(const std::string& path);

// Replaces `path` with `content`: written to `path`.tmp, flushed, then renamed over it.
util::Status ReplaceFile(const std::string& path, std::string_view content);

}  // namespace registry::ctl
