// ReadCache: what reader connections of the SQLite backend keep in memory between reads:
// descriptor bytes by id (bounded by bytes, two generations: an entry survives while it is
// read at least once per generation) and the last few reconstructed item lists of commits.
//
// It holds committed data only, which never changes (ids are never reused), so an entry is
// never wrong; retention (PruneThrough) deletes rows, and then drops their entries so that
// they do not hold memory (Forget). Only readers insert; the writer may look up and forget.
// Thread-safe: one mutex per part, held only for map operations.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sqlite_item_list.h"

namespace registry::storage::internal {

using DescriptorBytes = std::shared_ptr<const std::string>;

class ReadCache {
 public:
  // `descriptor_bytes`: budget for descriptor text; 0 disables the whole cache (every read
  // goes to the database).
  explicit ReadCache(std::size_t descriptor_bytes) : budget_(descriptor_bytes) {}

  // For each ids[k] found, sets out[k]; appends the others to `missing`. REQUIRES:
  // out.size() == ids.size().
  void LookupDescriptors(const IdList& ids, std::vector<DescriptorBytes>& out,
                         std::vector<DescriptorId>& missing);
  void InsertDescriptors(const std::vector<std::pair<DescriptorId, DescriptorBytes>>& entries);

  std::shared_ptr<const IdList> FindList(std::uint64_t version);
  void InsertList(std::uint64_t version, std::shared_ptr<const IdList> list);

  // Drops the descriptors `ids` and the lists of versions <= `lists_through` (rows retention
  // deleted). A reader that read them from an older snapshot may insert them again: still
  // correct (ids are never reused), they just age out.
  void Forget(const std::vector<DescriptorId>& ids, std::uint64_t lists_through);

 private:
  static constexpr std::size_t kLists = 8;

  const std::size_t budget_;
  std::mutex descriptors_mu_;
  // Guarded by descriptors_mu_: new and promoted entries go to young_; when young_ passes
  // half the budget it becomes old_ and the previous old_ is dropped.
  std::unordered_map<DescriptorId, DescriptorBytes> young_;
  std::unordered_map<DescriptorId, DescriptorBytes> old_;
  std::size_t young_bytes_ = 0;

  std::mutex lists_mu_;
  // Guarded by lists_mu_: most recently used last.
  std::vector<std::pair<std::uint64_t, std::shared_ptr<const IdList>>> lists_;
};

}  // namespace registry::storage::internal
