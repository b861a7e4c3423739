// fetch: mirrors a registry's log into an archive directory (layout in archive.h and
// docs/TRANSPARENCY.md), so that `registryctl verify --dir` can re-check the whole history
// after retention has pruned old versions from the server. Incremental: only versions without
// a record file in the directory are fetched; each record file holds the exact bytes GET
// /registry/{V} served. The checkpoint is fetched first and HEAD second (so HEAD is at least
// the checkpoint's size), and both are written only once every record up to HEAD is in
// place. fetch checks nothing beyond HTTP: verify does.
//
// Exit codes: 0 the archive is complete up to the fetched HEAD; 1 an error (nothing already
// archived is lost); 3 (kExitIncomplete) the server has pruned a version the archive lacks.
#include <CLI/CLI.hpp>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "archive.h"
#include "cli_io.h"
#include "commands.h"
#include "http_log_source.h"
#include "log_check.h"
#include "net.h"
#include "registry/json/canonical.h"
#include "registry/json/parse.h"
#include "registry/json/value.h"
#include "registry/model/commit_record.h"

namespace registry::ctl {

namespace {

struct FetchOptions {
  NetOptions net;
  std::string server;  // --server: the same as --url
  std::string out;
};

int RunFetch(FetchOptions opts) {
  if (!opts.server.empty()) {
    if (!opts.net.url.empty() && opts.net.url != opts.server) {
      return Fail("--server and --url name different servers");
    }
    opts.net.url = opts.server;
  }
  const std::string& dir = opts.out;
  std::error_code ec;
  std::filesystem::create_directories(dir + "/" + kArchiveRecordsDir, ec);
  if (ec) return Fail("cannot create " + dir + "/" + kArchiveRecordsDir + ": " + ec.message());

  util::Result<http::Client> client = MakeClient(opts.net);
  if (!client.ok()) return Fail(client.error());
  const std::string url = client->url_base();

  // The checkpoint first, so that the HEAD fetched next is at least its size.
  std::optional<std::string> note;
  util::Result<http::ClientResponse> cp = client->Request("GET", "/registry/checkpoint", {});
  if (!cp.ok()) return Fail(cp.error());
  if (cp->status == 200) {
    note = std::move(cp->body);
  } else if (cp->status == 404) {
    std::fprintf(stderr, "registryctl: note: %s serves no checkpoint (no log key): none archived\n",
                 url.c_str());
  } else {
    return ReportHttpError(*cp, url);
  }

  util::Result<http::ClientResponse> head_response = client->Request("GET", "/registry/head", {});
  if (!head_response.ok()) return Fail(head_response.error());
  if (head_response->status != 200) return ReportHttpError(*head_response, url);
  util::Result<json::Value> head_value = json::Parse(head_response->body);
  if (!head_value.ok()) return Fail("HEAD: " + head_value.error().message());
  util::Result<model::Head> head = model::DecodeHead(*head_value);
  if (!head.ok()) return Fail("HEAD: " + head.error().message());

  std::uint64_t fetched = 0;
  for (std::uint64_t v = 1; v <= head->version; ++v) {
    const std::string path = ArchiveRecordPath(dir, v);
    if (std::filesystem::exists(path, ec)) continue;
    const std::string target = "/registry/" + std::to_string(v);
    util::Result<http::ClientResponse> r = client->Request("GET", target, {});
    if (!r.ok()) return Fail("version " + std::to_string(v) + ": " + r.error().message());
    if (r->status == 410) {
      Fail("version " + std::to_string(v) + " is pruned: " + url + " no longer serves it (GET " +
           target + " answered 410" + ApiErrorSuffix(r->body) +
           "), so it cannot be archived any more; " + dir +
           " lacks it. An archive must be made with `registryctl fetch` before retention "
           "prunes. The other versions fetched so far are kept.");
      return kExitIncomplete;
    }
    if (r->status != 200) return ReportHttpError(*r, url);
    util::Status saved = ReplaceFile(path, r->body);
    if (!saved.ok()) return Fail(saved.error());
    ++fetched;
  }
  // Every record up to HEAD is in place: now HEAD and the checkpoint may say so.
  util::Status saved = ReplaceFile(dir + "/" + kArchiveHeadFile, head_response->body);
  if (saved.ok() && note.has_value()) {
    saved = ReplaceFile(dir + "/" + kArchiveCheckpointFile, *note);
  }
  if (!saved.ok()) return Fail(saved.error());
  std::fprintf(stderr, "registryctl: %s: %llu versions fetched, %llu already archived\n",
               dir.c_str(), static_cast<unsigned long long>(fetched),
               static_cast<unsigned long long>(head->version - fetched));
  json::Value summary = json::MakeObject({{"dir", dir},
                                          {"fetched", fetched},
                                          {"version", head->version},
                                          {"checkpoint", note.has_value()}});
  return Output(json::Canonicalize(summary) + "\n");
}

}  // namespace

void AddFetchCommand(CLI::App& root, CommandList& commands) {
  auto opts = std::make_shared<FetchOptions>();
  CLI::App* sub = root.add_subcommand(
      "fetch",
      "Mirror a registry's log into an archive directory (incremental), for `verify --dir` "
      "after retention prunes old versions; exit 3 when a missing version is already pruned");
  sub->add_option("--out", opts->out, "The archive directory (created if absent)")->required();
  sub->add_option("--server", opts->server, "The registry's URL (the same as --url)");
  AddNetOptions(sub, opts->net, false);
  commands.push_back({sub, [opts] { return RunFetch(*opts); }});
}

}  // namespace registry::ctl
