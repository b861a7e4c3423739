// init: everything a local registry needs to start, in one private directory:
//
//   DIR/                       mode 0700 (the service's data_dir)
//     signers/signer-<i>.key   N signer keys (mode 0600, the keygen format)
//     trust_roots.json         the genesis governance: quorum m, signers org:<realm>#k<i>
//     root.key                 the macaroon root key (mode 0600)
//     tokens/<scope>.token     propose, approve, commit, admin tokens (mode 0600, 30 days)
//     example-payload.json     a valid version 1 on the genesis HEAD, ready to propose
//
// Nothing that exists is ever overwritten: every path is checked before anything is created,
// and if a step fails, what this run created is removed again. An existing DIR is used when
// it is a private directory. Prints a JSON report of what it created.
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "cli_io.h"
#include "commands.h"
#include "json_pretty.h"
#include "key_file.h"
#include "new_file.h"
#include "registry/auth/root_key.h"
#include "registry/auth/token.h"
#include "registry/config/config.h"
#include "registry/crypto/base64.h"
#include "registry/crypto/blake3.h"
#include "registry/crypto/ed25519.h"
#include "registry/json/canonical.h"
#include "registry/model/constants.h"
#include "registry/model/governance.h"
#include "registry/model/payload.h"
#include "registry/util/clock.h"
#include "registry/util/time.h"
#include "token_mint.h"

namespace registry::ctl {

namespace {

using util::Error;
using util::ErrorCode;

constexpr std::size_t kMaxRealmLength = 32;

struct InitOptions {
  std::string dir;
  std::int64_t signers = 3;
  std::int64_t quorum = 2;
  std::string realm = "local";
  std::string token_ttl = "720h";
};

// Paths this run created, removed again (newest first) unless Keep() is called.
class Created {
 public:
  ~Created() {
    if (keep_) return;
    for (auto it = paths_.rbegin(); it != paths_.rend(); ++it) ::remove(it->c_str());
  }
  void Add(std::string path) { paths_.push_back(std::move(path)); }
  void Keep() { keep_ = true; }

 private:
  std::vector<std::string> paths_;
  bool keep_ = false;
};

std::string ModeText(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

// An existing directory must be private; a missing one is fine. Anything else is refused.
util::Result<bool> CheckDir(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return false;
    return Error(ErrorCode::kMalformed, "cannot inspect " + path + ": " + std::strerror(errno));
  }
  if (!S_ISDIR(st.st_mode)) {
    return Error(ErrorCode::kMalformed, path + " exists and is not a directory");
  }
  if ((st.st_mode & 077) != 0) {
    return Error(ErrorCode::kMalformed, path + " has permissions " + ModeText(st.st_mode) +
                                            ": it must not be accessible by group or others "
                                            "(chmod 700 " +
                                            path + ")");
  }
  return true;
}

util::Status CheckAbsent(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0) {
    return Error(ErrorCode::kMalformed,
                 path +
                     " already exists; init never overwrites anything (choose another --dir, "
                     "or move the old one away)");
  }
  if (errno != ENOENT) {
    return Error(ErrorCode::kMalformed, "cannot inspect " + path + ": " + std::strerror(errno));
  }
  return util::Status::Ok();
}

util::Status MakePrivateDir(const std::string& path, Created& created) {
  if (::mkdir(path.c_str(), 0700) != 0) {
    return Error(ErrorCode::kMalformed, "cannot create " + path + ": " + std::strerror(errno));
  }
  created.Add(path);
  if (::chmod(path.c_str(), 0700) != 0) {
    return Error(ErrorCode::kMalformed, "cannot chmod " + path + ": " + std::strerror(errno));
  }
  return util::Status::Ok();
}

// The example version 1: three descriptors on the genesis HEAD, governance unchanged.
json::Value ExamplePayload(const model::Governance& governance, const std::string& realm,
                           util::UnixMillis now) {
  const std::string region = realm + "-1";
  json::Array items;
  items.push_back(json::MakeObject({{"kind", "region"},
                                    {"id", "region:" + region},
                                    {"meta", json::MakeObject({{"name", "Local region 1"}})}}));
  items.push_back(json::MakeObject({{"kind", "node"},
                                    {"id", "node:" + realm + "-1"},
                                    {"endpoint", "http://127.0.0.1:7001"},
                                    {"region", region},
                                    {"meta", json::MakeObject({{"role", "worker"}})}}));
  items.push_back(
      json::MakeObject({{"kind", "service"},
                        {"id", "service:echo"},
                        {"endpoint", "http://127.0.0.1:8080"},
                        {"region", region},
                        {"meta", json::MakeObject({{"owner", "ops"}, {"replicas", 1}})}}));
  return json::MakeObject({{"version", 1},
                           {"prev_hash", crypto::ZeroB3()},
                           {"governance", model::EncodeGovernance(governance)},
                           {"items", json::Value(std::move(items))},
                           {"created_at", util::FormatRfc3339Seconds(now)}});
}

util::Status CheckOptions(const InitOptions& opts) {
  if (opts.dir.empty()) return Error(ErrorCode::kMalformed, "--dir: must not be empty");
  if (opts.signers < 1 || opts.signers > static_cast<std::int64_t>(model::kMaxSigners)) {
    return Error(ErrorCode::kMalformed,
                 "--signers: must be from 1 to " + std::to_string(model::kMaxSigners));
  }
  if (opts.quorum < 1 || opts.quorum > opts.signers) {
    return Error(ErrorCode::kMalformed,
                 "--quorum: must be from 1 to --signers (" + std::to_string(opts.signers) + ")");
  }
  if (opts.realm.size() > kMaxRealmLength || !model::IsValidSignerId("org:" + opts.realm + "#k1")) {
    return Error(ErrorCode::kMalformed, "--realm: \"" + opts.realm + "\" must be 1-" +
                                            std::to_string(kMaxRealmLength) +
                                            " characters of [a-z0-9-]");
  }
  return util::Status::Ok();
}

int RunInit(const InitOptions& opts) {
  if (util::Status s = CheckOptions(opts); !s.ok()) return Fail(s.error());
  util::Result<std::chrono::milliseconds> ttl = config::ParseDuration(opts.token_ttl);
  if (!ttl.ok()) return Fail("--token-ttl: " + ttl.error().message());
  if (ttl->count() <= 0) return Fail("--token-ttl: must be longer than 0s");

  std::error_code ec;
  const std::string dir = std::filesystem::absolute(opts.dir, ec).lexically_normal().string();
  if (ec) return Fail("--dir: " + ec.message());
  const std::string root =
      dir.size() > 1 && dir.back() == '/' ? dir.substr(0, dir.size() - 1) : dir;
  const std::string signers_dir = root + "/signers";
  const std::string tokens_dir = root + "/tokens";
  const auto n = static_cast<std::size_t>(opts.signers);
  std::vector<std::string> key_paths;
  for (std::size_t i = 1; i <= n; ++i) {
    key_paths.push_back(signers_dir + "/signer-" + std::to_string(i) + ".key");
  }
  const std::string roots_path = root + "/trust_roots.json";
  const std::string root_key_path = root + "/root.key";
  const std::string example_path = root + "/example-payload.json";
  const std::vector<std::pair<std::string, auth::Scope>> token_files = {
      {"propose", auth::Scope::kPropose},
      {"approve", auth::Scope::kApprove},
      {"commit", auth::Scope::kCommit},
      {"admin", auth::Scope::kAdmin}};

  // Check everything before creating anything.
  util::Result<bool> dir_exists = CheckDir(root);
  if (!dir_exists.ok()) return Fail(dir_exists.error());
  util::Result<bool> signers_exists = CheckDir(signers_dir);
  if (!signers_exists.ok()) return Fail(signers_exists.error());
  util::Result<bool> tokens_exists = CheckDir(tokens_dir);
  if (!tokens_exists.ok()) return Fail(tokens_exists.error());
  std::vector<std::string> files = key_paths;
  files.insert(files.end(), {roots_path, root_key_path, example_path});
  for (const auto& [name, scope] : token_files) files.push_back(tokens_dir + "/" + name + ".token");
  for (const std::string& f : files) {
    if (util::Status s = CheckAbsent(f); !s.ok()) return Fail(s.error());
  }

  Created created;
  if (!*dir_exists) {
    std::filesystem::path parent = std::filesystem::path(root).parent_path();
    std::filesystem::create_directories(parent, ec);
    if (ec) return Fail("cannot create " + parent.string() + ": " + ec.message());
    if (util::Status s = MakePrivateDir(root, created); !s.ok()) return Fail(s.error());
  }
  if (!*signers_exists) {
    if (util::Status s = MakePrivateDir(signers_dir, created); !s.ok()) return Fail(s.error());
  }
  if (!*tokens_exists) {
    if (util::Status s = MakePrivateDir(tokens_dir, created); !s.ok()) return Fail(s.error());
  }

  // Signer keys and the governance they form.
  crypto::Init();
  model::Governance governance;
  governance.m = static_cast<std::uint32_t>(opts.quorum);
  json::Array signer_report;
  for (std::size_t i = 0; i < n; ++i) {
    crypto::Ed25519KeyPair keys = crypto::GenerateEd25519();
    util::Status written = WriteNewSeedFile(key_paths[i], keys.seed);
    ::explicit_bzero(keys.seed.data(), keys.seed.size());
    if (!written.ok()) return Fail(written.error());
    created.Add(key_paths[i]);
    const std::string id = "org:" + opts.realm + "#k" + std::to_string(i + 1);
    governance.signers.push_back(
        model::Signer{id, std::string(model::kAlgoEd25519), keys.public_key});
    signer_report.push_back(json::MakeObject(
        {{"id", id}, {"key", key_paths[i]}, {"pubkey", crypto::Base64Encode(keys.public_key)}}));
  }
  const json::Value governance_json = model::EncodeGovernance(governance);
  const std::string roots_text = PrettyJson(governance_json);
  // The file must load exactly as the service will load it.
  const std::string roots_hash = crypto::PayloadB3(json::Canonicalize(governance_json));
  if (util::Result<model::Governance> check = model::LoadTrustRoots(roots_text, roots_hash);
      !check.ok()) {
    return Fail(check.error());
  }
  if (util::Status s = WriteNewFile(roots_path, roots_text, 0644); !s.ok()) return Fail(s.error());
  created.Add(roots_path);

  // The root key and the tokens minted from it.
  if (util::Status s = auth::WriteRootKeyFile(root_key_path); !s.ok()) return Fail(s.error());
  created.Add(root_key_path);
  util::Result<auth::RootKey> root_key = auth::LoadRootKeyFile(root_key_path);
  if (!root_key.ok()) return Fail(root_key.error());
  const util::UnixMillis now = util::SystemClock().NowMillis();
  const util::UnixMillis expires = now + ttl->count();
  json::Object token_report;
  for (const auto& [name, scope] : token_files) {
    const std::string path = tokens_dir + "/" + name + ".token";
    const auth::Scope scopes[] = {scope};
    std::string token = auth::Mint(*root_key, scopes, expires, RandomTokenId()) + "\n";
    util::Status s = WriteNewFile(path, token, 0600);
    ::explicit_bzero(token.data(), token.size());
    if (!s.ok()) return Fail(s.error());
    created.Add(path);
    token_report.emplace_back(name, path);
  }

  // A payload ready to propose as version 1.
  const json::Value example = ExamplePayload(governance, opts.realm, now);
  util::Result<model::CanonicalPayload> canonical = model::MakeCanonicalPayload(example, {});
  if (!canonical.ok()) return Fail(canonical.error());
  if (util::Status s = WriteNewFile(example_path, PrettyJson(example), 0644); !s.ok()) {
    return Fail(s.error());
  }
  created.Add(example_path);

  created.Keep();
  const json::Value report =
      json::MakeObject({{"dir", root},
                        {"trust_roots", roots_path},
                        {"trust_roots_hash", roots_hash},
                        {"quorum", json::MakeObject({{"m", opts.quorum}, {"n", opts.signers}})},
                        {"signers", json::Value(std::move(signer_report))},
                        {"root_key", root_key_path},
                        {"tokens", json::Value(std::move(token_report))},
                        {"tokens_expire_at", util::FormatRfc3339Seconds(expires)},
                        {"example_payload", example_path},
                        {"example_payload_b3", canonical->payload_b3},
                        {"example_proposal_id", canonical->proposal_id}});
  return Output(PrettyJson(report));
}

}  // namespace

void AddInitCommand(CLI::App& root, CommandList& commands) {
  auto opts = std::make_shared<InitOptions>();
  CLI::App* sub = root.add_subcommand(
      "init",
      "Create a local registry directory: signer keys, trust roots, root key, tokens and an "
      "example payload (never overwrites anything)");
  sub->add_option("--dir", opts->dir, "Directory to create or fill (mode 0700)")->required();
  sub->add_option("--signers", opts->signers, "Number of signer keys (N)")
      ->check(CLI::Range(std::int64_t{1}, static_cast<std::int64_t>(model::kMaxSigners)))
      ->capture_default_str();
  sub->add_option("--quorum", opts->quorum, "Approvals needed to commit (m, 1 ... N)")
      ->check(CLI::Range(std::int64_t{1}, static_cast<std::int64_t>(model::kMaxSigners)))
      ->capture_default_str();
  sub->add_option("--realm", opts->realm, "Realm of the signer ids org:<realm>#k<i>")
      ->capture_default_str();
  sub->add_option("--token-ttl", opts->token_ttl, "Lifetime of the tokens")->capture_default_str();
  commands.push_back({sub, [opts] { return RunInit(*opts); }});
}

}  // namespace registry::ctl
