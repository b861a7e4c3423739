#include "registry/model/payload.h"

#include <unordered_set>

#include "decode_util.h"
#include "registry/crypto/blake3.h"
#include "registry/json/canonical.h"
#include "registry/model/constants.h"

namespace registry::model {

using internal::CheckObject;
using internal::CodePointCount;
using internal::FieldError;
using internal::Index;
using internal::Join;

namespace {

constexpr std::uint64_t kMaxSafeInteger = (std::uint64_t{1} << 53) - 1;

bool IsValidKind(std::string_view kind) {
  if (kind.empty() || kind.size() > kMaxKindLength) return false;
  if (kind[0] < 'a' || kind[0] > 'z') return false;
  return internal::AllOf(
      kind, [](unsigned char c) { return internal::IsLowerAlnum(c) || c == '_' || c == '-'; });
}

bool IsValidDescriptorId(std::string_view id) {
  if (id.empty() || id.size() > kMaxIdLength) return false;
  return internal::AllOf(id, [](unsigned char c) {
    return internal::IsAlnum(c) || c == ':' || c == '.' || c == '_' || c == '#' || c == '/' ||
           c == '@' || c == '-';
  });
}

// Depth of containers in `v`, counting `v` itself when it is one; stops early past `limit`.
std::size_t ContainerDepth(const json::Value& v, std::size_t limit) {
  if (limit == 0) return 1;
  std::size_t deepest = 0;
  if (v.is_array()) {
    for (const json::Value& e : v.as_array()) {
      deepest = std::max(deepest, ContainerDepth(e, limit - 1));
      if (deepest >= limit) break;
    }
    return deepest + 1;
  }
  if (v.is_object()) {
    for (const auto& [name, e] : v.as_object()) {
      deepest = std::max(deepest, ContainerDepth(e, limit - 1));
      if (deepest >= limit) break;
    }
    return deepest + 1;
  }
  return 0;
}

util::Result<Descriptor> DecodeDescriptor(const json::Value& value, std::string_view path) {
  REGISTRY_RETURN_IF_ERROR(CheckObject(value, path, {"kind", "id", "endpoint", "region", "meta"}));
  Descriptor d;
  REGISTRY_ASSIGN_OR_RETURN(d.kind, internal::RequiredString(value, path, "kind"));
  if (!IsValidKind(d.kind)) {
    return FieldError(Join(path, "kind"), "must be 1-32 chars matching [a-z][a-z0-9_-]*");
  }
  REGISTRY_ASSIGN_OR_RETURN(d.id, internal::RequiredString(value, path, "id"));
  if (!IsValidDescriptorId(d.id)) {
    return FieldError(Join(path, "id"), "must be 1-256 chars matching [A-Za-z0-9:._#/@-]");
  }
  REGISTRY_ASSIGN_OR_RETURN(d.endpoint, internal::OptionalString(value, path, "endpoint"));
  if (d.endpoint.has_value() && CodePointCount(*d.endpoint) > kMaxEndpointLength) {
    return FieldError(Join(path, "endpoint"), "must be at most 2048 chars");
  }
  REGISTRY_ASSIGN_OR_RETURN(d.region, internal::OptionalString(value, path, "region"));
  if (d.region.has_value() && CodePointCount(*d.region) > kMaxRegionLength) {
    return FieldError(Join(path, "region"), "must be at most 64 chars");
  }
  if (const json::Value* meta = value.Find("meta"); meta != nullptr) {
    if (!meta->is_object()) return FieldError(Join(path, "meta"), "must be an object");
    if (ContainerDepth(*meta, kMaxMetaDepth + 1) > kMaxMetaDepth) {
      return FieldError(Join(path, "meta"), "nesting depth must be at most 16");
    }
    d.meta = *meta;
  }
  return d;
}

util::Result<Supersede> DecodeSupersede(const json::Value& value, std::string_view path) {
  REGISTRY_RETURN_IF_ERROR(CheckObject(value, path, {"reason", "note"}));
  Supersede s;
  REGISTRY_ASSIGN_OR_RETURN(std::string reason, internal::RequiredString(value, path, "reason"));
  if (reason == "KeyCompromise") {
    s.reason = SupersedeReason::kKeyCompromise;
  } else if (reason == "DataError") {
    s.reason = SupersedeReason::kDataError;
  } else if (reason == "GovernanceAction") {
    s.reason = SupersedeReason::kGovernanceAction;
  } else if (reason == "Other") {
    s.reason = SupersedeReason::kOther;
  } else {
    return FieldError(Join(path, "reason"),
                      "must be one of KeyCompromise, DataError, GovernanceAction, Other");
  }
  REGISTRY_ASSIGN_OR_RETURN(s.note, internal::OptionalString(value, path, "note"));
  if (s.note.has_value() && CodePointCount(*s.note) > kMaxSupersedeNoteLength) {
    return FieldError(Join(path, "note"), "must be at most 1024 chars");
  }
  return s;
}

}  // namespace

std::string_view SupersedeReasonName(SupersedeReason reason) {
  switch (reason) {
    case SupersedeReason::kKeyCompromise:
      return "KeyCompromise";
    case SupersedeReason::kDataError:
      return "DataError";
    case SupersedeReason::kGovernanceAction:
      return "GovernanceAction";
    case SupersedeReason::kOther:
      return "Other";
  }
  return "Other";
}

util::Result<Payload> DecodePayload(const json::Value& value, const PayloadLimits& limits) {
  constexpr std::string_view kPath = "payload";
  REGISTRY_RETURN_IF_ERROR(CheckObject(
      value, kPath,
      {"version", "prev_hash", "governance", "items", "created_at", "expiry", "supersede"}));
  Payload p;
  REGISTRY_ASSIGN_OR_RETURN(p.version,
                            internal::RequiredUint(value, kPath, "version", 1, kMaxSafeInteger));
  REGISTRY_ASSIGN_OR_RETURN(p.prev_hash, internal::RequiredString(value, kPath, "prev_hash"));
  if (!crypto::IsWellFormedB3(p.prev_hash)) {
    return FieldError(Join(kPath, "prev_hash"), "must be \"b3:\" + 64 lower-case hex digits");
  }
  const json::Value* governance = value.Find("governance");
  if (governance == nullptr) return FieldError(Join(kPath, "governance"), "required");
  REGISTRY_ASSIGN_OR_RETURN(p.governance, DecodeGovernance(*governance, Join(kPath, "governance")));

  const json::Value* items = value.Find("items");
  std::string items_path = Join(kPath, "items");
  if (items == nullptr) return FieldError(items_path, "required");
  if (!items->is_array()) return FieldError(items_path, "must be an array");
  const json::Array& list = items->as_array();
  if (list.size() > limits.max_items) {
    return FieldError(items_path,
                      "must hold at most " + std::to_string(limits.max_items) + " descriptors");
  }
  p.items.reserve(list.size());
  std::unordered_set<std::string_view> ids;
  ids.reserve(list.size());
  for (std::size_t i = 0; i < list.size(); ++i) {
    std::string item_path = Index(items_path, i);
    REGISTRY_ASSIGN_OR_RETURN(Descriptor d, DecodeDescriptor(list[i], item_path));
    p.items.push_back(std::move(d));
    if (!ids.insert(p.items.back().id).second) {
      return FieldError(Join(item_path, "id"),
                        "duplicate descriptor id \"" + p.items.back().id + "\"");
    }
  }
  REGISTRY_ASSIGN_OR_RETURN(p.created_at, internal::OptionalTimestamp(value, kPath, "created_at"));
  REGISTRY_ASSIGN_OR_RETURN(p.expiry, internal::OptionalTimestamp(value, kPath, "expiry"));
  if (const json::Value* s = value.Find("supersede"); s != nullptr) {
    REGISTRY_ASSIGN_OR_RETURN(Supersede supersede, DecodeSupersede(*s, Join(kPath, "supersede")));
    p.supersede = std::move(supersede);
  }
  return p;
}

json::Value EncodePayload(const Payload& payload) {
  json::Array items;
  items.reserve(payload.items.size());
  for (const Descriptor& d : payload.items) {
    json::Object o;
    o.emplace_back("kind", d.kind);
    o.emplace_back("id", d.id);
    if (d.endpoint) o.emplace_back("endpoint", *d.endpoint);
    if (d.region) o.emplace_back("region", *d.region);
    if (d.meta) o.emplace_back("meta", *d.meta);
    items.emplace_back(std::move(o));
  }
  json::Object o;
  o.emplace_back("version", static_cast<std::uint64_t>(payload.version));
  o.emplace_back("prev_hash", payload.prev_hash);
  o.emplace_back("governance", EncodeGovernance(payload.governance));
  o.emplace_back("items", json::Value(std::move(items)));
  if (payload.created_at) o.emplace_back("created_at", *payload.created_at);
  if (payload.expiry) o.emplace_back("expiry", *payload.expiry);
  if (payload.supersede) {
    json::Object s;
    s.emplace_back("reason", std::string(SupersedeReasonName(payload.supersede->reason)));
    if (payload.supersede->note) s.emplace_back("note", *payload.supersede->note);
    o.emplace_back("supersede", json::Value(std::move(s)));
  }
  return json::Value(std::move(o));
}

std::string ProposalIdFor(std::string_view payload_b3) {
  REGISTRY_CHECK(crypto::IsWellFormedB3(payload_b3), "ProposalIdFor: malformed payload_b3");
  return "p_" + std::string(payload_b3.substr(3, 24));
}

bool IsWellFormedProposalId(std::string_view id) {
  if (id.size() != kProposalIdLength || id.substr(0, 2) != "p_") return false;
  return internal::AllOf(id.substr(2), [](unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  });
}

util::Result<CanonicalPayload> MakeCanonicalPayload(const json::Value& value,
                                                    const PayloadLimits& limits) {
  REGISTRY_ASSIGN_OR_RETURN(Payload payload, DecodePayload(value, limits));
  CanonicalPayload out;
  out.payload = std::move(payload);
  out.canonical = json::Canonicalize(value);
  out.payload_b3 = crypto::PayloadB3(out.canonical);
  out.proposal_id = ProposalIdFor(out.payload_b3);
  return out;
}

}  // namespace registry::model
