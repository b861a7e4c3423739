// libFuzzer target: arbitrary bytes, parsed as JSON, through every DTO decoder of
// src/model (SPEC §1, §2.1): the propose request, the payload and its descriptors, an
// approval, a governance object, the trust-roots file, a commit record and HEAD. The
// fuzzer's input also reaches the decoders one level down ({"payload": ...},
// {"approvals": [...]}, {"governance": ...}), so a seed for one DTO serves the others.
//
// Properties (a violation aborts, which libFuzzer reports):
//  1. No decoder crashes, leaks or trips a sanitizer; a rejection is kMalformed with a
//     message that names the field (starts with the path given to the decoder, or with
//     "payload" for a payload nested in a commit record).
//  2. Accepted values round-trip: Decode(Encode(x)) == x for payload, approval, governance
//     and HEAD, and Canonicalize(EncodePayload(DecodePayload(v))) == Canonicalize(v) (the
//     contract in payload.h that keeps the hash of a payload stable).
//  3. DecodeProposeRequest's canonical bytes, payload_b3 and proposal_id agree with each
//     other and with the decoded payload.
//  4. A decoded commit record re-encoded by EncodeCommitRecordCanonical decodes to the same
//     record (its payload compared in canonical form: member order in `meta` is not kept).
//  5. LoadTrustRoots accepts a file exactly when DecodeGovernance accepts its JSON, and its
//     pinned-hash check accepts the file's own hash.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>

#include "registry/crypto/blake3.h"
#include "registry/json/canonical.h"
#include "registry/json/parse.h"
#include "registry/json/value.h"
#include "registry/model/approval.h"
#include "registry/model/commit_record.h"
#include "registry/model/governance.h"
#include "registry/model/payload.h"
#include "registry/model/proposal.h"
#include "registry/util/error.h"
#include "registry/util/result.h"

namespace {

namespace json = registry::json;
namespace model = registry::model;
using registry::util::ErrorCode;

#define FUZZ_CHECK(cond, what)                                           \
  do {                                                                   \
    if (!(cond)) {                                                       \
      std::fprintf(stderr, "model_fuzz: property violated: %s\n", what); \
      std::abort();                                                      \
    }                                                                    \
  } while (false)

// Small enough that the fuzzer reaches the limit, as a configured service would.
constexpr model::PayloadLimits kLimits{/*max_items=*/8};

// DecodePayload takes no path, so a payload nested in a commit record names its fields
// from "payload" (e.g. "payload.items[0].id"), not "record.payload".
bool NamesTheField(const std::string& message, std::string_view path) {
  return message.rfind(std::string(path), 0) == 0 ||
         (path == "record" && message.rfind("payload", 0) == 0);
}

template <typename T>
void CheckRejection(const registry::util::Result<T>& r, std::string_view path) {
  if (r.ok()) return;
  FUZZ_CHECK(r.error().code() == ErrorCode::kMalformed, "decoder error is not kMalformed");
  if (!NamesTheField(r.error().message(), path)) {
    std::fprintf(stderr, "model_fuzz: %.*s: \"%s\"\n", static_cast<int>(path.size()), path.data(),
                 r.error().message().c_str());
    FUZZ_CHECK(false, "decoder error does not name the field");
  }
}

void Payload(const json::Value& v) {
  auto p = model::DecodePayload(v, kLimits);
  CheckRejection(p, "payload");
  if (!p.ok()) return;
  const json::Value encoded = model::EncodePayload(*p);
  FUZZ_CHECK(json::Canonicalize(encoded) == json::Canonicalize(v),
             "payload: canonical form changed by decode/encode");
  auto again = model::DecodePayload(encoded, kLimits);
  FUZZ_CHECK(again.ok() && *again == *p, "payload: decode(encode(x)) != x");

  auto cp = model::MakeCanonicalPayload(v, kLimits);
  FUZZ_CHECK(cp.ok(), "payload: MakeCanonicalPayload rejects a decodable payload");
  FUZZ_CHECK(cp->canonical == json::Canonicalize(v), "payload: canonical bytes differ");
  FUZZ_CHECK(cp->payload_b3 == registry::crypto::PayloadB3(cp->canonical),
             "payload: payload_b3 is not the hash of the canonical bytes");
  FUZZ_CHECK(cp->proposal_id == model::ProposalIdFor(cp->payload_b3),
             "payload: proposal id does not derive from payload_b3");
  FUZZ_CHECK(model::IsWellFormedProposalId(cp->proposal_id), "payload: malformed proposal id");
}

void ProposeRequest(const json::Value& v) {
  auto r = model::DecodeProposeRequest(v, kLimits);
  if (!r.ok()) {
    FUZZ_CHECK(r.error().code() == ErrorCode::kMalformed, "propose: error is not kMalformed");
    FUZZ_CHECK(!r.error().message().empty(), "propose: empty error message");
    return;
  }
  FUZZ_CHECK(r->canonical == json::Canonicalize(model::EncodePayload(r->payload)),
             "propose: canonical bytes are not those of the decoded payload");
  FUZZ_CHECK(r->payload_b3 == registry::crypto::PayloadB3(r->canonical),
             "propose: payload_b3 is not the hash of the canonical bytes");
  FUZZ_CHECK(r->proposal_id == model::ProposalIdFor(r->payload_b3),
             "propose: proposal id does not derive from payload_b3");
}

void Approval(const json::Value& v) {
  auto a = model::DecodeApproval(v, "approval");
  CheckRejection(a, "approval");
  if (!a.ok()) return;
  auto again = model::DecodeApproval(model::EncodeApproval(*a), "approval");
  FUZZ_CHECK(again.ok() && *again == *a, "approval: decode(encode(x)) != x");
}

void Governance(const json::Value& v) {
  auto g = model::DecodeGovernance(v, "governance");
  CheckRejection(g, "governance");
  if (!g.ok()) return;
  const json::Value encoded = model::EncodeGovernance(*g);
  auto again = model::DecodeGovernance(encoded, "governance");
  FUZZ_CHECK(again.ok() && *again == *g, "governance: decode(encode(x)) != x");
  FUZZ_CHECK(again->Equivalent(*g), "governance: not Equivalent to itself");
  FUZZ_CHECK(g->m >= 1 && g->m <= g->n(), "governance: quorum outside 1..n");
}

void TrustRoots(std::string_view bytes, const json::Value* parsed) {
  auto roots = model::LoadTrustRoots(bytes, std::nullopt);
  const bool decodable = parsed != nullptr && model::DecodeGovernance(*parsed, "trust_roots").ok();
  FUZZ_CHECK(roots.ok() == decodable, "trust roots: LoadTrustRoots and DecodeGovernance disagree");
  if (!roots.ok()) return;
  const std::string pin = registry::crypto::PayloadB3(json::Canonicalize(*parsed));
  auto pinned = model::LoadTrustRoots(bytes, pin);
  FUZZ_CHECK(pinned.ok() && *pinned == *roots, "trust roots: own hash not accepted");
  auto wrong = model::LoadTrustRoots(bytes, registry::crypto::ZeroB3());
  FUZZ_CHECK(!wrong.ok(), "trust roots: wrong pinned hash accepted");
}

void CommitRecord(const json::Value& v) {
  auto r = model::DecodeCommitRecord(v, kLimits);
  CheckRejection(r, "record");
  if (!r.ok()) return;
  // EncodeCommitRecordCanonical REQUIRES approvals sorted by signer_id, as the service
  // stores them; a decoded record need not be.
  for (std::size_t i = 1; i < r->approvals.size(); ++i) {
    if (!(r->approvals[i - 1].signer_id < r->approvals[i].signer_id)) return;
  }
  const std::string bytes = model::EncodeCommitRecordCanonical(
      r->version, json::Canonicalize(model::EncodePayload(r->payload)), r->payload_b3, r->approvals,
      r->committed_at);
  auto value = json::Parse(bytes);
  FUZZ_CHECK(value.ok(), "record: canonical record does not parse");
  FUZZ_CHECK(json::Canonicalize(*value) == bytes, "record: encoding is not canonical");
  auto again = model::DecodeCommitRecord(*value, kLimits);
  FUZZ_CHECK(again.ok(), "record: re-encoded record does not decode");
  FUZZ_CHECK(again->schema_version == r->schema_version && again->version == r->version &&
                 json::Canonicalize(model::EncodePayload(again->payload)) ==
                     json::Canonicalize(model::EncodePayload(r->payload)) &&
                 again->payload_b3 == r->payload_b3 && again->approvals == r->approvals &&
                 again->committed_at == r->committed_at,
             "record: decode(encode(x)) != x");
}

void Head(const json::Value& v) {
  auto h = model::DecodeHead(v);
  CheckRejection(h, "head");
  if (!h.ok()) return;
  auto again = model::DecodeHead(model::EncodeHead(*h));
  FUZZ_CHECK(again.ok() && *again == *h, "head: decode(encode(x)) != x");
}

void AllDecoders(const json::Value& v) {
  Payload(v);
  ProposeRequest(v);
  Approval(v);
  Governance(v);
  CommitRecord(v);
  Head(v);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto parsed = json::Parse(bytes);
  TrustRoots(bytes, parsed.ok() ? &*parsed : nullptr);
  if (!parsed.ok()) return 0;
  AllDecoders(*parsed);
  // One level down: the members that hold a nested DTO.
  for (std::string_view member : {"payload", "governance", "approval"}) {
    if (const json::Value* inner = parsed->Find(member)) AllDecoders(*inner);
  }
  if (const json::Value* approvals = parsed->Find("approvals");
      approvals != nullptr && approvals->is_array()) {
    for (const json::Value& a : approvals->as_array()) Approval(a);
  }
  if (const json::Value* items = parsed->Find("items"); items != nullptr && items->is_array()) {
    // A descriptor alone: wrapped into the smallest payload that could hold it.
    for (const json::Value& item : items->as_array()) {
      const json::Value* governance = parsed->Find("governance");
      if (governance == nullptr) break;
      Payload(json::MakeObject({{"version", 1},
                                {"prev_hash", registry::crypto::ZeroB3()},
                                {"governance", *governance},
                                {"items", json::Value(json::Array{item})}}));
    }
  }
  return 0;
}
