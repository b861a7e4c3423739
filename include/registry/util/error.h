// Error codes and the Error value carried by every fallible call in the registry.
//
// The enum is closed and maps 1:1 to the API's error table (SPEC §2.3): a module that fails
// picks the code the API will answer with, and a message that names the offending field.
// kInternal is the only code that maps to a 5xx; it means a genuine internal fault.
//
// Error is a plain value type; it is cheap to move and safe to share between threads once
// constructed.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace registry::util {

enum class ErrorCode : std::uint8_t {
  kMalformed,             // 400
  kUnauthorized,          // 401
  kForbidden,             // 403
  kUnknownSigner,         // 403
  kNotFound,              // 404
  kMethodNotAllowed,      // 405
  kChainMismatch,         // 409
  kDuplicateApproval,     // 409
  kProposalExpired,       // 410
  kPruned,                // 410
  kPayloadTooLarge,       // 413
  kUnsupportedMediaType,  // 415
  kInvalidSig,            // 422
  kQuorumFailed,          // 422
  kBusy,                  // 429
  kNotReady,              // 503
  kFrozen,                // 503
  kInternal,              // 500: a bug or a genuine internal fault (storage I/O)
};

// The API code string, e.g. "ChainMismatch".
std::string_view ErrorCodeName(ErrorCode code);

// The HTTP status the API answers with for `code`.
int HttpStatus(ErrorCode code);

class [[nodiscard]] Error {
 public:
  Error(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // Optional numeric details, rendered by the API as the error's `details` object
  // (e.g. QuorumFailed: current_have, current_need, next_have, next_need).
  using Details = std::vector<std::pair<std::string, std::int64_t>>;
  const Details& details() const { return details_; }
  void AddDetail(std::string key, std::int64_t value) {
    details_.emplace_back(std::move(key), value);
  }

  // "Code: message", for logs and CLI output.
  std::string ToString() const;

 private:
  ErrorCode code_;
  std::string message_;
  Details details_;
};

}  // namespace registry::util
