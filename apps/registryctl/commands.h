// registryctl's command groups (SPEC §10).
//
// Each Add*Commands function registers its subcommands and their options on the root
// CLI::App and appends one Command per subcommand to `commands`; main() parses the command
// line and runs the Command whose subcommand was selected. Options are bound to state owned
// by the Command's closure, so the root App and the CommandList MUST outlive the parse and
// the run. Commands write results to stdout and errors to stderr ("registryctl: ...") and
// return the process exit code; they never throw.
#pragma once

#include <functional>
#include <vector>

namespace CLI {
class App;
}  // namespace CLI

namespace registry::ctl {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // bad input or a failed check
inline constexpr int kExitUsage = 2;    // the command line itself is wrong

struct Command {
  CLI::App* app = nullptr;   // the subcommand; owned by the root App
  std::function<int()> run;  // called after a successful parse; returns the exit code
};

using CommandList = std::vector<Command>;

// keygen, pubkey (keys.cc).
void AddKeyCommands(CLI::App& root, CommandList& commands);

// canon, hash (offline.cc).
void AddOfflineCommands(CLI::App& root, CommandList& commands);

// sign (sign.cc).
void AddSignCommand(CLI::App& root, CommandList& commands);

// head, get, proposals, proposal: the read plane (read_commands.cc).
void AddReadCommands(CLI::App& root, CommandList& commands);

// propose, approve, commit: the write plane (write_commands.cc).
void AddWriteCommands(CLI::App& root, CommandList& commands);

// watch: follows /registry/stream (watch.cc).
void AddWatchCommand(CLI::App& root, CommandList& commands);

// token: mints a capability token from the root key file (token.cc).
void AddTokenCommand(CLI::App& root, CommandList& commands);

// init: a local signer set, trust roots, root key, tokens and example payload (init.cc).
void AddInitCommand(CLI::App& root, CommandList& commands);

// verify: re-check a running registry's whole log (and, with --audit, its audit trail).
void AddVerifyCommand(CLI::App& root, CommandList& commands);

// fetch: mirror a registry's log into an archive directory for `verify --dir` (fetch.cc).
void AddFetchCommand(CLI::App& root, CommandList& commands);

}  // namespace registry::ctl
