#include "sqlite_reclaim.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "sqlite_blob_codec.h"
#include "sqlite_content.h"
#include "sqlite_schema.h"

namespace registry::storage::internal {
namespace {

using util::Error;
using util::ErrorCode;

// Decoded frames of the commits used as dictionaries, each read once per call.
class Dictionaries {
 public:
  explicit Dictionaries(Connection& conn) : conn_(conn) {}

  util::Result<const std::string*> Get(std::uint64_t version) {
    if (auto it = frames_.find(version); it != frames_.end()) return &it->second;
    REGISTRY_ASSIGN_OR_RETURN(std::string frame, CommitFrameBytes(conn_, version));
    return &frames_.emplace(version, std::move(frame)).first->second;
  }

 private:
  Connection& conn_;
  std::unordered_map<std::uint64_t, std::string> frames_;
};

// `raw` blob-encoded against `dictionary` (none when empty), checked to decode back to
// `raw`. Sets *needs_dictionary.
util::Result<std::string> Reencode(const std::string& raw, std::string_view dictionary,
                                   bool* needs_dictionary, std::string_view what) {
  std::string blob = EncodeBlob(raw, dictionary);
  *needs_dictionary = BlobNeedsDictionary(blob);
  util::Result<std::string> back = DecodeBlob(blob, *needs_dictionary ? dictionary : "");
  if (!back.ok() || *back != raw) {
    return Error(ErrorCode::kInternal, std::string(what) + ": re-encoded frame does not decode");
  }
  return blob;
}

// The first version whose bytes may still be stored: previous + 1, unless an older build
// pruned through `previous` only logically (its frame is still there), then 1. A stored
// frame is never empty (the blob codec writes a method byte), a reclaimed one always is.
util::Result<std::uint64_t> FirstUnreclaimed(Connection& conn, std::uint64_t previous) {
  if (previous == 0) return std::uint64_t{1};
  constexpr std::string_view kWhat = "reclaim: pruned frame";
  REGISTRY_ASSIGN_OR_RETURN(
      Statement stmt, conn.Prepare("SELECT length(frame) FROM commits WHERE version = ?1", kWhat));
  stmt.Bind(1, static_cast<std::int64_t>(previous));
  REGISTRY_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return Corrupt(kWhat, "version " + std::to_string(previous) + " is missing");
  return stmt.Int(0) == 0 ? previous + 1 : std::uint64_t{1};
}

// Step 1: the first kept version F and the rest of its chain stop depending on versions
// <= anchor (their keyframe and frame dictionary).
util::Status RekeyFirstKept(Connection& conn, std::uint64_t anchor, ReadCache* cache,
                            Dictionaries& dicts, ReclaimOutcome& out) {
  const std::uint64_t first = anchor + 1;
  const std::string what = "reclaim: version " + std::to_string(first);
  bool has_items = false;
  std::uint64_t dict_version = 0;
  std::string frame_blob;
  {
    REGISTRY_ASSIGN_OR_RETURN(
        Statement stmt,
        conn.Prepare("SELECT has_items, dict_version, frame FROM commits WHERE version = ?1",
                     what));
    stmt.Bind(1, static_cast<std::int64_t>(first));
    REGISTRY_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return Corrupt(what, "the first kept version is missing");
    has_items = stmt.Int(0) != 0;
    dict_version = static_cast<std::uint64_t>(stmt.Int(1));
    frame_blob = std::string(stmt.Blob(2));
  }
  std::uint64_t keyframe = first;
  if (has_items) {
    REGISTRY_ASSIGN_OR_RETURN(
        Statement stmt, conn.Prepare("SELECT keyframe FROM commit_items WHERE version = ?1", what));
    stmt.Bind(1, static_cast<std::int64_t>(first));
    REGISTRY_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return Corrupt(what, "item list missing");
    keyframe = static_cast<std::uint64_t>(stmt.Int(0));
  }
  // The writer only gives a frame a dictionary within a chain, so nothing depends on a
  // version <= anchor when F's chain starts after it and F's own frame needs none.
  if (keyframe >= first && dict_version == 0) return util::Status::Ok();
  if (keyframe > first) return Corrupt(what, "bad keyframe");

  // F's frame, without a dictionary: it becomes the chain's dictionary.
  std::string frame;
  if (dict_version != 0) {
    if (dict_version > anchor) return Corrupt(what, "frame dictionary after the version");
    REGISTRY_ASSIGN_OR_RETURN(const std::string* dict, dicts.Get(dict_version));
    util::Result<std::string> decoded = DecodeBlob(frame_blob, *dict);
    if (!decoded.ok()) return Corrupt(what, decoded.error().message());
    frame = std::move(decoded).value();
    bool needs = false;
    REGISTRY_ASSIGN_OR_RETURN(std::string blob, Reencode(frame, {}, &needs, what));
    REGISTRY_ASSIGN_OR_RETURN(
        Statement stmt,
        conn.Prepare("UPDATE commits SET frame = ?2, dict_version = 0 WHERE version = ?1", what));
    stmt.Bind(1, static_cast<std::int64_t>(first)).BindBlob(2, blob);
    REGISTRY_RETURN_IF_ERROR(stmt.Run());
    ++out.frames_reencoded;
  } else {
    util::Result<std::string> decoded = DecodeBlob(frame_blob);
    if (!decoded.ok()) return Corrupt(what, decoded.error().message());
    frame = std::move(decoded).value();
  }
  if (keyframe == first) return util::Status::Ok();

  // F's list as a keyframe. Its content does not change, so neither do the deltas after it
  // (each is against the previous version's list).
  {
    REGISTRY_ASSIGN_OR_RETURN(std::shared_ptr<const IdList> ids,
                              LoadCommitList(conn, first, cache, /*fill=*/false));
    REGISTRY_ASSIGN_OR_RETURN(
        Statement stmt,
        conn.Prepare("UPDATE commit_items SET keyframe = ?1, list = ?2 WHERE version = ?1", what));
    stmt.Bind(1, static_cast<std::int64_t>(first)).BindBlob(2, EncodeFullList(*ids));
    REGISTRY_RETURN_IF_ERROR(stmt.Run());
  }
  // The rest of the chain: the versions after F that still have F's old keyframe (a chain
  // is contiguous: it ends at the next keyframe or version without items).
  std::vector<std::uint64_t> chain;
  {
    REGISTRY_ASSIGN_OR_RETURN(
        Statement stmt, conn.Prepare("SELECT version, keyframe FROM commit_items WHERE version > "
                                     "?1 ORDER BY version",
                                     what));
    stmt.Bind(1, static_cast<std::int64_t>(first));
    std::uint64_t expect = first + 1;
    for (;;) {
      REGISTRY_ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row || static_cast<std::uint64_t>(stmt.Int(0)) != expect ||
          static_cast<std::uint64_t>(stmt.Int(1)) != keyframe) {
        break;
      }
      chain.push_back(expect++);
    }
  }
  for (std::uint64_t v : chain) {
    const std::string vwhat = "reclaim: version " + std::to_string(v);
    {
      REGISTRY_ASSIGN_OR_RETURN(
          Statement stmt,
          conn.Prepare("UPDATE commit_items SET keyframe = ?2 WHERE version = ?1", vwhat));
      stmt.Bind(1, static_cast<std::int64_t>(v)).Bind(2, static_cast<std::int64_t>(first));
      REGISTRY_RETURN_IF_ERROR(stmt.Run());
    }
    std::uint64_t v_dict = 0;
    std::string v_blob;
    {
      REGISTRY_ASSIGN_OR_RETURN(
          Statement stmt,
          conn.Prepare("SELECT dict_version, frame FROM commits WHERE version = ?1", vwhat));
      stmt.Bind(1, static_cast<std::int64_t>(v));
      REGISTRY_ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) return Corrupt(vwhat, "missing");
      v_dict = static_cast<std::uint64_t>(stmt.Int(0));
      if (v_dict == 0 || v_dict > anchor) continue;
      v_blob = std::string(stmt.Blob(1));
    }
    // Against F's frame now, as the writer encodes a delta version against its keyframe's.
    REGISTRY_ASSIGN_OR_RETURN(const std::string* dict, dicts.Get(v_dict));
    util::Result<std::string> decoded = DecodeBlob(v_blob, *dict);
    if (!decoded.ok()) return Corrupt(vwhat, decoded.error().message());
    bool needs = false;
    REGISTRY_ASSIGN_OR_RETURN(std::string blob, Reencode(*decoded, frame, &needs, vwhat));
    REGISTRY_ASSIGN_OR_RETURN(
        Statement stmt,
        conn.Prepare("UPDATE commits SET frame = ?2, dict_version = ?3 WHERE version = ?1", vwhat));
    stmt.Bind(1, static_cast<std::int64_t>(v))
        .BindBlob(2, blob)
        .Bind(3, static_cast<std::int64_t>(needs ? first : 0));
    REGISTRY_RETURN_IF_ERROR(stmt.Run());
    ++out.frames_reencoded;
  }
  out.rekeyed = true;
  out.old_keyframe = keyframe;
  out.keyframe_frame = std::move(frame);
  return util::Status::Ok();
}

struct ProposalBytes {
  std::int64_t seq = 0;
  std::string proposal_id;
  bool pending = false;
  std::uint64_t dict_version = 0;
  std::uint64_t list_base = 0;
  std::string frame;
  std::optional<std::string> list;
};

// Step 2: proposals that depend on versions <= anchor, or ended ones of such versions.
util::Status ReclaimProposals(Connection& conn, std::uint64_t anchor, ReadCache* cache,
                              Dictionaries& dicts, std::vector<DescriptorId>& candidates,
                              ReclaimOutcome& out) {
  constexpr std::string_view kWhat = "reclaim: proposals";
  std::vector<ProposalBytes> rows;
  {
    REGISTRY_ASSIGN_OR_RETURN(
        Statement stmt,
        conn.Prepare("SELECT seq, proposal_id, status, dict_version, list_base, frame, list "
                     "FROM proposals WHERE length(frame) > 0 AND (dict_version BETWEEN 1 AND ?1 "
                     "OR list_base BETWEEN 1 AND ?1 OR (status != ?2 AND version <= ?1))",
                     kWhat));
    stmt.Bind(1, static_cast<std::int64_t>(anchor))
        .Bind(2, StatusToColumn(model::ProposalStatus::kPending));
    for (;;) {
      REGISTRY_ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) break;
      ProposalBytes& p = rows.emplace_back();
      p.seq = stmt.Int(0);
      p.proposal_id = std::string(stmt.Text(1));
      p.pending = stmt.Int(2) == StatusToColumn(model::ProposalStatus::kPending);
      p.dict_version = static_cast<std::uint64_t>(stmt.Int(3));
      p.list_base = static_cast<std::uint64_t>(stmt.Int(4));
      p.frame = std::string(stmt.Blob(5));
      if (!stmt.IsNull(6)) p.list = std::string(stmt.Blob(6));
    }
  }
  for (ProposalBytes& p : rows) {
    const std::string what = "reclaim: proposal " + p.proposal_id;
    if (!p.pending) {
      // Ended: nobody needs its payload any more (a committed one is its version's).
      if (p.list.has_value()) {
        util::Status s = AppendIntroducedIds(*p.list, candidates);
        if (!s.ok()) return Corrupt(what, s.error().message());
      }
      {
        REGISTRY_ASSIGN_OR_RETURN(
            Statement stmt,
            conn.Prepare("UPDATE proposals SET frame = x'', dict_version = 0, list = NULL, "
                         "list_base = 0 WHERE seq = ?1",
                         what));
        stmt.Bind(1, p.seq);
        REGISTRY_RETURN_IF_ERROR(stmt.Run());
      }
      REGISTRY_ASSIGN_OR_RETURN(Statement stmt,
                                conn.Prepare("DELETE FROM approvals WHERE proposal = ?1", what));
      stmt.Bind(1, p.seq);
      REGISTRY_RETURN_IF_ERROR(stmt.Run());
      out.approvals_deleted += static_cast<std::uint64_t>(conn.Changes());
      ++out.proposals_retired;
      continue;
    }
    // Pending: re-encoded so that it stands on its own (no dictionary, a kFull list).
    if (p.dict_version >= 1 && p.dict_version <= anchor) {
      REGISTRY_ASSIGN_OR_RETURN(const std::string* dict, dicts.Get(p.dict_version));
      util::Result<std::string> decoded = DecodeBlob(p.frame, *dict);
      if (!decoded.ok()) return Corrupt(what, decoded.error().message());
      bool needs = false;
      REGISTRY_ASSIGN_OR_RETURN(p.frame, Reencode(*decoded, {}, &needs, what));
      p.dict_version = 0;
    }
    if (p.list_base >= 1 && p.list_base <= anchor && p.list.has_value()) {
      REGISTRY_ASSIGN_OR_RETURN(ListKind kind, EncodedListKind(*p.list));
      if (kind == ListKind::kDelta) {
        REGISTRY_ASSIGN_OR_RETURN(std::shared_ptr<const IdList> base,
                                  LoadCommitList(conn, p.list_base, cache, /*fill=*/false));
        util::Result<IdList> ids = DecodeList(*p.list, base.get());
        if (!ids.ok()) return Corrupt(what, ids.error().message());
        p.list = EncodeFullList(*ids);
      }
      p.list_base = 0;
    }
    REGISTRY_ASSIGN_OR_RETURN(
        Statement stmt,
        conn.Prepare("UPDATE proposals SET frame = ?2, dict_version = ?3, list = ?4, "
                     "list_base = ?5 WHERE seq = ?1",
                     what));
    stmt.Bind(1, p.seq)
        .BindBlob(2, p.frame)
        .Bind(3, static_cast<std::int64_t>(p.dict_version))
        .Bind(5, static_cast<std::int64_t>(p.list_base));
    if (p.list.has_value()) {
      stmt.BindBlob(4, *p.list);
    } else {
      stmt.BindNull(4);
    }
    REGISTRY_RETURN_IF_ERROR(stmt.Run());
    ++out.proposals_reencoded;
  }
  return util::Status::Ok();
}

// Step 3: the lists and frames of versions first..anchor.
util::Status ClearPrunedVersions(Connection& conn, std::uint64_t first, std::uint64_t anchor,
                                 std::vector<DescriptorId>& candidates, ReclaimOutcome& out) {
  constexpr std::string_view kWhat = "reclaim: pruned versions";
  if (first > anchor) return util::Status::Ok();
  {
    REGISTRY_ASSIGN_OR_RETURN(
        Statement stmt,
        conn.Prepare("SELECT version, list FROM commit_items WHERE version BETWEEN ?1 AND ?2",
                     kWhat));
    stmt.Bind(1, static_cast<std::int64_t>(first)).Bind(2, static_cast<std::int64_t>(anchor));
    for (;;) {
      REGISTRY_ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) break;
      util::Status s = AppendIntroducedIds(stmt.Blob(1), candidates);
      if (!s.ok()) {
        return Corrupt("item list of version " + std::to_string(stmt.Int(0)), s.error().message());
      }
    }
  }
  {
    REGISTRY_ASSIGN_OR_RETURN(
        Statement stmt,
        conn.Prepare("DELETE FROM commit_items WHERE version BETWEEN ?1 AND ?2", kWhat));
    stmt.Bind(1, static_cast<std::int64_t>(first)).Bind(2, static_cast<std::int64_t>(anchor));
    REGISTRY_RETURN_IF_ERROR(stmt.Run());
  }
  REGISTRY_ASSIGN_OR_RETURN(
      Statement stmt,
      conn.Prepare("UPDATE commits SET frame = x'', dict_version = 0, has_items = 0 "
                   "WHERE version BETWEEN ?1 AND ?2 AND length(frame) > 0",
                   kWhat));
  stmt.Bind(1, static_cast<std::int64_t>(first)).Bind(2, static_cast<std::int64_t>(anchor));
  REGISTRY_RETURN_IF_ERROR(stmt.Run());
  out.versions_cleared = static_cast<std::uint64_t>(conn.Changes());
  return util::Status::Ok();
}

// Removes from `candidates` every id a list of `sql`'s rows (column 0) references; `sql`'s
// parameter ?1, if any, is `anchor`.
util::Status KeepReferenced(Connection& conn, const char* sql, std::optional<std::uint64_t> anchor,
                            std::unordered_set<DescriptorId>& candidates) {
  constexpr std::string_view kWhat = "reclaim: kept lists";
  REGISTRY_ASSIGN_OR_RETURN(Statement stmt, conn.Prepare(sql, kWhat));
  if (anchor.has_value()) stmt.Bind(1, static_cast<std::int64_t>(*anchor));
  IdList ids;
  while (!candidates.empty()) {
    REGISTRY_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    ids.clear();
    util::Status s = AppendIntroducedIds(stmt.Blob(0), ids);
    if (!s.ok()) return Corrupt(kWhat, s.error().message());
    for (DescriptorId id : ids) candidates.erase(id);
  }
  return util::Status::Ok();
}

// Step 4: the candidates no kept list references.
util::Status DeleteUnreferenced(Connection& conn, std::uint64_t anchor,
                                const std::vector<DescriptorId>& candidate_ids,
                                ReclaimOutcome& out) {
  if (candidate_ids.empty()) return util::Status::Ok();
  std::unordered_set<DescriptorId> candidates(candidate_ids.begin(), candidate_ids.end());
  // A kept chain's ids are its keyframe's plus what its deltas insert (F is a keyframe now);
  // a remaining proposal's delta copies from a kept commit's list.
  REGISTRY_RETURN_IF_ERROR(
      KeepReferenced(conn, "SELECT list FROM commit_items WHERE version > ?1", anchor, candidates));
  REGISTRY_RETURN_IF_ERROR(KeepReferenced(conn, "SELECT list FROM proposals WHERE list IS NOT NULL",
                                          std::nullopt, candidates));
  out.deleted_descriptors.assign(candidates.begin(), candidates.end());
  std::sort(out.deleted_descriptors.begin(), out.deleted_descriptors.end());
  for (DescriptorId id : out.deleted_descriptors) {
    REGISTRY_ASSIGN_OR_RETURN(Statement stmt, conn.Prepare("DELETE FROM descriptors WHERE id = ?1",
                                                           "reclaim: descriptors"));
    stmt.Bind(1, id);
    REGISTRY_RETURN_IF_ERROR(stmt.Run());
  }
  return util::Status::Ok();
}

}  // namespace

util::Result<ReclaimOutcome> ReclaimPruned(Connection& conn, std::uint64_t previous,
                                           std::uint64_t anchor, ReadCache* cache) {
  ReclaimOutcome out;
  out.first_kept = anchor + 1;
  Dictionaries dicts(conn);
  // Everything that reads rows <= anchor runs before step 3 drops them.
  REGISTRY_ASSIGN_OR_RETURN(std::uint64_t first, FirstUnreclaimed(conn, previous));
  REGISTRY_RETURN_IF_ERROR(RekeyFirstKept(conn, anchor, cache, dicts, out));
  std::vector<DescriptorId> candidates;
  REGISTRY_RETURN_IF_ERROR(ReclaimProposals(conn, anchor, cache, dicts, candidates, out));
  REGISTRY_RETURN_IF_ERROR(ClearPrunedVersions(conn, first, anchor, candidates, out));
  REGISTRY_RETURN_IF_ERROR(DeleteUnreferenced(conn, anchor, candidates, out));
  return out;
}

}  // namespace registry::storage::internal
