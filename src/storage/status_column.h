// How a ProposalStatus is stored as an integer column, by every persistent backend (the
// values are on disk: never renumber). Internal to src/storage.
#pragma once

#include <cstdint>
#include <optional>

#include "registry/model/proposal.h"

namespace registry::storage::internal {

// 0 pending, 1 committed, 2 expired, 3 stale.
inline std::int64_t StatusToColumn(model::ProposalStatus status) {
  switch (status) {
    case model::ProposalStatus::kPending:
      return 0;
    case model::ProposalStatus::kCommitted:
      return 1;
    case model::ProposalStatus::kExpired:
      return 2;
    case model::ProposalStatus::kStale:
      return 3;
  }
  return -1;
}

// nullopt for a value no status maps to (a corrupt row).
inline std::optional<model::ProposalStatus> StatusFromColumn(std::int64_t value) {
  switch (value) {
    case 0:
      return model::ProposalStatus::kPending;
    case 1:
      return model::ProposalStatus::kCommitted;
    case 2:
      return model::ProposalStatus::kExpired;
    case 3:
      return model::ProposalStatus::kStale;
    default:
      return std::nullopt;
  }
}

}  // namespace registry::storage::internal
