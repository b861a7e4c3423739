// Content layer of the SQLite backend: how commit records and proposal payloads are laid
// out in the tables (frames, item lists, descriptors) and reassembled, byte for byte.
//
// A document (commit record or canonical payload) whose items array SplitItems finds is
// stored as a frame (varint(prefix length) ‖ prefix ‖ suffix, blob-encoded, possibly against
// the frame of an earlier commit as zlib dictionary) plus an item list of descriptor ids.
// Other documents are stored whole, as a frame with an empty suffix. Every reassembled
// document is checked against its stored length and BLAKE3 before it is returned.
//
// Functions run on a Connection owned by the calling thread. `cache` may be null; with
// `fill` false (the writer, which sees uncommitted rows) nothing is inserted into it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "registry/crypto/blake3.h"
#include "registry/storage/store.h"
#include "registry/util/result.h"
#include "sqlite_connection.h"
#include "sqlite_item_list.h"
#include "sqlite_read_cache.h"

namespace registry::storage::internal {

// kInternal "<what>: store is corrupt: <why>": what a decode of stored bytes that cannot be
// right answers (shared by the readers and the reclamation).
util::Error Corrupt(std::string_view what, const std::string& why);

// The unencoded frame of a split document: varint(prefix length) ‖ prefix ‖ suffix.
std::string MakeFrame(std::string_view prefix, std::string_view suffix);

struct Frame {
  std::string bytes;  // prefix ‖ suffix
  std::size_t prefix_len = 0;
  std::string_view prefix() const { return std::string_view(bytes).substr(0, prefix_len); }
  std::string_view suffix() const { return std::string_view(bytes).substr(prefix_len); }
};
util::Result<Frame> ParseFrame(std::string_view frame);

// The unencoded frame of commit `version`, for use as a dictionary. The commit's own frame
// MUST NOT need a dictionary (the writer only points at such commits).
util::Result<std::string> CommitFrameBytes(Connection& conn, std::uint64_t version);

// The item list of commit `version`, replaying deltas from its keyframe (or from a cached
// list on the way).
util::Result<std::shared_ptr<const IdList>> LoadCommitList(Connection& conn, std::uint64_t version,
                                                           ReadCache* cache, bool fill);

// The bytes of every id in `ids`, in order. A missing id is corruption (kInternal).
util::Result<std::vector<DescriptorBytes>> FetchDescriptors(Connection& conn, const IdList& ids,
                                                            ReadCache* cache, bool fill);

// Commit `version`'s record, or nullopt when there is no such row. A version whose bytes
// retention reclaimed (empty frame, see sqlite_reclaim.h) is kPruned.
util::Result<std::optional<std::string>> ReadCommitRecord(Connection& conn, std::uint64_t version,
                                                          ReadCache* cache);

// A proposals row with its payload still encoded; the columns of kProposalColumns.
struct StoredProposal {
  ProposalRow row;  // canonical_payload empty until DecodePayload
  std::uint64_t payload_len = 0;
  std::string payload_check;  // BLAKE3 of the payload
  std::string frame;
  std::uint64_t dict_version = 0;
  std::optional<std::string> list;
  std::uint64_t list_base = 0;
  // Retention retired the payload of this ended proposal (sqlite_reclaim.h): its frame is
  // empty (a stored frame never is) and it has no list.
  bool retired() const { return frame.empty(); }
};

// Queries whose rows ReadStoredProposal reads.
inline constexpr const char* kSelectProposalById =
    "SELECT proposal_id, payload_b3, version, created_at, expires_at, status, payload_len, "
    "payload_b3_check, frame, dict_version, list, list_base FROM proposals "
    "WHERE proposal_id = ?1";
inline constexpr const char* kSelectPendingProposals =
    "SELECT proposal_id, payload_b3, version, created_at, expires_at, status, payload_len, "
    "payload_b3_check, frame, dict_version, list, list_base FROM proposals "
    "WHERE status = 0 ORDER BY seq";
util::Result<StoredProposal> ReadStoredProposal(const Statement& stmt);

// Fills p.row.canonical_payload, or, for a retired proposal (p.retired()), sets
// p.row.retired and leaves the payload empty; its other columns (status, version,
// payload_b3, times) are still exact.
util::Status DecodeProposalPayload(Connection& conn, StoredProposal& p, ReadCache* cache);

// Reassembles prefix ‖ items joined by ',' ‖ suffix and checks length and BLAKE3.
util::Result<std::string> Assemble(const Frame& frame, const std::vector<DescriptorBytes>& items,
                                   std::uint64_t expected_len, std::string_view expected_b3,
                                   std::string_view what);

std::string_view DigestView(const crypto::Blake3Digest& digest);

}  // namespace registry::storage::internal
