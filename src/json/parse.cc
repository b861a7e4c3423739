#include "registry/json/parse.h"

#include <optional>
#include <utility>

#include "parse_internal.h"

namespace registry::json {

std::string_view ParseErrorKindName(ParseErrorKind kind) {
  switch (kind) {
    case ParseErrorKind::kSyntax:
      return "syntax error";
    case ParseErrorKind::kInvalidUtf8:
      return "invalid UTF-8";
    case ParseErrorKind::kLoneSurrogate:
      return "lone surrogate";
    case ParseErrorKind::kDuplicateMember:
      return "duplicate member name";
    case ParseErrorKind::kNumberOutOfRange:
      return "number out of range";
    case ParseErrorKind::kTooDeep:
      return "nesting too deep";
    case ParseErrorKind::kTrailingGarbage:
      return "trailing bytes";
    case ParseErrorKind::kEmpty:
      return "empty input";
  }
  return "unknown error";
}

ParseOutcome ParseDetailed(std::string_view bytes) {
  if (std::optional<Value> value = internal::FastParse(bytes)) {
    return ParseOutcome{util::Result<Value>(std::move(*value))};
  }
  // Every rejection, and the rare valid input simdjson cannot represent, is decided by the
  // strict parser, so kinds and messages never depend on which path saw the input first.
  return internal::StrictParse(bytes);
}

util::Result<Value> Parse(std::string_view bytes) { return ParseDetailed(bytes).result; }

}  // namespace registry::json
