#include "registry/tlog/checkpoint.h"

#include <limits>
#include <optional>
#include <vector>

#include "registry/crypto/base64.h"
#include "registry/tlog/note.h"
#include "registry/util/check.h"
#include "utf8.h"

namespace registry::tlog {

using util::Error;
using util::ErrorCode;

namespace {

Error Malformed(std::string message) {
  return Error(ErrorCode::kMalformed, "checkpoint: " + std::move(message));
}

// One line of a note body: non-empty UTF-8 without control characters.
bool IsLine(std::string_view s) {
  if (s.empty() || !internal::IsValidUtf8(s)) return false;
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20) return false;
  }
  return true;
}

// A decimal without sign or leading zeros up to 2^63 - 1 (Go's int64 tree sizes).
std::optional<std::uint64_t> ParseSize(std::string_view s) {
  if (s.empty() || s.size() > 19 || (s.size() > 1 && s[0] == '0')) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return std::nullopt;
  return v;
}

}  // namespace

util::Status CheckOrigin(std::string_view origin) {
  if (origin.empty()) return Malformed("the origin must not be empty");
  if (!IsLine(origin)) {
    return Malformed("the origin must be one line of UTF-8 without control characters");
  }
  return util::Status::Ok();
}

std::string FormatCheckpoint(const Checkpoint& checkpoint) {
  REGISTRY_CHECK(CheckOrigin(checkpoint.origin).ok(), "FormatCheckpoint: invalid origin");
  std::string out = checkpoint.origin;
  out += '\n';
  out += std::to_string(checkpoint.size);
  out += '\n';
  out += crypto::Base64Encode(checkpoint.root);
  out += '\n';
  for (const std::string& line : checkpoint.extensions) {
    REGISTRY_CHECK(IsLine(line), "FormatCheckpoint: invalid extension line");
    out += line;
    out += '\n';
  }
  return out;
}

util::Result<Checkpoint> ParseCheckpoint(std::string_view body) {
  if (body.empty() || body.back() != '\n') return Malformed("the body must end with a newline");
  std::vector<std::string_view> lines;
  for (std::string_view rest = body.substr(0, body.size() - 1);;) {
    const std::size_t eol = rest.find('\n');
    lines.push_back(rest.substr(0, eol));
    if (eol == std::string_view::npos) break;
    rest.remove_prefix(eol + 1);
  }
  if (lines.size() < 3) return Malformed("needs the origin, size and root lines");
  Checkpoint out;
  if (util::Status s = CheckOrigin(lines[0]); !s.ok()) return std::move(s).error();
  out.origin = std::string(lines[0]);
  std::optional<std::uint64_t> size = ParseSize(lines[1]);
  if (!size.has_value()) {
    return Malformed("line 2 (tree size) must be a decimal without leading zeros, got \"" +
                     std::string(lines[1].substr(0, 32)) + "\"");
  }
  out.size = *size;
  std::optional<std::vector<std::uint8_t>> root = crypto::Base64Decode(lines[2]);
  if (!root.has_value() || root->size() != out.root.size()) {
    return Malformed("line 3 (root hash) must be the base64 of 32 bytes");
  }
  std::copy(root->begin(), root->end(), out.root.begin());
  for (std::size_t i = 3; i < lines.size(); ++i) {
    if (!IsLine(lines[i])) {
      return Malformed("line " + std::to_string(i + 1) + " (extension) must not be empty");
    }
    out.extensions.emplace_back(lines[i]);
  }
  return out;
}

util::Result<std::string> SignCheckpoint(std::string_view origin, std::uint64_t size,
                                         const crypto::Sha256Digest& root,
                                         const NoteSigningKey& key) {
  REGISTRY_RETURN_IF_ERROR(CheckOrigin(origin));
  Checkpoint c;
  c.origin = std::string(origin);
  c.size = size;
  c.root = root;
  return SignNote(FormatCheckpoint(c), key);
}

util::Result<Checkpoint> OpenCheckpoint(std::string_view note, const NoteVerifierKey& verifier) {
  REGISTRY_ASSIGN_OR_RETURN(std::string text, OpenNote(note, verifier));
  return ParseCheckpoint(text);
}

}  // namespace registry::tlog
