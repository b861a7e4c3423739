// LogSigner: the log's checkpoint signer in the service (SPEC §5, GET /registry/checkpoint).
// It holds the log's note key, whose name is the log's origin, and signs the checkpoint of
// each tree size once: the signed note of the latest size is kept and shared by every
// request until the log grows, so a signature costs one Ed25519 operation per commit, not
// per request.
//
// Thread-safety: every method may be called from any thread. The cached note is read with
// one atomic load; signing a new size takes a mutex, so concurrent requests for a size not
// signed yet sign it once.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "registry/crypto/sha256.h"
#include "registry/tlog/note_key.h"
#include "registry/util/result.h"

namespace registry::tlog {

class LogSigner {
 public:
  // REQUIRES: the key name is a valid checkpoint origin (CheckOrigin).
  explicit LogSigner(NoteSigningKey key);

  // The signer of the log `origin` (tlog.origin) with the key in `key_path`
  // (tlog.signing_key_path). kMalformed when the origin is empty or not acceptable, or when
  // the key's name differs from the origin (the message names both); errors of
  // LoadPrivateKeyFile otherwise.
  static util::Result<std::unique_ptr<LogSigner>> Load(const std::string& key_path,
                                                       std::string_view origin);

  const std::string& origin() const { return key_.name(); }
  const NoteVerifierKey& verifier() const { return key_.verifier(); }

  // The signed checkpoint note of the tree of `size` leaves with root `root`. Signed when
  // the cached note is for another size or root, then cached. Never fails: the origin was
  // checked at construction.
  std::shared_ptr<const std::string> SignedCheckpoint(std::uint64_t size,
                                                      const crypto::Sha256Digest& root) const;

  // How many checkpoints were signed so far (for tests and metrics).
  std::uint64_t signatures() const { return signatures_.load(std::memory_order_relaxed); }

 private:
  struct Entry {
    std::uint64_t size = 0;
    crypto::Sha256Digest root{};
    std::shared_ptr<const std::string> note;
  };

  const NoteSigningKey key_;
  mutable std::mutex sign_mu_;
  mutable std::atomic<std::shared_ptr<const Entry>> latest_;
  mutable std::atomic<std::uint64_t> signatures_{0};
};

}  // namespace registry::tlog
