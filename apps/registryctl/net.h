// What every registryctl command that talks to svc-registry shares: the --url, --token,
// --token-file and --timeout options (with their environment fallbacks), making the HTTP
// client, and turning a response into output and an exit code.
//
// Precedence: a flag wins over the environment, which wins over the default.
//   URL:   --url, else $REGISTRYCTL_URL, else http://127.0.0.1:9444
//   token: --token, else --token-file, else $REGISTRYCTL_TOKEN, else none (reads need none)
// Tokens are bearer secrets: they are never printed, and --token-file or the environment
// keep them out of the process list.
//
// Not thread-safe (standard streams, getenv); registryctl is single-threaded.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "registry/http/client.h"
#include "registry/util/result.h"

namespace CLI {
class App;
}  // namespace CLI

namespace registry::ctl {

inline constexpr const char* kDefaultUrl = "http://127.0.0.1:9444";
inline constexpr const char* kUrlEnv = "REGISTRYCTL_URL";
inline constexpr const char* kTokenEnv = "REGISTRYCTL_TOKEN";

struct NetOptions {
  std::string url;         // --url
  std::string token;       // --token
  std::string token_file;  // --token-file
  std::string timeout = "30s";
};

// Adds --url to `sub`, --token/--token-file when `with_token`, --timeout when `with_timeout`.
void AddNetOptions(CLI::App* sub, NetOptions& opts, bool with_token, bool with_timeout = true);

// The URL base after the precedence above.
std::string EffectiveUrl(const NetOptions& opts);

// A client for EffectiveUrl(opts) whose timeout is --timeout, or `timeout_override`.
util::Result<http::Client> MakeClient(
    const NetOptions& opts,
    std::optional<std::chrono::milliseconds> timeout_override = std::nullopt);

// The Authorization header ("Bearer <token>") from the token sources above, or nullopt when
// none is given. Fails (kMalformed) on an unreadable, empty or malformed token file.
util::Result<std::optional<std::string>> AuthorizationHeader(const NetOptions& opts);

// Reports a non-2xx response on stderr: the API error code and message when the body is the
// API's error object ("registryctl: Forbidden: token lacks scope ... (HTTP 403, corr_id ...)"),
// else the status and the start of the body. Returns kExitFailure.
int ReportHttpError(const http::ClientResponse& response, std::string_view url);

// The common ending of a command: a transport error → stderr, exit 1; a non-2xx → as
// ReportHttpError; a 2xx → the body on stdout, followed by a newline unless `exact`.
int PrintResponse(const util::Result<http::ClientResponse>& response, std::string_view url,
                  bool exact = false);

}  // namespace registry::ctl
