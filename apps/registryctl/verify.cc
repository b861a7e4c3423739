// verify: re-checks a registry's whole history as an outsider (SPEC §5, §10), with the same
// rules the service applies at start-up (core::ChainVerifier), from a running registry (--url)
// or from an archive made by `registryctl fetch` (--dir): the checks are those of CheckLog
// (log_check.h; rules and exit codes in docs/TRANSPARENCY.md). With --verifier-key, also the
// signed checkpoint, sampled inclusion proofs and, with --previous-checkpoint, consistency
// from an older checkpoint; --save-checkpoint keeps the verified note for next time. With
// --audit, also the hash chain of the audit trail (admin plane, network only).
//
// Exit codes: 0 verified; 1 a check failed (naming the version, or audit seq, and the rule)
// or the source could not be read; 2 usage; 3 (kExitIncomplete) a version is pruned at the
// server, so only an archive made before pruning can be verified in full.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "archive.h"
#include "cli_io.h"
#include "commands.h"
#include "dir_log_source.h"
#include "http_log_source.h"
#include "log_check.h"
#include "net.h"
#include "registry/core/audit_log.h"
#include "registry/crypto/blake3.h"
#include "registry/crypto/ed25519.h"
#include "registry/json/canonical.h"
#include "registry/json/parse.h"
#include "registry/model/governance.h"
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
  std::string dir;  // an archive made by `registryctl fetch`, instead of --url
  int threads = 0;  // verification workers; 0: one per core
};

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
  if (!opts.dir.empty() && !opts.net.url.empty()) {
    return Fail("--dir and --url are exclusive: verify either an archive or a server");
  }
  if (!opts.dir.empty() && opts.audit) {
    return Fail("--audit needs a server: an archive holds no audit trail");
  }
  util::Result<std::string> roots_text = ReadInput(opts.trust_roots);
  if (!roots_text.ok()) return Fail(roots_text.error());
  std::optional<std::string_view> pin;
  if (!opts.trust_roots_hash.empty()) pin = opts.trust_roots_hash;
  util::Result<model::Governance> roots = model::LoadTrustRoots(*roots_text, pin);
  if (!roots.ok()) return Fail(roots.error());

  crypto::Init();  // before any signature is checked, on any thread
  LogCheckOptions check;
  check.trust_roots = std::move(roots).value();
  check.limits.max_items = static_cast<std::size_t>(opts.max_items);
  check.threads = opts.threads > 0 ? static_cast<std::size_t>(opts.threads)
                                   : std::max(1u, std::thread::hardware_concurrency());
  check.progress = [](const std::string& line) {
    std::fprintf(stderr, "registryctl: %s\n", line.c_str());
  };
  if (!opts.verifier_key.empty()) {
    util::Result<tlog::NoteVerifierKey> key = LoadVerifierKey(opts.verifier_key);
    if (!key.ok()) return Fail(key.error());
    check.log_key = std::move(key).value();
  } else if (!opts.previous_checkpoint.empty() || !opts.save_checkpoint.empty()) {
    return Fail("--previous-checkpoint and --save-checkpoint need --verifier-key");
  }
  if (!opts.previous_checkpoint.empty()) {
    util::Result<std::string> old_note = ReadInput(opts.previous_checkpoint);
    if (!old_note.ok()) return Fail(old_note.error());
    check.previous_checkpoint = std::move(old_note).value();
    check.previous_checkpoint_name = opts.previous_checkpoint;
  }

  std::unique_ptr<LogSource> source;
  if (!opts.dir.empty()) {
    util::Result<std::unique_ptr<DirLogSource>> dir = DirLogSource::Open(opts.dir);
    if (!dir.ok()) return Fail(dir.error());
    source = std::move(dir).value();
  } else {
    util::Result<http::Client> client = MakeClient(opts.net);
    if (!client.ok()) return Fail(client.error());
    source = std::make_unique<HttpLogSource>(std::move(client).value());
  }

  util::Result<LogCheckResult> checked = CheckLog(*source, check);
  if (!checked.ok()) {
    Fail(checked.error());
    return checked.error().code() == util::ErrorCode::kPruned ? kExitIncomplete : kExitFailure;
  }
  if (!opts.dir.empty()) {
    const std::uint64_t highest = static_cast<DirLogSource&>(*source).HighestRecord();
    if (highest > checked->versions) {
      std::fprintf(stderr,
                   "registryctl: note: the archive holds records up to version %llu beyond its "
                   "head.json (an interrupted fetch?); they were not verified\n",
                   static_cast<unsigned long long>(highest));
    }
  }
  if (!opts.save_checkpoint.empty()) {
    util::Status saved = ReplaceFile(opts.save_checkpoint, checked->checkpoint_note);
    if (!saved.ok()) return Fail(saved.error());
  }
  if (!WriteStdout(json::Canonicalize(checked->head) + "\n")) {
    return Fail("cannot write to stdout");
  }
  return opts.audit ? VerifyAudit(opts) : kExitOk;
}

}  // namespace

void AddVerifyCommand(CLI::App& root, CommandList& commands) {
  auto opts = std::make_shared<VerifyOptions>();
  CLI::App* sub = root.add_subcommand(
      "verify",
      "Fetch the whole log (or read an archive made by fetch) and check every record, hash, "
      "signature, quorum, rotation and the Merkle root; exit 1 at the first failure, naming "
      "it, 3 when the server has pruned versions (verify an archive instead)");
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
  sub->add_option("--dir", opts->dir,
                  "Verify the archive in this directory (made by `registryctl fetch`) instead "
                  "of a server");
  sub->add_option("--threads", opts->threads,
                  "Signature-checking threads (default 0: one per core)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  AddNetOptions(sub, opts->net, false);
  commands.push_back({sub, [opts] { return RunVerify(*opts); }});
}

}  // namespace registry::ctl
