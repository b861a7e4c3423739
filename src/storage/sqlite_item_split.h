// Item split: finds one array inside a JSON document (the registry's "items": the
// descriptors of a snapshot) and cuts the document into the bytes before the array's
// elements, each element, and the bytes after, so that the SQLite backend can store each
// element once and a version as references to them.
//
// The scan only tracks strings (with their escapes) and bracket depth; it does not
// validate. Whatever it finds, Join(split) == doc holds exactly: SplitItems checks that the
// elements tile the array's interior with single commas, and returns nullopt otherwise
// (then the document is stored whole). Pure functions; thread-safe.
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace registry::storage::internal {

struct ItemSplit {
  std::string_view prefix;              // up to and including the array's '['
  std::vector<std::string_view> items;  // each element, as it appears
  std::string_view suffix;              // from the array's ']' to the end
};

// `path`: member names from the top-level object down to the array, e.g. {"payload",
// "items"} in a commit record. Views point into `doc`. nullopt when there is no such array.
std::optional<ItemSplit> SplitItems(std::string_view doc,
                                    std::initializer_list<std::string_view> path);

// prefix ‖ items joined by ',' ‖ suffix.
std::string JoinItems(const ItemSplit& split);

// The paths of the items array in a commit record and in a canonical payload.
inline constexpr std::string_view kPayloadMember = "payload";
inline constexpr std::string_view kItemsMember = "items";

}  // namespace registry::storage::internal
