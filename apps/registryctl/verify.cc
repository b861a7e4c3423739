// verify: re-checks a running registry's whole history as an outsider (SPEC §10), with the
// same rules the service applies at start-up (core::ChainVerifier): every record's canonical
// form, version sequence, prev_hash chain, payload_b3, every signature, quorum and rotation,
// and the Merkle root against HEAD's. With --audit, also the hash chain of the audit trail
// (admin plane). Exits 1 at the first failure, naming the version (or audit seq) and the rule.
//
// With --verifier-key, also the transparency log (SPEC §5): the signed checkpoint opens with
// that key, its size is at most the verified HEAD and its root is the root of the verified
// log at that size, up to kInclusionSamples inclusion proofs (first, last, random versions)
// lead to it, and with --previous-checkpoint the consistency proof from that older
// checkpoint to this one verifies. --save-checkpoint keeps the verified note for next time.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "cli_io.h"
#include "commands.h"
#include "net.h"
#include "registry/core/audit_log.h"
#include "registry/core/chain_verifier.h"
#include "registry/core/merkle.h"
#include "registry/core/merkle_proof.h"
#include "registry/crypto/base64.h"
#include "registry/crypto/blake3.h"
#include "registry/crypto/ed25519.h"
#include "registry/json/canonical.h"
#include "registry/json/parse.h"
#include "registry/model/governance.h"
#include "registry/tlog/checkpoint.h"
#include "registry/tlog/note_key.h"

namespace registry::ctl {

namespace {

struct VerifyOptions {
  NetOptions net;
  std::string trust_roots;  // the genesis governance (JSON file)
  std::string trust_roots_hash;
  bool audit = false;
  std::string admin_url = "http://127.0.0.1:9909";
  std::int64_t max_items = 100000;
  std::string verifier_key;  // the log's verifier key string, or @FILE
  std::string previous_checkpoint;
  std::string save_checkpoint;
};

// Inclusion proofs checked per run: first, last and random versions.
constexpr std::size_t kInclusionSamples = 16;

util::Result<json::Value> GetJson(http::Client& client, const std::string& target) {
  REGISTRY_ASSIGN_OR_RETURN(http::ClientResponse r, client.Request("GET", target, {}));
  if (r.status != 200) {
    return util::Error(util::ErrorCode::kMalformed,
                       "GET " + target + " answered " + std::to_string(r.status));
  }
  return json::Parse(r.body);
}

// The verifier key from --verifier-key: the key string itself, or @FILE holding it.
util::Result<tlog::NoteVerifierKey> LoadVerifierKey(const std::string& arg) {
  std::string text = arg;
  if (!text.empty() && text.front() == '@') {
    REGISTRY_ASSIGN_OR_RETURN(text, ReadInput(text.substr(1)));
  }
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
    text.pop_back();
  }
  util::Result<tlog::NoteVerifierKey> key = tlog::ParseVerifierKey(text);
  if (!key.ok()) {
    return util::Error(util::ErrorCode::kMalformed, "--verifier-key: " + key.error().message());
  }
  return key;
}

// {"hashes":[base64, ...]} from a proof route.
util::Result<std::vector<core::Hash>> GetProof(http::Client& client, const std::string& target) {
  REGISTRY_ASSIGN_OR_RETURN(json::Value body, GetJson(client, target));
  const json::Value* hashes = body.Find("hashes");
  if (hashes == nullptr || !hashes->is_array()) {
    return util::Error(util::ErrorCode::kMalformed, "GET " + target + " is not {\"hashes\":[...]}");
  }
  std::vector<core::Hash> out;
  for (const json::Value& h : hashes->as_array()) {
    std::optional<std::vector<std::uint8_t>> bytes =
        h.is_string() ? crypto::Base64Decode(h.as_string()) : std::nullopt;
    core::Hash hash{};
    if (!bytes.has_value() || bytes->size() != hash.size()) {
      return util::Error(util::ErrorCode::kMalformed,
                         "GET " + target + ": a hash is not the base64 of 32 bytes");
    }
    std::copy(bytes->begin(), bytes->end(), hash.begin());
    out.push_back(hash);
  }
  return out;
}

// Opens a checkpoint note with the log key; `what` names it in errors.
util::Result<tlog::Checkpoint> OpenLogCheckpoint(std::string_view note,
                                                 const tlog::NoteVerifierKey& key,
                                                 const std::string& what) {
  util::Result<tlog::Checkpoint> cp = tlog::OpenCheckpoint(note, key);
  if (!cp.ok()) {
    return util::Error(
        util::ErrorCode::kInvalidSig,
        what + ": signature does not verify with the given key (" + cp.error().message() + ")");
  }
  if (cp->origin != key.name) {
    return util::Error(
        util::ErrorCode::kInvalidSig,
        what + ": origin \"" + cp->origin + "\" is not the key's name \"" + key.name + "\"");
  }
  return cp;
}

// Replaces `path` with `content` (written beside it, then renamed).
util::Status SaveFile(const std::string& path, std::string_view content) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << content;
    out.flush();
    if (!out) {
      std::error_code ec;
      std::filesystem::remove(tmp, ec);
      return util::Error(util::ErrorCode::kInternal, "cannot write " + tmp);
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    return util::Error(util::ErrorCode::kInternal, "cannot replace " + path);
  }
  return util::Status();
}

// The versions whose inclusion is checked: 1, `size`, and random others (distinct, sorted).
std::vector<std::uint64_t> SampleVersions(std::uint64_t size) {
  std::set<std::uint64_t> picked;
  if (size == 0) return {};
  picked.insert(1);
  picked.insert(size);
  const std::uint64_t want = std::min<std::uint64_t>(kInclusionSamples, size);
  std::mt19937_64 rng(std::random_device{}());
  std::uniform_int_distribution<std::uint64_t> pick(1, size);
  while (picked.size() < want) picked.insert(pick(rng));
  return std::vector<std::uint64_t>(picked.begin(), picked.end());
}

// The transparency-log checks on `note` (fetched before HEAD), once the whole log is verified
// and `leaves` holds the leaf hash of every version.
int VerifyCheckpoint(const VerifyOptions& opts, http::Client& client,
                     const tlog::NoteVerifierKey& key, const std::string& note,
                     std::span<const core::Hash> leaves) {
  util::Result<tlog::Checkpoint> cp = OpenLogCheckpoint(note, key, "checkpoint");
  if (!cp.ok()) return Fail(cp.error());
  const std::string n = std::to_string(cp->size);
  if (cp->size > leaves.size()) {
    return Fail("checkpoint: size " + n + " is beyond the verified HEAD " +
                std::to_string(leaves.size()));
  }
  if (core::RootOfLeafHashes(leaves.first(cp->size)) != cp->root) {
    return Fail("checkpoint: root at size " + n + " does not match the log");
  }
  const std::vector<std::uint64_t> samples = SampleVersions(cp->size);
  for (std::uint64_t v : samples) {
    const std::string target =
        "/registry/proof/inclusion?version=" + std::to_string(v) + "&tree_size=" + n;
    util::Result<std::vector<core::Hash>> proof = GetProof(client, target);
    if (!proof.ok()) {
      return Fail("inclusion of version " + std::to_string(v) +
                  " does not verify: " + proof.error().message());
    }
    util::Status ok = core::VerifyInclusion(v - 1, cp->size, leaves[v - 1], *proof, cp->root);
    if (!ok.ok()) {
      return Fail("inclusion of version " + std::to_string(v) +
                  " does not verify: " + ok.error().message());
    }
  }
  std::fprintf(stderr,
               "registryctl: checkpoint: size %llu signed by %s, root matches the log, %zu "
               "inclusion proofs verified\n",
               static_cast<unsigned long long>(cp->size), key.name.c_str(), samples.size());

  if (!opts.previous_checkpoint.empty()) {
    util::Result<std::string> old_note = ReadInput(opts.previous_checkpoint);
    if (!old_note.ok()) return Fail(old_note.error());
    util::Result<tlog::Checkpoint> old =
        OpenLogCheckpoint(*old_note, key, "previous checkpoint " + opts.previous_checkpoint);
    if (!old.ok()) return Fail(old.error());
    const std::string rule =
        "consistency from " + std::to_string(old->size) + " to " + n + " does not verify";
    if (old->size > cp->size) return Fail(rule + ": the previous checkpoint is larger");
    std::vector<core::Hash> proof;
    if (old->size > 0 && old->size < cp->size) {
      util::Result<std::vector<core::Hash>> fetched = GetProof(
          client, "/registry/proof/consistency?from=" + std::to_string(old->size) + "&to=" + n);
      if (!fetched.ok()) return Fail(rule + ": " + fetched.error().message());
      proof = std::move(fetched).value();
    }
    util::Status ok = core::VerifyConsistency(old->size, cp->size, old->root, cp->root, proof);
    if (!ok.ok()) return Fail(rule + ": " + ok.error().message());
    std::fprintf(stderr, "registryctl: consistency from %llu to %llu verified\n",
                 static_cast<unsigned long long>(old->size),
                 static_cast<unsigned long long>(cp->size));
  }
  if (!opts.save_checkpoint.empty()) {
    util::Status saved = SaveFile(opts.save_checkpoint, note);
    if (!saved.ok()) return Fail(saved.error());
  }
  return kExitOk;
}

int VerifyAudit(const VerifyOptions& opts) {
  NetOptions admin = opts.net;
  admin.url = opts.admin_url;
  util::Result<http::Client> client = MakeClient(admin);
  if (!client.ok()) return Fail(client.error());
  std::uint64_t seq = 0;
  std::string prev = crypto::ZeroB3();
  for (;;) {
    util::Result<http::ClientResponse> r =
        client->Request("GET", "/admin/audit?after=" + std::to_string(seq) + "&limit=1000", {});
    if (!r.ok()) return Fail(r.error());
    if (r->status != 200) return ReportHttpError(*r, client->url_base());
    util::Result<json::Value> page = json::Parse(r->body);
    if (!page.ok() || page->Find("entries") == nullptr || !page->Find("entries")->is_array()) {
      return Fail("the audit page is not {\"entries\":[...]}");
    }
    std::vector<storage::AuditRow> rows;
    for (const json::Value& e : page->Find("entries")->as_array()) {
      const json::Value* s = e.Find("seq");
      std::optional<std::int64_t> n = s != nullptr ? s->AsSafeInteger() : std::nullopt;
      if (!n.has_value() || *n <= 0) return Fail("an audit entry has no valid seq");
      rows.push_back(storage::AuditRow{static_cast<std::uint64_t>(*n), json::Canonicalize(e)});
    }
    util::Status ok = core::VerifyAuditRows(rows, seq, prev);
    if (!ok.ok()) return Fail("audit trail: " + ok.error().message());
    if (rows.size() < 1000) break;
  }
  std::fprintf(stderr, "registryctl: audit trail: %llu entries, chain intact\n",
               static_cast<unsigned long long>(seq));
  return kExitOk;
}

int RunVerify(const VerifyOptions& opts) {
  util::Result<std::string> roots_text = ReadInput(opts.trust_roots);
  if (!roots_text.ok()) return Fail(roots_text.error());
  std::optional<std::string_view> pin;
  if (!opts.trust_roots_hash.empty()) pin = opts.trust_roots_hash;
  util::Result<model::Governance> roots = model::LoadTrustRoots(*roots_text, pin);
  if (!roots.ok()) return Fail(roots.error());

  std::optional<tlog::NoteVerifierKey> log_key;
  if (!opts.verifier_key.empty()) {
    crypto::Init();
    util::Result<tlog::NoteVerifierKey> key = LoadVerifierKey(opts.verifier_key);
    if (!key.ok()) return Fail(key.error());
    log_key = std::move(key).value();
  } else if (!opts.previous_checkpoint.empty() || !opts.save_checkpoint.empty()) {
    return Fail("--previous-checkpoint and --save-checkpoint need --verifier-key");
  }

  util::Result<http::Client> client = MakeClient(opts.net);
  if (!client.ok()) return Fail(client.error());
  // The checkpoint is fetched before HEAD, so that HEAD is at least its size.
  std::string note;
  if (log_key.has_value()) {
    util::Result<http::ClientResponse> r = client->Request("GET", "/registry/checkpoint", {});
    if (!r.ok()) return Fail(r.error());
    if (r->status != 200) {
      return Fail("checkpoint: GET /registry/checkpoint answered " + std::to_string(r->status));
    }
    note = std::move(r->body);
  }
  util::Result<json::Value> head = GetJson(*client, "/registry/head");
  if (!head.ok()) return Fail(head.error());
  util::Result<model::Head> h = model::DecodeHead(*head);
  if (!h.ok()) return Fail(h.error());

  model::PayloadLimits limits;
  limits.max_items = static_cast<std::size_t>(opts.max_items);
  core::ChainVerifier verifier(*roots, limits);
  std::vector<core::Hash> leaves;  // kept only for the checkpoint checks
  for (std::uint64_t v = 1; v <= h->version; ++v) {
    util::Result<http::ClientResponse> r =
        client->Request("GET", "/registry/" + std::to_string(v), {});
    if (!r.ok()) return Fail(r.error());
    if (r->status != 200) {
      return Fail("version " + std::to_string(v) + ": GET answered " + std::to_string(r->status));
    }
    util::Status ok = verifier.Next(r->body);
    if (!ok.ok()) return Fail(ok.error());
    if (log_key.has_value()) leaves.push_back(core::LeafHash(r->body));
  }
  if (verifier.payload_b3() != h->payload_b3) {
    return Fail("HEAD: payload_b3 " + h->payload_b3 + " is not the last version's " +
                verifier.payload_b3());
  }
  if (crypto::Base64Encode(verifier.frontier().Root()) != h->root) {
    return Fail("HEAD: root " + h->root + " is not the Merkle root of the log");
  }
  std::fprintf(stderr,
               "registryctl: %llu versions verified: canonical form, chain, payload hashes, "
               "signatures, quorum, rotation, Merkle root\n",
               static_cast<unsigned long long>(h->version));
  if (log_key.has_value()) {
    if (int rc = VerifyCheckpoint(opts, *client, *log_key, note, leaves); rc != kExitOk) return rc;
  }
  if (!WriteStdout(json::Canonicalize(*head) + "\n")) return Fail("cannot write to stdout");
  return opts.audit ? VerifyAudit(opts) : kExitOk;
}

}  // namespace

void AddVerifyCommand(CLI::App& root, CommandList& commands) {
  auto opts = std::make_shared<VerifyOptions>();
  CLI::App* sub = root.add_subcommand(
      "verify",
      "Fetch the whole log and check every record, hash, signature, quorum, rotation and the "
      "Merkle root; exit 1 at the first failure, naming it");
  sub->add_option("--trust-roots", opts->trust_roots,
                  "The trust-roots file (the genesis governance) the log starts from")
      ->required();
  sub->add_option("--trust-roots-hash", opts->trust_roots_hash,
                  "Pin the trust roots: b3:... of their canonical form");
  sub->add_flag("--audit", opts->audit, "Also verify the audit trail's hash chain");
  sub->add_option("--admin-url", opts->admin_url, "Admin plane URL, for --audit")
      ->capture_default_str();
  sub->add_option("--max-items", opts->max_items, "Largest payload accepted (descriptors)")
      ->capture_default_str();
  sub->add_option("--verifier-key", opts->verifier_key,
                  "The log's verifier key (or @FILE holding it): also check the signed "
                  "checkpoint, its root and sampled inclusion proofs");
  sub->add_option("--previous-checkpoint", opts->previous_checkpoint,
                  "A checkpoint note saved earlier: check the log's consistency from it");
  sub->add_option("--save-checkpoint", opts->save_checkpoint,
                  "Write the verified checkpoint note to this file");
  AddNetOptions(sub, opts->net, false);
  commands.push_back({sub, [opts] { return RunVerify(*opts); }});
}

}  // namespace registry::ctl
