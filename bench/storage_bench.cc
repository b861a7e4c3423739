// storage_bench: SqliteStore under the loads of issue 4.
//
//   BM_AppendCommit      commits/s of realistic records (100 or 50,000 descriptors), fsync
//                        on/off; record building is excluded from the timing.
//   BM_InsertApproval    approvals/s from 8 threads, fsync × group commit on/off; reports
//                        ops_per_txn (how many calls shared a transaction).
//   BM_ReadRecord        ReadRecord latency in a 50,000-descriptor registry with history:
//                        the newest version and old ones (a keyframe, and the end of a
//                        delta chain), with the read cache and without it (cold).
//   BM_StoreSize         builds --size_versions versions of a --size_descriptors registry,
//                        each changing --size_changes descriptors (propose, 3 approvals,
//                        commit), and reports the store's bytes against the goal
//                        2 × snapshot + 1 KiB × versions, plus reopen and HEAD read times.
//
// Extra flags (before the Google Benchmark ones): --size_versions=N (default 1000),
// --size_descriptors=N (50000), --size_changes=N (5), --read_descriptors=N (50000),
// --dir=PATH (where the stores are created; default $TMPDIR or /tmp), --keep (leave the
// BM_StoreSize store on disk, e.g. to inspect it with the sqlite3 shell).
#include <benchmark/benchmark.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "registry/crypto/blake3.h"
#include "registry/json/canonical.h"
#include "registry/json/value.h"
#include "registry/model/approval.h"
#include "registry/model/commit_record.h"
#include "registry/storage/sqlite_store.h"
#include "registry/util/check.h"

namespace {

using registry::json::MakeObject;
using registry::json::Value;
using registry::storage::CommitRow;
using registry::storage::ProposalRow;
using registry::storage::SqliteStore;

std::uint64_t g_size_versions = 1000;
std::uint64_t g_size_descriptors = 50000;
std::uint64_t g_size_changes = 5;
std::uint64_t g_read_descriptors = 50000;
std::string g_dir;
bool g_keep = false;  // --keep: leave the BM_StoreSize store on disk and print its path

class BenchDir {
 public:
  BenchDir() {
    std::string pattern = g_dir + "/storage-bench-XXXXXX";
    REGISTRY_CHECK(::mkdtemp(pattern.data()) != nullptr, "mkdtemp failed");
    path_ = pattern;
  }
  ~BenchDir() {
    if (keep_) {
      std::fprintf(stderr, "kept %s\n", path_.c_str());
      return;
    }
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  void Keep() { keep_ = true; }
  std::string data() const { return path_ + "/data"; }

 private:
  std::string path_;
  bool keep_ = false;
};

std::unique_ptr<SqliteStore> OpenStore(const std::string& dir, bool fsync, bool group_commit,
                                       std::size_t cache_bytes = std::size_t{64} << 20) {
  SqliteStore::Options options;
  options.data_dir = dir;
  options.fsync = fsync;
  options.group_commit = group_commit;
  options.cache_bytes = cache_bytes;
  auto store = SqliteStore::Open(options);
  if (!store.ok()) {
    std::fprintf(stderr, "open: %s\n", store.error().message().c_str());
    std::abort();
  }
  return std::move(store).value();
}

// An evolving registry of realistic descriptors (~230 bytes of canonical JSON each). The
// payload is json::Canonicalize of the whole object; to keep 50,000-item versions cheap to
// build, the canonical form of each descriptor is kept and spliced into the canonical
// skeleton (checked against a full Canonicalize once, at small size).
class Registry {
 public:
  // `keep_values`: also keep each descriptor's json::Value, for SelfCheck.
  Registry(std::uint64_t seed, std::size_t items, bool keep_values = false)
      : rng_(seed), keep_values_(keep_values) {
    for (std::size_t i = 0; i < items; ++i) entries_.push_back(Make(next_id_++));
  }

  void Change(std::size_t changes) {
    for (std::size_t c = 0; c < changes; ++c) {
      const std::size_t i = rng_() % entries_.size();
      switch (c % 5) {
        case 3:  // a new node
          entries_.insert(entries_.begin() + static_cast<std::ptrdiff_t>(i), Make(next_id_++));
          break;
        case 4:  // a node leaves
          entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(i));
          break;
        default:  // a node changes
          entries_[i] = Make(entries_[i].n);
          break;
      }
    }
  }

  std::string Payload(std::uint64_t version) const {
    const std::string skeleton =
        registry::json::Canonicalize(Skeleton(version, Value(registry::json::Array{})));
    const std::size_t at = skeleton.find("\"items\":[]") + 9;
    std::size_t size = skeleton.size();
    for (const Entry& e : entries_) size += e.canonical.size() + 1;
    std::string out;
    out.reserve(size);
    out.append(skeleton, 0, at);
    for (std::size_t i = 0; i < entries_.size(); ++i) {
      if (i > 0) out.push_back(',');
      out.append(entries_[i].canonical);
    }
    out.append(skeleton, at, std::string::npos);
    return out;
  }

  // True when the spliced payload equals json::Canonicalize of the whole payload object.
  // REQUIRES: keep_values.
  bool SelfCheck(std::uint64_t version) const {
    registry::json::Array items;
    for (const Entry& e : entries_) items.push_back(e.value);
    return Payload(version) ==
           registry::json::Canonicalize(Skeleton(version, Value(std::move(items))));
  }

  std::string Record(std::uint64_t version, const std::string& payload) {
    std::vector<registry::model::Approval> approvals;
    for (int k = 0; k < 3; ++k) {
      registry::model::Approval a;
      a.signer_id = "org:fleet#k" + std::to_string(k);
      a.algo = "ed25519";
      for (auto& b : a.sig) b = static_cast<std::uint8_t>(rng_());
      a.signed_at = "2026-11-26T12:00:00Z";
      a.signed_at_ms = 1'795'000'000'000;
      approvals.push_back(a);
    }
    return registry::model::EncodeCommitRecordCanonical(version, payload,
                                                        registry::crypto::PayloadB3(payload),
                                                        approvals, "2026-11-26T12:00:00.000Z");
  }

 private:
  struct Entry {
    std::uint64_t n = 0;
    std::string canonical;
    Value value;  // only with keep_values_
  };

  static Value Skeleton(std::uint64_t version, Value items) {
    registry::json::Array signers;
    for (int k = 0; k < 5; ++k) {
      signers.push_back(
          MakeObject({{"algo", "ed25519"},
                      {"id", "org:fleet#k" + std::to_string(k)},
                      {"pubkey", std::string(43, static_cast<char>('A' + k)) + "="}}));
    }
    return MakeObject(
        {{"version", version},
         {"prev_hash", "b3:" + std::string(64, static_cast<char>('0' + version % 10))},
         {"created_at", "2026-11-26T12:00:00Z"},
         {"governance",
          MakeObject({{"quorum", MakeObject({{"m", 3}})}, {"signers", Value(std::move(signers))}})},
         {"items", std::move(items)}});
  }

  Entry Make(std::uint64_t n) {
    char id[16];
    std::snprintf(id, sizeof id, "node-%06llu", static_cast<unsigned long long>(n));
    const std::string region = "eu-west-" + std::to_string(n % 3 + 1);
    Value d = MakeObject(
        {{"kind", "node"},
         {"id", "node:" + region + "/" + id},
         {"endpoint", "https://" + std::string(id) + "." + region + ".fleet.example:8443"},
         {"region", region},
         {"meta", MakeObject({{"arch", n % 4 == 0 ? "arm64" : "x86_64"},
                              {"cpus", static_cast<int>(8 << (n % 3))},
                              {"labels", MakeObject({{"rack", "r" + std::to_string(n % 40)},
                                                     {"tier", "prod"}})},
                              {"version", "1.24." + std::to_string(rng_() % 1000)}})}});
    Entry e;
    e.n = n;
    e.canonical = registry::json::Canonicalize(d);
    if (keep_values_) e.value = std::move(d);
    return e;
  }

  std::mt19937_64 rng_;
  bool keep_values_;
  std::vector<Entry> entries_;
  std::uint64_t next_id_ = 1;
};

ProposalRow MakeProposal(std::uint64_t version, std::string payload) {
  ProposalRow p;
  p.payload_b3 = registry::crypto::PayloadB3(payload);
  p.proposal_id = "p_" + p.payload_b3.substr(3, 24);
  p.canonical_payload = std::move(payload);
  p.version = version;
  p.created_at = 1'795'000'000'000;
  p.expires_at = p.created_at + 72 * 3600 * 1000;
  return p;
}

CommitRow MakeCommit(std::uint64_t version, const ProposalRow& p, std::string record) {
  CommitRow c;
  c.version = version;
  c.payload_b3 = p.payload_b3;
  c.proposal_id = p.proposal_id;
  c.committed_at = "2026-11-26T12:00:00.000Z";
  c.record = std::move(record);
  c.leaf_hash.fill(static_cast<std::uint8_t>(version));
  c.root.fill(static_cast<std::uint8_t>(version * 7));
  return c;
}

registry::model::Approval BenchApproval(const std::string& signer) {
  registry::model::Approval a;
  a.signer_id = signer;
  a.algo = "ed25519";
  a.sig.fill(0x42);
  a.signed_at = "2026-11-26T12:00:00Z";
  a.signed_at_ms = 1'795'000'000'000;
  return a;
}

void Check(const registry::util::Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, s.error().message().c_str());
    std::abort();
  }
}

// Args: fsync (0/1), descriptors per version.
void BM_AppendCommit(benchmark::State& state) {
  const bool fsync = state.range(0) != 0;
  const auto items = static_cast<std::size_t>(state.range(1));
  BenchDir dir;
  std::unique_ptr<SqliteStore> store = OpenStore(dir.data(), fsync, true);
  Registry registry(1, items);
  // Version 1 stores every descriptor; the timed commits store only what changed.
  std::uint64_t version = 1;
  {
    const std::string payload = registry.Payload(version);
    Check(store->AppendCommit(MakeCommit(version, MakeProposal(version, payload),
                                         registry.Record(version, payload))),
          "AppendCommit");
  }
  std::uint64_t bytes = 0;
  std::int64_t commits = 0;
  for (auto _ : state) {
    state.PauseTiming();
    ++version;
    ++commits;
    registry.Change(5);
    const std::string payload = registry.Payload(version);
    const ProposalRow p = MakeProposal(version, payload);
    const CommitRow c = MakeCommit(version, p, registry.Record(version, payload));
    bytes += c.record.size();
    state.ResumeTiming();
    Check(store->AppendCommit(c), "AppendCommit");
  }
  state.SetItemsProcessed(commits);
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
  state.counters["record_bytes"] = static_cast<double>(bytes) / static_cast<double>(commits);
}
BENCHMARK(BM_AppendCommit)
    ->ArgNames({"fsync", "descriptors"})
    ->Args({0, 100})
    ->Args({1, 100})
    ->Args({0, 50000})
    ->Args({1, 50000})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

SqliteStore* g_approval_store = nullptr;
BenchDir* g_approval_dir = nullptr;
std::atomic<std::uint64_t> g_approval_seq{0};

// Args: fsync (0/1), group commit (0/1). Every thread approves its own proposal with a new
// signer id per call, so that every call inserts a row.
void BM_InsertApproval(benchmark::State& state) {
  const bool fsync = state.range(0) != 0;
  const bool group = state.range(1) != 0;
  if (state.thread_index() == 0) {
    g_approval_dir = new BenchDir();
    g_approval_store = OpenStore(g_approval_dir->data(), fsync, group).release();
    for (int t = 0; t < state.threads(); ++t) {
      Check(g_approval_store->InsertProposal(MakeProposal(1, "{\"t\":" + std::to_string(t) + "}")),
            "InsertProposal");
    }
  }
  const std::string proposal_id =
      MakeProposal(1, "{\"t\":" + std::to_string(state.thread_index()) + "}").proposal_id;
  SqliteStore::Stats before;
  if (state.thread_index() == 0) before = g_approval_store->GetStats();
  std::int64_t done = 0;
  for (auto _ : state) {
    const std::string signer = "org:s" + std::to_string(g_approval_seq.fetch_add(1)) + "#k1";
    Check(g_approval_store->InsertApproval(proposal_id, BenchApproval(signer)), "InsertApproval");
    ++done;
  }
  state.SetItemsProcessed(done);
  if (state.thread_index() == 0) {
    const SqliteStore::Stats after = g_approval_store->GetStats();
    const double txns = static_cast<double>(after.transactions - before.transactions);
    state.counters["ops_per_txn"] =
        txns > 0 ? static_cast<double>(after.operations - before.operations) / txns : 0;
    delete g_approval_store;
    g_approval_store = nullptr;
    delete g_approval_dir;
    g_approval_dir = nullptr;
  }
}
BENCHMARK(BM_InsertApproval)
    ->ArgNames({"fsync", "group"})
    ->Args({0, 0})
    ->Args({0, 1})
    ->Args({1, 0})
    ->Args({1, 1})
    ->Threads(8)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

// A 50,000-descriptor registry with 130 versions (keyframes at 1, 65 and 129), built once.
struct ReadFixture {
  std::unique_ptr<BenchDir> dir;
  std::vector<std::string> records;  // records[v - 1]
  double build_seconds = 0;
};

// Built on first use, removed (with its directory) at the end of main.
std::unique_ptr<ReadFixture> g_read_fixture;

ReadFixture& Fixture() {
  if (g_read_fixture == nullptr) {
    auto f = std::make_unique<ReadFixture>();
    f->dir = std::make_unique<BenchDir>();
    const auto start = std::chrono::steady_clock::now();
    std::unique_ptr<SqliteStore> store = OpenStore(f->dir->data(), false, true);
    Registry registry(2, g_read_descriptors);
    for (std::uint64_t v = 1; v <= 130; ++v) {
      registry.Change(5);
      const std::string payload = registry.Payload(v);
      const ProposalRow p = MakeProposal(v, payload);
      f->records.push_back(registry.Record(v, payload));
      Check(store->AppendCommit(MakeCommit(v, p, f->records.back())), "AppendCommit");
    }
    f->build_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    g_read_fixture = std::move(f);
  }
  return *g_read_fixture;
}

// Args: version, cache (0: cold, every read from the file; 1: warm).
void BM_ReadRecord(benchmark::State& state) {
  ReadFixture& f = Fixture();
  const auto version = static_cast<std::uint64_t>(state.range(0));
  const bool warm = state.range(1) != 0;
  std::unique_ptr<SqliteStore> store =
      OpenStore(f.dir->data(), false, true, warm ? std::size_t{256} << 20 : 0);
  if (warm) (void)store->ReadRecord(version);
  for (auto _ : state) {
    auto r = store->ReadRecord(version);
    if (!r.ok() || !r->has_value() || **r != f.records[version - 1]) {
      state.SkipWithError("ReadRecord returned other bytes");
      break;
    }
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(f.records[version - 1].size()));
  state.counters["record_bytes"] = static_cast<double>(f.records[version - 1].size());
  state.counters["fixture_build_s"] = f.build_seconds;
}
BENCHMARK(BM_ReadRecord)
    ->ArgNames({"version", "warm"})
    ->Args({130, 1})
    ->Args({130, 0})
    ->Args({1, 0})
    ->Args({64, 0})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

std::uint64_t FileSize(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
}

void BM_StoreSize(benchmark::State& state) {
  for (auto _ : state) {
    BenchDir dir;
    if (g_keep) dir.Keep();
    Registry registry(3, g_size_descriptors);
    std::unique_ptr<SqliteStore> store = OpenStore(dir.data(), false, true);
    std::size_t snapshot = 0;
    std::string last_record;
    const auto start = std::chrono::steady_clock::now();
    for (std::uint64_t v = 1; v <= g_size_versions; ++v) {
      registry.Change(g_size_changes);
      std::string payload = registry.Payload(v);
      snapshot = payload.size();
      const ProposalRow p = MakeProposal(v, payload);
      Check(store->InsertProposal(p), "InsertProposal");
      for (int k = 0; k < 3; ++k) {
        Check(
            store->InsertApproval(p.proposal_id, BenchApproval("org:fleet#k" + std::to_string(k))),
            "InsertApproval");
      }
      last_record = registry.Record(v, payload);
      Check(store->AppendCommit(MakeCommit(v, p, last_record)), "AppendCommit");
    }
    const double build =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const std::uint64_t live_bytes = store->SizeBytes();
    store.reset();  // closing checkpoints the WAL into the database file
    const std::string db = dir.data() + "/" + SqliteStore::kDatabaseFile;
    const std::uint64_t closed_bytes = FileSize(db) + FileSize(db + "-wal");

    const auto open_start = std::chrono::steady_clock::now();
    store = OpenStore(dir.data(), false, true);
    const double open_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - open_start)
            .count();
    const auto read_start = std::chrono::steady_clock::now();
    auto head = store->ReadRecord(g_size_versions);
    const double read_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - read_start)
            .count();
    REGISTRY_CHECK(head.ok() && head->has_value() && **head == last_record, "HEAD record differs");
    store.reset();

    const double budget =
        2.0 * static_cast<double>(snapshot) + 1024.0 * static_cast<double>(g_size_versions);
    state.counters["versions"] = static_cast<double>(g_size_versions);
    state.counters["descriptors"] = static_cast<double>(g_size_descriptors);
    state.counters["snapshot_bytes"] = static_cast<double>(snapshot);
    state.counters["store_bytes"] = static_cast<double>(closed_bytes);
    state.counters["store_bytes_live"] = static_cast<double>(live_bytes);
    state.counters["goal_bytes"] = budget;
    state.counters["store_over_goal"] = static_cast<double>(closed_bytes) / budget;
    state.counters["whole_copies_bytes"] =
        static_cast<double>(snapshot) * static_cast<double>(g_size_versions);
    state.counters["build_s"] = build;
    state.counters["reopen_ms"] = open_ms;
    state.counters["cold_head_read_ms"] = read_ms;
  }
}
BENCHMARK(BM_StoreSize)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();

bool TakeFlag(const char* arg, const char* name, std::uint64_t* out) {
  const std::size_t n = std::strlen(name);
  if (std::strncmp(arg, name, n) != 0 || arg[n] != '=') return false;
  *out = std::stoull(arg + n + 1);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  const char* tmp = std::getenv("TMPDIR");
  g_dir = tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    if (TakeFlag(argv[i], "--size_versions", &g_size_versions) ||
        TakeFlag(argv[i], "--size_descriptors", &g_size_descriptors) ||
        TakeFlag(argv[i], "--size_changes", &g_size_changes) ||
        TakeFlag(argv[i], "--read_descriptors", &g_read_descriptors)) {
      continue;
    }
    if (std::strcmp(argv[i], "--keep") == 0) {
      g_keep = true;
      continue;
    }
    if (std::strncmp(argv[i], "--dir=", 6) == 0) {
      g_dir = argv[i] + 6;
      continue;
    }
    argv[kept++] = argv[i];
  }
  argc = kept;
  {
    Registry check(9, 50, /*keep_values=*/true);
    for (std::uint64_t v = 1; v <= 5; ++v) {
      check.Change(5);
      REGISTRY_CHECK(check.SelfCheck(v), "the spliced payload differs from json::Canonicalize");
    }
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  g_read_fixture.reset();
  return 0;
}
