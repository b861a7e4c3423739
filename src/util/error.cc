#include "registry/util/error.h"

#include <string>
#include <string_view>

namespace registry::util {

std::string_view ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kMalformed:
      return "Malformed";
    case ErrorCode::kUnauthorized:
      return "Unauthorized";
    case ErrorCode::kForbidden:
      return "Forbidden";
    case ErrorCode::kUnknownSigner:
      return "UnknownSigner";
    case ErrorCode::kNotFound:
      return "NotFound";
    case ErrorCode::kMethodNotAllowed:
      return "MethodNotAllowed";
    case ErrorCode::kChainMismatch:
      return "ChainMismatch";
    case ErrorCode::kDuplicateApproval:
      return "DuplicateApproval";
    case ErrorCode::kProposalExpired:
      return "ProposalExpired";
    case ErrorCode::kPruned:
      return "Pruned";
    case ErrorCode::kPayloadTooLarge:
      return "PayloadTooLarge";
    case ErrorCode::kUnsupportedMediaType:
      return "UnsupportedMediaType";
    case ErrorCode::kInvalidSig:
      return "InvalidSig";
    case ErrorCode::kQuorumFailed:
      return "QuorumFailed";
    case ErrorCode::kBusy:
      return "Busy";
    case ErrorCode::kNotReady:
      return "NotReady";
    case ErrorCode::kFrozen:
      return "Frozen";
    case ErrorCode::kInternal:
      return "Internal";
  }
  // Only reachable through a value cast into the enum from outside its range: -Wswitch keeps
  // the list above complete, and such a value is an internal fault.
  return "Internal";
}

int HttpStatus(ErrorCode code) {
  switch (code) {
    case ErrorCode::kMalformed:
      return 400;
    case ErrorCode::kUnauthorized:
      return 401;
    case ErrorCode::kForbidden:
    case ErrorCode::kUnknownSigner:
      return 403;
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kMethodNotAllowed:
      return 405;
    case ErrorCode::kChainMismatch:
    case ErrorCode::kDuplicateApproval:
      return 409;
    case ErrorCode::kProposalExpired:
    case ErrorCode::kPruned:
      return 410;
    case ErrorCode::kPayloadTooLarge:
      return 413;
    case ErrorCode::kUnsupportedMediaType:
      return 415;
    case ErrorCode::kInvalidSig:
    case ErrorCode::kQuorumFailed:
      return 422;
    case ErrorCode::kBusy:
      return 429;
    case ErrorCode::kNotReady:
    case ErrorCode::kFrozen:
      return 503;
    case ErrorCode::kInternal:
      return 500;
  }
  return 500;
}

std::string Error::ToString() const {
  std::string out(ErrorCodeName(code_));
  out += ": ";
  out += message_;
  return out;
}

}  // namespace registry::util
