#include "archive.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace registry::ctl {

namespace {

constexpr std::size_t kVersionDigits = 20;  // enough for any uint64
constexpr std::string_view kRecordSuffix = ".json";

}  // namespace

std::string ArchiveRecordName(std::uint64_t version) {
  std::string digits = std::to_string(version);
  return std::string(kArchiveRecordsDir) + "/" + std::string(kVersionDigits - digits.size(), '0') +
         digits + std::string(kRecordSuffix);
}

std::string ArchiveRecordPath(const std::string& dir, std::uint64_t version) {
  return dir + "/" + ArchiveRecordName(version);
}

std::optional<std::uint64_t> ParseArchiveRecordFileName(std::string_view name) {
  if (name.size() != kVersionDigits + kRecordSuffix.size() ||
      name.substr(kVersionDigits) != kRecordSuffix) {
    return std::nullopt;
  }
  std::uint64_t v = 0;
  for (char c : name.substr(0, kVersionDigits)) {
    if (c < '0' || c > '9') return std::nullopt;
    const std::uint64_t digit = static_cast<std::uint64_t>(c - '0');
    if (v > (UINT64_MAX - digit) / 10) return std::nullopt;
    v = v * 10 + digit;
  }
  return v;
}

util::Result<std::string> ReadArchiveFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    if (err == ENOENT) return util::Error(util::ErrorCode::kNotFound, path + " does not exist");
    return util::Error(util::ErrorCode::kMalformed,
                       "cannot read " + path + ": " + std::strerror(err));
  }
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return util::Error(util::ErrorCode::kMalformed, "cannot read " + path);
  return content;
}

util::Status ReplaceFile(const std::string& path, std::string_view content) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    out.flush();
    if (!out) {
      std::error_code ec;
      std::filesystem::remove(tmp, ec);
      return util::Error(util::ErrorCode::kInternal, "cannot write " + tmp);
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    return util::Error(util::ErrorCode::kInternal, "cannot replace " + path + ": " + ec.message());
  }
  return util::Status::Ok();
}

}  // namespace registry::ctl
