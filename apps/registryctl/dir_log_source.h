// DirLogSource: a LogSource over an archive directory written by `registryctl fetch`
// (layout in archive.h). A version without its record file is a gap (kNotFound naming the
// version and the file); proofs are derived from the verified leaves, since an archive
// holds every leaf. Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "log_source.h"

namespace registry::ctl {

class DirLogSource final : public LogSource {
 public:
  // Fails (kNotFound) when `dir` is not a directory or has no records/ directory.
  static util::Result<std::unique_ptr<DirLogSource>> Open(const std::string& dir);

  std::string Describe() const override { return "archive " + dir_; }
  util::Result<std::string> Checkpoint() override;
  util::Result<json::Value> Head() override;
  util::Result<std::string> Record(std::uint64_t v) override;
  util::Result<std::vector<core::Hash>> InclusionProof(std::uint64_t v, std::uint64_t n,
                                                       std::span<const core::Hash> leaves) override;
  util::Result<std::vector<core::Hash>> ConsistencyProof(
      std::uint64_t m, std::uint64_t n, std::span<const core::Hash> leaves) override;

  // The highest version with a record file (0 for none): more than HEAD after a fetch that
  // was interrupted before it wrote head.json.
  std::uint64_t HighestRecord() const;

 private:
  explicit DirLogSource(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
};

}  // namespace registry::ctl
