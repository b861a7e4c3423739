// keygen and pubkey: create a signer key file, and print the governance signer entry
// (SPEC §1.4) of a key, ready to paste into a governance object or a trust-roots file.
// `keygen --log --name ORIGIN` instead creates the transparency log's note key (SPEC §5):
// a Go-note-format private key file, and prints its verifier key string.
#include <CLI/CLI.hpp>
#include <cstring>
#include <memory>
#include <string>

#include "cli_io.h"
#include "commands.h"
#include "key_file.h"
#include "registry/crypto/ed25519.h"
#include "registry/json/canonical.h"
#include "registry/model/constants.h"
#include "registry/model/governance.h"
#include "registry/tlog/note_key.h"

namespace registry::ctl {

namespace {

constexpr const char* kDefaultSignerId = "org:local#k1";
constexpr const char* kSignerIdHelp =
    "Signer id to print in the entry, org:<realm>#<key-id> ([a-z0-9-]+ realm, [A-Za-z0-9._-]+ "
    "key id)";

// The signer entry {"algo","id","pubkey"} in canonical form, with a newline.
std::string SignerEntryLine(const std::string& id, const crypto::Ed25519PublicKey& public_key) {
  model::Governance governance;
  governance.m = 1;
  governance.signers.push_back(model::Signer{id, std::string(model::kAlgoEd25519), public_key});
  const json::Value encoded = model::EncodeGovernance(governance);
  std::string line = json::Canonicalize(encoded.Find("signers")->as_array().front());
  line.push_back('\n');
  return line;
}

int CheckSignerId(const std::string& id) {
  if (model::IsValidSignerId(id)) return kExitOk;
  return Fail("invalid signer id \"" + id +
              "\": must match org:<realm>#<key-id> ([a-z0-9-]+ realm, [A-Za-z0-9._-]+ key id)");
}

struct KeygenOptions {
  std::string out;
  std::string id = kDefaultSignerId;
  bool log = false;
  std::string name;  // the log's origin, with --log
};

// keygen --log: the log's note key; prints the verifier key string.
int RunLogKeygen(const KeygenOptions& opts) {
  if (opts.name.empty()) return Fail("keygen --log needs --name (the log's origin)");
  crypto::Init();
  util::Result<tlog::GeneratedLogKey> key = tlog::GenerateLogKey(opts.name);
  if (!key.ok()) return Fail(key.error());
  util::Status written = tlog::WritePrivateKeyFile(opts.out, key->private_key);
  ::explicit_bzero(key->private_key.data(), key->private_key.size());
  if (!written.ok()) return Fail(written.error());
  return Output(key->verifier_key + "\n");
}

int RunKeygen(const KeygenOptions& opts) {
  if (opts.log) return RunLogKeygen(opts);
  if (!opts.name.empty()) return Fail("--name is only for keygen --log");
  if (int rc = CheckSignerId(opts.id); rc != kExitOk) return rc;
  crypto::Init();
  crypto::Ed25519KeyPair keys = crypto::GenerateEd25519();
  util::Status written = WriteNewSeedFile(opts.out, keys.seed);
  ::explicit_bzero(keys.seed.data(), keys.seed.size());
  if (!written.ok()) return Fail(written.error());
  return Output(SignerEntryLine(opts.id, keys.public_key));
}

struct PubkeyOptions {
  std::string key;
  std::string id = kDefaultSignerId;
};

int RunPubkey(const PubkeyOptions& opts) {
  if (int rc = CheckSignerId(opts.id); rc != kExitOk) return rc;
  util::Result<crypto::Ed25519Seed> seed = ReadSeedFile(opts.key);
  if (!seed.ok()) return Fail(seed.error());
  crypto::Init();
  crypto::Ed25519KeyPair keys = crypto::Ed25519FromSeed(*seed);
  ::explicit_bzero(seed->data(), seed->size());
  ::explicit_bzero(keys.seed.data(), keys.seed.size());
  return Output(SignerEntryLine(opts.id, keys.public_key));
}

}  // namespace

void AddKeyCommands(CLI::App& root, CommandList& commands) {
  {
    auto opts = std::make_shared<KeygenOptions>();
    CLI::App* sub = root.add_subcommand(
        "keygen",
        "Create a new Ed25519 signer key in a new file (mode 0600) and print its governance "
        "signer entry");
    sub->add_option("--out", opts->out, "Key file to create; an existing file is never replaced")
        ->required();
    sub->add_option("--id", opts->id, kSignerIdHelp)->capture_default_str();
    sub->add_flag("--log", opts->log,
                  "Create the transparency log's note key instead (Go note format) and print "
                  "its verifier key");
    sub->add_option("--name", opts->name,
                    "With --log: the key name, which MUST be the log's origin (tlog.origin)");
    commands.push_back({sub, [opts] { return RunKeygen(*opts); }});
  }
  {
    auto opts = std::make_shared<PubkeyOptions>();
    CLI::App* sub =
        root.add_subcommand("pubkey", "Print the governance signer entry of an existing key file");
    sub->add_option("--key", opts->key, "Key file (mode 0600)")->required();
    sub->add_option("--id", opts->id, kSignerIdHelp)->capture_default_str();
    commands.push_back({sub, [opts] { return RunPubkey(*opts); }});
  }
}

}  // namespace registry::ctl
