// libFuzzer target: the small parsers of src/api that read request headers and query
// strings, against independent reference checks:
//   - internal::ParseVersion, which reads the SSE resume point (Last-Event-ID and ?since=,
//     SPEC §3) and every {version}: accepts exactly the decimals without sign or leading
//     zeros below 2^53, and its value prints back as the input;
//   - internal::QueryParam: the value it returns is part of the query and follows
//     "<name>=" there (or is empty for a bare "<name>");
//   - internal::ParseProofQuery (src/api/tlog_routes.cc, ?version=&tree_size= and
//     ?from=&to=): an accepted query satisfies 1 <= first <= second <= HEAD and names
//     numbers that ParseVersion accepts; a rejection is kMalformed naming the parameter;
//   - internal::IfNoneMatchHits and AcceptsGzip: no crash, and their defining cases hold.
//
// Input layout (FuzzedDataProvider): HEAD (8 bytes), an ETag, then the text under test.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "registry/util/error.h"
#include "service_impl.h"
#include "tlog_routes.h"

namespace {

namespace internal = registry::api::internal;
using Kind = internal::ProofQuery::Kind;

#define FUZZ_CHECK(cond, what)                                                \
  do {                                                                        \
    if (!(cond)) {                                                            \
      std::fprintf(stderr, "api_params_fuzz: property violated: %s\n", what); \
      std::abort();                                                           \
    }                                                                         \
  } while (false)

constexpr std::uint64_t kMaxVersion = (std::uint64_t{1} << 53) - 1;

// The SPEC's version grammar, written independently of ParseVersion.
std::optional<std::uint64_t> ReferenceVersion(std::string_view text) {
  if (text.empty() || (text.size() > 1 && text[0] == '0')) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    if (v > (kMaxVersion - static_cast<std::uint64_t>(c - '0')) / 10) return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return v;
}

void CheckVersion(std::string_view text) {
  const std::optional<std::uint64_t> got = internal::ParseVersion(text);
  const std::optional<std::uint64_t> want = ReferenceVersion(text);
  FUZZ_CHECK(got == want, "ParseVersion disagrees with the version grammar");
  if (got.has_value()) {
    FUZZ_CHECK(std::to_string(*got) == text, "ParseVersion value does not print back");
  }
}

void CheckQueryParam(std::string_view query, std::string_view name) {
  const std::optional<std::string_view> value = internal::QueryParam(query, name);
  if (!value.has_value()) return;
  if (value->empty()) return;  // "name" or "name=" : nothing to locate
  FUZZ_CHECK(
      value->data() >= query.data() && value->data() + value->size() <= query.data() + query.size(),
      "QueryParam value is not part of the query");
  const std::size_t at = static_cast<std::size_t>(value->data() - query.data());
  FUZZ_CHECK(at >= name.size() + 1 && query[at - 1] == '=' &&
                 query.substr(at - 1 - name.size(), name.size()) == name,
             "QueryParam value does not follow name=");
  FUZZ_CHECK(value->find('&') == std::string_view::npos, "QueryParam value spans a '&'");
}

void CheckProofQuery(Kind kind, std::string_view query, std::uint64_t head) {
  auto q = internal::ParseProofQuery(kind, query, head);
  const std::string_view first_name = kind == Kind::kInclusion ? "version" : "from";
  const std::string_view second_name = kind == Kind::kInclusion ? "tree_size" : "to";
  if (!q.ok()) {
    FUZZ_CHECK(q.error().code() == registry::util::ErrorCode::kMalformed,
               "ParseProofQuery error is not kMalformed");
    const std::string& m = q.error().message();
    FUZZ_CHECK(
        m.rfind(std::string(first_name), 0) == 0 || m.rfind(std::string(second_name), 0) == 0,
        "ParseProofQuery error does not name the parameter");
    return;
  }
  FUZZ_CHECK(q->kind == kind, "ParseProofQuery changed the kind");
  FUZZ_CHECK(1 <= q->first && q->first <= q->second && q->second <= head,
             "ParseProofQuery accepted a query outside 1 <= first <= second <= HEAD");
  const auto first = internal::QueryParam(query, first_name);
  const auto second = internal::QueryParam(query, second_name);
  FUZZ_CHECK(first.has_value() && second.has_value(), "ParseProofQuery accepted a missing name");
  FUZZ_CHECK(ReferenceVersion(*first) == q->first && ReferenceVersion(*second) == q->second,
             "ParseProofQuery numbers differ from the query's");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  // HEAD: mostly small (a real log), sometimes anything up to 2^64-1.
  std::uint64_t head = in.ConsumeIntegral<std::uint64_t>();
  if (in.ConsumeBool()) head %= 1000;
  const std::string etag = in.ConsumeRandomLengthString(80);
  const std::string text = in.ConsumeRemainingBytesAsString();

  CheckVersion(text);
  for (std::string_view name :
       {"since", "version", "tree_size", "from", "to", "after", "limit", "status", "cursor", ""}) {
    CheckQueryParam(text, name);
  }
  // ?since= as the stream handler reads it.
  if (auto since = internal::QueryParam(text, "since")) CheckVersion(*since);
  CheckProofQuery(Kind::kInclusion, text, head);
  CheckProofQuery(Kind::kConsistency, text, head);

  // An entity tag as the service makes them (quoted, no comma or blank) hits itself.
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"' &&
      etag.find_first_of(", \t") == std::string::npos) {
    FUZZ_CHECK(internal::IfNoneMatchHits(etag, etag), "If-None-Match does not hit its ETag");
    FUZZ_CHECK(internal::IfNoneMatchHits("W/" + etag, etag), "weak If-None-Match does not hit");
  }
  FUZZ_CHECK(internal::IfNoneMatchHits("*", etag), "If-None-Match: * does not hit");
  (void)internal::IfNoneMatchHits(text, etag);
  (void)internal::AcceptsGzip(text);
  FUZZ_CHECK(internal::AcceptsGzip("gzip"), "Accept-Encoding: gzip refused");
  return 0;
}
