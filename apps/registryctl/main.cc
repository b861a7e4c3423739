// registryctl: the operator and signer CLI of svc-registry (SPEC §10). Only wiring: the
// commands live in one file per group (commands.h).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <string>

#include "commands.h"

namespace registry::ctl {
namespace {

int Main(int argc, char** argv) {
  CLI::App app("registryctl: the operator and signer CLI of svc-registry", "registryctl");
  app.set_version_flag("--version", std::string("registryctl ") + REGISTRY_VERSION + " (commit " +
                                        REGISTRY_GIT_COMMIT + ")");
  app.require_subcommand(1);

  CommandList commands;
  AddKeyCommands(app, commands);
  AddOfflineCommands(app, commands);
  AddSignCommand(app, commands);
  AddReadCommands(app, commands);
  AddWriteCommands(app, commands);
  AddWatchCommand(app, commands);
  AddTokenCommand(app, commands);
  AddInitCommand(app, commands);
  AddVerifyCommand(app, commands);
  AddFetchCommand(app, commands);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version are "errors" with exit code 0; CLI11 prints them to stdout.
    if (e.get_exit_code() == 0) return app.exit(e);
    std::fprintf(stderr, "registryctl: %s\nRun 'registryctl --help' for usage.\n", e.what());
    return kExitUsage;
  }
  for (const Command& command : commands) {
    if (command.app->parsed()) return command.run();
  }
  std::fprintf(stderr, "registryctl: no command given\n");
  return kExitUsage;
}

}  // namespace
}  // namespace registry::ctl

int main(int argc, char** argv) {
  try {
    return registry::ctl::Main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "registryctl: internal error: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "registryctl: internal error\n");
  }
  return registry::ctl::kExitFailure;
}
