// PostgreSQL store figures (docs/SCALING.md):
//   BM_AppendCommit/<backend>   latency of one AppendCommit of a 24 KiB record, one writer,
//                               postgres (own throwaway cluster) and sqlite (fsync on).
//   BM_CommitToSubscriber       time from the start of AppendCommit on instance A to the
//                               kCommit report reaching a subscriber of instance B (commit
//                               included); reports p50_ms and p99_ms.
// Run: REGISTRY_TEST_PG_FSYNC=1 build/bench/postgres_bench
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "registry/storage/postgres_store.h"
#include "registry/storage/sqlite_store.h"
#include "registry/util/check.h"
#include "storage/postgres_cluster.h"

namespace {

using registry::storage::CommitRow;
using registry::storage::PostgresStore;
using registry::storage::SqliteStore;
using registry::storage::Store;
using registry::storage::StoreChange;
using registry::storage::testing::PostgresCluster;

void Check(const registry::util::Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, s.error().message().c_str());
    std::abort();
  }
}

CommitRow Commit(std::uint64_t version, const std::string& record) {
  CommitRow row;
  row.version = version;
  row.payload_b3 = "b3:" + std::string(64, 'b');
  row.proposal_id = "p_" + std::string(24, '1');
  row.committed_at = "2026-11-26T12:00:00.000Z";
  row.record = record;
  row.leaf_hash.fill(static_cast<std::uint8_t>(version));
  row.root.fill(static_cast<std::uint8_t>(version + 1));
  return row;
}

// A record of `n` bytes that compresses like canonical JSON does (somewhat).
std::string Record(std::size_t n, std::uint64_t seed) {
  std::string s;
  s.reserve(n);
  std::uint64_t x = seed * 0x9E3779B97F4A7C15ULL + 1;
  while (s.size() < n) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    s += R"({"id":"node-)" + std::to_string(x % 100000) + R"(","region":"eu-west-)" +
         std::to_string(x % 7) + R"("},)";
  }
  s.resize(n);
  return s;
}

// A fresh database of the bench's throwaway cluster.
std::string NewDatabase() {
  registry::util::Result<PostgresCluster*> cluster = PostgresCluster::Get();
  REGISTRY_CHECK(cluster.ok(), "cannot start the PostgreSQL cluster");
  registry::util::Result<std::string> conninfo = (*cluster)->CreateDatabase();
  REGISTRY_CHECK(conninfo.ok(), "CREATE DATABASE failed");
  return *conninfo;
}

std::unique_ptr<PostgresStore> OpenPostgres(const std::string& conninfo) {
  PostgresStore::Options options;
  options.conninfo = conninfo;
  auto store = PostgresStore::Open(options);
  REGISTRY_CHECK(store.ok(), "PostgresStore::Open failed");
  return std::move(store).value();
}

void BM_AppendCommit(benchmark::State& state) {
  const bool postgres = state.range(0) == 1;
  std::unique_ptr<Store> store;
  std::string dir;
  if (postgres) {
    store = OpenPostgres(NewDatabase());
    state.SetLabel("postgres");
  } else {
    dir = (std::filesystem::temp_directory_path() / "postgres-bench-sqlite-XXXXXX").string();
    REGISTRY_CHECK(::mkdtemp(dir.data()) != nullptr, "mkdtemp");
    SqliteStore::Options options;
    options.data_dir = dir + "/data";
    options.fsync = true;
    auto opened = SqliteStore::Open(options);
    REGISTRY_CHECK(opened.ok(), "SqliteStore::Open failed");
    store = std::move(opened).value();
    state.SetLabel("sqlite");
  }
  std::vector<std::string> records;
  for (int i = 0; i < 16; ++i) records.push_back(Record(24 * 1024, i));
  std::uint64_t v = 0;
  for (auto _ : state) {
    ++v;
    Check(store->AppendCommit(Commit(v, records[v % records.size()])), "AppendCommit");
  }
  store.reset();
  if (!dir.empty()) std::filesystem::remove_all(dir);
}
BENCHMARK(BM_AppendCommit)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_CommitToSubscriber(benchmark::State& state) {
  // Instance A commits, instance B (another store on the same database) listens.
  const std::string conninfo = NewDatabase();
  std::unique_ptr<PostgresStore> a = OpenPostgres(conninfo);
  std::unique_ptr<PostgresStore> b = OpenPostgres(conninfo);
  std::mutex mu;
  std::condition_variable cv;
  std::uint64_t heard = 0;
  std::chrono::steady_clock::time_point heard_at;
  std::vector<double> latencies_ms;
  std::uint64_t v = 0;
  const std::string record = Record(2048, 1);
  Check(b->SubscribeChanges([&](const StoreChange& c) {
    if (c.kind != StoreChange::Kind::kCommit) return;
    std::lock_guard lock(mu);
    heard = c.version;
    heard_at = std::chrono::steady_clock::now();
    cv.notify_all();
  }),
        "SubscribeChanges");
  for (auto _ : state) {
    ++v;
    // From the start of the commit: the notification may arrive before COMMIT's answer.
    const auto committed = std::chrono::steady_clock::now();
    Check(a->AppendCommit(Commit(v, record)), "AppendCommit");
    std::unique_lock lock(mu);
    REGISTRY_CHECK(cv.wait_for(lock, std::chrono::seconds(10), [&] { return heard >= v; }),
                   "no notification within 10 s");
    latencies_ms.push_back(std::chrono::duration<double, std::milli>(heard_at - committed).count());
  }
  std::sort(latencies_ms.begin(), latencies_ms.end());
  if (!latencies_ms.empty()) {
    state.counters["p50_ms"] = latencies_ms[latencies_ms.size() / 2];
    state.counters["p99_ms"] = latencies_ms[latencies_ms.size() * 99 / 100];
  }
}
BENCHMARK(BM_CommitToSubscriber)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(500);

}  // namespace

BENCHMARK_MAIN();
