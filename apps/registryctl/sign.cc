// sign: an approval (SPEC §1.5) of a payload_b3 with a local key file. Works offline: the
// signer can check the payload_b3 with `hash` on an air-gapped machine and sign it there.
#include <CLI/CLI.hpp>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <string>

#include "cli_io.h"
#include "commands.h"
#include "key_file.h"
#include "payload_input.h"
#include "registry/crypto/blake3.h"
#include "registry/crypto/ed25519.h"
#include "registry/json/canonical.h"
#include "registry/model/approval.h"
#include "registry/model/governance.h"
#include "registry/model/payload.h"
#include "registry/util/clock.h"
#include "registry/util/time.h"

namespace registry::ctl {

namespace {

struct SignOptions {
  std::string key;
  std::string signer_id;
  std::string payload_b3;
  std::string payload_file;
  std::string signed_at;
};

// The payload_b3 to sign: as given, or computed from the payload file.
util::Result<std::string> ResolvePayloadB3(const SignOptions& opts) {
  if (opts.payload_file.empty()) {
    if (!crypto::IsWellFormedB3(opts.payload_b3)) {
      return util::Error(util::ErrorCode::kMalformed,
                         "--payload-b3: \"" + opts.payload_b3 +
                             "\" is not \"b3:\" followed by 64 lower-case hex digits");
    }
    return opts.payload_b3;
  }
  REGISTRY_ASSIGN_OR_RETURN(std::string bytes, ReadInput(opts.payload_file));
  // Signing is not bounded by the service's item limit: the service enforces its own.
  model::PayloadLimits limits;
  limits.max_items = std::numeric_limits<std::size_t>::max();
  REGISTRY_ASSIGN_OR_RETURN(model::CanonicalPayload payload, LoadCanonicalPayload(bytes, limits));
  return payload.payload_b3;
}

int RunSign(const SignOptions& opts) {
  if (!model::IsValidSignerId(opts.signer_id)) {
    return Fail("--signer-id: \"" + opts.signer_id +
                "\" must match org:<realm>#<key-id> ([a-z0-9-]+ realm, [A-Za-z0-9._-]+ key id)");
  }
  util::UnixMillis signed_at;
  if (opts.signed_at.empty()) {
    signed_at = util::SystemClock().NowMillis();
  } else {
    std::optional<util::UnixMillis> parsed = util::ParseRfc3339(opts.signed_at);
    if (!parsed.has_value()) {
      return Fail("--signed-at: \"" + opts.signed_at +
                  "\" is not an RFC 3339 UTC timestamp (YYYY-MM-DDTHH:MM:SSZ)");
    }
    signed_at = *parsed;
  }
  util::Result<std::string> payload_b3 = ResolvePayloadB3(opts);
  if (!payload_b3.ok()) return Fail(payload_b3.error());
  util::Result<crypto::Ed25519Seed> seed = ReadSeedFile(opts.key);
  if (!seed.ok()) return Fail(seed.error());

  crypto::Init();
  const model::Approval approval =
      model::SignApproval(opts.signer_id, *seed, *payload_b3, signed_at);
  ::explicit_bzero(seed->data(), seed->size());
  std::string line = json::Canonicalize(model::EncodeApproval(approval));
  line.push_back('\n');
  return Output(line);
}

}  // namespace

void AddSignCommand(CLI::App& root, CommandList& commands) {
  auto opts = std::make_shared<SignOptions>();
  CLI::App* sub = root.add_subcommand(
      "sign", "Sign a payload_b3 with a key file and print the approval JSON (works offline)");
  sub->add_option("--key", opts->key, "Key file (mode 0600)")->required();
  sub->add_option("--signer-id", opts->signer_id, "Signer id, org:<realm>#<key-id>")->required();
  CLI::Option_group* what = sub->add_option_group("payload", "What to sign (exactly one)");
  what->add_option("--payload-b3", opts->payload_b3, "The payload_b3 to sign (b3:<64 hex>)");
  what->add_option("--payload", opts->payload_file,
                   "A payload or propose request file to hash and sign (\"-\" for stdin)");
  what->require_option(1);
  sub->add_option("--signed-at", opts->signed_at,
                  "RFC 3339 UTC time to record, truncated to whole seconds (default: now)");
  commands.push_back({sub, [opts] { return RunSign(*opts); }});
}

}  // namespace registry::ctl
