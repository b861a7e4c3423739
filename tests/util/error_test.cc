#include "registry/util/error.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <string_view>

namespace registry::util {
namespace {

struct Row {
  ErrorCode code;
  std::string_view name;
  int status;
};

// SPEC §2.3, verbatim.
constexpr Row kTable[] = {
    {ErrorCode::kMalformed, "Malformed", 400},
    {ErrorCode::kUnauthorized, "Unauthorized", 401},
    {ErrorCode::kForbidden, "Forbidden", 403},
    {ErrorCode::kUnknownSigner, "UnknownSigner", 403},
    {ErrorCode::kNotFound, "NotFound", 404},
    {ErrorCode::kMethodNotAllowed, "MethodNotAllowed", 405},
    {ErrorCode::kChainMismatch, "ChainMismatch", 409},
    {ErrorCode::kDuplicateApproval, "DuplicateApproval", 409},
    {ErrorCode::kProposalExpired, "ProposalExpired", 410},
    {ErrorCode::kPruned, "Pruned", 410},
    {ErrorCode::kPayloadTooLarge, "PayloadTooLarge", 413},
    {ErrorCode::kUnsupportedMediaType, "UnsupportedMediaType", 415},
    {ErrorCode::kInvalidSig, "InvalidSig", 422},
    {ErrorCode::kQuorumFailed, "QuorumFailed", 422},
    {ErrorCode::kBusy, "Busy", 429},
    {ErrorCode::kNotReady, "NotReady", 503},
    {ErrorCode::kFrozen, "Frozen", 503},
    {ErrorCode::kInternal, "Internal", 500},
};

TEST(ErrorCodeTest, NamesAndStatusesMatchSpecTable) {
  for (const Row& row : kTable) {
    SCOPED_TRACE(row.name);
    EXPECT_EQ(ErrorCodeName(row.code), row.name);
    EXPECT_EQ(HttpStatus(row.code), row.status);
  }
}

TEST(ErrorCodeTest, TableCoversEveryEnumeratorOnce) {
  // The enum is dense from kMalformed to kInternal; the table must list each value once.
  std::set<int> seen;
  for (const Row& row : kTable) seen.insert(static_cast<int>(row.code));
  EXPECT_EQ(seen.size(), std::size(kTable));
  EXPECT_EQ(*seen.begin(), 0);
  EXPECT_EQ(*seen.rbegin(), static_cast<int>(ErrorCode::kInternal));
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(ErrorCode::kInternal) + 1);
}

TEST(ErrorCodeTest, OnlyInternalIsA5xxBelow503) {
  for (const Row& row : kTable) {
    const int status = HttpStatus(row.code);
    if (row.code == ErrorCode::kInternal) {
      EXPECT_EQ(status, 500);
    } else {
      EXPECT_TRUE(status < 500 || status == 503) << row.name;
    }
  }
}

TEST(ErrorTest, CarriesCodeAndMessage) {
  const Error e(ErrorCode::kChainMismatch, "prev_hash does not match HEAD");
  EXPECT_EQ(e.code(), ErrorCode::kChainMismatch);
  EXPECT_EQ(e.message(), "prev_hash does not match HEAD");
  EXPECT_EQ(e.ToString(), "ChainMismatch: prev_hash does not match HEAD");
}

TEST(ErrorTest, ToStringWithEmptyMessage) {
  EXPECT_EQ(Error(ErrorCode::kBusy, "").ToString(), "Busy: ");
}

}  // namespace
}  // namespace registry::util
