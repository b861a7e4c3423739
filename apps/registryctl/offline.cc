// canon and hash: the canonical form (RFC 8785) of any JSON, and the payload_b3 of a
// payload (SPEC §1.3), computed exactly as the service computes them.
#include <CLI/CLI.hpp>
#include <cstdint>
#include <memory>
#include <string>

#include "cli_io.h"
#include "commands.h"
#include "payload_input.h"
#include "registry/json/canonical.h"
#include "registry/json/parse.h"
#include "registry/model/constants.h"
#include "registry/model/payload.h"

namespace registry::ctl {

namespace {

constexpr const char* kFileHelp = "Input file; stdin when absent or \"-\"";
// Far beyond what fits in the largest body the service accepts (64 MiB, SPEC §1.2).
constexpr std::int64_t kMaxMaxItems = std::int64_t{1} << 32;

struct CanonOptions {
  std::string file = "-";
};

int RunCanon(const CanonOptions& opts) {
  util::Result<std::string> bytes = ReadInput(opts.file);
  if (!bytes.ok()) return Fail(bytes.error());
  util::Result<json::Value> value = json::Parse(*bytes);
  if (!value.ok()) return Fail(value.error());
  // The exact canonical bytes, with no newline, so that they can be hashed or diffed as is.
  return Output(json::Canonicalize(*value));
}

struct HashOptions {
  std::string file = "-";
  // Signed, so that CLI11 rejects "-1" instead of wrapping it around.
  std::int64_t max_items = static_cast<std::int64_t>(model::kDefaultMaxItems);
  bool proposal_id = false;
};

int RunHash(const HashOptions& opts) {
  util::Result<std::string> bytes = ReadInput(opts.file);
  if (!bytes.ok()) return Fail(bytes.error());
  model::PayloadLimits limits;
  limits.max_items = static_cast<std::size_t>(opts.max_items);
  util::Result<model::CanonicalPayload> payload = LoadCanonicalPayload(*bytes, limits);
  if (!payload.ok()) return Fail(payload.error());
  std::string out = payload->payload_b3 + "\n";
  if (opts.proposal_id) out += payload->proposal_id + "\n";
  return Output(out);
}

}  // namespace

void AddOfflineCommands(CLI::App& root, CommandList& commands) {
  {
    auto opts = std::make_shared<CanonOptions>();
    CLI::App* sub = root.add_subcommand(
        "canon", "Print the RFC 8785 canonical form of a JSON document (no trailing newline)");
    sub->add_option("file", opts->file, kFileHelp);
    commands.push_back({sub, [opts] { return RunCanon(*opts); }});
  }
  {
    auto opts = std::make_shared<HashOptions>();
    CLI::App* sub = root.add_subcommand(
        "hash", "Validate a payload (or a propose request body) strictly and print its payload_b3");
    sub->add_option("file", opts->file, kFileHelp);
    sub->add_option("--max-items", opts->max_items, "Most descriptors the payload may hold")
        ->check(CLI::Range(std::int64_t{0}, kMaxMaxItems))
        ->capture_default_str();
    sub->add_flag("--proposal-id", opts->proposal_id,
                  "Also print the proposal id, on a second line");
    commands.push_back({sub, [opts] { return RunHash(*opts); }});
  }
}

}  // namespace registry::ctl
