// registryctl verify's throughput (transparency issue, goal >= 5,000 versions/s with 3
// signatures per version): a log of 10,000 versions, each approved by 3 of 5 signers, built in
// memory once (core::Registry over a MemoryStore) and written once as a `registryctl fetch`
// archive; only verification is timed. Every benchmark reports `versions_per_second` (10,000
// versions per iteration, wall-clock time) and `vs_raw_sigs`: that rate divided by the rate of
// the raw-libsodium reference (BM_RawLibsodiumSignatures, measured once in the same run at
// start-up): above 1 means faster than checking the 30,000 signatures alone on one core. And
// `versions_per_cpu_second`: versions per second of process CPU time (all threads), which does
// not depend on what else the machine runs.
//
//   BM_ChainVerifierNext          core::ChainVerifier::Next per record: the single-threaded
//                                 path before parallel verification (the old figure).
//   BM_CheckLogMemory/threads:T   CheckLog (everything `verify` checks: records, HEAD, Merkle
//                                 root) over records already in memory, T workers.
//   BM_CheckLogDir/threads:T      the same reading the archive directory: `verify --dir`.
//   BM_RawLibsodiumSignatures     crypto_sign_verify_detached on the same 30,000 signatures,
//                                 one thread: the floor of signature checking on one core.
// T is 1 and the machine's core count. Run Release builds with --benchmark_repetitions=5.
#include <benchmark/benchmark.h>
#include <sodium.h>
#include <stdlib.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "archive.h"
#include "dir_log_source.h"
#include "log_check.h"
#include "registry/core/chain_verifier.h"
#include "registry/core/registry.h"
#include "registry/json/canonical.h"
#include "registry/json/parse.h"
#include "registry/model/approval.h"
#include "registry/model/commit_record.h"
#include "registry/storage/memory_store.h"
#include "testing/fixtures.h"

namespace {

namespace ctl = registry::ctl;
namespace core = registry::core;
namespace model = registry::model;
namespace util = registry::util;
namespace json = registry::json;

constexpr int kVersions = 10000;
constexpr int kSignatures = 3;

struct RawSignature {
  registry::crypto::Ed25519PublicKey key;
  std::string message;
  registry::crypto::Ed25519Signature sig;
};

struct Fixture {
  model::Governance roots;
  json::Value head;
  std::vector<std::string> records;
  std::vector<RawSignature> signatures;
  std::string archive;
  bool keep = false;
  double raw_versions_per_second = 0;
};

// One pass of the raw reference; false if a signature fails.
bool RawPass(const std::vector<RawSignature>& signatures) {
  for (const RawSignature& s : signatures) {
    if (crypto_sign_verify_detached(s.sig.data(),
                                    reinterpret_cast<const unsigned char*>(s.message.data()),
                                    s.message.size(), s.key.data()) != 0) {
      return false;
    }
  }
  return true;
}

Fixture* Build() {
  auto* f = new Fixture;
  std::vector<registry::testing::TestSigner> signers = registry::testing::MakeSigners("verify", 5);
  f->roots = registry::testing::MakeGovernance(signers, 3);
  registry::storage::MemoryStore store;
  util::ManualClock clock(1'795'000'000'000);
  auto registry = std::move(core::Registry::Open(&store, &clock, f->roots, {})).value();
  for (int v = 1; v <= kVersions; ++v) {
    auto head = registry->Head();
    model::CanonicalPayload p =
        registry::testing::MakeCanonical(registry::testing::MakePayloadValue(
            head->head.version + 1, head->head.payload_b3, f->roots, 3, std::to_string(v)));
    std::string b3 = p.payload_b3;
    std::string id = registry->Propose(std::move(p))->proposal.proposal_id;
    for (int s = 0; s < kSignatures; ++s) {
      (void)registry->Approve(id, registry::testing::Sign(signers[s], b3, clock.NowMillis()));
    }
    REGISTRY_CHECK(registry->Commit(id).ok(), "commit");
  }
  f->head = model::EncodeHead(registry->Head()->head);
  f->records.reserve(kVersions);
  for (int v = 1; v <= kVersions; ++v) f->records.push_back(**store.ReadRecord(v));

  for (const std::string& record : f->records) {
    model::CommitRecord r =
        model::DecodeCommitRecord(*json::Parse(record), model::PayloadLimits{}).value();
    for (const model::Approval& a : r.approvals) {
      f->signatures.push_back(RawSignature{f->roots.Find(a.signer_id)->pubkey,
                                           model::ApprovalMessage(r.payload_b3), a.sig});
    }
  }
  REGISTRY_CHECK(f->signatures.size() == kVersions * kSignatures, "3 signatures per version");

  // $VERIFY_BENCH_KEEP names a directory to keep the archive in (with the trust roots beside
  // it, DIR.trust_roots.json), to time the registryctl binary on it: `registryctl verify
  // --dir DIR --trust-roots DIR.trust_roots.json`.
  if (const char* keep = std::getenv("VERIFY_BENCH_KEEP"); keep != nullptr && *keep != '\0') {
    f->archive = keep;
    f->keep = true;
    REGISTRY_CHECK(ctl::ReplaceFile(f->archive + ".trust_roots.json",
                                    json::Canonicalize(model::EncodeGovernance(f->roots)))
                       .ok(),
                   "trust roots");
  } else {
    char tmpl[] = "/tmp/verify_bench.XXXXXX";
    REGISTRY_CHECK(::mkdtemp(tmpl) != nullptr, "mkdtemp");
    f->archive = tmpl;
  }
  std::filesystem::create_directories(f->archive + "/" + ctl::kArchiveRecordsDir);
  for (int v = 1; v <= kVersions; ++v) {
    REGISTRY_CHECK(ctl::ReplaceFile(ctl::ArchiveRecordPath(f->archive, v), f->records[v - 1]).ok(),
                   "archive");
  }
  REGISTRY_CHECK(
      ctl::ReplaceFile(f->archive + "/" + ctl::kArchiveHeadFile, json::Canonicalize(f->head)).ok(),
      "archive");

  // The reference rate for vs_raw_sigs: the median of 5 passes.
  std::vector<double> rates;
  for (int i = 0; i < 5; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    REGISTRY_CHECK(RawPass(f->signatures), "raw signatures verify");
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    rates.push_back(kVersions / s);
  }
  std::sort(rates.begin(), rates.end());
  f->raw_versions_per_second = rates[2];
  return f;
}

Fixture& F() {
  static Fixture* fixture = Build();
  return *fixture;
}

// CPU seconds used by the whole process (every thread) so far.
double ProcessCpuSeconds() {
  rusage u;
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// Process CPU time around the timed loop: versions_per_cpu_second is what one fully available
// core would do, whatever else the machine runs (the wall-clock rate is not).
class CpuMeter {
 public:
  CpuMeter() : start_(ProcessCpuSeconds()) {}
  void Report(benchmark::State& state) const {
    const double used = ProcessCpuSeconds() - start_;
    if (used > 0) {
      state.counters["versions_per_cpu_second"] =
          static_cast<double>(kVersions) * static_cast<double>(state.iterations()) / used;
    }
  }

 private:
  double start_;
};

void Report(benchmark::State& state) {
  state.counters["versions_per_second"] = benchmark::Counter(
      static_cast<double>(kVersions), benchmark::Counter::kIsIterationInvariantRate);
  // vs_raw_sigs = versions_per_second / raw rate: the rate counter divided by a constant.
  state.counters["vs_raw_sigs"] = benchmark::Counter(kVersions / F().raw_versions_per_second,
                                                     benchmark::Counter::kIsIterationInvariantRate);
}

void BM_ChainVerifierNext(benchmark::State& state) {
  Fixture& f = F();
  CpuMeter cpu;
  for (auto _ : state) {
    core::ChainVerifier verifier(f.roots);
    for (const std::string& record : f.records) {
      if (!verifier.Next(record).ok()) {
        state.SkipWithError("the log does not verify");
        return;
      }
    }
  }
  cpu.Report(state);
  Report(state);
}

// A LogSource over the fixture's records in memory.
class MemorySource final : public ctl::LogSource {
 public:
  std::string Describe() const override { return "memory"; }
  util::Result<std::string> Checkpoint() override {
    return util::Error(util::ErrorCode::kNotFound, "none");
  }
  util::Result<json::Value> Head() override { return F().head; }
  util::Result<std::string> Record(std::uint64_t v) override { return F().records[v - 1]; }
  util::Result<std::vector<core::Hash>> InclusionProof(std::uint64_t, std::uint64_t,
                                                       std::span<const core::Hash>) override {
    return util::Error(util::ErrorCode::kNotFound, "none");
  }
  util::Result<std::vector<core::Hash>> ConsistencyProof(std::uint64_t, std::uint64_t,
                                                         std::span<const core::Hash>) override {
    return util::Error(util::ErrorCode::kNotFound, "none");
  }
};

void RunCheckLog(benchmark::State& state, ctl::LogSource& source) {
  ctl::LogCheckOptions options;
  options.trust_roots = F().roots;
  options.threads = static_cast<std::size_t>(state.range(0));
  CpuMeter cpu;
  for (auto _ : state) {
    util::Result<ctl::LogCheckResult> r = ctl::CheckLog(source, options);
    if (!r.ok() || r->versions != kVersions) {
      state.SkipWithError("the log does not verify");
      return;
    }
  }
  cpu.Report(state);
  Report(state);
}

void BM_CheckLogMemory(benchmark::State& state) {
  MemorySource source;
  RunCheckLog(state, source);
}

void BM_CheckLogDir(benchmark::State& state) {
  auto source = ctl::DirLogSource::Open(F().archive);
  if (!source.ok()) {
    state.SkipWithError("no archive");
    return;
  }
  RunCheckLog(state, **source);
}

void BM_RawLibsodiumSignatures(benchmark::State& state) {
  Fixture& f = F();
  CpuMeter cpu;
  for (auto _ : state) {
    if (!RawPass(f.signatures)) {
      state.SkipWithError("a signature does not verify");
      return;
    }
  }
  cpu.Report(state);
  Report(state);
}

void Threads(benchmark::internal::Benchmark* b) {
  const long cores = std::max(1u, std::thread::hardware_concurrency());
  b->ArgName("threads")->Arg(1);
  if (cores > 1) b->Arg(cores);
}

BENCHMARK(BM_ChainVerifierNext)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_CheckLogMemory)->Apply(Threads)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_CheckLogDir)->Apply(Threads)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_RawLibsodiumSignatures)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  registry::crypto::Init();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  if (!F().keep) {
    std::error_code ec;
    std::filesystem::remove_all(F().archive, ec);
  }
  return 0;
}
