// token: mints a capability token (a macaroon, SPEC §6) from the service's root key file,
// with the scopes asked for and an expiry, and prints it. Anyone holding the root key can
// mint any token: keep the key where the service runs and mint there.
#include "registry/auth/token.h"

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <vector>

#include "cli_io.h"
#include "commands.h"
#include "registry/auth/root_key.h"
#include "registry/config/config.h"
#include "registry/util/clock.h"
#include "token_mint.h"

namespace registry::ctl {

namespace {

struct TokenOptions {
  std::string root_key;
  std::vector<std::string> scopes;
  std::string ttl = "24h";
  std::string id;
};

int RunToken(const TokenOptions& opts) {
  util::Result<std::vector<auth::Scope>> scopes = ParseScopes(opts.scopes);
  if (!scopes.ok()) return Fail(scopes.error());
  util::Result<std::chrono::milliseconds> ttl = config::ParseDuration(opts.ttl);
  if (!ttl.ok()) return Fail("--ttl: " + ttl.error().message());
  if (ttl->count() <= 0) return Fail("--ttl: must be longer than 0s");
  std::string id = opts.id.empty() ? RandomTokenId() : opts.id;
  if (id.size() > auth::kMaxIdentifierBytes) {
    return Fail("--id: longer than " + std::to_string(auth::kMaxIdentifierBytes) + " bytes");
  }
  util::Result<auth::RootKey> key = auth::LoadRootKeyFile(opts.root_key);
  if (!key.ok()) return Fail(key.error());
  const util::UnixMillis expires = util::SystemClock().NowMillis() + ttl->count();
  return Output(auth::Mint(*key, *scopes, expires, id) + "\n");
}

}  // namespace

void AddTokenCommand(CLI::App& root, CommandList& commands) {
  auto opts = std::make_shared<TokenOptions>();
  CLI::App* sub = root.add_subcommand(
      "token", "Mint a capability token from the root key file and print it (a secret)");
  sub->add_option("--root-key", opts->root_key, "The service's root key file (mode 0600)")
      ->required();
  sub->add_option("--scope", opts->scopes,
                  "Scopes, comma-separated: propose, approve, commit, admin (or "
                  "registry:<name>), or all")
      ->required()
      ->delimiter(',');
  sub->add_option("--ttl", opts->ttl, "Lifetime, e.g. 30m, 24h, 720h")->capture_default_str();
  sub->add_option("--id", opts->id,
                  "Token identifier, visible to anyone holding the token (default: random)");
  commands.push_back({sub, [opts] { return RunToken(*opts); }});
}

}  // namespace registry::ctl
