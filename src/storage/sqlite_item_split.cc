#include "sqlite_item_split.h"

#include <cstring>

namespace registry::storage::internal {
namespace {

constexpr std::size_t kNpos = std::string_view::npos;

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::size_t SkipSpace(std::string_view d, std::size_t i) {
  while (i < d.size() && IsSpace(d[i])) ++i;
  return i;
}

// `i` is at an opening '"'. Returns the index just past the closing quote, or kNpos. A
// quote closes the string when an even number of backslashes precede it (escapes come in
// pairs "\\" or as "\x..."), which lets memchr jump over the string's content.
std::size_t SkipString(std::string_view d, std::size_t i) {
  const std::size_t start = i + 1;
  std::size_t from = start;
  while (from < d.size()) {
    const void* hit = std::memchr(d.data() + from, '"', d.size() - from);
    if (hit == nullptr) return kNpos;
    const std::size_t q = static_cast<std::size_t>(static_cast<const char*>(hit) - d.data());
    std::size_t backslashes = 0;
    while (q - backslashes > start && d[q - backslashes - 1] == '\\') ++backslashes;
    if (backslashes % 2 == 0) return q + 1;
    from = q + 1;
  }
  return kNpos;
}

// `i` is at the first byte of a value (no leading space). Returns the index just past it.
std::size_t SkipValue(std::string_view d, std::size_t i) {
  if (i >= d.size()) return kNpos;
  const char c = d[i];
  if (c == '"') return SkipString(d, i);
  if (c == '{' || c == '[') {
    std::size_t depth = 0;
    while (i < d.size()) {
      const char x = d[i];
      if (x == '"') {
        i = SkipString(d, i);
        if (i == kNpos) return kNpos;
        continue;
      }
      if (x == '{' || x == '[') {
        ++depth;
      } else if (x == '}' || x == ']') {
        if (--depth == 0) return i + 1;
      }
      ++i;
    }
    return kNpos;
  }
  // A scalar: runs to the next structural character or space.
  const std::size_t begin = i;
  while (i < d.size() && d[i] != ',' && d[i] != ']' && d[i] != '}' && !IsSpace(d[i])) ++i;
  return i == begin ? kNpos : i;
}

// `i` is at an object's '{'. Returns the index of the first byte of member `name`'s value,
// or kNpos. Names are compared as raw bytes (canonical JSON writes them unescaped).
std::size_t FindMember(std::string_view d, std::size_t i, std::string_view name) {
  ++i;  // past '{'
  for (;;) {
    i = SkipSpace(d, i);
    if (i >= d.size() || d[i] != '"') return kNpos;
    const std::size_t name_end = SkipString(d, i);
    if (name_end == kNpos) return kNpos;
    const std::string_view member = d.substr(i + 1, name_end - i - 2);
    i = SkipSpace(d, name_end);
    if (i >= d.size() || d[i] != ':') return kNpos;
    i = SkipSpace(d, i + 1);
    if (member == name) return i;
    i = SkipValue(d, i);
    if (i == kNpos) return kNpos;
    i = SkipSpace(d, i);
    if (i >= d.size() || d[i] != ',') return kNpos;
    ++i;
  }
}

}  // namespace

std::optional<ItemSplit> SplitItems(std::string_view doc,
                                    std::initializer_list<std::string_view> path) {
  std::size_t i = SkipSpace(doc, 0);
  for (std::string_view name : path) {
    if (i >= doc.size() || doc[i] != '{') return std::nullopt;
    i = FindMember(doc, i, name);
    if (i == kNpos) return std::nullopt;
  }
  if (i >= doc.size() || doc[i] != '[') return std::nullopt;

  ItemSplit split;
  split.prefix = doc.substr(0, i + 1);
  std::size_t pos = i + 1;
  if (pos < doc.size() && doc[pos] == ']') {
    split.suffix = doc.substr(pos);
    return split;
  }
  for (;;) {
    const std::size_t begin = pos;
    std::size_t end = SkipValue(doc, SkipSpace(doc, pos));
    if (end == kNpos) return std::nullopt;
    end = SkipSpace(doc, end);
    if (end >= doc.size()) return std::nullopt;
    split.items.push_back(doc.substr(begin, end - begin));
    if (doc[end] == ']') {
      split.suffix = doc.substr(end);
      break;
    }
    if (doc[end] != ',') return std::nullopt;
    pos = end + 1;
  }

  // The elements tile the interior with single commas, so JoinItems(split) == doc.
  const char* expect = split.prefix.data() + split.prefix.size();
  for (std::string_view item : split.items) {
    if (item.data() != expect || item.empty()) return std::nullopt;
    expect = item.data() + item.size();
    if (expect != split.suffix.data() && *expect != ',') return std::nullopt;
    if (expect != split.suffix.data()) ++expect;
  }
  if (expect != split.suffix.data()) return std::nullopt;
  return split;
}

std::string JoinItems(const ItemSplit& split) {
  std::size_t size = split.prefix.size() + split.suffix.size();
  for (std::string_view item : split.items) size += item.size() + 1;
  std::string out;
  out.reserve(size);
  out.append(split.prefix);
  for (std::size_t k = 0; k < split.items.size(); ++k) {
    if (k > 0) out.push_back(',');
    out.append(split.items[k]);
  }
  out.append(split.suffix);
  return out;
}

}  // namespace registry::storage::internal
