#include "sqlite_content.h"

#include <algorithm>

#include "sqlite_blob_codec.h"
#include "sqlite_schema.h"
#include "sqlite_varint.h"

namespace registry::storage::internal {
namespace {

using util::Error;
using util::ErrorCode;

// Ids closer than this are fetched by one range scan rather than separate lookups.
constexpr DescriptorId kRangeGap = 16;

}  // namespace

Error Corrupt(std::string_view what, const std::string& why) {
  return Error(ErrorCode::kInternal, std::string(what) + ": store is corrupt: " + why);
}

std::string_view DigestView(const crypto::Blake3Digest& digest) {
  return std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size());
}

std::string MakeFrame(std::string_view prefix, std::string_view suffix) {
  std::string out;
  out.reserve(prefix.size() + suffix.size() + 5);
  PutVarint(prefix.size(), out);
  out.append(prefix);
  out.append(suffix);
  return out;
}

util::Result<Frame> ParseFrame(std::string_view frame) {
  std::size_t pos = 0;
  std::optional<std::uint64_t> prefix_len = GetVarint(frame, pos);
  if (!prefix_len.has_value() || *prefix_len > frame.size() - pos) {
    return Error(ErrorCode::kInternal, "stored frame is corrupt");
  }
  Frame out;
  out.bytes = std::string(frame.substr(pos));
  out.prefix_len = static_cast<std::size_t>(*prefix_len);
  return out;
}

util::Result<std::string> CommitFrameBytes(Connection& conn, std::uint64_t version) {
  const std::string what = "frame of version " + std::to_string(version);
  REGISTRY_ASSIGN_OR_RETURN(
      Statement stmt,
      conn.Prepare("SELECT frame, dict_version FROM commits WHERE version = ?1", what));
  stmt.Bind(1, static_cast<std::int64_t>(version));
  REGISTRY_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return Corrupt(what, "no such commit");
  if (stmt.Int(1) != 0) return Corrupt(what, "a dictionary frame needs a dictionary");
  return DecodeBlob(stmt.Blob(0));
}

util::Result<std::shared_ptr<const IdList>> LoadCommitList(Connection& conn, std::uint64_t version,
                                                           ReadCache* cache, bool fill) {
  if (cache != nullptr) {
    if (std::shared_ptr<const IdList> hit = cache->FindList(version)) return hit;
  }
  const std::string what = "item list of version " + std::to_string(version);
  std::uint64_t keyframe = 0;
  {
    REGISTRY_ASSIGN_OR_RETURN(
        Statement stmt, conn.Prepare("SELECT keyframe FROM commit_items WHERE version = ?1", what));
    stmt.Bind(1, static_cast<std::int64_t>(version));
    REGISTRY_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return Corrupt(what, "missing");
    keyframe = static_cast<std::uint64_t>(stmt.Int(0));
    if (keyframe == 0 || keyframe > version) return Corrupt(what, "bad keyframe");
  }
  // Start from the newest cached list of the chain, if any.
  std::shared_ptr<const IdList> current;
  std::uint64_t start = keyframe;
  if (cache != nullptr) {
    for (std::uint64_t v = version - 1; v >= keyframe && v > 0; --v) {
      if ((current = cache->FindList(v)) != nullptr) {
        start = v + 1;
        break;
      }
    }
  }
  REGISTRY_ASSIGN_OR_RETURN(Statement stmt,
                            conn.Prepare("SELECT version, list FROM commit_items WHERE version "
                                         "BETWEEN ?1 AND ?2 ORDER BY version",
                                         what));
  stmt.Bind(1, static_cast<std::int64_t>(start)).Bind(2, static_cast<std::int64_t>(version));
  std::uint64_t expect = start;
  for (;;) {
    REGISTRY_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    if (static_cast<std::uint64_t>(stmt.Int(0)) != expect) {
      return Corrupt(what, "gap in the delta chain at version " + std::to_string(expect));
    }
    util::Result<IdList> next = DecodeList(stmt.Blob(1), current.get());
    if (!next.ok()) {
      return Corrupt(what, "version " + std::to_string(expect) + ": " + next.error().message());
    }
    current = std::make_shared<const IdList>(std::move(next).value());
    ++expect;
  }
  if (expect != version + 1 || current == nullptr) return Corrupt(what, "chain incomplete");
  if (cache != nullptr && fill) cache->InsertList(version, current);
  return current;
}

util::Result<std::vector<DescriptorBytes>> FetchDescriptors(Connection& conn, const IdList& ids,
                                                            ReadCache* cache, bool fill) {
  std::vector<DescriptorBytes> out(ids.size());
  std::vector<DescriptorId> missing;
  if (cache != nullptr) {
    cache->LookupDescriptors(ids, out, missing);
  } else {
    missing = ids;
  }
  if (missing.empty()) return out;
  std::sort(missing.begin(), missing.end());
  missing.erase(std::unique(missing.begin(), missing.end()), missing.end());

  // fetched[k] holds missing[k]. Ids of one version are mostly dense, so the position of an
  // id is usually found by a direct index; otherwise by binary search.
  std::vector<DescriptorBytes> fetched(missing.size());
  const DescriptorId lo = missing.front();
  const bool dense = static_cast<std::size_t>(missing.back() - lo) + 1 == missing.size();
  auto slot = [&](DescriptorId id) -> DescriptorBytes* {
    if (dense) return &fetched[static_cast<std::size_t>(id - lo)];
    auto it = std::lower_bound(missing.begin(), missing.end(), id);
    return it != missing.end() && *it == id
               ? &fetched[static_cast<std::size_t>(it - missing.begin())]
               : nullptr;
  };

  constexpr std::string_view kWhat = "descriptors";
  std::size_t i = 0;
  while (i < missing.size()) {
    std::size_t j = i;
    while (j + 1 < missing.size() && missing[j + 1] - missing[j] <= kRangeGap) ++j;
    if (j == i) {
      REGISTRY_ASSIGN_OR_RETURN(Statement stmt,
                                conn.Prepare("SELECT bytes FROM descriptors WHERE id = ?1", kWhat));
      stmt.Bind(1, missing[i]);
      REGISTRY_ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (row) fetched[i] = std::make_shared<const std::string>(stmt.Blob(0));
    } else {
      REGISTRY_ASSIGN_OR_RETURN(
          Statement stmt,
          conn.Prepare("SELECT id, bytes FROM descriptors WHERE id BETWEEN ?1 AND ?2", kWhat));
      stmt.Bind(1, missing[i]).Bind(2, missing[j]);
      std::size_t k = i;
      for (;;) {
        REGISTRY_ASSIGN_OR_RETURN(bool row, stmt.Step());
        if (!row) break;
        const DescriptorId id = stmt.Int(0);
        while (k <= j && missing[k] < id) ++k;
        if (k <= j && missing[k] == id) {
          fetched[k] = std::make_shared<const std::string>(stmt.Blob(1));
        }
      }
    }
    i = j + 1;
  }
  for (std::size_t k = 0; k < missing.size(); ++k) {
    if (fetched[k] == nullptr) {
      return Corrupt(kWhat, "descriptor " + std::to_string(missing[k]) + " is missing");
    }
  }
  for (std::size_t k = 0; k < ids.size(); ++k) {
    if (out[k] == nullptr) out[k] = *slot(ids[k]);
  }
  if (cache != nullptr && fill) {
    std::vector<std::pair<DescriptorId, DescriptorBytes>> entries;
    entries.reserve(missing.size());
    for (std::size_t k = 0; k < missing.size(); ++k) entries.emplace_back(missing[k], fetched[k]);
    cache->InsertDescriptors(entries);
  }
  return out;
}

util::Result<std::string> Assemble(const Frame& frame, const std::vector<DescriptorBytes>& items,
                                   std::uint64_t expected_len, std::string_view expected_b3,
                                   std::string_view what) {
  std::string out;
  out.reserve(static_cast<std::size_t>(expected_len));
  out.append(frame.prefix());
  for (std::size_t k = 0; k < items.size(); ++k) {
    if (k > 0) out.push_back(',');
    out.append(*items[k]);
  }
  out.append(frame.suffix());
  if (out.size() != expected_len || DigestView(crypto::Blake3(out)) != expected_b3) {
    return Corrupt(what, "the reassembled bytes do not match their stored BLAKE3");
  }
  return out;
}

util::Result<std::optional<std::string>> ReadCommitRecord(Connection& conn, std::uint64_t version,
                                                          ReadCache* cache) {
  const std::string what = "record of version " + std::to_string(version);
  std::uint64_t record_len = 0;
  std::string record_b3;
  std::string frame_blob;
  std::uint64_t dict_version = 0;
  bool has_items = false;
  {
    REGISTRY_ASSIGN_OR_RETURN(
        Statement stmt,
        conn.Prepare("SELECT record_len, record_b3, frame, dict_version, has_items FROM commits "
                     "WHERE version = ?1",
                     what));
    stmt.Bind(1, static_cast<std::int64_t>(version));
    REGISTRY_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return std::optional<std::string>();
    record_len = static_cast<std::uint64_t>(stmt.Int(0));
    record_b3 = std::string(stmt.Blob(1));
    frame_blob = std::string(stmt.Blob(2));
    dict_version = static_cast<std::uint64_t>(stmt.Int(3));
    has_items = stmt.Int(4) != 0;
  }
  if (frame_blob.empty()) {
    return Error(ErrorCode::kPruned, what + ": pruned by retention, its bytes were reclaimed");
  }
  std::string dictionary;
  if (dict_version != 0) {
    REGISTRY_ASSIGN_OR_RETURN(dictionary, CommitFrameBytes(conn, dict_version));
  }
  util::Result<std::string> decoded = DecodeBlob(frame_blob, dictionary);
  if (!decoded.ok()) return Corrupt(what, decoded.error().message());
  REGISTRY_ASSIGN_OR_RETURN(Frame frame, ParseFrame(*decoded));
  std::vector<DescriptorBytes> items;
  if (has_items) {
    REGISTRY_ASSIGN_OR_RETURN(std::shared_ptr<const IdList> list,
                              LoadCommitList(conn, version, cache, /*fill=*/true));
    REGISTRY_ASSIGN_OR_RETURN(items, FetchDescriptors(conn, *list, cache, /*fill=*/true));
  }
  REGISTRY_ASSIGN_OR_RETURN(std::string record,
                            Assemble(frame, items, record_len, record_b3, what));
  return std::optional<std::string>(std::move(record));
}

util::Result<StoredProposal> ReadStoredProposal(const Statement& stmt) {
  StoredProposal p;
  p.row.proposal_id = std::string(stmt.Text(0));
  p.row.payload_b3 = std::string(stmt.Text(1));
  p.row.version = static_cast<std::uint64_t>(stmt.Int(2));
  p.row.created_at = stmt.Int(3);
  p.row.expires_at = stmt.Int(4);
  std::optional<model::ProposalStatus> status = StatusFromColumn(stmt.Int(5));
  if (!status.has_value()) {
    return Corrupt("proposal " + p.row.proposal_id,
                   "unknown status " + std::to_string(stmt.Int(5)));
  }
  p.row.status = *status;
  p.payload_len = static_cast<std::uint64_t>(stmt.Int(6));
  p.payload_check = std::string(stmt.Blob(7));
  p.frame = std::string(stmt.Blob(8));
  p.dict_version = static_cast<std::uint64_t>(stmt.Int(9));
  if (!stmt.IsNull(10)) p.list = std::string(stmt.Blob(10));
  p.list_base = static_cast<std::uint64_t>(stmt.Int(11));
  return p;
}

util::Status DecodeProposalPayload(Connection& conn, StoredProposal& p, ReadCache* cache) {
  const std::string what = "payload of proposal " + p.row.proposal_id;
  if (p.retired()) {
    p.row.canonical_payload.clear();
    p.row.retired = true;
    return util::Status::Ok();
  }
  std::string dictionary;
  if (p.dict_version != 0) {
    REGISTRY_ASSIGN_OR_RETURN(dictionary, CommitFrameBytes(conn, p.dict_version));
  }
  util::Result<std::string> decoded = DecodeBlob(p.frame, dictionary);
  if (!decoded.ok()) return Corrupt(what, decoded.error().message());
  REGISTRY_ASSIGN_OR_RETURN(Frame frame, ParseFrame(*decoded));
  std::vector<DescriptorBytes> items;
  if (p.list.has_value()) {
    REGISTRY_ASSIGN_OR_RETURN(ListKind kind, EncodedListKind(*p.list));
    std::shared_ptr<const IdList> base;
    if (kind == ListKind::kDelta) {
      REGISTRY_ASSIGN_OR_RETURN(base, LoadCommitList(conn, p.list_base, cache, /*fill=*/true));
    }
    util::Result<IdList> ids = DecodeList(*p.list, base.get());
    if (!ids.ok()) return Corrupt(what, ids.error().message());
    REGISTRY_ASSIGN_OR_RETURN(items, FetchDescriptors(conn, *ids, cache, /*fill=*/true));
  }
  REGISTRY_ASSIGN_OR_RETURN(p.row.canonical_payload,
                            Assemble(frame, items, p.payload_len, p.payload_check, what));
  return util::Status::Ok();
}

}  // namespace registry::storage::internal
