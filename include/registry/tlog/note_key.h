// Keys of C2SP signed notes (https://c2sp.org/signed-note), in the text formats of Go's
// golang.org/x/mod/sumdb/note, so that keys made here work with Go's verifiers and back:
//
//   verifier key  <name>+<key ID, 8 hex digits>+<base64(0x01 ‖ 32-byte Ed25519 public key)>
//   private key   PRIVATE+KEY+<name>+<key ID>+<base64(0x01 ‖ 32-byte Ed25519 seed)>
//
// The key ID is the first 4 bytes, big-endian, of SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key).
// A name is non-empty UTF-8 with no white space and no '+'. The log's key name is its
// checkpoint origin (SPEC §5, `tlog.origin`).
//
// Key files hold the private key text on one line (a final newline is allowed). They MUST
// be regular files that neither group nor others may access (mode & 077 == 0): loading
// refuses anything else, as for the macaroon root key.
//
// Values are plain types; everything here is thread-safe once crypto::Init() has run. A
// NoteSigningKey holds a secret seed: it MUST NOT be logged, and it wipes the seed when
// destroyed.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "registry/crypto/ed25519.h"
#include "registry/util/result.h"

namespace registry::tlog {

// The only signature algorithm this log uses (C2SP signed-note: 0x01 = Ed25519).
inline constexpr std::uint8_t kAlgEd25519 = 0x01;

// True when `name` may name a note key: non-empty valid UTF-8 without white space
// (Unicode White_Space, as Go's unicode.IsSpace) and without '+'.
bool IsValidKeyName(std::string_view name);

// The key ID of an Ed25519 key under `name`.
std::uint32_t KeyId(std::string_view name, const crypto::Ed25519PublicKey& public_key);

// "0a1b2c3d": the key ID as it appears in key strings.
std::string KeyIdHex(std::uint32_t key_id);

struct NoteVerifierKey {
  std::string name;
  std::uint32_t key_id = 0;
  crypto::Ed25519PublicKey public_key{};

  // The verifier key string.
  std::string ToString() const;
};

class NoteSigningKey {
 public:
  // REQUIRES: IsValidKeyName(name).
  NoteSigningKey(std::string name, const crypto::Ed25519Seed& seed);
  NoteSigningKey(const NoteSigningKey&) = default;
  NoteSigningKey& operator=(const NoteSigningKey&) = default;
  ~NoteSigningKey();

  const std::string& name() const { return verifier_.name; }
  std::uint32_t key_id() const { return verifier_.key_id; }
  const NoteVerifierKey& verifier() const { return verifier_; }
  const crypto::Ed25519Seed& seed() const { return seed_; }

  // The private key string (a secret).
  std::string ToString() const;

 private:
  NoteVerifierKey verifier_;
  crypto::Ed25519Seed seed_;
};

// A fresh key pair as the two strings (what `registryctl keygen --log` prints and saves).
struct GeneratedLogKey {
  std::string private_key;   // PRIVATE+KEY+...; a secret
  std::string verifier_key;  // publish this one
};

// A new random Ed25519 note key named `name`. kMalformed when the name is not valid.
util::Result<GeneratedLogKey> GenerateLogKey(std::string_view name);

// Parses a private key string; kMalformed naming what is wrong (prefix, name, key ID
// syntax, base64, algorithm, length, or a key ID that does not match the key).
util::Result<NoteSigningKey> ParsePrivateKey(std::string_view text);

// Parses a verifier key string; kMalformed as ParsePrivateKey.
util::Result<NoteVerifierKey> ParseVerifierKey(std::string_view text);

// Loads a private key file (see above). kInternal naming the path when it cannot be read,
// is not a regular file, or is accessible by group or others (the message shows the mode);
// kMalformed naming the path when its content is not one private key string.
util::Result<NoteSigningKey> LoadPrivateKeyFile(const std::string& path);

// Writes `private_key` plus "\n" to a new file `path` with mode 0600, synced. Never
// overwrites: kInternal (naming the path) when it exists or cannot be written; a partly
// written file is removed.
util::Status WritePrivateKeyFile(const std::string& path, std::string_view private_key);

}  // namespace registry::tlog
