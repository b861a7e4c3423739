// Blob codec of the SQLite backend: small byte strings stored raw or zlib-compressed,
// whichever is smaller, optionally against a preset dictionary (the frame of an earlier
// version, so that what repeats from version to version, such as the governance object,
// costs almost nothing).
//
// Layout: one method byte, then
//   kRaw:        the bytes;
//   kZlib:       varint(decoded size) ‖ zlib stream;
//   kZlibDict:   varint(decoded size) ‖ zlib stream with a preset dictionary.
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "registry/util/result.h"

namespace registry::storage::internal {

enum class BlobMethod : char { kRaw = 0, kZlib = 1, kZlibDict = 2 };

// Encodes `data`; uses `dictionary` when it is non-empty and compression pays.
std::string EncodeBlob(std::string_view data, std::string_view dictionary = {});

// Decodes a blob made by EncodeBlob. `dictionary` MUST be the one given at encoding when the
// blob uses kZlibDict. Errors (kInternal) for corrupt input or a wrong dictionary.
util::Result<std::string> DecodeBlob(std::string_view blob, std::string_view dictionary = {});

// True when the blob was encoded against a dictionary.
bool BlobNeedsDictionary(std::string_view blob);

}  // namespace registry::storage::internal
