// verify: re-checks a running registry's whole history as an outsider (SPEC §10), with the
// same rules the service applies at start-up (core::ChainVerifier): every record's canonical
// form, version sequence, prev_hash chain, payload_b3, every signature, quorum and rotation,
// and the Merkle root against HEAD's. With --audit, also the hash chain of the audit trail
// (admin plane). Exits 1 at the first failure, naming the version (or audit seq) and the rule.
#include <CLI/CLI.hpp>
#include <cstdint>
#include <memory>
#include <string>

#include "cli_io.h"
#include "commands.h"
#include "net.h"
#include "registry/core/audit_log.h"
#include "registry/core/chain_verifier.h"
#include "registry/crypto/base64.h"
#include "registry/crypto/blake3.h"
#include "registry/json/canonical.h"
#include "registry/json/parse.h"
#include "registry/model/governance.h"

namespace registry::ctl {

namespace {

struct VerifyOptions {
  NetOptions net;
  std::string trust_roots;  // the genesis governance (JSON file)
  std::string trust_roots_hash;
  bool audit = false;
  std::string admin_url = "http://127.0.0.1:9909";
  std::int64_t max_items = 100000;
};

util::Result<json::Value> GetJson(http::Client& client, const std::string& target) {
  REGISTRY_ASSIGN_OR_RETURN(http::ClientResponse r, client.Request("GET", target, {}));
  if (r.status != 200) {
    return util::Error(util::ErrorCode::kMalformed,
                       "GET " + target + " answered " + std::to_string(r.status));
  }
  return json::Parse(r.body);
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

  util::Result<http::Client> client = MakeClient(opts.net);
  if (!client.ok()) return Fail(client.error());
  util::Result<json::Value> head = GetJson(*client, "/registry/head");
  if (!head.ok()) return Fail(head.error());
  util::Result<model::Head> h = model::DecodeHead(*head);
  if (!h.ok()) return Fail(h.error());

  model::PayloadLimits limits;
  limits.max_items = static_cast<std::size_t>(opts.max_items);
  core::ChainVerifier verifier(*roots, limits);
  for (std::uint64_t v = 1; v <= h->version; ++v) {
    util::Result<http::ClientResponse> r =
        client->Request("GET", "/registry/" + std::to_string(v), {});
    if (!r.ok()) return Fail(r.error());
    if (r->status != 200) {
      return Fail("version " + std::to_string(v) + ": GET answered " + std::to_string(r->status));
    }
    util::Status ok = verifier.Next(r->body);
    if (!ok.ok()) return Fail(ok.error());
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
  AddNetOptions(sub, opts->net, false);
  commands.push_back({sub, [opts] { return RunVerify(*opts); }});
}

}  // namespace registry::ctl
