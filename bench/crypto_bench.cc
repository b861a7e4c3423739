// Module vs raw: registry::crypto wrappers against direct BLAKE3 / libsodium calls on the
// same inputs. The ratio of each pair is the wrapper's overhead.
#include <benchmark/benchmark.h>
#include <sodium.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "blake3.h"
#include "registry/crypto/blake3.h"
#include "registry/crypto/ed25519.h"

namespace {

namespace crypto = registry::crypto;

std::string Input(std::size_t len) {
  std::string s(len, '\0');
  for (std::size_t i = 0; i < len; ++i) s[i] = static_cast<char>(i % 251);
  return s;
}

void BM_Blake3Module(benchmark::State& state) {
  const std::string input = Input(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    crypto::Blake3Digest d = crypto::Blake3(input);
    benchmark::DoNotOptimize(d);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}

void BM_Blake3Raw(benchmark::State& state) {
  const std::string input = Input(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    blake3_hasher hasher;
    blake3_hasher_init(&hasher);
    blake3_hasher_update(&hasher, input.data(), input.size());
    std::uint8_t out[BLAKE3_OUT_LEN];
    blake3_hasher_finalize(&hasher, out, sizeof out);
    benchmark::DoNotOptimize(out);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}

BENCHMARK(BM_Blake3Module)->Arg(1 << 10)->Arg(64 << 10)->Arg(1 << 20);
BENCHMARK(BM_Blake3Raw)->Arg(1 << 10)->Arg(64 << 10)->Arg(1 << 20);

// An approval's signed message: "ron:svc-registry:v1\n" (20 bytes) + payload_b3 (67) = 87.
struct Approval {
  crypto::Ed25519KeyPair pair;
  std::string message;
  crypto::Ed25519Signature sig;
};

Approval MakeApproval() {
  crypto::Init();
  Approval a;
  a.pair = crypto::Ed25519FromSeed(crypto::Ed25519Seed{7});
  a.message = "ron:svc-registry:v1\n" + crypto::PayloadB3("{}");
  a.sig = crypto::Ed25519Sign(a.pair.seed, a.message);
  return a;
}

void BM_Ed25519VerifyModule(benchmark::State& state) {
  const Approval a = MakeApproval();
  if (a.message.size() != 87 || !crypto::Ed25519Verify(a.pair.public_key, a.message, a.sig)) {
    state.SkipWithError("bad fixture");
    return;
  }
  for (auto _ : state) {
    bool ok = crypto::Ed25519Verify(a.pair.public_key, a.message, a.sig);
    benchmark::DoNotOptimize(ok);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

void BM_Ed25519VerifyRaw(benchmark::State& state) {
  const Approval a = MakeApproval();
  const auto* msg = reinterpret_cast<const unsigned char*>(a.message.data());
  if (crypto_sign_verify_detached(a.sig.data(), msg, a.message.size(), a.pair.public_key.data()) !=
      0) {
    state.SkipWithError("bad fixture");
    return;
  }
  for (auto _ : state) {
    int rc =
        crypto_sign_verify_detached(a.sig.data(), msg, a.message.size(), a.pair.public_key.data());
    benchmark::DoNotOptimize(rc);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

BENCHMARK(BM_Ed25519VerifyModule);
BENCHMARK(BM_Ed25519VerifyRaw);

}  // namespace

BENCHMARK_MAIN();
