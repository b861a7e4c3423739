// tlog_bench: the verifiable log (issue 5).
//
//   BM_InclusionProof     PATH(m, D[n]) from a MerkleLog of 1,000,000 leaves: the newest
//                         tree (n = 1,000,000) and random older trees, random leaves. Each
//                         proof is timed on its own; the p50_us and p99_us counters are the
//                         percentiles of those times.
//   BM_ConsistencyProof   PROOF(m, D[n]) for random 0 < m <= n <= 1,000,000, same counters.
//   BM_AppendOneLeaf      MerkleLog::Append of one leaf to a log of 1,000,000.
//   BM_CatchUpPerCommit   what one commit costs the proof routes on SQLite: the commit
//                         itself is excluded, then MerkleLog::CatchUp reads its leaf hash
//                         and stored root and hashes it in.
//   BM_ColdLoadSqlite     CatchUp from empty over --load_versions versions (default 100,000)
//                         of a SQLite store: the first proof request after a start.
//                         stored_nodes:1 loads the stored interior nodes (what CatchUp
//                         does); stored_nodes:0 reads the leaf hashes only and hashes every
//                         interior node (what it did before the nodes were stored).
//   BM_StartUpLoadMemory  the same two ways over 1,000,000 versions of a MemoryStore: the
//                         cost of the log itself, without SQLite's reads.
//   BM_SignCheckpoint     one checkpoint signature (LogSigner, once per commit), and a
//                         cached one (every other request).
//
// Extra flags (before the Google Benchmark ones): --load_versions=N, --dir=PATH (where the
// SQLite stores are made; default $TMPDIR or /tmp).
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "registry/core/merkle.h"
#include "registry/core/merkle_log.h"
#include "registry/storage/memory_store.h"
#include "registry/storage/sqlite_store.h"
#include "registry/tlog/log_signer.h"
#include "registry/util/check.h"

namespace registry {
namespace {

constexpr std::uint64_t kLeaves = 1'000'000;
std::uint64_t g_load_versions = 100'000;
std::string g_dir;

const std::vector<core::Hash>& Leaves() {
  static const std::vector<core::Hash> leaves = [] {
    std::vector<core::Hash> out;
    out.reserve(kLeaves);
    for (std::uint64_t i = 0; i < kLeaves; ++i) out.push_back(core::LeafHash(std::to_string(i)));
    return out;
  }();
  return leaves;
}

// One log of a million leaves shared by the proof benchmarks (built on first use).
core::MerkleLog& MillionLeafLog() {
  static core::MerkleLog* log = [] {
    auto* l = new core::MerkleLog();
    l->Append(Leaves());
    return l;
  }();
  return *log;
}

void ReportPercentiles(benchmark::State& state, std::vector<double>& micros) {
  if (micros.empty()) return;
  std::sort(micros.begin(), micros.end());
  auto at = [&](double q) {
    return micros[std::min(micros.size() - 1, static_cast<std::size_t>(q * micros.size()))];
  };
  state.counters["p50_us"] = at(0.50);
  state.counters["p99_us"] = at(0.99);
  state.counters["max_us"] = micros.back();
}

// Arg 0: the newest tree (n = 1,000,000); 1: random tree sizes.
void BM_InclusionProof(benchmark::State& state) {
  core::MerkleLog& log = MillionLeafLog();
  std::mt19937_64 rng(1);
  std::vector<double> micros;
  micros.reserve(1 << 20);
  std::size_t hashes = 0;
  for (auto _ : state) {
    const std::uint64_t n = state.range(0) == 0 ? kLeaves : 1 + rng() % kLeaves;
    const std::uint64_t m = rng() % n;
    const auto t0 = std::chrono::steady_clock::now();
    util::Result<std::vector<core::Hash>> proof = log.InclusionProof(m, n);
    const auto t1 = std::chrono::steady_clock::now();
    REGISTRY_CHECK(proof.ok(), "InclusionProof failed");
    hashes += proof->size();
    benchmark::DoNotOptimize(proof->data());
    micros.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
  }
  state.counters["hashes_per_proof"] =
      static_cast<double>(hashes) / static_cast<double>(std::max<std::size_t>(1, micros.size()));
  ReportPercentiles(state, micros);
}
BENCHMARK(BM_InclusionProof)->Arg(0)->Arg(1)->ArgName("random_size");

void BM_ConsistencyProof(benchmark::State& state) {
  core::MerkleLog& log = MillionLeafLog();
  std::mt19937_64 rng(2);
  std::vector<double> micros;
  micros.reserve(1 << 20);
  for (auto _ : state) {
    const std::uint64_t n = state.range(0) == 0 ? kLeaves : 1 + rng() % kLeaves;
    const std::uint64_t m = 1 + rng() % n;
    const auto t0 = std::chrono::steady_clock::now();
    util::Result<std::vector<core::Hash>> proof = log.ConsistencyProof(m, n);
    const auto t1 = std::chrono::steady_clock::now();
    REGISTRY_CHECK(proof.ok(), "ConsistencyProof failed");
    benchmark::DoNotOptimize(proof->data());
    micros.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
  }
  ReportPercentiles(state, micros);
}
BENCHMARK(BM_ConsistencyProof)->Arg(0)->Arg(1)->ArgName("random_size");

void BM_AppendOneLeaf(benchmark::State& state) {
  core::MerkleLog log;
  log.Append(Leaves());
  std::uint64_t i = 0;
  for (auto _ : state) {
    const core::Hash leaf = core::LeafHash("extra " + std::to_string(i++));
    log.Append(std::span<const core::Hash>(&leaf, 1));
  }
  state.counters["leaves"] = static_cast<double>(log.size());
}
BENCHMARK(BM_AppendOneLeaf);

std::string MakeDir(const std::string& name) {
  std::string base = g_dir;
  if (base.empty()) {
    const char* t = std::getenv("TMPDIR");
    base = t != nullptr && *t != '\0' ? t : "/tmp";
  }
  std::string templ = base + "/tlog-bench-" + name + "-XXXXXX";
  REGISTRY_CHECK(::mkdtemp(templ.data()) != nullptr, "mkdtemp failed");
  return templ;
}

std::unique_ptr<storage::SqliteStore> OpenStore(const std::string& dir) {
  storage::SqliteStore::Options options;
  options.data_dir = dir + "/data";
  options.fsync = false;  // the commit is not what is measured
  util::Result<std::unique_ptr<storage::SqliteStore>> store = storage::SqliteStore::Open(options);
  REGISTRY_CHECK(store.ok(), "SqliteStore::Open failed");
  return std::move(store).value();
}

// The old start-up load: leaf hashes in batches, every interior node hashed.
void LoadByRehashing(storage::Store& store, std::uint64_t n, core::MerkleLog& log) {
  for (std::uint64_t first = 1; first <= n; first += core::MerkleLog::kLoadBatch) {
    util::Result<std::vector<storage::LeafHash>> leaves =
        store.ReadLeafHashes(first, static_cast<std::size_t>(std::min<std::uint64_t>(
                                        core::MerkleLog::kLoadBatch, n - first + 1)));
    REGISTRY_CHECK(leaves.ok(), "ReadLeafHashes failed");
    log.Append(*leaves);
  }
  REGISTRY_CHECK(*log.Root(n) == (*store.ReadCommitMeta(n))->root, "root mismatch");
}

void Load(storage::Store& store, std::uint64_t n, bool stored_nodes) {
  core::MerkleLog log;
  if (stored_nodes) {
    REGISTRY_CHECK(log.CatchUp(store, n).ok(), "CatchUp failed");
  } else {
    LoadByRehashing(store, n, log);
  }
  benchmark::DoNotOptimize(log.size());
}

// Appends version frontier.size()+1 with a small record.
void AppendVersion(storage::Store& store, core::MerkleFrontier& frontier) {
  storage::CommitRow row;
  row.version = frontier.size() + 1;
  row.payload_b3 = "b3:" + std::string(64, 'a');
  row.proposal_id = "p_" + std::string(24, '0');
  row.committed_at = "2026-11-26T12:00:00.000Z";
  row.record = "{\"version\":" + std::to_string(row.version) + "}";
  row.leaf_hash = core::LeafHash(row.record);
  row.nodes = core::NodesCompletedBy(frontier, row.leaf_hash);
  frontier.AppendLeafHash(row.leaf_hash);
  row.root = frontier.Root();
  REGISTRY_CHECK(store.AppendCommit(row).ok(), "AppendCommit failed");
}

void BM_CatchUpPerCommit(benchmark::State& state) {
  const std::string dir = MakeDir("catchup");
  {
    std::unique_ptr<storage::SqliteStore> store = OpenStore(dir);
    core::MerkleFrontier frontier;
    for (int i = 0; i < 1000; ++i) AppendVersion(*store, frontier);
    core::MerkleLog log;
    REGISTRY_CHECK(log.CatchUp(*store, frontier.size()).ok(), "CatchUp failed");
    for (auto _ : state) {
      state.PauseTiming();
      AppendVersion(*store, frontier);
      state.ResumeTiming();
      util::Status s = log.CatchUp(*store, frontier.size());
      REGISTRY_CHECK(s.ok(), "CatchUp failed");
    }
  }
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_CatchUpPerCommit)->Unit(benchmark::kMicrosecond);

void BM_ColdLoadSqlite(benchmark::State& state) {
  const std::string dir = MakeDir("load");
  {
    std::unique_ptr<storage::SqliteStore> store = OpenStore(dir);
    core::MerkleFrontier frontier;
    for (std::uint64_t i = 0; i < g_load_versions; ++i) AppendVersion(*store, frontier);
    for (auto _ : state) Load(*store, frontier.size(), state.range(0) == 1);
    state.counters["versions"] = static_cast<double>(g_load_versions);
    state.counters["versions_per_s"] = benchmark::Counter(
        static_cast<double>(g_load_versions), benchmark::Counter::kIsIterationInvariantRate);
  }
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_ColdLoadSqlite)
    ->Arg(0)
    ->Arg(1)
    ->ArgName("stored_nodes")
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);

void BM_StartUpLoadMemory(benchmark::State& state) {
  // One store of a million versions (small rows; only HEAD's root is ever checked).
  static storage::MemoryStore* store = [] {
    auto* m = new storage::MemoryStore();
    core::MerkleFrontier frontier;
    for (std::uint64_t v = 1; v <= kLeaves; ++v) {
      storage::CommitRow row;
      row.version = v;
      row.leaf_hash = Leaves()[v - 1];
      row.nodes = core::NodesCompletedBy(frontier, row.leaf_hash);
      frontier.AppendLeafHash(row.leaf_hash);
      if (v == kLeaves) row.root = frontier.Root();
      REGISTRY_CHECK(m->AppendCommit(row).ok(), "AppendCommit failed");
    }
    return m;
  }();
  for (auto _ : state) Load(*store, kLeaves, state.range(0) == 1);
  state.counters["versions_per_s"] = benchmark::Counter(
      static_cast<double>(kLeaves), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_StartUpLoadMemory)
    ->Arg(0)
    ->Arg(1)
    ->ArgName("stored_nodes")
    ->Unit(benchmark::kMillisecond)
    ->Iterations(5);

void BM_SignCheckpoint(benchmark::State& state) {
  crypto::Init();
  crypto::Ed25519Seed seed{};
  seed[0] = 7;
  tlog::LogSigner signer{tlog::NoteSigningKey("bench.example.com/log", seed)};
  crypto::Sha256Digest root{};
  std::uint64_t size = 0;
  const bool cached = state.range(0) == 1;
  for (auto _ : state) {
    if (!cached) ++size;
    benchmark::DoNotOptimize(signer.SignedCheckpoint(size, root));
  }
  state.counters["signatures"] = static_cast<double>(signer.signatures());
}
BENCHMARK(BM_SignCheckpoint)->Arg(0)->Arg(1)->ArgName("cached");

}  // namespace
}  // namespace registry

int main(int argc, char** argv) {
  // Our flags first; the rest go to Google Benchmark.
  std::vector<char*> rest;
  for (int i = 0; i < argc; ++i) {
    std::string_view a(argv[i]);
    if (a.starts_with("--load_versions=")) {
      registry::g_load_versions = std::stoull(std::string(a.substr(16)));
    } else if (a.starts_with("--dir=")) {
      registry::g_dir = std::string(a.substr(6));
    } else {
      rest.push_back(argv[i]);
    }
  }
  int rest_argc = static_cast<int>(rest.size());
  benchmark::Initialize(&rest_argc, rest.data());
  if (benchmark::ReportUnrecognizedArguments(rest_argc, rest.data())) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
