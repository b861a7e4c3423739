// LogSource: where `registryctl verify` reads a registry's log from — a running registry over
// HTTP (http_log_source.h) or an archive directory written by `registryctl fetch`
// (dir_log_source.h, layout in archive.h). The checks (log_check.h) are the same for both.
//
// A LogSource is not thread-safe: one call at a time (CheckLog reads records on one helper
// thread while it verifies on others, but never calls a source concurrently).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "registry/core/merkle.h"
#include "registry/json/value.h"
#include "registry/util/result.h"

namespace registry::ctl {

class LogSource {
 public:
  virtual ~LogSource() = default;

  // Where the log comes from, for messages: the URL base, or "archive DIR".
  virtual std::string Describe() const = 0;

  // The signed checkpoint note, exactly as served. kNotFound when the source has none.
  virtual util::Result<std::string> Checkpoint() = 0;

  // The HEAD object (GET /registry/head).
  virtual util::Result<json::Value> Head() = 0;

  // The exact bytes of version `v`'s commit record (the body of GET /registry/{v}).
  // kPruned: the source no longer holds the version (retention answered 410 Pruned);
  // kNotFound: the version is missing (a gap in an archive); other codes: transport or I/O.
  virtual util::Result<std::string> Record(std::uint64_t v) = 0;

  // RFC 6962 PATH(v - 1, D[n]) and PROOF(m, D[n]) for the checkpoint checks. A server's
  // proofs are fetched (`leaves` unused); an archive holds no proofs and derives them from
  // `leaves`, the leaf hashes of the verified log (REQUIRES: n <= leaves.size()).
  virtual util::Result<std::vector<core::Hash>> InclusionProof(
      std::uint64_t v, std::uint64_t n, std::span<const core::Hash> leaves) = 0;
  virtual util::Result<std::vector<core::Hash>> ConsistencyProof(
      std::uint64_t m, std::uint64_t n, std::span<const core::Hash> leaves) = 0;
};

}  // namespace registry::ctl
