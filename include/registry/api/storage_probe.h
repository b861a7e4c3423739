// The write plane's way back from a storage fault (SPEC §7): while the WriteGate reports a
// fault, ProbeStorage tries a harmless write (a forced storage checkpoint) and the audit
// entries still queued behind the fault; when both succeed, the gate opens again.
// Called periodically by the service's housekeeping thread. Not thread-safe: one caller.
#pragma once

#include <string>

#include "registry/api/service.h"
#include "registry/core/audit_log.h"
#include "registry/core/registry.h"

namespace registry::api {

enum class ProbeResult {
  kHealthy,    // there was no fault
  kRecovered,  // the fault cleared; writes are admitted again
  kStillFaulty,
};

// `audit` may be null (no audit trail). `error` receives the reason when still faulty.
ProbeResult ProbeStorage(core::Registry& registry, core::AuditLog* audit, WriteGate& gate,
                         std::string* error);

}  // namespace registry::api
