#include <zlib.h>

#include "registry/util/check.h"
#include "service_impl.h"

namespace registry::api::internal {

std::shared_ptr<CachedRecord> RecordCache::Get(std::uint64_t version) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(version);
  if (it == entries_.end()) return nullptr;
  order_.splice(order_.begin(), order_, it->second.second);
  return it->second.first;
}

std::shared_ptr<CachedRecord> RecordCache::Put(std::uint64_t version,
                                               std::shared_ptr<const std::string> body) {
  auto entry = std::make_shared<CachedRecord>();
  entry->body = std::move(body);
  entry->etag = "\"r" + std::to_string(version) + "\"";
  if (capacity_ == 0) return entry;
  std::lock_guard lock(mu_);
  if (auto it = entries_.find(version); it != entries_.end()) return it->second.first;
  order_.push_front(version);
  entries_.emplace(version, std::make_pair(entry, order_.begin()));
  while (entries_.size() > capacity_) {
    entries_.erase(order_.back());
    order_.pop_back();
  }
  return entry;
}

std::string Gzip(std::string_view data) {
  z_stream zs{};
  // windowBits 15 + 16 selects the gzip wrapper.
  int rc = deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  REGISTRY_CHECK(rc == Z_OK, "deflateInit2 failed");
  std::string out;
  out.resize(deflateBound(&zs, static_cast<uLong>(data.size())) + 32);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  rc = deflate(&zs, Z_FINISH);
  REGISTRY_CHECK(rc == Z_STREAM_END, "deflate did not finish within deflateBound");
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

bool AcceptsGzip(std::string_view accept_encoding) {
  // Comma-separated codings, each optionally with ";q=...".
  while (!accept_encoding.empty()) {
    std::size_t comma = accept_encoding.find(',');
    std::string_view item = accept_encoding.substr(0, comma);
    accept_encoding = comma == std::string_view::npos ? "" : accept_encoding.substr(comma + 1);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    std::size_t semi = item.find(';');
    std::string_view coding = item.substr(0, semi);
    while (!coding.empty() && coding.back() == ' ') coding.remove_suffix(1);
    if (coding != "gzip" && coding != "x-gzip" && coding != "*") continue;
    if (semi == std::string_view::npos) return true;
    std::string_view params = item.substr(semi + 1);
    std::size_t q = params.find("q=");
    if (q == std::string_view::npos) return true;
    std::string_view value = params.substr(q + 2);
    // q=0, q=0.0, q=0.00, q=0.000 refuse; anything else accepts.
    bool zero = !value.empty() && value[0] == '0';
    for (std::size_t i = 1; zero && i < value.size() && value[i] != ' '; ++i) {
      if (value[i] != '.' && value[i] != '0') zero = false;
    }
    if (!zero) return true;
  }
  return false;
}

std::optional<metrics::RejectReason> RejectReasonFor(util::ErrorCode code) {
  switch (code) {
    case util::ErrorCode::kUnauthorized:
      return metrics::RejectReason::kUnauthorized;
    case util::ErrorCode::kForbidden:
      return metrics::RejectReason::kForbidden;
    case util::ErrorCode::kMalformed:
      return metrics::RejectReason::kMalformed;
    case util::ErrorCode::kFrozen:
      return metrics::RejectReason::kFrozen;
    case util::ErrorCode::kNotReady:
      return metrics::RejectReason::kNotReady;
    default:
      return std::nullopt;
  }
}

bool IfNoneMatchHits(std::string_view header, std::string_view etag) {
  while (!header.empty()) {
    std::size_t comma = header.find(',');
    std::string_view tag = header.substr(0, comma);
    header = comma == std::string_view::npos ? "" : header.substr(comma + 1);
    while (!tag.empty() && (tag.front() == ' ' || tag.front() == '\t')) tag.remove_prefix(1);
    while (!tag.empty() && (tag.back() == ' ' || tag.back() == '\t')) tag.remove_suffix(1);
    if (tag == "*") return true;
    if (tag.starts_with("W/")) tag.remove_prefix(2);  // weak comparison
    if (tag == etag) return true;
  }
  return false;
}

std::optional<std::string_view> QueryParam(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    std::size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? "" : query.substr(amp + 1);
    std::size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name) {
      return eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    }
  }
  return std::nullopt;
}

std::optional<std::uint64_t> ParseVersion(std::string_view text) {
  if (text.empty() || text.size() > 16) return std::nullopt;
  if (text.size() > 1 && text[0] == '0') return std::nullopt;
  std::uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (v > (std::uint64_t{1} << 53) - 1) return std::nullopt;
  return v;
}

}  // namespace registry::api::internal
