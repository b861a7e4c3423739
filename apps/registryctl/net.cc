#include "net.h"

#include <CLI/CLI.hpp>
#include <cstdlib>

#include "cli_io.h"
#include "commands.h"
#include "registry/auth/token.h"
#include "registry/config/config.h"
#include "registry/json/parse.h"
#include "registry/json/value.h"

namespace registry::ctl {

namespace {

std::string Getenv(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

// A token as it may appear in a header: printable ASCII without spaces.
bool IsPlausibleToken(std::string_view token) {
  if (token.empty() || token.size() > auth::kMaxTokenBytes) return false;
  for (char c : token) {
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

// Shortens a body for an error line: one line, at most 200 bytes.
std::string Excerpt(std::string_view body) {
  std::string out;
  for (char c : body.substr(0, 200)) out.push_back(c == '\n' || c == '\r' ? ' ' : c);
  if (body.size() > 200) out += "...";
  return out;
}

}  // namespace

void AddNetOptions(CLI::App* sub, NetOptions& opts, bool with_token, bool with_timeout) {
  sub->add_option("--url", opts.url,
                  std::string("Service URL (env ") + kUrlEnv + "; default " + kDefaultUrl + ")");
  if (with_timeout) {
    sub->add_option("--timeout", opts.timeout, "Time limit of each request, e.g. 500ms, 30s, 2m")
        ->capture_default_str();
  }
  if (with_token) {
    CLI::Option* token =
        sub->add_option("--token", opts.token,
                        std::string("Capability token (prefer --token-file or env ") + kTokenEnv +
                            ": command lines are visible to other users)");
    CLI::Option* file =
        sub->add_option("--token-file", opts.token_file, "File holding the capability token");
    token->excludes(file);
  }
}

std::string EffectiveUrl(const NetOptions& opts) {
  if (!opts.url.empty()) return opts.url;
  std::string env = Getenv(kUrlEnv);
  return env.empty() ? std::string(kDefaultUrl) : env;
}

util::Result<http::Client> MakeClient(const NetOptions& opts,
                                      std::optional<std::chrono::milliseconds> timeout_override) {
  http::ClientOptions options;
  if (timeout_override.has_value()) {
    options.timeout = *timeout_override;
  } else {
    util::Result<std::chrono::milliseconds> t = config::ParseDuration(opts.timeout);
    if (!t.ok())
      return util::Error(util::ErrorCode::kMalformed, "--timeout: " + t.error().message());
    if (t->count() <= 0) return util::Error(util::ErrorCode::kMalformed, "--timeout: must be > 0");
    options.timeout = *t;
  }
  options.user_agent = std::string("registryctl/") + REGISTRY_VERSION;
  return http::Client::Create(EffectiveUrl(opts), std::move(options));
}

util::Result<std::optional<std::string>> AuthorizationHeader(const NetOptions& opts) {
  std::string token;
  std::string source;
  if (!opts.token.empty()) {
    token = opts.token;
    source = "--token";
  } else if (!opts.token_file.empty()) {
    REGISTRY_ASSIGN_OR_RETURN(token, ReadInput(opts.token_file));
    source = "token file " + opts.token_file;
  } else {
    token = Getenv(kTokenEnv);
    source = std::string("$") + kTokenEnv;
    if (token.empty()) return std::optional<std::string>();
  }
  // A token file ends with a newline; so may a pasted token.
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' ' ||
                            token.back() == '\t')) {
    token.pop_back();
  }
  if (!IsPlausibleToken(token)) {
    return util::Error(util::ErrorCode::kMalformed,
                       source +
                           ": not a token (expected one line of printable characters, at "
                           "most " +
                           std::to_string(auth::kMaxTokenBytes) + " bytes)");
  }
  return std::optional<std::string>("Bearer " + token);
}

int ReportHttpError(const http::ClientResponse& response, std::string_view url) {
  const std::string status = "HTTP " + std::to_string(response.status);
  util::Result<json::Value> body = json::Parse(response.body);
  const json::Value* error = body.ok() ? body->Find("error") : nullptr;
  const json::Value* code = error != nullptr ? error->Find("code") : nullptr;
  const json::Value* message = error != nullptr ? error->Find("message") : nullptr;
  if (code == nullptr || !code->is_string()) {
    return Fail(status + " from " + std::string(url) + ": " + Excerpt(response.body));
  }
  std::string line = code->as_string();
  if (message != nullptr && message->is_string()) line += ": " + message->as_string();
  line += " (" + status;
  const json::Value* corr = error->Find("corr_id");
  if (corr != nullptr && corr->is_string()) line += ", corr_id " + corr->as_string();
  const json::Value* details = error->Find("details");
  if (details != nullptr && details->is_object() && !details->as_object().empty()) {
    for (const auto& [name, value] : details->as_object()) {
      if (value.is_number()) {
        std::optional<std::int64_t> n = value.AsSafeInteger();
        line += ", " + name + " " + (n.has_value() ? std::to_string(*n) : "?");
      }
    }
  }
  if (const std::string* retry = response.FindHeader("retry-after")) {
    line += ", retry after " + *retry + " s";
  }
  line += ")";
  return Fail(line);
}

int PrintResponse(const util::Result<http::ClientResponse>& response, std::string_view url,
                  bool exact) {
  if (!response.ok()) return Fail(response.error());
  if (response->status < 200 || response->status > 299) return ReportHttpError(*response, url);
  if (exact) return Output(response->body);
  return Output(response->body + "\n");
}

}  // namespace registry::ctl
