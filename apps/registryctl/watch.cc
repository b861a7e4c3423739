// watch: follows /registry/stream (SPEC §2.4) and prints each event's data, one JSON object
// per line, as it arrives. After a disconnect it reconnects with Last-Event-ID set to the
// last version it printed (the service replays what was missed, so nothing is skipped or
// printed twice), waiting a bounded, doubling backoff between failed attempts. A
// registry.reset event (the resume point is no longer retained) is printed too, and watching
// resumes from the HEAD it names.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "cli_io.h"
#include "commands.h"
#include "net.h"
#include "registry/config/config.h"
#include "registry/json/parse.h"
#include "registry/json/value.h"

namespace registry::ctl {

namespace {

using std::chrono::milliseconds;

constexpr milliseconds kFirstBackoff{250};
constexpr milliseconds kMaxBackoff{8000};

struct WatchOptions {
  NetOptions net;
  std::int64_t since = -1;  // -1: from now on
  std::int64_t count = 0;   // 0: for ever
  std::string idle = "60s";
  std::int64_t retries = -1;  // consecutive failed attempts allowed; -1: no limit
};

std::optional<std::uint64_t> ParseUnsigned(std::string_view s) {
  if (s.empty() || s.size() > 16) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return v;
}

// The version a reconnect resumes after, once `e` was printed.
std::optional<std::uint64_t> ResumePointAfter(const http::SseEvent& e,
                                              std::optional<std::uint64_t> current) {
  if (e.event == "registry.reset") {
    util::Result<json::Value> head = json::Parse(e.data);
    const json::Value* v = head.ok() ? head->Find("version") : nullptr;
    std::optional<std::int64_t> n = v != nullptr ? v->AsSafeInteger() : std::nullopt;
    if (n.has_value() && *n >= 0) return static_cast<std::uint64_t>(*n);
    return current;
  }
  if (std::optional<std::uint64_t> id = ParseUnsigned(e.id)) return id;
  return current;
}

std::string Seconds(milliseconds d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2fs", static_cast<double>(d.count()) / 1000.0);
  return buf;
}

int RunWatch(const WatchOptions& opts) {
  util::Result<milliseconds> idle = config::ParseDuration(opts.idle);
  if (!idle.ok() || idle->count() <= 0) {
    return Fail("--idle-timeout: expected a positive duration such as 60s");
  }
  util::Result<http::Client> client = MakeClient(opts.net, *idle);
  if (!client.ok()) return Fail(client.error());

  std::optional<std::uint64_t> resume;
  if (opts.since >= 0) resume = static_cast<std::uint64_t>(opts.since);
  std::int64_t printed = 0;
  std::int64_t failures = 0;
  milliseconds backoff = kFirstBackoff;
  for (;;) {
    std::vector<http::Header> headers;
    if (resume.has_value()) headers.emplace_back("Last-Event-ID", std::to_string(*resume));
    bool got_event = false;
    bool done = false;
    bool output_failed = false;
    util::Result<http::ClientResponse> r =
        client->Stream("/registry/stream", headers, [&](const http::SseEvent& e) {
          got_event = true;
          if (!WriteStdout(e.data + "\n")) {
            output_failed = true;
            return false;
          }
          resume = ResumePointAfter(e, resume);
          ++printed;
          done = opts.count > 0 && printed >= opts.count;
          return !done;
        });
    if (output_failed) return Fail("cannot write to stdout");
    if (done) return kExitOk;

    std::string reason;
    milliseconds wait = backoff;
    if (!r.ok()) {
      reason = r.error().message();
    } else if (r->status == 200) {
      reason = "the service ended the stream";
    } else if (r->status == 429 || r->status == 503) {
      reason = "the service is busy (HTTP " + std::to_string(r->status) + ")";
      if (const std::string* after = r->FindHeader("retry-after")) {
        if (std::optional<std::uint64_t> s = ParseUnsigned(*after)) {
          wait = std::max(wait, milliseconds(std::min<std::uint64_t>(*s, 300) * 1000));
        }
      }
    } else {
      return ReportHttpError(*r, client->url_base());
    }
    if (got_event) {
      failures = 0;
      backoff = kFirstBackoff;
      wait = std::max(wait, kFirstBackoff);
    }
    ++failures;
    if (opts.retries >= 0 && failures > opts.retries) {
      return Fail(reason + "; giving up after " + std::to_string(failures) + " attempt(s)");
    }
    std::string from = resume.has_value() ? " after version " + std::to_string(*resume) : "";
    std::fprintf(stderr, "registryctl: watch: %s; reconnecting in %s%s\n", reason.c_str(),
                 Seconds(wait).c_str(), from.c_str());
    std::this_thread::sleep_for(wait);
    backoff = std::min(backoff * 2, kMaxBackoff);
  }
}

}  // namespace

void AddWatchCommand(CLI::App& root, CommandList& commands) {
  auto opts = std::make_shared<WatchOptions>();
  CLI::App* sub = root.add_subcommand(
      "watch",
      "Follow the commit stream: print each event's data JSON on its own line, resuming after "
      "a disconnect without a gap");
  sub->add_option("--since", opts->since,
                  "Start after this version (replays every later retained version first); "
                  "default: only new commits")
      ->check(CLI::Range(std::int64_t{0}, (std::int64_t{1} << 53) - 1));
  sub->add_option("--count", opts->count, "Exit after printing this many events (0: never)")
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{1} << 53))
      ->capture_default_str();
  sub->add_option("--idle-timeout", opts->idle,
                  "Reconnect when nothing (not even a heartbeat) arrives for this long")
      ->capture_default_str();
  sub->add_option("--retries", opts->retries,
                  "Give up after this many consecutive failed attempts (-1: never)")
      ->check(CLI::Range(std::int64_t{-1}, std::int64_t{1} << 31))
      ->capture_default_str();
  AddNetOptions(sub, opts->net, false, false);
  commands.push_back({sub, [opts] { return RunWatch(*opts); }});
}

}  // namespace registry::ctl
