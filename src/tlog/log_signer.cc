#include "registry/tlog/log_signer.h"

#include "registry/tlog/checkpoint.h"
#include "registry/util/check.h"

namespace registry::tlog {

using util::Error;
using util::ErrorCode;

LogSigner::LogSigner(NoteSigningKey key) : key_(std::move(key)) {
  REGISTRY_CHECK(CheckOrigin(key_.name()).ok(), "LogSigner: the key name is not an origin");
}

util::Result<std::unique_ptr<LogSigner>> LogSigner::Load(const std::string& key_path,
                                                         std::string_view origin) {
  if (origin.empty()) {
    return Error(ErrorCode::kMalformed,
                 "tlog.origin must be set when tlog.signing_key_path is (it must equal the "
                 "log key's name)");
  }
  if (util::Status s = CheckOrigin(origin); !s.ok()) {
    return Error(ErrorCode::kMalformed, "tlog.origin: " + s.error().message());
  }
  REGISTRY_ASSIGN_OR_RETURN(NoteSigningKey key, LoadPrivateKeyFile(key_path));
  if (key.name() != origin) {
    return Error(ErrorCode::kMalformed, "tlog.signing_key_path: the key in " + key_path +
                                            " is named \"" + key.name() +
                                            "\" but tlog.origin is \"" + std::string(origin) +
                                            "\"; the log key's name must equal the origin");
  }
  return std::make_unique<LogSigner>(std::move(key));
}

std::shared_ptr<const std::string> LogSigner::SignedCheckpoint(
    std::uint64_t size, const crypto::Sha256Digest& root) const {
  auto matches = [&](const std::shared_ptr<const Entry>& e) {
    return e != nullptr && e->size == size && e->root == root;
  };
  std::shared_ptr<const Entry> entry = latest_.load(std::memory_order_acquire);
  if (matches(entry)) return entry->note;
  std::lock_guard lock(sign_mu_);
  entry = latest_.load(std::memory_order_acquire);
  if (matches(entry)) return entry->note;  // another request signed it meanwhile
  util::Result<std::string> note = SignCheckpoint(key_.name(), size, root, key_);
  REGISTRY_CHECK(note.ok(), "LogSigner: signing a checkpoint failed");
  signatures_.fetch_add(1, std::memory_order_relaxed);
  auto fresh = std::make_shared<Entry>();
  fresh->size = size;
  fresh->root = root;
  fresh->note = std::make_shared<const std::string>(std::move(note).value());
  // Keep the newest size cached: a request holding an older HEAD must not evict it.
  if (entry == nullptr || size >= entry->size) {
    latest_.store(fresh, std::memory_order_release);
  }
  return fresh->note;
}

}  // namespace registry::tlog
