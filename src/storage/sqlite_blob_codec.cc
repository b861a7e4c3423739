#include "sqlite_blob_codec.h"

#include <zlib.h>

#include <limits>

#include "sqlite_varint.h"

namespace registry::storage::internal {
namespace {

using util::Error;
using util::ErrorCode;

// Below this, compression cannot win against the method byte and the size varint.
constexpr std::size_t kMinCompressible = 24;
// A decoded blob is never larger than this (a frame or an item list, far below).
constexpr std::uint64_t kMaxDecodedSize = std::uint64_t{1} << 31;

std::string Raw(std::string_view data) {
  std::string out;
  out.reserve(data.size() + 1);
  out.push_back(static_cast<char>(BlobMethod::kRaw));
  out.append(data);
  return out;
}

// The zlib stream of `data`, or nullopt when zlib fails (then the caller stores raw bytes).
std::optional<std::string> Deflate(std::string_view data, std::string_view dictionary) {
  if (data.size() > std::numeric_limits<uInt>::max() ||
      dictionary.size() > std::numeric_limits<uInt>::max()) {
    return std::nullopt;
  }
  z_stream zs{};
  if (deflateInit(&zs, Z_DEFAULT_COMPRESSION) != Z_OK) return std::nullopt;
  if (!dictionary.empty() &&
      deflateSetDictionary(&zs, reinterpret_cast<const Bytef*>(dictionary.data()),
                           static_cast<uInt>(dictionary.size())) != Z_OK) {
    deflateEnd(&zs);
    return std::nullopt;
  }
  std::string out(deflateBound(&zs, static_cast<uLong>(data.size())), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  const std::size_t produced = zs.total_out;
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) return std::nullopt;
  out.resize(produced);
  return out;
}

Error Corrupt(const std::string& why) {
  return Error(ErrorCode::kInternal, "storage blob is corrupt: " + why);
}

}  // namespace

std::string EncodeBlob(std::string_view data, std::string_view dictionary) {
  if (data.size() < kMinCompressible) return Raw(data);
  std::string best = Raw(data);
  auto consider = [&](BlobMethod method, std::string_view dict) {
    std::optional<std::string> z = Deflate(data, dict);
    if (!z.has_value()) return;
    std::string candidate;
    candidate.push_back(static_cast<char>(method));
    PutVarint(data.size(), candidate);
    candidate.append(*z);
    if (candidate.size() < best.size()) best = std::move(candidate);
  };
  consider(BlobMethod::kZlib, {});
  if (!dictionary.empty()) consider(BlobMethod::kZlibDict, dictionary);
  return best;
}

bool BlobNeedsDictionary(std::string_view blob) {
  return !blob.empty() && blob[0] == static_cast<char>(BlobMethod::kZlibDict);
}

util::Result<std::string> DecodeBlob(std::string_view blob, std::string_view dictionary) {
  if (blob.empty()) return Corrupt("empty");
  const auto method = static_cast<BlobMethod>(blob[0]);
  if (method == BlobMethod::kRaw) return std::string(blob.substr(1));
  if (method != BlobMethod::kZlib && method != BlobMethod::kZlibDict) {
    return Corrupt("unknown method " + std::to_string(static_cast<int>(blob[0])));
  }
  if (method == BlobMethod::kZlibDict && dictionary.empty()) {
    return Corrupt("encoded against a dictionary, none given");
  }
  std::size_t pos = 1;
  std::optional<std::uint64_t> size = GetVarint(blob, pos);
  if (!size.has_value() || *size > kMaxDecodedSize) return Corrupt("bad size");
  std::string_view stream = blob.substr(pos);
  if (stream.size() > std::numeric_limits<uInt>::max()) return Corrupt("stream too long");

  std::string out(static_cast<std::size_t>(*size), '\0');
  z_stream zs{};
  if (inflateInit(&zs) != Z_OK) return Corrupt("inflateInit failed");
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(stream.data()));
  zs.avail_in = static_cast<uInt>(stream.size());
  // One spare byte: a stream longer than the recorded size is caught, not truncated.
  out.push_back('\0');
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  int rc = inflate(&zs, Z_FINISH);
  if (rc == Z_NEED_DICT) {
    if (method != BlobMethod::kZlibDict ||
        inflateSetDictionary(&zs, reinterpret_cast<const Bytef*>(dictionary.data()),
                             static_cast<uInt>(dictionary.size())) != Z_OK) {
      inflateEnd(&zs);
      return Corrupt("wrong dictionary");
    }
    rc = inflate(&zs, Z_FINISH);
  }
  const std::size_t produced = zs.total_out;
  inflateEnd(&zs);
  if (rc != Z_STREAM_END) return Corrupt("zlib error " + std::to_string(rc));
  if (produced != *size) return Corrupt("size mismatch");
  out.resize(produced);
  return out;
}

}  // namespace registry::storage::internal
