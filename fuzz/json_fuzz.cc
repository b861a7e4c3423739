// libFuzzer target for json::Parse (untrusted bytes) and the JCS serializer.
//
// Properties checked on every input (a violation aborts, which libFuzzer reports):
//  1. Parsing never crashes, leaks or reads out of bounds (run it under ASan/UBSan).
//  2. The simdjson fast path accepts only what the strict reference parser accepts, with
//     the identical value (numbers bit for bit); Parse accepts exactly what the strict
//     parser accepts and reports the same error kind and message.
//  3. For accepted input: canonicalize -> parse -> canonicalize is byte-identical
//     (idempotence), and the re-parsed value equals the first one (up to member order,
//     which canonicalization sorts; -0 compares equal to 0).
//
// Not wired into CMake yet. Build and run from the repository root:
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Isrc/json \
//     fuzz/json_fuzz.cc src/json/*.cc src/util/check.cc src/util/error.cc -lsimdjson \
//     -o /tmp/json_fuzz
//   /tmp/json_fuzz -max_len=4096 -max_total_time=300 -dict=fuzz/json.dict /tmp/json_corpus
// (json.dict is optional: AFL's json.dict, or the tokens { } [ ] , : " \u true null -0 e.)
#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "parse_internal.h"
#include "registry/json/canonical.h"
#include "registry/json/parse.h"
#include "registry/json/value.h"

namespace {

using registry::json::Array;
using registry::json::Member;
using registry::json::Object;
using registry::json::Type;
using registry::json::Value;

#define FUZZ_CHECK(cond, what)                                          \
  do {                                                                  \
    if (!(cond)) {                                                      \
      std::fprintf(stderr, "json_fuzz: property violated: %s\n", what); \
      std::abort();                                                     \
    }                                                                   \
  } while (false)

bool Identical(const Value& a, const Value& b) {
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case Type::kNull:
      return true;
    case Type::kBool:
      return a.as_bool() == b.as_bool();
    case Type::kNumber:
      return std::bit_cast<std::uint64_t>(a.as_number()) ==
             std::bit_cast<std::uint64_t>(b.as_number());
    case Type::kString:
      return a.as_string() == b.as_string();
    case Type::kArray:
      return std::equal(a.as_array().begin(), a.as_array().end(), b.as_array().begin(),
                        b.as_array().end(), Identical);
    case Type::kObject:
      return std::equal(a.as_object().begin(), a.as_object().end(), b.as_object().begin(),
                        b.as_object().end(), [](const Member& x, const Member& y) {
                          return x.first == y.first && Identical(x.second, y.second);
                        });
  }
  return false;
}

// `v` with every object's members in JCS order: what parsing the canonical form yields.
Value SortedCopy(const Value& v) {
  if (v.is_array()) {
    Array elements;
    for (const Value& e : v.as_array()) elements.push_back(SortedCopy(e));
    return Value(std::move(elements));
  }
  if (v.is_object()) {
    Object members;
    for (const Member& m : v.as_object()) members.emplace_back(m.first, SortedCopy(m.second));
    std::sort(members.begin(), members.end(), [](const Member& a, const Member& b) {
      return registry::json::Utf16Less(a.first, b.first);
    });
    return Value(std::move(members));
  }
  return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace json = registry::json;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);

  const json::ParseOutcome outcome = json::ParseDetailed(bytes);
  const std::optional<Value> fast = json::internal::FastParse(bytes);
  const json::ParseOutcome strict = json::internal::StrictParse(bytes);

  FUZZ_CHECK(outcome.result.ok() == strict.result.ok(), "Parse and StrictParse disagree");
  if (fast.has_value()) {
    FUZZ_CHECK(strict.result.ok(), "simdjson accepted input the strict parser rejects");
    FUZZ_CHECK(Identical(*fast, strict.result.value()), "fast and strict values differ");
  }
  if (!outcome.result.ok()) {
    FUZZ_CHECK(outcome.error_kind == strict.error_kind, "error kinds differ");
    FUZZ_CHECK(outcome.result.error().message() == strict.result.error().message(),
               "error messages differ");
    FUZZ_CHECK(outcome.result.error().message().rfind(
                   std::string(json::ParseErrorKindName(outcome.error_kind)), 0) == 0,
               "message does not start with the kind name");
    return 0;
  }

  const Value& value = outcome.result.value();
  const std::string canonical = json::Canonicalize(value);
  const auto reparsed = json::Parse(canonical);
  FUZZ_CHECK(reparsed.ok(), "canonical form does not parse");
  FUZZ_CHECK(json::Canonicalize(reparsed.value()) == canonical, "canonical form not idempotent");
  FUZZ_CHECK(reparsed.value() == SortedCopy(value), "re-parsed value differs");
  return 0;
}
