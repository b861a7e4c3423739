#include "registry/core/quorum.h"

#include <algorithm>
#include <unordered_set>

namespace registry::core {

QuorumTally Tally(const model::Governance& in_force, const model::Governance& next,
                  const std::vector<model::Approval>& approvals) {
  QuorumTally tally;
  tally.rotation = !in_force.Equivalent(next);
  tally.current_need = in_force.m;
  tally.next_need = tally.rotation ? next.m : 0;
  std::unordered_set<std::string_view> seen;
  for (const model::Approval& a : approvals) {
    if (!seen.insert(a.signer_id).second) continue;
    bool in_current = in_force.Find(a.signer_id) != nullptr;
    bool in_next = tally.rotation && next.Find(a.signer_id) != nullptr;
    if (in_current) ++tally.current_have;
    if (in_next) ++tally.next_have;
    if (in_current || in_next) tally.counted.push_back(a);
  }
  std::sort(
      tally.counted.begin(), tally.counted.end(),
      [](const model::Approval& a, const model::Approval& b) { return a.signer_id < b.signer_id; });
  return tally;
}

util::Status CheckQuorum(const QuorumTally& tally) {
  if (tally.met()) return util::Status::Ok();
  std::string message = "quorum not met: " + std::to_string(tally.current_have) + " of " +
                        std::to_string(tally.current_need) + " from the governance in force";
  if (tally.rotation) {
    message += ", " + std::to_string(tally.next_have) + " of " + std::to_string(tally.next_need) +
               " from the new governance";
  }
  util::Error error(util::ErrorCode::kQuorumFailed, std::move(message));
  error.AddDetail("current_have", static_cast<std::int64_t>(tally.current_have));
  error.AddDetail("current_need", static_cast<std::int64_t>(tally.current_need));
  if (tally.rotation) {
    error.AddDetail("next_have", static_cast<std::int64_t>(tally.next_have));
    error.AddDetail("next_need", static_cast<std::int64_t>(tally.next_need));
  }
  return error;
}

bool MayApprove(const model::Governance& in_force, const model::Governance& next,
                std::string_view signer_id) {
  if (in_force.Find(signer_id) != nullptr) return true;
  return !in_force.Equivalent(next) && next.Find(signer_id) != nullptr;
}

}  // namespace registry::core
