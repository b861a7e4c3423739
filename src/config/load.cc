// Load(): defaults ← TOML file ← SVCR_ environment ← command-line overrides, then the checks
// that span several keys. toml++ reports syntax errors by throwing; the exception stops here.
#include <fcntl.h>
#include <sys/stat.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include "keys.h"
#include "registry/config/config.h"
#include "registry/util/error.h"
#include "registry/util/result.h"

namespace registry::config {
namespace {

using internal::KeySpec;
using internal::Kind;
using internal::Value;

constexpr std::size_t kMaxConfigFileBytes = 1 << 20;
constexpr std::size_t kMaxSecretFileBytes = 64 << 10;

util::Error Malformed(std::string message) {
  return util::Error(util::ErrorCode::kMalformed, std::move(message));
}

// Reads at most `limit` bytes of `fd`; more is an error.
util::Result<std::string> ReadAll(int fd, std::size_t limit, std::string_view what) {
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Malformed("config: cannot read " + std::string(what) + ": " + std::strerror(errno));
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > limit) {
      return Malformed("config: " + std::string(what) + " is larger than " + std::to_string(limit) +
                       " bytes");
    }
  }
  return out;
}

// Closes the descriptor on every path out.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

std::string_view TomlTypeName(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::table:
      return "table";
    case toml::node_type::array:
      return "array";
    case toml::node_type::string:
      return "string";
    case toml::node_type::integer:
      return "integer";
    case toml::node_type::floating_point:
      return "float";
    case toml::node_type::boolean:
      return "boolean";
    case toml::node_type::date:
      return "date";
    case toml::node_type::time:
      return "time";
    case toml::node_type::date_time:
      return "date-time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

Origin FileOrigin(std::string_view source_name, const toml::source_region& where) {
  return Origin{.kind = Origin::Kind::kFile,
                .where = std::string(source_name) + ":" + std::to_string(where.begin.line) + ":" +
                         std::to_string(where.begin.column)};
}

util::Error UnknownKey(std::string_view name, const Origin& origin) {
  std::string message = "config: unknown key \"" + std::string(name) + "\"";
  std::string_view suggestion = internal::Suggest(name);
  if (!suggestion.empty()) message += " (did you mean \"" + std::string(suggestion) + "\"?)";
  message += " (from " + origin.ToString() + ")";
  return Malformed(std::move(message));
}

util::Status ApplyNode(Config& config, const KeySpec& spec, const toml::node& node,
                       const Origin& origin) {
  auto wrong_type = [&] {
    return internal::KeyError(
        spec.name,
        "expected " + internal::ExpectedType(spec) + ", got " + std::string(TomlTypeName(node)),
        origin);
  };
  switch (spec.kind) {
    case Kind::kBool:
      if (const auto* b = node.as_boolean()) {
        return internal::Assign(config, spec, b->get(), origin);
      }
      return wrong_type();
    case Kind::kInt:
      if (const auto* i = node.as_integer()) {
        return internal::Assign(config, spec, std::int64_t{i->get()}, origin);
      }
      return wrong_type();
    case Kind::kDuration:
    case Kind::kString:
    case Kind::kEnum:
    case Kind::kAddr: {
      const auto* s = node.as_string();
      if (s == nullptr) return wrong_type();
      REGISTRY_ASSIGN_OR_RETURN(Value value, internal::ParseText(spec, s->get(), origin));
      return internal::Assign(config, spec, std::move(value), origin);
    }
  }
  return wrong_type();
}

util::Status ApplyTable(Config& config, const toml::table& table, std::string_view section,
                        std::string_view source_name) {
  for (auto&& [key, node] : table) {
    const Origin origin = FileOrigin(source_name, key.source());
    // A quoted key holding a dot ("limits.inflight" = 1) is not the dotted key; refuse it
    // rather than guess.
    if (key.str().find('.') != std::string_view::npos)
      return UnknownKey(std::string(key.str()), origin);
    const std::string name = section.empty() ? std::string(key.str())
                                             : std::string(section) + "." + std::string(key.str());
    const KeySpec* spec = internal::FindKey(name);
    if (spec == nullptr) {
      if (section.empty() && internal::IsSection(name)) {
        if (const auto* sub = node.as_table()) {
          REGISTRY_RETURN_IF_ERROR(ApplyTable(config, *sub, name, source_name));
          continue;
        }
        return Malformed("config: " + name + ": expected a table, got " +
                         std::string(TomlTypeName(node)) + " (from " + origin.ToString() + ")");
      }
      return UnknownKey(name, origin);
    }
    REGISTRY_RETURN_IF_ERROR(ApplyNode(config, *spec, node, origin));
  }
  return util::Status::Ok();
}

util::Status ApplyTomlText(Config& config, std::string_view text, std::string_view source_name) {
  toml::table root;
  try {
    root = toml::parse(text, source_name);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source();
    return Malformed("config: " + std::string(source_name) + ":" +
                     std::to_string(where.begin.line) + ":" + std::to_string(where.begin.column) +
                     ": invalid TOML: " + std::string(e.description()));
  } catch (const std::exception& e) {
    return Malformed("config: " + std::string(source_name) + ": invalid TOML: " + e.what());
  }
  return ApplyTable(config, root, "", source_name);
}

util::Status ApplyEnv(Config& config, const KeyValues& env) {
  for (const auto& [name, value] : env) {
    if (!name.starts_with("SVCR_")) continue;
    const Origin origin{.kind = Origin::Kind::kEnv, .where = name};
    const KeySpec* spec = internal::FindKeyByEnv(name);
    if (spec == nullptr) {
      std::string message = "config: unknown environment variable " + name;
      std::string suggestion = internal::SuggestEnv(name);
      if (!suggestion.empty()) message += " (did you mean " + suggestion + "?)";
      return Malformed(std::move(message));
    }
    REGISTRY_ASSIGN_OR_RETURN(Value v, internal::ParseText(*spec, value, origin));
    REGISTRY_RETURN_IF_ERROR(internal::Assign(config, *spec, std::move(v), origin));
  }
  return util::Status::Ok();
}

util::Status ApplyOverrides(Config& config, const KeyValues& overrides) {
  const Origin origin{.kind = Origin::Kind::kFlag, .where = ""};
  for (const auto& [key, value] : overrides) {
    const KeySpec* spec = internal::FindKey(key);
    if (spec == nullptr) return UnknownKey(key, origin);
    REGISTRY_ASSIGN_OR_RETURN(Value v, internal::ParseText(*spec, value, origin));
    REGISTRY_RETURN_IF_ERROR(internal::Assign(config, *spec, std::move(v), origin));
  }
  return util::Status::Ok();
}

const Origin& OriginOf(const Config& config, std::string_view key) {
  static const Origin kDefault;
  auto it = config.origins.find(key);
  return it == config.origins.end() ? kDefault : it->second;
}

util::Error CrossKeyError(const Config& config, std::string_view key, std::string_view message) {
  return internal::KeyError(key, message, OriginOf(config, key));
}

// For a key that is only wrong because of another one (`because`): when the key itself still
// has its default, the message names where `because` was set instead.
util::Error CrossKeyError(const Config& config, std::string_view key, std::string_view message,
                          std::string_view because) {
  const Origin& origin = OriginOf(config, key);
  const Origin& trigger = OriginOf(config, because);
  if (origin.kind != Origin::Kind::kDefault || trigger.kind == Origin::Kind::kDefault) {
    return internal::KeyError(key, message, origin);
  }
  return Malformed("config: " + std::string(key) + ": " + std::string(message) + " (" +
                   std::string(because) + " from " + trigger.ToString() + ")");
}

// The secret file holding storage.postgres_url: a regular file that neither group nor others
// may read (0600 or stricter), as for auth.root_key_path.
util::Status ReadPostgresUrlFile(Config& config) {
  const std::string& path = config.storage.postgres_url_file;
  constexpr std::string_view kKey = "storage.postgres_url_file";
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (fd.get() < 0) {
    return CrossKeyError(config, kKey, "cannot open \"" + path + "\": " + std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return CrossKeyError(config, kKey, "cannot stat \"" + path + "\": " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    return CrossKeyError(config, kKey, "\"" + path + "\" is not a regular file");
  }
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return CrossKeyError(config, kKey,
                         "\"" + path +
                             "\" must not be accessible by group or others (mode 0600), has "
                             "mode " +
                             mode);
  }
  REGISTRY_ASSIGN_OR_RETURN(std::string text,
                            ReadAll(fd.get(), kMaxSecretFileBytes, "storage.postgres_url_file"));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ' ||
                           text.back() == '\t')) {
    text.pop_back();
  }
  if (text.empty()) return CrossKeyError(config, kKey, "\"" + path + "\" is empty");
  const Origin origin{.kind = Origin::Kind::kFile, .where = path};
  return internal::Assign(config, *internal::FindKey("storage.postgres_url"), std::move(text),
                          origin);
}

bool IsLoopback(const std::string& addr) {
  auto hp = ParseHostPort(addr);
  if (!hp.ok()) return false;
  const std::string& h = hp->host;
  return h == "localhost" || h == "::1" || h.starts_with("127.");
}

// Checks that involve more than one key, after every layer is applied.
util::Status CheckCombination(Config& config) {
  if (config.storage.kind == StorageKind::kPostgres) {
    if (!config.storage.postgres_url_file.empty()) {
      if (!config.storage.postgres_url.empty()) {
        return CrossKeyError(config, "storage.postgres_url_file",
                             "set together with storage.postgres_url; set only one");
      }
      REGISTRY_RETURN_IF_ERROR(ReadPostgresUrlFile(config));
    }
    if (config.storage.postgres_url.empty()) {
      return CrossKeyError(config, "storage.postgres_url",
                           "required when storage.kind = \"postgres\" (or set "
                           "storage.postgres_url_file)",
                           "storage.kind");
    }
  }
  if (config.tls.enabled) {
    if (config.tls.cert_path.empty()) {
      return CrossKeyError(config, "tls.cert_path", "required when tls.enabled = true",
                           "tls.enabled");
    }
    if (config.tls.key_path.empty()) {
      return CrossKeyError(config, "tls.key_path", "required when tls.enabled = true",
                           "tls.enabled");
    }
  }
  if (!config.tlog.signing_key_path.empty() && config.tlog.origin.empty()) {
    return CrossKeyError(config, "tlog.origin",
                         "required when tlog.signing_key_path is set (the log key's name must "
                         "equal it)",
                         "tlog.signing_key_path");
  }
  if (config.retention.policy == RetentionPolicy::kByCount &&
      config.retention.keep_versions < config.retention.keep_min) {
    return CrossKeyError(config, "retention.keep_versions",
                         "must be at least retention.keep_min (" +
                             std::to_string(config.retention.keep_min) +
                             ") when retention.policy = \"by-count\", got " +
                             std::to_string(config.retention.keep_versions),
                         "retention.policy");
  }
  if (config.retention.policy == RetentionPolicy::kByAge && config.retention.max_age.count() == 0) {
    return CrossKeyError(config, "retention.max_age",
                         "must be greater than 0s when retention.policy = \"by-age\"",
                         "retention.policy");
  }
  {
    auto api = ParseHostPort(config.bind_addr);
    auto admin = ParseHostPort(config.metrics_addr);
    if (api.ok() && admin.ok() && api->port != 0 && *api == *admin) {
      return CrossKeyError(config, "metrics_addr",
                           "must differ from bind_addr, both are \"" + config.bind_addr + "\"");
    }
  }
  if (config.auth.mode == AuthMode::kNone &&
      (!IsLoopback(config.bind_addr) || !IsLoopback(config.metrics_addr))) {
    return CrossKeyError(config, "auth.mode",
                         "\"none\" is only allowed when bind_addr and metrics_addr are loopback "
                         "addresses (127.0.0.0/8, [::1] or localhost); bind_addr is \"" +
                             config.bind_addr + "\", metrics_addr is \"" + config.metrics_addr +
                             "\"");
  }
  return util::Status::Ok();
}

util::Result<Config> LoadLayers(const std::string* toml_text, std::string_view source_name,
                                const LoadOptions& opts) {
  Config config;
  if (toml_text != nullptr)
    REGISTRY_RETURN_IF_ERROR(ApplyTomlText(config, *toml_text, source_name));
  REGISTRY_RETURN_IF_ERROR(ApplyEnv(config, opts.env));
  REGISTRY_RETURN_IF_ERROR(ApplyOverrides(config, opts.overrides));
  REGISTRY_RETURN_IF_ERROR(CheckCombination(config));
  return config;
}

}  // namespace

util::Result<Config> Load(const LoadOptions& opts) {
  if (!opts.config_path.has_value()) return LoadLayers(nullptr, "", opts);
  const std::string& path = *opts.config_path;
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    const int err = errno;
    return util::Error(err == ENOENT ? util::ErrorCode::kNotFound : util::ErrorCode::kMalformed,
                       "config: cannot open --config file \"" + path + "\": " + std::strerror(err));
  }
  REGISTRY_ASSIGN_OR_RETURN(
      std::string text, ReadAll(fd.get(), kMaxConfigFileBytes, "--config file \"" + path + "\""));
  return LoadLayers(&text, path, opts);
}

util::Result<Config> LoadFromText(std::string_view toml_text, std::string_view source_name,
                                  const LoadOptions& opts) {
  REGISTRY_CHECK(!opts.config_path.has_value(), "LoadFromText with a config_path");
  const std::string text(toml_text);
  return LoadLayers(&text, source_name, opts);
}

std::string EffectiveTrustRootsPath(const Config& config) {
  if (!config.bootstrap.trust_roots_path.empty()) return config.bootstrap.trust_roots_path;
  return config.storage.data_dir + "/trust_roots.json";
}

std::string EffectiveRootKeyPath(const Config& config) {
  if (!config.auth.root_key_path.empty()) return config.auth.root_key_path;
  return config.storage.data_dir + "/root.key";
}

int EffectiveThreads(const Config& config) {
  if (config.threads > 0) return static_cast<int>(config.threads);
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

}  // namespace registry::config
