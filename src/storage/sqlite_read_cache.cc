#include "sqlite_read_cache.h"

#include <algorithm>

namespace registry::storage::internal {

void ReadCache::LookupDescriptors(const IdList& ids, std::vector<DescriptorBytes>& out,
                                  std::vector<DescriptorId>& missing) {
  if (budget_ == 0) {
    missing.insert(missing.end(), ids.begin(), ids.end());
    return;
  }
  std::lock_guard lock(descriptors_mu_);
  for (std::size_t k = 0; k < ids.size(); ++k) {
    auto it = young_.find(ids[k]);
    if (it != young_.end()) {
      out[k] = it->second;
      continue;
    }
    auto old = old_.find(ids[k]);
    if (old == old_.end()) {
      missing.push_back(ids[k]);
      continue;
    }
    out[k] = old->second;
    young_bytes_ += old->second->size();
    young_.emplace(ids[k], std::move(old->second));
    old_.erase(old);
  }
  if (young_bytes_ > budget_ / 2) {
    old_ = std::move(young_);
    young_.clear();
    young_bytes_ = 0;
  }
}

void ReadCache::InsertDescriptors(
    const std::vector<std::pair<DescriptorId, DescriptorBytes>>& entries) {
  if (budget_ == 0) return;
  std::lock_guard lock(descriptors_mu_);
  for (const auto& [id, bytes] : entries) {
    if (young_.emplace(id, bytes).second) young_bytes_ += bytes->size();
    if (young_bytes_ > budget_ / 2) {
      old_ = std::move(young_);
      young_.clear();
      young_bytes_ = 0;
    }
  }
}

std::shared_ptr<const IdList> ReadCache::FindList(std::uint64_t version) {
  if (budget_ == 0) return nullptr;
  std::lock_guard lock(lists_mu_);
  auto it = std::find_if(lists_.begin(), lists_.end(),
                         [version](const auto& e) { return e.first == version; });
  if (it == lists_.end()) return nullptr;
  std::rotate(it, it + 1, lists_.end());
  return lists_.back().second;
}

void ReadCache::InsertList(std::uint64_t version, std::shared_ptr<const IdList> list) {
  if (budget_ == 0) return;
  std::lock_guard lock(lists_mu_);
  auto it = std::find_if(lists_.begin(), lists_.end(),
                         [version](const auto& e) { return e.first == version; });
  if (it != lists_.end()) lists_.erase(it);
  if (lists_.size() >= kLists) lists_.erase(lists_.begin());
  lists_.emplace_back(version, std::move(list));
}

void ReadCache::Forget(const std::vector<DescriptorId>& ids, std::uint64_t lists_through) {
  if (budget_ == 0) return;
  {
    std::lock_guard lock(descriptors_mu_);
    for (DescriptorId id : ids) {
      if (auto it = young_.find(id); it != young_.end()) {
        young_bytes_ -= it->second->size();
        young_.erase(it);
      }
      old_.erase(id);
    }
  }
  std::lock_guard lock(lists_mu_);
  std::erase_if(lists_, [lists_through](const auto& e) { return e.first <= lists_through; });
}

}  // namespace registry::storage::internal
