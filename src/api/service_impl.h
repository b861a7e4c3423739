// Private state of ApiService, shared by the read plane, write plane and stream files.
#pragma once

#include <atomic>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "registry/api/router.h"
#include "registry/api/service.h"

namespace registry::api::internal {

// The HEAD response, rebuilt once per commit and shared by every reader.
struct HeadResponse {
  std::uint64_t version = 0;
  std::string version_text;  // X-Registry-Version
  std::string etag;          // quoted
  std::shared_ptr<const std::string> body;
};

// One cached commit record: the canonical bytes and, once asked for, their gzip.
struct CachedRecord {
  std::shared_ptr<const std::string> body;
  std::string etag;
  std::shared_ptr<const std::string> gzip;  // guarded by RecordCache::mu_
};

// A small LRU of commit records by version. Thread-safe.
class RecordCache {
 public:
  explicit RecordCache(std::size_t capacity) : capacity_(capacity) {}
  std::shared_ptr<CachedRecord> Get(std::uint64_t version);
  std::shared_ptr<CachedRecord> Put(std::uint64_t version, std::shared_ptr<const std::string> body);

 private:
  const std::size_t capacity_;
  std::mutex mu_;
  std::list<std::uint64_t> order_;  // most recent first
  std::unordered_map<std::uint64_t,
                     std::pair<std::shared_ptr<CachedRecord>, std::list<std::uint64_t>::iterator>>
      entries_;
};

// Per-request context the handlers pass along.
struct Call {
  http::Request request;
  http::Responder respond;
  RouteMatch match;
  std::string corr_id;
};

// gzip (RFC 1952) of `data` at the default level.
std::string Gzip(std::string_view data);

// True when `accept_encoding` lists gzip with a non-zero q.
bool AcceptsGzip(std::string_view accept_encoding);

// The value of query parameter `name` (no percent-decoding: the API's parameters are plain
// numbers and ids), or nullopt.
std::optional<std::string_view> QueryParam(std::string_view query, std::string_view name);

// True when an If-None-Match header value names `etag` (a list of entity tags, weak ones
// compared weakly, or "*"): the client's copy is current (RFC 9110 §13.1.2).
bool IfNoneMatchHits(std::string_view header, std::string_view etag);

// A decimal without sign or leading zeros that fits in 53 bits.
std::optional<std::uint64_t> ParseVersion(std::string_view text);

// GET /readyz (SPEC §7): 200 when reads and writes are ready; 503 with the missing parts
// when the write plane is degraded (reads stay up regardless).
http::Response ReadyzResponse(const Deps& deps, std::uint32_t retry_after_seconds);

// The rejected_total{reason} an API error counts under, if any (the others are counted by
// their own metrics, e.g. commit_cas_fail_total, or are plain answers like NotFound).
std::optional<metrics::RejectReason> RejectReasonFor(util::ErrorCode code);

// GET /version.
http::Response VersionResponse(const BuildInfo& build);

}  // namespace registry::api::internal
