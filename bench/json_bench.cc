// json module throughput on realistic registry payloads (a snapshot of descriptors: kind, id,
// endpoint, region, meta) of ~1 KiB, 64 KiB, 1 MiB and 8 MiB: Parse alone, Canonicalize
// alone, the two together (what a proposal costs), and simdjson's bare DOM parse as the
// floor; the strict reference parser too. Bytes processed are input bytes.
#include <benchmark/benchmark.h>
#include <simdjson.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "parse_internal.h"
#include "registry/json/canonical.h"
#include "registry/json/parse.h"

namespace {

using registry::json::Canonicalize;
using registry::json::Parse;

// A payload as a client would send it: members in no particular order, a little whitespace.
std::string MakePayload(std::size_t target_bytes) {
  std::mt19937 rng(42);
  static const char* kKinds[] = {"node", "service", "region", "placement"};
  static const char* kRegions[] = {"eu-west-1", "us-east-2", "ap-south-1", "z\xc3\xbcrich-1"};
  std::string out =
      "{\"version\": 1234, \"prev_hash\": \"b3:"
      "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\",\n"
      " \"created_at\": \"2024-06-01T12:00:00Z\",\n"
      " \"governance\": {\"quorum\": {\"m\": 2}, \"signers\": ["
      "{\"id\": \"org:alpha#k1\", \"algo\": \"ed25519\", "
      "\"pubkey\": \"11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\"},"
      "{\"id\": \"org:beta#k1\", \"algo\": \"ed25519\", "
      "\"pubkey\": \"dd8d8b2f1b1b7d4e3c2a1f0e9d8c7b6a5f4e3d2c1b0=\"}]},\n"
      " \"items\": [";
  std::vector<std::string> fields;
  for (int i = 0; out.size() < target_bytes; ++i) {
    const char* kind = kKinds[rng() % 4];
    const char* region = kRegions[rng() % 4];
    const std::string n = std::to_string(i);
    fields = {
        "\"kind\": \"" + std::string(kind) + "\"",
        "\"id\": \"" + std::string(kind) + "/" + region + "/" + n + "\"",
        "\"endpoint\": \"https://" + std::string(kind) + "-" + n + "." + region +
            ".example.net:8443/v1\"",
        "\"region\": \"" + std::string(region) + "\"",
        "\"meta\": {\"owner\": \"team-" + std::to_string(rng() % 40) + "\", \"replicas\": " +
            std::to_string(rng() % 9) + ", \"weight\": " + std::to_string((rng() % 1000) / 1000.0) +
            ", \"tags\": [\"prod\", \"tier-" + std::to_string(rng() % 3) +
            "\"], \"labels\": {\"zone\": \"" + region + "-" + std::to_string(rng() % 3) +
            "\", \"rack\": \"r" + std::to_string(rng() % 64) + "\"}}",
    };
    std::shuffle(fields.begin(), fields.end(), rng);
    if (i > 0) out += ",\n  ";
    out += "{";
    for (std::size_t f = 0; f < fields.size(); ++f) {
      if (f > 0) out += ", ";
      out += fields[f];
    }
    out += "}";
  }
  out += "]}\n";
  return out;
}

const std::string& Payload(std::int64_t bytes) {
  static std::vector<std::pair<std::int64_t, std::string>> cache;
  for (const auto& [size, payload] : cache) {
    if (size == bytes) return payload;
  }
  cache.emplace_back(bytes, MakePayload(static_cast<std::size_t>(bytes)));
  return cache.back().second;
}

void Report(benchmark::State& state, const std::string& payload) {
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(payload.size()));
  state.counters["payload_bytes"] = static_cast<double>(payload.size());
}

void BM_ParseAndCanonicalize(benchmark::State& state) {
  const std::string& payload = Payload(state.range(0));
  std::string canonical;
  for (auto _ : state) {
    auto value = Parse(payload);
    if (!value.ok()) {
      state.SkipWithError(value.error().message().c_str());
      return;
    }
    canonical.clear();
    registry::json::AppendCanonical(*value, canonical);
    benchmark::DoNotOptimize(canonical.data());
  }
  Report(state, payload);
}

void BM_Parse(benchmark::State& state) {
  const std::string& payload = Payload(state.range(0));
  for (auto _ : state) {
    auto value = Parse(payload);
    if (!value.ok()) {
      state.SkipWithError(value.error().message().c_str());
      return;
    }
    benchmark::DoNotOptimize(value);
  }
  Report(state, payload);
}

void BM_Canonicalize(benchmark::State& state) {
  const std::string& payload = Payload(state.range(0));
  auto value = Parse(payload);
  if (!value.ok()) {
    state.SkipWithError(value.error().message().c_str());
    return;
  }
  std::string canonical;
  for (auto _ : state) {
    canonical.clear();
    registry::json::AppendCanonical(*value, canonical);
    benchmark::DoNotOptimize(canonical.data());
  }
  Report(state, payload);
}

// The portable reference parser, which handles every rejected input (to find the error
// and its place) and the rare valid input simdjson declines.
void BM_StrictParse(benchmark::State& state) {
  const std::string& payload = Payload(state.range(0));
  for (auto _ : state) {
    auto outcome = registry::json::internal::StrictParse(payload);
    if (!outcome.result.ok()) {
      state.SkipWithError(outcome.result.error().message().c_str());
      return;
    }
    benchmark::DoNotOptimize(outcome);
  }
  Report(state, payload);
}

// The floor: simdjson's own DOM parse (validation + tape), without building our tree.
void BM_SimdjsonDomOnly(benchmark::State& state) {
  const std::string& payload = Payload(state.range(0));
  simdjson::padded_string padded(payload);
  simdjson::dom::parser parser;
  for (auto _ : state) {
    simdjson::dom::element root;
    if (parser.parse(padded).get(root) != simdjson::SUCCESS) {
      state.SkipWithError("simdjson rejected the payload");
      return;
    }
    benchmark::DoNotOptimize(root);
  }
  Report(state, payload);
}

#define PAYLOAD_SIZES Arg(1 << 10)->Arg(64 << 10)->Arg(1 << 20)->Arg(8 << 20)
BENCHMARK(BM_ParseAndCanonicalize)->PAYLOAD_SIZES;
BENCHMARK(BM_Parse)->PAYLOAD_SIZES;
BENCHMARK(BM_Canonicalize)->PAYLOAD_SIZES;
BENCHMARK(BM_StrictParse)->PAYLOAD_SIZES;
BENCHMARK(BM_SimdjsonDomOnly)->PAYLOAD_SIZES;

}  // namespace

BENCHMARK_MAIN();
