// svc-registry: the registry service. Parses the command line and configuration, then runs.
#include <cstdio>
#include <iostream>

#include "registry/config/config.h"
#include "run.h"

extern char** environ;

int main(int argc, char** argv) {
  using registry::config::CommandLine;
  registry::util::Result<CommandLine> cli = registry::config::ParseCommandLine(argc, argv);
  if (!cli.ok()) {
    std::cerr << "svc-registry: " << cli.error().message() << "\n";
    return 2;
  }
  switch (cli->action) {
    case CommandLine::Action::kHelp:
      std::cout << cli->help_text;
      return 0;
    case CommandLine::Action::kVersion:
      std::cout << "svc-registry " << REGISTRY_VERSION << " (commit " << REGISTRY_GIT_COMMIT
                << ")\n";
      return 0;
    default:
      break;
  }
  registry::config::LoadOptions load = cli->load;
  load.env = registry::config::EnvFromEnviron(environ);
  registry::util::Result<registry::config::Config> config = registry::config::Load(load);
  if (!config.ok()) {
    std::cerr << "svc-registry: " << config.error().message() << "\n";
    return 2;
  }
  if (cli->action == CommandLine::Action::kPrintConfig) {
    std::cout << registry::config::DumpToml(*config);
    return 0;
  }
  return registry::app::Run(*config);
}
