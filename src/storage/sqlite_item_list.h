// Item lists: the descriptor references of one version (or proposal), in item order, as
// stored by the SQLite backend.
//
// Two encodings, told apart by their first byte:
//   kFull:  a keyframe. The blob codec (zlib) over varint(count) ‖ zigzag varint deltas of
//           consecutive ids; ids assigned in insertion order make most deltas 1.
//   kDelta: an edit script against a base list (the previous version's): varint(base count)
//           ‖ varint(count) ‖ ops. An op is a varint header h: h even, "copy h/2 ids from the
//           base at position expected + zigzag(varint)" (expected = where the last copy
//           ended); h odd, "insert h/2 ids", each a zigzag varint delta from the previous
//           inserted id.
// A version that changes a few descriptors of a 50,000-item list costs a few dozen bytes.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "registry/util/result.h"

namespace registry::storage::internal {

using DescriptorId = std::int64_t;
using IdList = std::vector<DescriptorId>;

enum class ListKind : char { kFull = 'F', kDelta = 'D' };

// Id → its first position in a list, for EncodeDeltaList.
using PositionIndex = std::unordered_map<DescriptorId, std::uint32_t>;
PositionIndex IndexPositions(const IdList& list);

std::string EncodeFullList(const IdList& ids);

// Edit script turning `base` into `ids`. `base_positions` MUST be IndexPositions(base).
std::string EncodeDeltaList(const IdList& base, const PositionIndex& base_positions,
                            const IdList& ids);

// The kind of an encoded list; kInternal when it is neither.
util::Result<ListKind> EncodedListKind(std::string_view encoded);

// Decodes a list. `base` is REQUIRED (non-null) for a kDelta list and ignored otherwise.
// Corrupt input (bad varints, copies outside the base, a count mismatch) is kInternal.
util::Result<IdList> DecodeList(std::string_view encoded, const IdList* base);

// Appends to `out` the ids `encoded` introduces without its base: every id of a kFull list,
// the inserted ids of a kDelta list (its copies come from the base). The ids a chain of
// lists references are those of its keyframe plus what each delta inserts, so retention can
// tell which descriptors a set of lists references without rebuilding every list. Corrupt
// input is kInternal (and `out` may hold part of the ids).
util::Status AppendIntroducedIds(std::string_view encoded, IdList& out);

}  // namespace registry::storage::internal
