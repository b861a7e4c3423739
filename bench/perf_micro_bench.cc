// perf_micro_bench: the micro-benchmarks of the performance issue (issue 6), one binary so that
// the load harness (scripts/perf.sh) gets them all in one JSON document
// (--benchmark_format=json or --benchmark_out=FILE --benchmark_out_format=json).
//
//   BM_CanonicalizeHashSlope    json::Canonicalize + PayloadB3 of valid payloads from 256 B to
//                               1 MiB; Complexity(oN) with N = input bytes, so the "_BigO"
//                               row's time is the slope in ns per byte.
//   BM_ApprovalVerifyService    what the service spends on one approval's signature:
//                               model::VerifyApproval (message building + Ed25519), i.e. the
//                               approval_verify_seconds span of core::Registry::Approve.
//   BM_ApprovalDecodeVerify     the same plus parsing and strictly decoding the request body.
//   BM_ApprovalVerifyRaw        crypto_sign_verify_detached on the same precomputed message:
//                               the reference for the ratio (goal: service <= 1.2 x raw).
//   BM_HeadAdvance              HEAD advance as the single writer does it: CAS read of HEAD,
//                               then Store::AppendCommit of a ~1.5 KiB record, per backend
//                               (0 memory, 1 sqlite without fsync, 2 sqlite with fsync).
//   BM_SseFormatFrame           bus::FormatUpdateFrame of one commit event.
//   BM_SseFanout                EventBus::OnCommit to 1 / 1,000 / 10,000 subscribers whose
//                               Push only counts, until the fan-out worker has offered the
//                               frame to all (encode once, hand-off, fan-out).
//   BM_MerkleFrontierAppend     core::MerkleFrontier::AppendLeaf of one ~1.5 KiB record plus
//                               Root(), what each commit adds to the log (tlog_bench's
//                               BM_AppendOneLeaf covers the proof-serving MerkleLog).
//
// Extra flag (before the Google Benchmark ones): --dir=PATH, where the SQLite stores go
// (default $TMPDIR or /tmp).
#include <benchmark/benchmark.h>
#include <sodium.h>
#include <stdlib.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "payload_fixture.h"
#include "registry/bus/event_bus.h"
#include "registry/core/merkle.h"
#include "registry/crypto/base64.h"
#include "registry/crypto/blake3.h"
#include "registry/crypto/ed25519.h"
#include "registry/json/canonical.h"
#include "registry/json/parse.h"
#include "registry/model/approval.h"
#include "registry/model/commit_record.h"
#include "registry/storage/memory_store.h"
#include "registry/storage/sqlite_store.h"
#include "registry/util/check.h"

namespace registry {
namespace {

std::string g_dir;

using registry::bench::MakePayloadText;

void BM_CanonicalizeHashSlope(benchmark::State& state) {
  const std::string text = MakePayloadText(static_cast<std::size_t>(state.range(0)));
  util::Result<json::Value> value = json::Parse(text);
  if (!value.ok()) {
    state.SkipWithError("bad fixture");
    return;
  }
  for (auto _ : state) {
    std::string canonical = json::Canonicalize(*value);
    std::string b3 = crypto::PayloadB3(canonical);
    benchmark::DoNotOptimize(b3);
  }
  state.SetComplexityN(static_cast<std::int64_t>(text.size()));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_CanonicalizeHashSlope)
    ->RangeMultiplier(4)
    ->Range(256, 1 << 20)
    ->Complexity(benchmark::oN);

// One approval as a signer sends it, and what the service knows when it verifies it.
struct ApprovalFixture {
  crypto::Ed25519KeyPair pair;
  std::string payload_b3;
  std::string message;  // ApprovalMessage(payload_b3)
  model::Approval approval;
  std::string body;  // the request body of POST /registry/approvals/{id}
};

const ApprovalFixture& Fixture() {
  static const ApprovalFixture f = [] {
    crypto::Init();
    ApprovalFixture a;
    a.pair = crypto::Ed25519FromSeed(crypto::Ed25519Seed{42});
    a.payload_b3 = crypto::PayloadB3(MakePayloadText(1024));
    a.message = model::ApprovalMessage(a.payload_b3);
    a.approval = model::SignApproval("org:alpha#k1", a.pair.seed, a.payload_b3, 1'795'000'000'000);
    a.body = json::Canonicalize(model::EncodeApproval(a.approval));
    return a;
  }();
  return f;
}

void BM_ApprovalVerifyService(benchmark::State& state) {
  const ApprovalFixture& f = Fixture();
  if (!model::VerifyApproval(f.approval, f.pair.public_key, f.payload_b3)) {
    state.SkipWithError("bad fixture");
    return;
  }
  for (auto _ : state) {
    bool ok = model::VerifyApproval(f.approval, f.pair.public_key, f.payload_b3);
    benchmark::DoNotOptimize(ok);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_ApprovalVerifyService);

void BM_ApprovalDecodeVerify(benchmark::State& state) {
  const ApprovalFixture& f = Fixture();
  for (auto _ : state) {
    util::Result<json::Value> value = json::Parse(f.body);
    util::Result<model::Approval> approval = model::DecodeApproval(*value, "body");
    if (!approval.ok()) {
      state.SkipWithError("decode failed");
      break;
    }
    bool ok = model::VerifyApproval(*approval, f.pair.public_key, f.payload_b3);
    benchmark::DoNotOptimize(ok);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_ApprovalDecodeVerify);

void BM_ApprovalVerifyRaw(benchmark::State& state) {
  const ApprovalFixture& f = Fixture();
  const auto* msg = reinterpret_cast<const unsigned char*>(f.message.data());
  for (auto _ : state) {
    int rc = crypto_sign_verify_detached(f.approval.sig.data(), msg, f.message.size(),
                                         f.pair.public_key.data());
    benchmark::DoNotOptimize(rc);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_ApprovalVerifyRaw);

std::string MakeDir(const char* name) {
  std::string base = g_dir;
  if (base.empty()) {
    const char* t = std::getenv("TMPDIR");
    base = t != nullptr && *t != '\0' ? t : "/tmp";
  }
  std::string templ = base + "/perf-micro-" + name + "-XXXXXX";
  REGISTRY_CHECK(::mkdtemp(templ.data()) != nullptr, "mkdtemp failed");
  return templ;
}

// A commit row of `version` with a ~1.5 KiB canonical record (3 approvals).
storage::CommitRow MakeRow(std::uint64_t version, const std::string& payload) {
  std::vector<model::Approval> approvals;
  for (int k = 0; k < 3; ++k) {
    model::Approval a;
    a.signer_id = "org:fleet#k" + std::to_string(k);
    a.algo = "ed25519";
    a.sig.fill(static_cast<std::uint8_t>(k + version));
    a.signed_at = "2026-11-26T12:00:00Z";
    a.signed_at_ms = 1'795'000'000'000;
    approvals.push_back(a);
  }
  storage::CommitRow row;
  row.version = version;
  row.payload_b3 = crypto::PayloadB3(payload + std::to_string(version));
  row.proposal_id = "p_" + row.payload_b3.substr(3, 24);
  row.committed_at = "2026-11-26T12:00:00.000Z";
  row.record = model::EncodeCommitRecordCanonical(version, payload, row.payload_b3, approvals,
                                                  row.committed_at);
  row.leaf_hash = core::LeafHash(row.record);
  row.root.fill(static_cast<std::uint8_t>(version));
  return row;
}

// Arg: 0 memory, 1 sqlite without fsync, 2 sqlite with fsync (synchronous=FULL).
void BM_HeadAdvance(benchmark::State& state) {
  const int backend = static_cast<int>(state.range(0));
  std::string dir;
  std::unique_ptr<storage::Store> store;
  if (backend == 0) {
    store = std::make_unique<storage::MemoryStore>();
    state.SetLabel("memory");
  } else {
    dir = MakeDir("head");
    storage::SqliteStoreOptions options;
    options.data_dir = dir + "/data";
    options.fsync = backend == 2;
    util::Result<std::unique_ptr<storage::SqliteStore>> s = storage::SqliteStore::Open(options);
    REGISTRY_CHECK(s.ok(), "SqliteStore::Open failed");
    store = std::move(s).value();
    state.SetLabel(backend == 2 ? "sqlite_fsync" : "sqlite_nofsync");
  }
  const std::string payload = json::Canonicalize(*json::Parse(MakePayloadText(700)));
  // Rows are built ahead, in batches, outside the timing (a record costs more to build than
  // to append in memory).
  std::uint64_t version = 0;
  std::vector<storage::CommitRow> rows;
  std::size_t next = 0;
  for (auto _ : state) {
    if (next == rows.size()) {
      state.PauseTiming();
      rows.clear();
      for (std::uint64_t v = version + 1; v <= version + 1024; ++v) {
        rows.push_back(MakeRow(v, payload));
      }
      next = 0;
      state.ResumeTiming();
    }
    util::Result<std::uint64_t> head = store->HeadVersion();
    if (!head.ok() || *head != version) {
      state.SkipWithError("CAS read failed");
      break;
    }
    util::Status s = store->AppendCommit(rows[next++]);
    if (!s.ok()) {
      state.SkipWithError(s.error().message().c_str());
      break;
    }
    ++version;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.counters["record_bytes"] = rows.empty() ? 0 : static_cast<double>(rows[0].record.size());
  store.reset();
  if (!dir.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
}
BENCHMARK(BM_HeadAdvance)->ArgName("backend")->Arg(0)->Arg(1)->Arg(2)->UseRealTime();

core::CommitEvent MakeEvent(std::uint64_t version) {
  core::CommitEvent e;
  e.version = version;
  e.payload_b3 = crypto::PayloadB3(std::to_string(version));
  e.committed_at = "2026-11-26T12:00:00.000Z";
  e.root = crypto::Base64Encode(std::string(32, 'r'));
  e.proposal_id = "p_" + e.payload_b3.substr(3, 24);
  e.corr_id = "01JDXXXXXXXXXXXXXXXXXXXXXX";
  return e;
}

void BM_SseFormatFrame(benchmark::State& state) {
  const core::CommitEvent e = MakeEvent(12345);
  for (auto _ : state) {
    std::string frame = bus::FormatUpdateFrame(e);
    benchmark::DoNotOptimize(frame);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_SseFormatFrame);

// A subscriber that takes every frame and keeps only a count (a socket writer queues it).
class CountingSubscriber final : public bus::Subscriber {
 public:
  bool Push(bus::Frame frame) override {
    benchmark::DoNotOptimize(frame->size());
    ++frames_;
    return true;
  }
  std::uint64_t frames() const { return frames_; }

 private:
  std::uint64_t frames_ = 0;
};

void BM_SseFanout(benchmark::State& state) {
  const auto subscribers = static_cast<std::size_t>(state.range(0));
  bus::EventBus::Options options;
  options.max_subscribers = subscribers;
  std::uint64_t version = 0;
  model::Head head;
  head.payload_b3 = crypto::ZeroB3();
  bus::EventBus bus(
      options, [&head] { return head; }, [] {});
  std::vector<std::shared_ptr<CountingSubscriber>> subs;
  for (std::size_t i = 0; i < subscribers; ++i) {
    subs.push_back(std::make_shared<CountingSubscriber>());
    if (bus.Subscribe(subs.back(), std::nullopt) != bus::EventBus::SubscribeResult::kOk) {
      state.SkipWithError("subscribe failed");
      return;
    }
  }
  for (auto _ : state) {
    bus.OnCommit(MakeEvent(++version));
    bus.WaitIdle();  // the fan-out runs on the bus's worker
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * subscribers));
  state.counters["ns_per_subscriber"] =
      benchmark::Counter(static_cast<double>(state.iterations() * subscribers),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  REGISTRY_CHECK(subs.back()->frames() >= static_cast<std::uint64_t>(state.iterations()),
                 "a subscriber missed a frame");
}
BENCHMARK(BM_SseFanout)->ArgName("subscribers")->Arg(1)->Arg(1000)->Arg(10000);

void BM_MerkleFrontierAppend(benchmark::State& state) {
  const std::string record =
      MakeRow(1, json::Canonicalize(*json::Parse(MakePayloadText(700)))).record;
  core::MerkleFrontier frontier;
  const core::Hash leaf = core::LeafHash(record);
  for (std::uint64_t i = 0; i < 1'000'000; ++i) frontier.AppendLeafHash(leaf);
  for (auto _ : state) {
    frontier.AppendLeaf(record);
    core::Hash root = frontier.Root();
    benchmark::DoNotOptimize(root);
  }
  state.counters["record_bytes"] = static_cast<double>(record.size());
  state.counters["leaves"] = static_cast<double>(frontier.size());
}
BENCHMARK(BM_MerkleFrontierAppend);

}  // namespace
}  // namespace registry

int main(int argc, char** argv) {
  std::vector<char*> rest;
  for (int i = 0; i < argc; ++i) {
    if (std::strncmp(argv[i], "--dir=", 6) == 0) {
      registry::g_dir = argv[i] + 6;
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
