// Reclaim: the physical side of retention in the SQLite backend. After PruneThrough stored
// its anchor A, ReclaimPruned drops the bytes of versions <= A, in the same transaction
// (the writer's SAVEPOINT of the call, so a failure undoes it with the anchor):
//
//   1. The first kept version F = A + 1 stops depending on pruned rows: when its delta
//      chain starts at a keyframe <= A, F's list is rewritten as a kFull list and the rest
//      of that chain gets keyframe F (a kDelta list is against the previous version's list,
//      which does not change, so no delta is re-encoded); a frame whose dictionary is a
//      version <= A is re-encoded, F's without a dictionary (so that it can serve as one),
//      the rest of the chain against F's frame.
//   2. Pending proposals whose frame dictionary or delta base is <= A are re-encoded without
//      them (no dictionary, kFull list). Ended proposals (committed, expired, stale) whose
//      payload depends on such rows, or whose version is <= A, are retired: frame x'', no
//      list, their approvals deleted; their other columns stay (GetProposal answers the
//      row with an empty canonical_payload).
//   3. commit_items rows of versions <= A are deleted and their commits rows cleared
//      (frame x'', dict_version 0, has_items 0); the rest of the commits row (leaf hash,
//      root, payload_b3, ...) stays forever. ReadCommitRecord of such a row is kPruned.
//   4. Descriptors that the dropped lists referenced and that no kept commit list and no
//      remaining proposal list references are deleted (ids are AUTOINCREMENT: never reused).
//
// Freed pages go to SQLite's free list and are reused by later writes (no VACUUM; see
// docs/STORAGE.md, Retention). The work is proportional to the newly pruned versions plus
// one pass over the kept lists (keyframes decoded, deltas scanned without rebuilding).
//
// Runs on the writer's connection inside a transaction; the writer thread only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "registry/util/result.h"
#include "sqlite_connection.h"
#include "sqlite_item_list.h"
#include "sqlite_read_cache.h"

namespace registry::storage::internal {

struct ReclaimOutcome {
  std::uint64_t first_kept = 0;  // F = anchor + 1
  // F's chain was re-keyed: the keyframe of F and of the rest of its chain is F now (it was
  // `old_keyframe`), and `keyframe_frame` is F's decoded frame, the chain's dictionary.
  bool rekeyed = false;
  std::uint64_t old_keyframe = 0;
  std::string keyframe_frame;
  std::uint64_t versions_cleared = 0;  // commits rows whose frame and list were dropped
  std::uint64_t frames_reencoded = 0;  // kept commits re-encoded off a pruned dictionary
  std::uint64_t proposals_reencoded = 0;
  std::uint64_t proposals_retired = 0;
  std::uint64_t approvals_deleted = 0;
  std::vector<DescriptorId> deleted_descriptors;
};

// Reclaims versions <= `anchor` as described above. `previous` is the anchor before this
// call (0 when none): versions <= previous were reclaimed already unless an older build
// only pruned them logically, which is detected and caught up. `cache` (MAY be null) is
// only read. REQUIRES: inside a transaction; 0 < anchor < HEAD.
util::Result<ReclaimOutcome> ReclaimPruned(Connection& conn, std::uint64_t previous,
                                           std::uint64_t anchor, ReadCache* cache);

}  // namespace registry::storage::internal
