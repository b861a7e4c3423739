#include "registry/api/storage_probe.h"

namespace registry::api {

ProbeResult ProbeStorage(core::Registry& registry, core::AuditLog* audit, WriteGate& gate,
                         std::string* error) {
  if (!gate.storage_fault()) return ProbeResult::kHealthy;
  util::Result<bool> wrote = registry.WriteCheckpoint(/*force=*/true);
  if (!wrote.ok()) {
    if (error != nullptr) *error = wrote.error().message();
    return ProbeResult::kStillFaulty;
  }
  if (audit != nullptr) {
    // The entries of decisions made while the store failed are written first, in order.
    if (util::Status retried = audit->Retry(); !retried.ok()) {
      if (error != nullptr) *error = retried.error().message();
      return ProbeResult::kStillFaulty;
    }
  }
  gate.SetStorageFault(false);
  return ProbeResult::kRecovered;
}

}  // namespace registry::api
