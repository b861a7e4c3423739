#include "sqlite_item_list.h"

#include "sqlite_blob_codec.h"
#include "sqlite_varint.h"

namespace registry::storage::internal {
namespace {

using util::Error;
using util::ErrorCode;

// No list is longer than this (payloads hold at most a few hundred thousand items); a
// larger count is corruption, and must not drive an allocation.
constexpr std::uint64_t kMaxListSize = std::uint64_t{1} << 26;

Error Corrupt(const std::string& why) {
  return Error(ErrorCode::kInternal, "stored item list is corrupt: " + why);
}

void PutInserts(const IdList& ids, std::size_t begin, std::size_t end, DescriptorId& last,
                std::string& out) {
  if (begin == end) return;
  PutVarint((static_cast<std::uint64_t>(end - begin) << 1) | 1, out);
  for (std::size_t k = begin; k < end; ++k) {
    PutVarint(ZigZag(ids[k] - last), out);
    last = ids[k];
  }
}

}  // namespace

PositionIndex IndexPositions(const IdList& list) {
  PositionIndex index;
  index.reserve(list.size());
  for (std::size_t k = 0; k < list.size(); ++k) {
    index.emplace(list[k], static_cast<std::uint32_t>(k));
  }
  return index;
}

std::string EncodeFullList(const IdList& ids) {
  std::string raw;
  raw.reserve(ids.size() * 2 + 8);
  PutVarint(ids.size(), raw);
  DescriptorId last = 0;
  for (DescriptorId id : ids) {
    PutVarint(ZigZag(id - last), raw);
    last = id;
  }
  std::string out(1, static_cast<char>(ListKind::kFull));
  out += EncodeBlob(raw);
  return out;
}

std::string EncodeDeltaList(const IdList& base, const PositionIndex& base_positions,
                            const IdList& ids) {
  std::string out(1, static_cast<char>(ListKind::kDelta));
  PutVarint(base.size(), out);
  PutVarint(ids.size(), out);
  std::size_t expected = 0;       // base position right after the last copy
  std::size_t literal_begin = 0;  // first id not yet emitted
  DescriptorId last_inserted = 0;
  std::size_t i = 0;
  while (i < ids.size()) {
    std::size_t p;
    if (expected < base.size() && base[expected] == ids[i]) {
      p = expected;  // the common case: the lists run in step
    } else {
      auto it = base_positions.find(ids[i]);
      if (it == base_positions.end()) {
        ++i;  // a new id: part of the next insert op
        continue;
      }
      p = it->second;
    }
    std::size_t run = 1;
    while (i + run < ids.size() && p + run < base.size() && base[p + run] == ids[i + run]) {
      ++run;
    }
    PutInserts(ids, literal_begin, i, last_inserted, out);
    PutVarint(static_cast<std::uint64_t>(run) << 1, out);
    PutVarint(ZigZag(static_cast<std::int64_t>(p) - static_cast<std::int64_t>(expected)), out);
    expected = p + run;
    i += run;
    literal_begin = i;
  }
  PutInserts(ids, literal_begin, ids.size(), last_inserted, out);
  return out;
}

util::Result<ListKind> EncodedListKind(std::string_view encoded) {
  if (encoded.empty()) return Corrupt("empty");
  const auto kind = static_cast<ListKind>(encoded[0]);
  if (kind != ListKind::kFull && kind != ListKind::kDelta) return Corrupt("unknown kind");
  return kind;
}

util::Result<IdList> DecodeList(std::string_view encoded, const IdList* base) {
  REGISTRY_ASSIGN_OR_RETURN(ListKind kind, EncodedListKind(encoded));
  if (kind == ListKind::kFull) {
    REGISTRY_ASSIGN_OR_RETURN(std::string raw, DecodeBlob(encoded.substr(1)));
    std::size_t pos = 0;
    std::optional<std::uint64_t> count = GetVarint(raw, pos);
    if (!count.has_value() || *count > kMaxListSize || *count > raw.size()) {
      return Corrupt("bad count");
    }
    IdList ids;
    ids.reserve(static_cast<std::size_t>(*count));
    DescriptorId last = 0;
    for (std::uint64_t k = 0; k < *count; ++k) {
      std::optional<std::uint64_t> d = GetVarint(raw, pos);
      if (!d.has_value()) return Corrupt("truncated");
      last += UnZigZag(*d);
      ids.push_back(last);
    }
    if (pos != raw.size()) return Corrupt("trailing bytes");
    return ids;
  }

  if (base == nullptr) return Corrupt("a delta list needs its base");
  std::size_t pos = 1;
  std::optional<std::uint64_t> base_count = GetVarint(encoded, pos);
  std::optional<std::uint64_t> count = GetVarint(encoded, pos);
  if (!base_count.has_value() || *base_count != base->size()) return Corrupt("base mismatch");
  if (!count.has_value() || *count > kMaxListSize) return Corrupt("bad count");
  IdList ids;
  ids.reserve(static_cast<std::size_t>(*count));
  std::int64_t expected = 0;
  DescriptorId last_inserted = 0;
  while (pos < encoded.size()) {
    std::optional<std::uint64_t> header = GetVarint(encoded, pos);
    if (!header.has_value()) return Corrupt("truncated op");
    const std::uint64_t n = *header >> 1;
    if (n == 0 || n > *count - ids.size()) return Corrupt("op length");
    if ((*header & 1) != 0) {
      for (std::uint64_t k = 0; k < n; ++k) {
        std::optional<std::uint64_t> d = GetVarint(encoded, pos);
        if (!d.has_value()) return Corrupt("truncated insert");
        last_inserted += UnZigZag(*d);
        ids.push_back(last_inserted);
      }
    } else {
      std::optional<std::uint64_t> offset = GetVarint(encoded, pos);
      if (!offset.has_value()) return Corrupt("truncated copy");
      const std::int64_t p = expected + UnZigZag(*offset);
      if (p < 0 || static_cast<std::uint64_t>(p) > base->size() ||
          n > base->size() - static_cast<std::uint64_t>(p)) {
        return Corrupt("copy outside the base");
      }
      ids.insert(ids.end(), base->begin() + p, base->begin() + p + static_cast<std::int64_t>(n));
      expected = p + static_cast<std::int64_t>(n);
    }
  }
  if (ids.size() != *count) return Corrupt("count mismatch");
  return ids;
}

util::Status AppendIntroducedIds(std::string_view encoded, IdList& out) {
  REGISTRY_ASSIGN_OR_RETURN(ListKind kind, EncodedListKind(encoded));
  if (kind == ListKind::kFull) {
    REGISTRY_ASSIGN_OR_RETURN(IdList ids, DecodeList(encoded, nullptr));
    out.insert(out.end(), ids.begin(), ids.end());
    return util::Status::Ok();
  }
  std::size_t pos = 1;
  std::optional<std::uint64_t> base_count = GetVarint(encoded, pos);
  std::optional<std::uint64_t> count = GetVarint(encoded, pos);
  if (!base_count.has_value() || !count.has_value() || *count > kMaxListSize) {
    return Corrupt("bad count");
  }
  std::uint64_t seen = 0;
  DescriptorId last_inserted = 0;
  while (pos < encoded.size()) {
    std::optional<std::uint64_t> header = GetVarint(encoded, pos);
    if (!header.has_value()) return Corrupt("truncated op");
    const std::uint64_t n = *header >> 1;
    if (n == 0 || n > *count - seen) return Corrupt("op length");
    seen += n;
    if ((*header & 1) != 0) {
      for (std::uint64_t k = 0; k < n; ++k) {
        std::optional<std::uint64_t> d = GetVarint(encoded, pos);
        if (!d.has_value()) return Corrupt("truncated insert");
        last_inserted += UnZigZag(*d);
        out.push_back(last_inserted);
      }
    } else if (!GetVarint(encoded, pos).has_value()) {
      return Corrupt("truncated copy");
    }
  }
  if (seen != *count) return Corrupt("count mismatch");
  return util::Status::Ok();
}

}  // namespace registry::storage::internal
