#include "registry/storage/store.h"

namespace registry::storage {

util::Result<std::vector<AuditRow>> Store::AppendAuditChained(
    const std::vector<AuditEncoder>& entries) {
  (void)entries;
  return util::Error(util::ErrorCode::kInternal,
                     "store: this backend does not chain audit entries");
}

util::Result<AuditRow> Store::WriteAudited(const AuditedWrite& write, const AuditEncoder& entry) {
  (void)write;
  (void)entry;
  return util::Error(util::ErrorCode::kInternal,
                     "store: this backend does not chain audit entries");
}

}  // namespace registry::storage
