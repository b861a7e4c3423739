// ParseCommandLine(): CLI11 builds the parser; its exceptions (including the ones it uses for
// --help) are caught here and turned into an action or an Error.
#include <CLI/CLI.hpp>
#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "registry/config/config.h"
#include "registry/util/error.h"
#include "registry/util/result.h"

namespace registry::config {
namespace {

// A convenience flag: the same as `--set <key>=<value>`.
struct Shortcut {
  const char* flag;
  const char* key;
  const char* type_name;
  const char* help;
  std::string value;
  CLI::Option* option = nullptr;
};

}  // namespace

util::Result<CommandLine> ParseCommandLine(int argc, const char* const* argv) {
  try {
    CLI::App app{
        "svc-registry: the signed, append-only registry of a fleet's nodes, services and "
        "regions.\nConfiguration: defaults, then --config FILE, then SVCR_* environment "
        "variables, then flags (see docs/CONFIG.md).",
        "svc-registry"};
    std::string config_path;
    std::vector<std::string> sets;
    bool print_config = false;
    bool version = false;
    CLI::Option* config_opt =
        app.add_option("--config", config_path, "TOML configuration file")->type_name("FILE");
    app.add_option("--set", sets,
                   "Set one configuration key (repeatable), e.g. --set limits.rps=100")
        ->type_name("KEY=VALUE")
        ->allow_extra_args(false);
    std::vector<Shortcut> shortcuts = {
        {"--bind", "bind_addr", "HOST:PORT", "API plane listen address (bind_addr)", {}},
        {"--metrics-addr",
         "metrics_addr",
         "HOST:PORT",
         "Admin plane listen address (metrics_addr)",
         {}},
        {"--data-dir", "storage.data_dir", "DIR", "Data directory (storage.data_dir)", {}},
        {"--storage",
         "storage.kind",
         "KIND",
         "Storage backend: sqlite, memory or postgres (storage.kind)",
         {}},
        {"--auth-mode", "auth.mode", "MODE", "Authentication: macaroon or none (auth.mode)", {}},
        {"--log-format", "log.format", "FORMAT", "Log format: json or text (log.format)", {}},
        {"--log-level",
         "log.level",
         "LEVEL",
         "Log level: trace, debug, info, warn or error (log.level)",
         {}},
    };
    for (Shortcut& s : shortcuts) {
      s.option = app.add_option(s.flag, s.value, s.help)->type_name(s.type_name);
    }
    app.add_flag("--print-config", print_config,
                 "Print the effective configuration as TOML (secrets redacted) and exit");
    app.add_flag("--version", version, "Print the version and exit");

    CommandLine out;
    out.help_text = app.help();
    try {
      app.parse(argc, argv);
    } catch (const CLI::CallForHelp&) {
      out.action = CommandLine::Action::kHelp;
      return out;
    } catch (const CLI::ParseError& e) {
      return util::Error(util::ErrorCode::kMalformed,
                         std::string("svc-registry: ") + e.what() + " (see --help)");
    }

    if (config_opt->count() > 0) out.load.config_path = config_path;
    for (const std::string& s : sets) {
      const auto eq = s.find('=');
      if (eq == std::string::npos || eq == 0) {
        return util::Error(util::ErrorCode::kMalformed,
                           "svc-registry: --set expects KEY=VALUE, got \"" + s + "\"");
      }
      out.load.overrides.emplace_back(s.substr(0, eq), s.substr(eq + 1));
    }
    for (const Shortcut& s : shortcuts) {
      if (s.option->count() > 0) out.load.overrides.emplace_back(s.key, s.value);
    }
    if (version) {
      out.action = CommandLine::Action::kVersion;
    } else if (print_config) {
      out.action = CommandLine::Action::kPrintConfig;
    }
    return out;
  } catch (const std::exception& e) {
    // CLI11 reports a mistake in building the parser by throwing; that is a bug here, but it
    // still must not cross the module boundary.
    return util::Error(util::ErrorCode::kInternal,
                       std::string("svc-registry: command-line parser: ") + e.what());
  }
}

KeyValues EnvFromEnviron(const char* const* envp) {
  KeyValues out;
  if (envp == nullptr) return out;
  for (const char* const* e = envp; *e != nullptr; ++e) {
    std::string_view entry(*e);
    if (!entry.starts_with("SVCR_")) continue;
    const auto eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    out.emplace_back(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
  }
  return out;
}

}  // namespace registry::config
