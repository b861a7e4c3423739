#include "registry/json/canonical.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <vector>

#include "registry/json/number_format.h"
#include "registry/util/check.h"

namespace registry::json {
namespace {

// 0: the byte is copied as is. Otherwise the byte needs an escape: the short form given
// here, or 'u' for \u00xx. Everything >= 0x20 except '"' and '\' is literal, including
// U+007F and all non-ASCII UTF-8 (JCS, RFC 8785 3.2.2.2).
constexpr std::array<char, 256> MakeEscapeTable() {
  std::array<char, 256> table{};
  for (int c = 0; c < 0x20; ++c) table[c] = 'u';
  table['\b'] = 'b';
  table['\t'] = 't';
  table['\n'] = 'n';
  table['\f'] = 'f';
  table['\r'] = 'r';
  table['"'] = '"';
  table['\\'] = '\\';
  return table;
}
constexpr std::array<char, 256> kEscape = MakeEscapeTable();

class CanonicalWriter {
 public:
  explicit CanonicalWriter(std::string& out) : out_(out) {}

  void Write(const Value& value) {
    switch (value.type()) {
      case Type::kNull:
        out_.append("null");
        return;
      case Type::kBool:
        out_.append(value.as_bool() ? "true" : "false");
        return;
      case Type::kNumber:
        AppendEs6Number(value.as_number(), out_);
        return;
      case Type::kString:
        AppendCanonicalString(value.as_string(), out_);
        return;
      case Type::kArray:
        WriteArray(value.as_array());
        return;
      case Type::kObject:
        WriteObject(value.as_object());
        return;
    }
  }

 private:
  void WriteArray(const Array& array) {
    out_.push_back('[');
    bool first = true;
    for (const Value& element : array) {
      if (!first) out_.push_back(',');
      first = false;
      Write(element);
    }
    out_.push_back(']');
  }

  void WriteObject(const Object& object) {
    // The members' order lives in one scratch vector shared by the whole traversal: this
    // object's slice is [base, base + n); nested objects push theirs after it and pop them
    // before we continue, so there is no allocation per object once the vector has grown.
    // Indices, not iterators: a nested push may reallocate.
    const std::size_t base = order_.size();
    const std::size_t n = object.size();
    bool sorted = true;
    for (std::size_t i = 0; i < n; ++i) {
      order_.push_back(&object[i]);
      if (i > 0 && sorted && !Utf16Less(object[i - 1].first, object[i].first)) sorted = false;
    }
    if (!sorted) {
      std::sort(order_.begin() + static_cast<std::ptrdiff_t>(base), order_.end(),
                [](const Member* a, const Member* b) { return Utf16Less(a->first, b->first); });
    }
    out_.push_back('{');
    for (std::size_t i = 0; i < n; ++i) {
      const Member* member = order_[base + i];
      if (i > 0) out_.push_back(',');
      AppendCanonicalString(member->first, out_);
      out_.push_back(':');
      Write(member->second);
    }
    out_.push_back('}');
    order_.resize(base);
  }

  std::string& out_;
  std::vector<const Member*> order_;
};

}  // namespace

bool Utf16Less(std::string_view a, std::string_view b) {
  const std::size_t n = std::min(a.size(), b.size());
  std::size_t i = 0;
  // Find the first differing byte, eight at a time.
  while (i + 8 <= n) {
    std::uint64_t x;
    std::uint64_t y;
    std::memcpy(&x, a.data() + i, 8);
    std::memcpy(&y, b.data() + i, 8);
    if (x != y) break;
    i += 8;
  }
  while (i < n && a[i] == b[i]) ++i;
  if (i == n) return a.size() < b.size();
  const auto x = static_cast<unsigned char>(a[i]);
  const auto y = static_cast<unsigned char>(b[i]);
  // UTF-8 byte order is code point order, and code point order is UTF-16 order except
  // between a supplementary character (lead byte F0-F4, a surrogate pair in UTF-16, units
  // D800-DBFF first) and one in U+E000-U+FFFF (lead byte EE or EF): there UTF-16 puts the
  // supplementary character first. The common prefix ends on the same character boundary
  // in both strings, so x and y are either both lead bytes or both continuation bytes of
  // characters with the same lead byte (below 0xEE, where byte order is right).
  if (x >= 0xEE && y >= 0xEE) {
    const bool x_supplementary = x >= 0xF0;
    const bool y_supplementary = y >= 0xF0;
    if (x_supplementary != y_supplementary) return x_supplementary;
  }
  return x < y;
}

void AppendCanonicalString(std::string_view s, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.reserve(out.size() + s.size() + 2);
  out.push_back('"');
  const char* run = s.data();
  const char* const end = s.data() + s.size();
  for (const char* p = run; p < end; ++p) {
    const char escape = kEscape[static_cast<unsigned char>(*p)];
    if (escape == 0) [[likely]] {
      continue;
    }
    // Flush the run of literal bytes before this one in one append.
    out.append(run, p);
    run = p + 1;
    if (escape == 'u') {
      const auto c = static_cast<unsigned char>(*p);
      const char u[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
      out.append(u, sizeof(u));
    } else {
      const char e[2] = {'\\', escape};
      out.append(e, sizeof(e));
    }
  }
  out.append(run, end);
  out.push_back('"');
}

void AppendCanonical(const Value& value, std::string& out) {
  CanonicalWriter writer(out);
  writer.Write(value);
}

std::string Canonicalize(const Value& value) {
  std::string out;
  AppendCanonical(value, out);
  return out;
}

}  // namespace registry::json
