#include "keys.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstddef>
#include <limits>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "registry/config/config.h"
#include "registry/util/error.h"
#include "registry/util/result.h"

namespace registry::config {
namespace {

constexpr std::array<std::string_view, 3> kStorageKinds = {"sqlite", "memory", "postgres"};
constexpr std::array<std::string_view, 2> kAuthModes = {"macaroon", "none"};
constexpr std::array<std::string_view, 3> kRetentionPolicies = {"none", "by-count", "by-age"};
constexpr std::array<std::string_view, 2> kLogFormats = {"json", "text"};
constexpr std::array<std::string_view, 5> kLogLevels = {"trace", "debug", "info", "warn", "error"};

}  // namespace

std::string_view Name(StorageKind v) { return kStorageKinds[static_cast<std::size_t>(v)]; }
std::string_view Name(AuthMode v) { return kAuthModes[static_cast<std::size_t>(v)]; }
std::string_view Name(RetentionPolicy v) { return kRetentionPolicies[static_cast<std::size_t>(v)]; }
std::string_view Name(LogFormat v) { return kLogFormats[static_cast<std::size_t>(v)]; }
std::string_view Name(LogLevel v) { return kLogLevels[static_cast<std::size_t>(v)]; }

std::string Origin::ToString() const {
  switch (kind) {
    case Kind::kDefault:
      return "default";
    case Kind::kFile:
      return "file " + where;
    case Kind::kEnv:
      return "env " + where;
    case Kind::kFlag:
      return where.empty() ? std::string("command line") : "flag " + where;
  }
  return "unknown";
}

std::string EnvName(std::string_view key) {
  std::string out = "SVCR_";
  for (char c : key) {
    if (c == '.') {
      out += "__";
    } else if (c >= 'a' && c <= 'z') {
      out += static_cast<char>(c - 'a' + 'A');
    } else {
      out += c;
    }
  }
  return out;
}

namespace internal {
namespace {

constexpr std::int64_t kSecond = 1000;
constexpr std::int64_t kMinute = 60 * kSecond;
constexpr std::int64_t kHour = 60 * kMinute;
constexpr std::int64_t kMaxDurationMs = 100LL * 365 * 24 * kHour;  // a century
constexpr std::int64_t kMiB = 1024 * 1024;

// Valid UTF-8 with no control characters: every value may end up in a path, a log line or
// the TOML dump, where either would do harm.
std::string_view CheckText(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) return "must not contain control characters";
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if ((c & 0xe0) == 0xc0) {
      len = 2;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      len = 3;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return "must be valid UTF-8";
    }
    if (i + len > s.size()) return "must be valid UTF-8";
    for (std::size_t j = 1; j < len; ++j) {
      auto cc = static_cast<unsigned char>(s[i + j]);
      if ((cc & 0xc0) != 0x80) return "must be valid UTF-8";
      cp = (cp << 6) | (cc & 0x3f);
    }
    const bool overlong =
        (len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000);
    if (overlong || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      return "must be valid UTF-8";
    }
    if (cp >= 0x80 && cp < 0xa0) return "must not contain control characters";
    i += len;
  }
  return {};
}

std::string_view CheckNonEmpty(std::string_view s) {
  return s.empty() ? std::string_view("must not be empty") : std::string_view();
}

std::string_view CheckB3(std::string_view s) {
  if (s.empty()) return {};
  bool ok = s.size() == 67 && s.substr(0, 3) == "b3:";
  for (std::size_t i = 3; ok && i < s.size(); ++i) {
    ok = (s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f');
  }
  return ok ? std::string_view() : "must be \"b3:\" followed by 64 lower-case hex digits";
}

// The C2SP checkpoint origin line: non-empty when set, no spaces.
std::string_view CheckOrigin(std::string_view s) {
  for (char c : s) {
    if (c == ' ') return "must not contain spaces";
  }
  return {};
}

std::string_view CheckPostgresUrl(std::string_view s) {
  if (s.empty()) return {};
  if (s.starts_with("postgres://") || s.starts_with("postgresql://")) return {};
  if (s.find('=') != std::string_view::npos) return {};  // libpq "key=value ..." form
  return "must be a postgres:// or postgresql:// URI or a libpq key=value string";
}

constexpr std::int64_t kNoMax = std::numeric_limits<std::int64_t>::max();

// The per-type entry builders keep the table below one line of intent per key.
#define REGISTRY_BOOL_KEY(key, field)                                      \
  KeySpec {                                                                \
    .name = key, .kind = Kind::kBool,                                      \
    .set = [](Config& c, const Value& v) { c.field = std::get<bool>(v); }, \
    .get = [](const Config& c) -> Value { return c.field; },               \
  }
#define REGISTRY_INT_KEY(key, field, lo, hi)                                       \
  KeySpec {                                                                        \
    .name = key, .kind = Kind::kInt, .min = lo, .max = hi,                         \
    .set = [](Config& c, const Value& v) { c.field = std::get<std::int64_t>(v); }, \
    .get = [](const Config& c) -> Value { return c.field; },                       \
  }
#define REGISTRY_DURATION_KEY(key, field, lo, hi)                                                \
  KeySpec {                                                                                      \
    .name = key, .kind = Kind::kDuration, .min = lo, .max = hi,                                  \
    .set = [](Config& c, const Value& v) { c.field = milliseconds(std::get<std::int64_t>(v)); }, \
    .get = [](const Config& c) -> Value { return std::int64_t{c.field.count()}; },               \
  }
#define REGISTRY_STRING_KEY(key, field, fn, is_secret)                            \
  KeySpec {                                                                       \
    .name = key, .kind = Kind::kString, .secret = is_secret, .check = fn,         \
    .set = [](Config& c, const Value& v) { c.field = std::get<std::string>(v); }, \
    .get = [](const Config& c) -> Value { return c.field; },                      \
  }
#define REGISTRY_ADDR_KEY(key, field, flag_name)                                  \
  KeySpec {                                                                       \
    .name = key, .kind = Kind::kAddr, .flag = flag_name,                          \
    .set = [](Config& c, const Value& v) { c.field = std::get<std::string>(v); }, \
    .get = [](const Config& c) -> Value { return c.field; },                      \
  }
#define REGISTRY_ENUM_KEY(key, field, names, flag_name)                    \
  KeySpec {                                                                \
    .name = key, .kind = Kind::kEnum, .choices = names, .flag = flag_name, \
    .set =                                                                 \
        [](Config& c, const Value& v) {                                    \
          const auto& s = std::get<std::string>(v);                        \
          auto it = std::find(names.begin(), names.end(), s);              \
          c.field = static_cast<decltype(c.field)>(it - names.begin());    \
        },                                                                 \
    .get = [](const Config& c) -> Value {                                  \
      return std::string(names[static_cast<std::size_t>(c.field)]);        \
    },                                                                     \
  }

const std::vector<KeySpec>& Table() {
  static const auto* table = new std::vector<KeySpec>{
      REGISTRY_ADDR_KEY("bind_addr", bind_addr, "--bind"),
      REGISTRY_ADDR_KEY("metrics_addr", metrics_addr, "--metrics-addr"),
      REGISTRY_INT_KEY("threads", threads, 0, 1024),
      REGISTRY_INT_KEY("max_conns", max_conns, 1, 1'000'000),
      REGISTRY_DURATION_KEY("read_timeout", read_timeout, 1, kHour),
      REGISTRY_DURATION_KEY("write_timeout", write_timeout, 1, kHour),
      REGISTRY_DURATION_KEY("idle_timeout", idle_timeout, 1, 24 * kHour),
      REGISTRY_DURATION_KEY("drain_deadline", drain_deadline, 0, 10 * kMinute),

      REGISTRY_INT_KEY("limits.inflight", limits.inflight, 1, 1'000'000),
      REGISTRY_INT_KEY("limits.rps", limits.rps, 0, 10'000'000),
      REGISTRY_INT_KEY("limits.max_body_bytes", limits.max_body_bytes, 1024, 64 * kMiB),
      REGISTRY_INT_KEY("limits.max_header_bytes", limits.max_header_bytes, 1024, kMiB),
      REGISTRY_INT_KEY("limits.max_items", limits.max_items, 1, 10'000'000),

      REGISTRY_ENUM_KEY("storage.kind", storage.kind, kStorageKinds, "--storage"),
      [] {
        auto k = REGISTRY_STRING_KEY("storage.data_dir", storage.data_dir, CheckNonEmpty, false);
        k.flag = "--data-dir";
        return k;
      }(),
      REGISTRY_BOOL_KEY("storage.fsync", storage.fsync),
      REGISTRY_DURATION_KEY("storage.checkpoint_interval", storage.checkpoint_interval, 100,
                            24 * kHour),
      REGISTRY_STRING_KEY("storage.postgres_url", storage.postgres_url, CheckPostgresUrl, true),
      REGISTRY_STRING_KEY("storage.postgres_url_file", storage.postgres_url_file, nullptr, false),
      REGISTRY_BOOL_KEY("storage.group_commit", storage.group_commit),

      REGISTRY_DURATION_KEY("governance.proposal_ttl", governance.proposal_ttl, kSecond,
                            365 * 24 * kHour),
      REGISTRY_INT_KEY("governance.max_pending", governance.max_pending, 1, 1'000'000),
      REGISTRY_DURATION_KEY("governance.max_clock_skew", governance.max_clock_skew, 0, 24 * kHour),
      REGISTRY_BOOL_KEY("governance.auto_commit", governance.auto_commit),

      REGISTRY_STRING_KEY("bootstrap.trust_roots_path", bootstrap.trust_roots_path, nullptr, false),
      REGISTRY_STRING_KEY("bootstrap.trust_roots_hash", bootstrap.trust_roots_hash, CheckB3, false),

      REGISTRY_ENUM_KEY("auth.mode", auth.mode, kAuthModes, "--auth-mode"),
      REGISTRY_STRING_KEY("auth.root_key_path", auth.root_key_path, nullptr, false),

      REGISTRY_DURATION_KEY("sse.heartbeat", sse.heartbeat, 100, kHour),
      REGISTRY_INT_KEY("sse.queue_len", sse.queue_len, 1, 1'000'000),
      REGISTRY_INT_KEY("sse.max_clients", sse.max_clients, 1, 1'000'000),

      REGISTRY_ENUM_KEY("retention.policy", retention.policy, kRetentionPolicies, ""),
      REGISTRY_INT_KEY("retention.keep_min", retention.keep_min, 100, kNoMax),
      REGISTRY_INT_KEY("retention.keep_versions", retention.keep_versions, 0, kNoMax),
      REGISTRY_DURATION_KEY("retention.max_age", retention.max_age, 0, kMaxDurationMs),

      REGISTRY_STRING_KEY("tlog.origin", tlog.origin, CheckOrigin, false),
      REGISTRY_STRING_KEY("tlog.signing_key_path", tlog.signing_key_path, nullptr, false),

      REGISTRY_BOOL_KEY("tls.enabled", tls.enabled),
      REGISTRY_STRING_KEY("tls.cert_path", tls.cert_path, nullptr, false),
      REGISTRY_STRING_KEY("tls.key_path", tls.key_path, nullptr, false),

      REGISTRY_ENUM_KEY("log.format", log.format, kLogFormats, "--log-format"),
      REGISTRY_ENUM_KEY("log.level", log.level, kLogLevels, "--log-level"),

      REGISTRY_INT_KEY("cache.record_entries", cache.record_entries, 1, 10'000'000),
  };
  return *table;
}

#undef REGISTRY_BOOL_KEY
#undef REGISTRY_INT_KEY
#undef REGISTRY_DURATION_KEY
#undef REGISTRY_STRING_KEY
#undef REGISTRY_ADDR_KEY
#undef REGISTRY_ENUM_KEY

std::size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string Quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

std::string Join(std::span<const std::string_view> names) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? " or " : ", ";
    out += Quote(names[i]);
  }
  return out;
}

}  // namespace

std::span<const KeySpec> AllKeys() { return Table(); }

const KeySpec* FindKey(std::string_view name) {
  for (const KeySpec& spec : Table()) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

const KeySpec* FindKeyByEnv(std::string_view env_name) {
  for (const KeySpec& spec : Table()) {
    if (EnvName(spec.name) == env_name) return &spec;
  }
  return nullptr;
}

bool IsSection(std::string_view name) {
  for (const KeySpec& spec : Table()) {
    auto dot = spec.name.find('.');
    if (dot != std::string_view::npos && spec.name.substr(0, dot) == name) return true;
  }
  return false;
}

std::string_view TypeName(Kind kind) {
  switch (kind) {
    case Kind::kBool:
      return "bool";
    case Kind::kInt:
      return "integer";
    case Kind::kString:
      return "string";
    case Kind::kDuration:
      return "duration";
    case Kind::kEnum:
      return "enum";
    case Kind::kAddr:
      return "address";
  }
  return "unknown";
}

std::string ExpectedType(const KeySpec& spec) {
  switch (spec.kind) {
    case Kind::kBool:
      return "a boolean (true or false)";
    case Kind::kInt:
      return "an integer";
    case Kind::kString:
      return "a string";
    case Kind::kDuration:
      return "a duration string such as \"5s\"";
    case Kind::kEnum:
      return "one of " + Join(spec.choices);
    case Kind::kAddr:
      return "a \"host:port\" string";
  }
  return "a value";
}

std::string_view Suggest(std::string_view name) {
  std::string_view best;
  std::size_t best_distance = 4;  // farther than 3 edits is not a typo
  for (const KeySpec& spec : Table()) {
    std::size_t d = EditDistance(name, spec.name);
    if (d < best_distance) {
      best_distance = d;
      best = spec.name;
    }
  }
  return best;
}

std::string SuggestEnv(std::string_view env_name) {
  std::string best;
  std::size_t best_distance = 4;
  for (const KeySpec& spec : Table()) {
    std::string env = EnvName(spec.name);
    std::size_t d = EditDistance(env_name, env);
    if (d < best_distance) {
      best_distance = d;
      best = env;
    }
  }
  return best;
}

util::Error KeyError(std::string_view key, std::string_view message, const Origin& origin) {
  std::string text = "config: " + std::string(key) + ": " + std::string(message);
  if (origin.kind != Origin::Kind::kDefault) text += " (from " + origin.ToString() + ")";
  return util::Error(util::ErrorCode::kMalformed, std::move(text));
}

util::Result<Value> ParseText(const KeySpec& spec, std::string_view text, const Origin& origin) {
  auto got = [&] { return spec.secret ? std::string() : ", got " + Quote(text); };
  switch (spec.kind) {
    case Kind::kBool:
      if (text == "true") return Value(true);
      if (text == "false") return Value(false);
      return KeyError(spec.name, "expected " + ExpectedType(spec) + got(), origin);
    case Kind::kInt: {
      std::int64_t v = 0;
      const char* end = text.data() + text.size();
      auto [ptr, ec] = std::from_chars(text.data(), end, v);
      // from_chars accepts a leading '-'; that is fine, the range check rejects it.
      if (text.empty() || ec != std::errc() || ptr != end) {
        return KeyError(spec.name, "expected " + ExpectedType(spec) + got(), origin);
      }
      return Value(v);
    }
    case Kind::kDuration: {
      auto d = ParseDuration(text);
      if (!d.ok()) return KeyError(spec.name, d.error().message(), origin);
      return Value(std::int64_t{d->count()});
    }
    case Kind::kString:
    case Kind::kEnum:
    case Kind::kAddr:
      return Value(std::string(text));
  }
  return KeyError(spec.name, "unsupported key type", origin);
}

util::Status Assign(Config& config, const KeySpec& spec, Value value, const Origin& origin) {
  switch (spec.kind) {
    case Kind::kBool:
      break;
    case Kind::kInt:
    case Kind::kDuration: {
      std::int64_t v = std::get<std::int64_t>(value);
      if (v < spec.min || v > spec.max) {
        std::string range;
        if (spec.kind == Kind::kInt) {
          range = spec.max == kNoMax ? "must be at least " + std::to_string(spec.min)
                                     : "must be between " + std::to_string(spec.min) + " and " +
                                           std::to_string(spec.max);
          range += ", got " + std::to_string(v);
        } else {
          range = "must be between " + FormatDuration(milliseconds(spec.min)) + " and " +
                  FormatDuration(milliseconds(spec.max)) + ", got " +
                  FormatDuration(milliseconds(v));
        }
        return KeyError(spec.name, range, origin);
      }
      break;
    }
    case Kind::kString:
    case Kind::kEnum:
    case Kind::kAddr: {
      const std::string& s = std::get<std::string>(value);
      std::string_view problem = CheckText(s);
      if (problem.empty() && spec.check != nullptr) problem = spec.check(s);
      if (!problem.empty()) {
        std::string message(problem);
        if (!spec.secret) message += ", got " + Quote(s);
        return KeyError(spec.name, message, origin);
      }
      if (spec.kind == Kind::kEnum &&
          std::find(spec.choices.begin(), spec.choices.end(), s) == spec.choices.end()) {
        return KeyError(spec.name, "expected " + ExpectedType(spec) + ", got " + Quote(s), origin);
      }
      if (spec.kind == Kind::kAddr) {
        auto hp = ParseHostPort(s);
        if (!hp.ok()) return KeyError(spec.name, hp.error().message(), origin);
      }
      break;
    }
  }
  spec.set(config, value);
  config.origins.insert_or_assign(std::string(spec.name), origin);
  return util::Status::Ok();
}

}  // namespace internal

std::vector<KeyInfo> Keys() {
  std::vector<KeyInfo> out;
  for (const internal::KeySpec& spec : internal::AllKeys()) {
    out.push_back(KeyInfo{.key = spec.name,
                          .type = internal::TypeName(spec.kind),
                          .env = EnvName(spec.name),
                          .flag = spec.flag});
  }
  return out;
}

}  // namespace registry::config
