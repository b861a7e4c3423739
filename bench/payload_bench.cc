// What a proposal costs before it reaches the core: parse the untrusted bytes, decode the
// payload strictly, canonicalize it (RFC 8785) and hash it (BLAKE3) — for valid registry
// payloads of ~1 KiB, 64 KiB and 1 MiB. BM_CanonicalizeAndHash isolates the last two steps
// on an already parsed value. Bytes processed are input bytes.
#include <benchmark/benchmark.h>

#include <random>
#include <string>

#include "payload_fixture.h"
#include "registry/crypto/blake3.h"
#include "registry/crypto/ed25519.h"
#include "registry/json/canonical.h"
#include "registry/json/parse.h"
#include "registry/model/payload.h"

namespace {

using registry::bench::MakePayloadText;

using registry::json::Value;

void BM_ProposalPipeline(benchmark::State& state) {
  const std::string text = MakePayloadText(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    auto value = registry::json::Parse(text);
    auto canonical = registry::model::MakeCanonicalPayload(*value, {});
    if (!canonical.ok()) state.SkipWithError(canonical.error().message().c_str());
    benchmark::DoNotOptimize(canonical->payload_b3);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_ProposalPipeline)->Arg(1 << 10)->Arg(64 << 10)->Arg(1 << 20);

void BM_CanonicalizeAndHash(benchmark::State& state) {
  const std::string text = MakePayloadText(static_cast<std::size_t>(state.range(0)));
  const Value value = *registry::json::Parse(text);
  for (auto _ : state) {
    std::string canonical = registry::json::Canonicalize(value);
    benchmark::DoNotOptimize(registry::crypto::PayloadB3(canonical));
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_CanonicalizeAndHash)->Arg(1 << 10)->Arg(64 << 10)->Arg(1 << 20);

}  // namespace

BENCHMARK_MAIN();
