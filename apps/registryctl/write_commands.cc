// propose, approve, commit: the write plane (SPEC §2.1, §3). Each needs a token with the
// matching scope and prints the service's JSON answer on stdout.
//
// approve never signs a hash it did not check: it fetches the proposal, recomputes
// payload_b3 from the payload the service returned, and refuses when the two differ (or when
// the proposal id does not belong to that payload). Only then does it sign, locally.
#include <CLI/CLI.hpp>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "cli_io.h"
#include "commands.h"
#include "key_file.h"
#include "net.h"
#include "payload_input.h"
#include "registry/crypto/ed25519.h"
#include "registry/json/canonical.h"
#include "registry/json/parse.h"
#include "registry/model/approval.h"
#include "registry/model/constants.h"
#include "registry/model/governance.h"
#include "registry/model/payload.h"
#include "registry/util/clock.h"

namespace registry::ctl {

namespace {

using util::Error;
using util::ErrorCode;

// Limits for local validation: the service enforces its own limits.max_items.
model::PayloadLimits UnboundedLimits() {
  model::PayloadLimits limits;
  limits.max_items = std::numeric_limits<std::size_t>::max();
  return limits;
}

// The headers of a write: JSON, and the token when there is one.
util::Result<std::vector<http::Header>> WriteHeaders(const NetOptions& net, bool has_body) {
  std::vector<http::Header> headers = {{"Accept", "application/json"}};
  if (has_body) headers.emplace_back("Content-Type", "application/json");
  REGISTRY_ASSIGN_OR_RETURN(std::optional<std::string> authz, AuthorizationHeader(net));
  if (authz.has_value()) headers.emplace_back("Authorization", std::move(*authz));
  return headers;
}

int CheckProposalId(const std::string& id) {
  if (model::IsWellFormedProposalId(id)) return kExitOk;
  return Fail("\"" + id + "\" is not a proposal id (p_ + 24 lower-case hex digits)");
}

struct ProposeOptions {
  NetOptions net;
  std::string payload_file;
};

int RunPropose(const ProposeOptions& opts) {
  util::Result<std::string> bytes = ReadInput(opts.payload_file);
  if (!bytes.ok()) return Fail(bytes.error());
  util::Result<model::CanonicalPayload> payload = LoadCanonicalPayload(*bytes, UnboundedLimits());
  if (!payload.ok()) return Fail(payload.error());
  util::Result<std::vector<http::Header>> headers = WriteHeaders(opts.net, true);
  if (!headers.ok()) return Fail(headers.error());
  util::Result<http::Client> client = MakeClient(opts.net);
  if (!client.ok()) return Fail(client.error());

  // The request body, canonical: members in JCS order, the payload as its canonical bytes.
  std::string body = "{\"payload\":" + payload->canonical + ",\"payload_b3\":";
  json::AppendCanonicalString(payload->payload_b3, body);
  body += ",\"schema_version\":";
  json::AppendCanonicalString(model::kSchemaVersion, body);
  body += "}";
  util::Result<http::ClientResponse> response =
      client->Request("POST", "/registry/proposals", *headers, body);
  if (response.ok() && response->status / 100 == 2) {
    // The service hashes on its own; it must have arrived at the same identity.
    util::Result<json::Value> answer = json::Parse(response->body);
    const json::Value* b3 = answer.ok() ? answer->Find("payload_b3") : nullptr;
    if (b3 == nullptr || !b3->is_string() || b3->as_string() != payload->payload_b3) {
      return Fail("the service answered with a payload_b3 other than the local " +
                  payload->payload_b3 + ": " + response->body);
    }
  }
  return PrintResponse(response, client->url_base());
}

struct ApproveOptions {
  NetOptions net;
  std::string proposal_id;
  std::string key;
  std::string signer_id;
};

// What approve signs: the payload_b3 of the payload the service holds for `proposal_id`,
// recomputed here. Fails when the service's answer does not add up.
util::Result<std::string> CheckedPayloadB3(const http::ClientResponse& response,
                                           const std::string& proposal_id) {
  REGISTRY_ASSIGN_OR_RETURN(json::Value view, json::Parse(response.body));
  const json::Value* claimed = view.Find("payload_b3");
  const json::Value* payload = view.Find("payload");
  if (claimed == nullptr || !claimed->is_string() || payload == nullptr) {
    return Error(ErrorCode::kMalformed,
                 "the proposal the service returned has no payload or payload_b3");
  }
  REGISTRY_ASSIGN_OR_RETURN(model::CanonicalPayload computed,
                            model::MakeCanonicalPayload(*payload, UnboundedLimits()));
  if (computed.payload_b3 != claimed->as_string()) {
    return Error(ErrorCode::kMalformed, "refusing to sign: the service says payload_b3 is " +
                                            claimed->as_string() + " but its payload hashes to " +
                                            computed.payload_b3);
  }
  if (computed.proposal_id != proposal_id) {
    return Error(ErrorCode::kMalformed, "refusing to sign: the service returned the payload of " +
                                            computed.proposal_id + " for proposal " + proposal_id);
  }
  return computed.payload_b3;
}

int RunApprove(const ApproveOptions& opts) {
  if (int rc = CheckProposalId(opts.proposal_id); rc != kExitOk) return rc;
  if (!model::IsValidSignerId(opts.signer_id)) {
    return Fail("--signer-id: \"" + opts.signer_id +
                "\" must match org:<realm>#<key-id> ([a-z0-9-]+ realm, [A-Za-z0-9._-]+ key id)");
  }
  // The key file first: a signer learns about a bad key before anything goes on the wire.
  util::Result<crypto::Ed25519Seed> seed = ReadSeedFile(opts.key);
  if (!seed.ok()) return Fail(seed.error());
  struct Wipe {
    crypto::Ed25519Seed& s;
    ~Wipe() { ::explicit_bzero(s.data(), s.size()); }
  } wipe{*seed};
  util::Result<std::vector<http::Header>> headers = WriteHeaders(opts.net, true);
  if (!headers.ok()) return Fail(headers.error());
  util::Result<http::Client> client = MakeClient(opts.net);
  if (!client.ok()) return Fail(client.error());

  util::Result<http::ClientResponse> view = client->Request(
      "GET", "/registry/proposals/" + opts.proposal_id, {{"Accept", "application/json"}});
  if (!view.ok()) return Fail(view.error());
  if (view->status != 200) return ReportHttpError(*view, client->url_base());
  util::Result<std::string> payload_b3 = CheckedPayloadB3(*view, opts.proposal_id);
  if (!payload_b3.ok()) return Fail(payload_b3.error());

  crypto::Init();
  const model::Approval approval =
      model::SignApproval(opts.signer_id, *seed, *payload_b3, util::SystemClock().NowMillis());
  return PrintResponse(client->Request("POST", "/registry/approvals/" + opts.proposal_id, *headers,
                                       json::Canonicalize(model::EncodeApproval(approval))),
                       client->url_base());
}

struct CommitOptions {
  NetOptions net;
  std::string proposal_id;
};

int RunCommit(const CommitOptions& opts) {
  if (int rc = CheckProposalId(opts.proposal_id); rc != kExitOk) return rc;
  util::Result<std::vector<http::Header>> headers = WriteHeaders(opts.net, false);
  if (!headers.ok()) return Fail(headers.error());
  util::Result<http::Client> client = MakeClient(opts.net);
  if (!client.ok()) return Fail(client.error());
  return PrintResponse(client->Request("POST", "/registry/commit/" + opts.proposal_id, *headers),
                       client->url_base());
}

}  // namespace

void AddWriteCommands(CLI::App& root, CommandList& commands) {
  {
    auto opts = std::make_shared<ProposeOptions>();
    CLI::App* sub = root.add_subcommand(
        "propose", "Validate and hash a payload locally, then propose it (scope registry:propose)");
    sub->add_option("--payload", opts->payload_file,
                    "Payload file, or a propose request body (\"-\" for stdin)")
        ->required();
    AddNetOptions(sub, opts->net, true);
    commands.push_back({sub, [opts] { return RunPropose(*opts); }});
  }
  {
    auto opts = std::make_shared<ApproveOptions>();
    CLI::App* sub = root.add_subcommand(
        "approve",
        "Fetch a proposal, check its payload_b3 against its payload, sign it with a local key "
        "and send the approval (scope registry:approve)");
    sub->add_option("proposal_id", opts->proposal_id, "Proposal id (p_ + 24 hex digits)")
        ->required();
    sub->add_option("--key", opts->key, "Signer key file (mode 0600)")->required();
    sub->add_option("--signer-id", opts->signer_id, "Signer id, org:<realm>#<key-id>")->required();
    AddNetOptions(sub, opts->net, true);
    commands.push_back({sub, [opts] { return RunApprove(*opts); }});
  }
  {
    auto opts = std::make_shared<CommitOptions>();
    CLI::App* sub = root.add_subcommand(
        "commit", "Commit a proposal that has its quorum of approvals (scope registry:commit)");
    sub->add_option("proposal_id", opts->proposal_id, "Proposal id (p_ + 24 hex digits)")
        ->required();
    AddNetOptions(sub, opts->net, true);
    commands.push_back({sub, [opts] { return RunCommit(*opts); }});
  }
}

}  // namespace registry::ctl
