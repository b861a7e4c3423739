#include "registry/tlog/note.h"

#include <array>
#include <cstdint>
#include <optional>
#include <set>
#include <tuple>
#include <utility>
#include <vector>

#include "registry/crypto/base64.h"
#include "registry/crypto/ed25519.h"
#include "utf8.h"

namespace registry::tlog {

using util::Error;
using util::ErrorCode;

namespace {

// Go's note.Open gives up on notes with more signature lines than this.
constexpr std::size_t kMaxSignatures = 100;

Error Malformed(std::string message) {
  return Error(ErrorCode::kMalformed, "signed note: " + std::move(message));
}

// UTF-8 without control characters except "\n" (Go's note.Open rule).
bool IsNoteText(std::string_view s) {
  if (!internal::IsValidUtf8(s)) return false;
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 && c != '\n') return false;
  }
  return true;
}

std::string KeyLabel(std::string_view name, std::uint32_t key_id) {
  return std::string(name) + "+" + KeyIdHex(key_id);
}

}  // namespace

util::Result<std::string> SignNote(std::string_view text, const NoteSigningKey& key) {
  if (text.empty() || text.back() != '\n') return Malformed("the text must end with a newline");
  if (!IsNoteText(text)) {
    return Malformed("the text must be UTF-8 without control characters other than newline");
  }
  const crypto::Ed25519Signature sig = crypto::Ed25519Sign(key.seed(), text);
  std::array<std::uint8_t, 4 + std::tuple_size_v<crypto::Ed25519Signature>> blob;
  const std::uint32_t id = key.key_id();
  blob[0] = static_cast<std::uint8_t>(id >> 24);
  blob[1] = static_cast<std::uint8_t>(id >> 16);
  blob[2] = static_cast<std::uint8_t>(id >> 8);
  blob[3] = static_cast<std::uint8_t>(id);
  std::copy(sig.begin(), sig.end(), blob.begin() + 4);
  std::string out;
  out.reserve(text.size() + key.name().size() + 128);
  out.append(text);
  out += '\n';
  out.append(kSignaturePrefix);
  out += key.name();
  out += ' ';
  out += crypto::Base64Encode(blob);
  out += '\n';
  return out;
}

util::Result<std::string> OpenNote(std::string_view note, const NoteVerifierKey& verifier) {
  if (!IsNoteText(note)) {
    return Malformed("not UTF-8, or holds a control character other than newline");
  }
  const std::size_t split = note.rfind("\n\n");
  if (split == std::string_view::npos) return Malformed("no blank line before the signatures");
  const std::string_view text = note.substr(0, split + 1);
  std::string_view sigs = note.substr(split + 2);
  if (sigs.empty() || sigs.back() != '\n') {
    return Malformed("the signature block must end with a newline");
  }
  std::size_t count = 0;
  bool verified = false;
  std::set<std::string_view> other_keys;
  while (!sigs.empty()) {
    const std::size_t eol = sigs.find('\n');
    std::string_view line = sigs.substr(0, eol);
    sigs.remove_prefix(eol + 1);
    if (!line.starts_with(kSignaturePrefix)) {
      return Malformed("a signature line must start with \"— \"");
    }
    line.remove_prefix(kSignaturePrefix.size());
    const std::size_t space = line.find(' ');
    const std::string_view name = line.substr(0, space);
    const std::string_view b64 =
        space == std::string_view::npos ? std::string_view() : line.substr(space + 1);
    std::optional<std::vector<std::uint8_t>> blob = crypto::Base64Decode(b64);
    if (!IsValidKeyName(name) || b64.empty() || !blob.has_value() || blob->size() < 5) {
      return Malformed("signature line " + std::to_string(count + 1) + " is not well formed");
    }
    if (++count > kMaxSignatures) return Malformed("more than 100 signatures");
    const std::uint32_t id = (std::uint32_t{(*blob)[0]} << 24) | (std::uint32_t{(*blob)[1]} << 16) |
                             (std::uint32_t{(*blob)[2]} << 8) | std::uint32_t{(*blob)[3]};
    if (name != verifier.name || id != verifier.key_id) {
      other_keys.insert(name);
      continue;
    }
    if (verified) continue;  // a repeated signature by the same key counts once
    crypto::Ed25519Signature sig;
    if (blob->size() != 4 + sig.size()) {
      return Error(ErrorCode::kInvalidSig, "signed note: invalid signature for key " +
                                               KeyLabel(name, id) + " (wrong length)");
    }
    std::copy(blob->begin() + 4, blob->end(), sig.begin());
    if (!crypto::Ed25519Verify(verifier.public_key, text, sig)) {
      return Error(ErrorCode::kInvalidSig,
                   "signed note: invalid signature for key " + KeyLabel(name, id));
    }
    verified = true;
  }
  if (!verified) {
    std::string message =
        "signed note: no signature by key " + KeyLabel(verifier.name, verifier.key_id);
    if (!other_keys.empty()) {
      message += " (signed by:";
      for (std::string_view k : other_keys) message += " " + std::string(k);
      message += ")";
    }
    return Error(ErrorCode::kInvalidSig, std::move(message));
  }
  return std::string(text);
}

}  // namespace registry::tlog
