// head, get, proposals, proposal: the read plane (SPEC §2.1). Reads need no token. Each
// prints the service's JSON on stdout; `get` prints the commit record's exact bytes, so that
// `registryctl get 7 | b3sum` checks against the version's Merkle leaf.
#include <CLI/CLI.hpp>
#include <cstdint>
#include <memory>
#include <string>

#include "cli_io.h"
#include "commands.h"
#include "net.h"
#include "registry/model/payload.h"

namespace registry::ctl {

namespace {

// A decimal without sign or leading zeros, as the service's routes take it.
bool IsVersionNumber(const std::string& s) {
  if (s.empty() || s.size() > 16 || (s.size() > 1 && s[0] == '0')) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

int RunGet(const NetOptions& net, const std::string& target, bool exact = false) {
  util::Result<http::Client> client = MakeClient(net);
  if (!client.ok()) return Fail(client.error());
  return PrintResponse(client->Request("GET", target, {{"Accept", "application/json"}}),
                       client->url_base(), exact);
}

struct GetOptions {
  NetOptions net;
  std::string version;
};

struct ProposalsOptions {
  NetOptions net;
  std::int64_t limit = 0;
  std::string after;
};

struct ProposalOptions {
  NetOptions net;
  std::string id;
};

}  // namespace

void AddReadCommands(CLI::App& root, CommandList& commands) {
  {
    auto opts = std::make_shared<NetOptions>();
    CLI::App* sub =
        root.add_subcommand("head", "Print HEAD: {version, payload_b3, committed_at, root}");
    AddNetOptions(sub, *opts, false);
    commands.push_back({sub, [opts] { return RunGet(*opts, "/registry/head"); }});
  }
  {
    auto opts = std::make_shared<GetOptions>();
    CLI::App* sub = root.add_subcommand(
        "get", "Print the commit record of a version: its exact canonical bytes, no newline");
    sub->add_option("version", opts->version, "Version number (1 ... HEAD)")->required();
    AddNetOptions(sub, opts->net, false);
    commands.push_back({sub, [opts] {
                          if (!IsVersionNumber(opts->version)) {
                            return Fail("version \"" + opts->version +
                                        "\" is not a version number (1, 2, ...)");
                          }
                          return RunGet(opts->net, "/registry/" + opts->version, true);
                        }});
  }
  {
    auto opts = std::make_shared<ProposalsOptions>();
    CLI::App* sub =
        root.add_subcommand("proposals", "List pending proposals, newest first (one page)");
    sub->add_option("--limit", opts->limit, "Page size (the service allows 1 ... 100; default 50)")
        ->check(CLI::Range(std::int64_t{1}, std::int64_t{1000}));
    sub->add_option("--after", opts->after,
                    "Continue after this proposal id (the previous page's \"next\")");
    AddNetOptions(sub, opts->net, false);
    commands.push_back({sub, [opts] {
                          std::string target = "/registry/proposals";
                          std::string sep = "?";
                          if (opts->limit > 0) {
                            target += sep + "limit=" + std::to_string(opts->limit);
                            sep = "&";
                          }
                          if (!opts->after.empty()) {
                            if (!model::IsWellFormedProposalId(opts->after)) {
                              return Fail("--after: \"" + opts->after +
                                          "\" is not a proposal id (p_ + 24 hex digits)");
                            }
                            target += sep + "after=" + opts->after;
                          }
                          return RunGet(opts->net, target);
                        }});
  }
  {
    auto opts = std::make_shared<ProposalOptions>();
    CLI::App* sub = root.add_subcommand(
        "proposal", "Show one proposal: payload, payload_b3, status, approvals, quorum");
    sub->add_option("proposal_id", opts->id, "Proposal id (p_ + 24 hex digits)")->required();
    AddNetOptions(sub, opts->net, false);
    commands.push_back({sub, [opts] {
                          if (!model::IsWellFormedProposalId(opts->id)) {
                            return Fail("\"" + opts->id +
                                        "\" is not a proposal id (p_ + 24 hex digits)");
                          }
                          return RunGet(opts->net, "/registry/proposals/" + opts->id);
                        }});
  }
}

}  // namespace registry::ctl
