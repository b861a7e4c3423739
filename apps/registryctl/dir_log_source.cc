#include "dir_log_source.h"

#include <filesystem>

#include "archive.h"
#include "registry/core/merkle_proof.h"
#include "registry/json/parse.h"

namespace registry::ctl {

util::Result<std::unique_ptr<DirLogSource>> DirLogSource::Open(const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir + "/" + kArchiveRecordsDir, ec)) {
    return util::Error(util::ErrorCode::kNotFound,
                       dir + " is not an archive made by `registryctl fetch` (no " +
                           kArchiveRecordsDir + "/ directory)");
  }
  return std::unique_ptr<DirLogSource>(new DirLogSource(dir));
}

util::Result<std::string> DirLogSource::Checkpoint() {
  util::Result<std::string> note = ReadArchiveFile(dir_ + "/" + kArchiveCheckpointFile);
  if (!note.ok() && note.error().code() == util::ErrorCode::kNotFound) {
    return util::Error(util::ErrorCode::kNotFound,
                       "the archive holds no checkpoint (the server had no log key when "
                       "fetched)");
  }
  return note;
}

util::Result<json::Value> DirLogSource::Head() {
  util::Result<std::string> text = ReadArchiveFile(dir_ + "/" + kArchiveHeadFile);
  if (!text.ok()) {
    return util::Error(text.error().code(),
                       dir_ + " is not a complete archive: " + text.error().message());
  }
  util::Result<json::Value> head = json::Parse(*text);
  if (!head.ok()) {
    return util::Error(util::ErrorCode::kMalformed,
                       std::string(kArchiveHeadFile) + ": " + head.error().message());
  }
  return head;
}

util::Result<std::string> DirLogSource::Record(std::uint64_t v) {
  util::Result<std::string> record = ReadArchiveFile(ArchiveRecordPath(dir_, v));
  if (!record.ok() && record.error().code() == util::ErrorCode::kNotFound) {
    return util::Error(util::ErrorCode::kNotFound,
                       "version " + std::to_string(v) + ": missing from the archive (no " +
                           ArchiveRecordName(v) + "): the archive has a gap");
  }
  return record;
}

util::Result<std::vector<core::Hash>> DirLogSource::InclusionProof(
    std::uint64_t v, std::uint64_t n, std::span<const core::Hash> leaves) {
  if (v == 0 || v > n || n > leaves.size()) {
    return util::Error(
        util::ErrorCode::kMalformed,
        "no inclusion proof of version " + std::to_string(v) + " in size " + std::to_string(n));
  }
  return core::InclusionProof(v - 1, n, core::LeafHashSource(leaves));
}

util::Result<std::vector<core::Hash>> DirLogSource::ConsistencyProof(
    std::uint64_t m, std::uint64_t n, std::span<const core::Hash> leaves) {
  if (m == 0 || m > n || n > leaves.size()) {
    return util::Error(
        util::ErrorCode::kMalformed,
        "no consistency proof from " + std::to_string(m) + " to " + std::to_string(n));
  }
  return core::ConsistencyProof(m, n, core::LeafHashSource(leaves));
}

std::uint64_t DirLogSource::HighestRecord() const {
  std::uint64_t highest = 0;
  std::error_code ec;
  for (const auto& entry :
       std::filesystem::directory_iterator(dir_ + "/" + kArchiveRecordsDir, ec)) {
    std::optional<std::uint64_t> v = ParseArchiveRecordFileName(entry.path().filename().string());
    if (v.has_value() && *v > highest) highest = *v;
  }
  return highest;
}

}  // namespace registry::ctl
