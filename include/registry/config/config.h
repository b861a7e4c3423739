// The service's configuration (SPEC §9): built-in defaults, then a TOML file (`--config`),
// then the environment (`SVCR_` + upper-cased key with `.` → `__`), then command-line flags;
// each layer overrides the one before it. Every key is documented in docs/CONFIG.md.
//
// Loading is fail-closed: an unknown key (in the file or as an SVCR_ variable), a value of the
// wrong type or out of range, or an inconsistent combination of keys is an Error
// (ErrorCode::kMalformed) whose message names the key and where its value came from, e.g.
//   config: limits.inflight: must be between 1 and 1000000, got 0 (from env
//   SVCR_LIMITS__INFLIGHT)
// No exception escapes this module (toml++ and CLI11 throw internally; both are caught here).
//
// Config is a plain value type owned by the caller; it holds no handles. The functions here are
// safe to call from any thread; the only I/O is Load() reading the --config file and, for both
// Load() and LoadFromText(), storage.postgres_url_file.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "registry/util/result.h"

namespace registry::config {

using std::chrono::milliseconds;

enum class StorageKind : std::uint8_t { kSqlite, kMemory, kPostgres };
enum class AuthMode : std::uint8_t { kMacaroon, kNone };
enum class RetentionPolicy : std::uint8_t { kNone, kByCount, kByAge };
enum class LogFormat : std::uint8_t { kJson, kText };
enum class LogLevel : std::uint8_t { kTrace, kDebug, kInfo, kWarn, kError };

// The configuration spellings: "sqlite", "macaroon", "by-count", "json", "info", ...
std::string_view Name(StorageKind v);
std::string_view Name(AuthMode v);
std::string_view Name(RetentionPolicy v);
std::string_view Name(LogFormat v);
std::string_view Name(LogLevel v);

struct Limits {
  std::int64_t inflight = 512;            // concurrent requests in flight; past it, 429
  std::int64_t rps = 0;                   // requests per second; 0 = no rate cap
  std::int64_t max_body_bytes = 1048576;  // request body cap (413), 1 KiB … 64 MiB
  std::int64_t max_header_bytes = 16384;  // request header cap
  std::int64_t max_items = 100000;        // descriptors per payload (SPEC §1.2)
  bool operator==(const Limits&) const = default;
};

struct Storage {
  StorageKind kind = StorageKind::kSqlite;
  std::string data_dir = "./data";
  bool fsync = true;
  milliseconds checkpoint_interval{30'000};
  // The PostgreSQL connection string. A secret: never logged; DumpToml() redacts it. When
  // storage.kind = postgres, Load() fills it from postgres_url_file if that is set instead.
  std::string postgres_url;
  std::string postgres_url_file;
  bool group_commit = true;
  bool operator==(const Storage&) const = default;
};

struct Governance {
  milliseconds proposal_ttl{72LL * 3600 * 1000};
  std::int64_t max_pending = 1024;
  milliseconds max_clock_skew{5 * 60 * 1000};
  bool auto_commit = false;
  bool operator==(const Governance&) const = default;
};

struct Bootstrap {
  std::string trust_roots_path;  // "" = <storage.data_dir>/trust_roots.json
  std::string trust_roots_hash;  // "" = not pinned; else "b3:" + 64 lower-case hex
  bool operator==(const Bootstrap&) const = default;
};

struct Auth {
  AuthMode mode = AuthMode::kMacaroon;
  std::string root_key_path;  // "" = <storage.data_dir>/root.key
  bool operator==(const Auth&) const = default;
};

struct Sse {
  milliseconds heartbeat{15'000};
  std::int64_t queue_len = 256;
  std::int64_t max_clients = 10000;
  bool operator==(const Sse&) const = default;
};

struct Retention {
  RetentionPolicy policy = RetentionPolicy::kNone;
  std::int64_t keep_min = 100;
  std::int64_t keep_versions = 0;  // by-count
  milliseconds max_age{0};         // by-age
  bool operator==(const Retention&) const = default;
};

struct Tlog {
  std::string origin;
  std::string signing_key_path;
  bool operator==(const Tlog&) const = default;
};

struct Tls {
  bool enabled = false;
  std::string cert_path;
  std::string key_path;
  bool operator==(const Tls&) const = default;
};

struct Log {
  LogFormat format = LogFormat::kJson;
  LogLevel level = LogLevel::kInfo;
  bool operator==(const Log&) const = default;
};

struct Cache {
  std::int64_t record_entries = 1024;  // LRU of recent commit records
  bool operator==(const Cache&) const = default;
};

// Where the effective value of a key came from, for `--print-config` and error messages.
struct Origin {
  enum class Kind : std::uint8_t { kDefault, kFile, kEnv, kFlag };
  Kind kind = Kind::kDefault;
  // kFile: "path:line:column" (or the path of storage.postgres_url_file); kEnv: the variable
  // name; kFlag: empty (LoadOptions::overrides do not say which flag set them).
  std::string where;
  // "default", "file a.toml:3:1", "env SVCR_BIND_ADDR", "command line".
  std::string ToString() const;
  bool operator==(const Origin&) const = default;
};

// The effective configuration. Default member values are the built-in defaults; a
// default-constructed Config is valid.
struct Config {
  std::string bind_addr = "127.0.0.1:9444";     // API plane
  std::string metrics_addr = "127.0.0.1:9909";  // admin plane
  // I/O threads, and as many stream fan-out threads; 0 = number of cores.
  std::int64_t threads = 0;
  std::int64_t max_conns = 1024;
  milliseconds read_timeout{5'000};
  milliseconds write_timeout{5'000};
  milliseconds idle_timeout{60'000};
  milliseconds drain_deadline{3'000};
  Limits limits;
  Storage storage;
  Governance governance;
  Bootstrap bootstrap;
  Auth auth;
  Sse sse;
  Retention retention;
  Tlog tlog;
  Tls tls;
  Log log;
  Cache cache;
  // Key → origin, for every key whose value did not come from the defaults.
  std::map<std::string, Origin, std::less<>> origins;

  bool operator==(const Config&) const = default;
};

using KeyValues = std::vector<std::pair<std::string, std::string>>;

struct LoadOptions {
  // The TOML file (--config); nullopt = none.
  std::optional<std::string> config_path;
  // Environment entries (name, value). Entries whose name does not start with "SVCR_" are
  // ignored, so the whole environment may be passed; every SVCR_ entry MUST name a key.
  KeyValues env;
  // Command-line overrides (key, value as text), applied in order; later entries win.
  KeyValues overrides;
};

// Loads defaults ← file ← env ← overrides, then validates. Errors are kMalformed, or
// kNotFound when the --config file does not exist.
util::Result<Config> Load(const LoadOptions& opts);

// As Load(), with the file layer given as TOML text (`source_name` names it in messages);
// opts.config_path MUST be empty. For tests and the fuzzer.
util::Result<Config> LoadFromText(std::string_view toml_text, std::string_view source_name,
                                  const LoadOptions& opts = {});

// What the svc-registry command line asks for.
struct CommandLine {
  enum class Action : std::uint8_t { kRun, kPrintConfig, kHelp, kVersion };
  Action action = Action::kRun;
  LoadOptions load;       // env is left empty: the caller adds EnvFromEnviron(environ)
  std::string help_text;  // the usage text (always filled; printed for kHelp)
};

// Parses the svc-registry command line: --config FILE, --set key=value (repeatable), the
// convenience flags --bind, --metrics-addr, --data-dir, --storage, --auth-mode, --log-format,
// --log-level (each the same as --set of one key, applied after all --set entries), and
// --print-config, --version, -h/--help. Never exits the process. An unknown flag, a stray
// argument or a --set without '=' is kMalformed. Key names and values are only checked by
// Load(). REQUIRES: argv holds argc entries.
util::Result<CommandLine> ParseCommandLine(int argc, const char* const* argv);

// The SVCR_* entries of a NULL-terminated environ array, in order. Other entries are skipped.
KeyValues EnvFromEnviron(const char* const* envp);

// The effective configuration as a TOML document that Load() accepts back, every key
// present, grouped in tables; values not from the defaults carry a "# from ..." comment.
// storage.postgres_url is written as "<redacted>" when set.
std::string DumpToml(const Config& config);

// "<integer><unit>" with unit ms, s, m or h: "250ms", "5s", "15m", "72h", "0s". No sign,
// no fraction, no bare number, no spaces, no compound ("1h30m"); overflow is an error.
util::Result<milliseconds> ParseDuration(std::string_view text);
// The inverse: the largest unit that represents `d` exactly ("90s" → "90s", 7200000 → "2h").
// REQUIRES: d >= 0.
std::string FormatDuration(milliseconds d);

// A listen address: "host:port" or "[ipv6]:port"; host is an IPv4 literal, a DNS name or an
// IPv6 literal in brackets (returned without them); port 0 … 65535 (0 = any free port).
struct HostPort {
  std::string host;
  std::uint16_t port = 0;
  bool operator==(const HostPort&) const = default;
};
util::Result<HostPort> ParseHostPort(std::string_view text);

// Paths with a documented default relative to storage.data_dir.
std::string EffectiveTrustRootsPath(const Config& config);  // else <data_dir>/trust_roots.json
std::string EffectiveRootKeyPath(const Config& config);     // else <data_dir>/root.key
// threads, or the number of cores (at least 1) when threads = 0.
int EffectiveThreads(const Config& config);

// One configuration key, for documentation and tooling.
struct KeyInfo {
  std::string_view key;   // "limits.inflight"
  std::string_view type;  // "bool", "integer", "string", "duration", "enum", "address"
  std::string env;        // "SVCR_LIMITS__INFLIGHT"
  std::string_view flag;  // convenience flag, e.g. "--bind", or ""
};
// Every key Load() knows, in DumpToml() order.
std::vector<KeyInfo> Keys();

// The environment variable of `key`: "SVCR_" + upper-cased key with "." → "__".
std::string EnvName(std::string_view key);

}  // namespace registry::config
