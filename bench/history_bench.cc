// The storage issue's history benchmark: a registry of `--descriptors` descriptors (default
// 50,000) with `--versions` versions (default 1,000), each changing a few descriptors,
// committed through the real governance core onto SQLite.
//
// Reports, as one JSON object on stdout:
//   - snapshot_bytes: canonical size of one snapshot (the payload of HEAD);
//   - store_bytes and the goal 2 × snapshot + 1 KiB × versions;
//   - open_ms: core::Registry::Open on the closed store (checkpoint + tail verification), the
//     in-process part of a cold start; medians of --repeat runs;
//   - readyz_ms: when --service PATH is given, fork/exec of the real svc-registry on the store
//     until GET /readyz answers 200; medians of --repeat runs.
//   - build_s: how long building the history took (fsync off while building).
// Not a test: it asserts nothing; see docs/PERFORMANCE.md for how it is run.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "registry/auth/root_key.h"
#include "registry/core/registry.h"
#include "registry/crypto/blake3.h"
#include "registry/json/canonical.h"
#include "registry/model/approval.h"
#include "registry/storage/sqlite_store.h"
#include "testing/fixtures.h"

extern char** environ;

namespace {

using namespace registry;  // NOLINT: a benchmark program's main file
using Clock = std::chrono::steady_clock;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

json::Value Descriptor(int i, int generation) {
  return json::MakeObject(
      {{"kind", "node"},
       {"id", "node:eu-" + std::to_string(i % 7) + "/" + std::to_string(i)},
       {"endpoint", "https://n" + std::to_string(i) + ".eu.example.net:8443"},
       {"region", "eu-" + std::to_string(i % 7)},
       {"meta", json::MakeObject({{"gen", generation}, {"rack", "r" + std::to_string(i % 64)}})}});
}

// GET /readyz on 127.0.0.1:port; true on 200.
bool Ready(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = false;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    const char req[] = "GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    if (::send(fd, req, sizeof(req) - 1, 0) > 0) {
      char buf[64] = {};
      ok = ::recv(fd, buf, sizeof(buf) - 1, 0) > 12 &&
           std::string(buf).find(" 200 ") != std::string::npos;
    }
  }
  ::close(fd);
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  int descriptors = 50000;
  int versions = 1000;
  int repeat = 5;
  std::string service;
  std::string dir = "/tmp/registry-history-bench";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    std::string v = argv[i + 1];
    if (k == "--descriptors") descriptors = std::stoi(v);
    if (k == "--versions") versions = std::stoi(v);
    if (k == "--repeat") repeat = std::stoi(v);
    if (k == "--service") service = v;
    if (k == "--dir") dir = v;
  }
  crypto::Init();
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::filesystem::permissions(dir, std::filesystem::perms::owner_all);
  const std::string data = dir + "/data";

  auto signers = testing::MakeSigners("bench", 3);
  model::Governance roots = testing::MakeGovernance(signers, 2);
  util::SystemClock clock;
  core::RegistryOptions options;
  options.payload_limits.max_items = static_cast<std::size_t>(descriptors) + 10;

  // Build the history: each version changes 5 descriptors at random.
  auto build_start = Clock::now();
  std::size_t snapshot_bytes = 0;
  {
    storage::SqliteStore::Options so;
    so.data_dir = data;
    so.fsync = false;
    auto store = std::move(storage::SqliteStore::Open(so)).value();
    auto registry = std::move(core::Registry::Open(store.get(), &clock, roots, options)).value();
    std::vector<int> generation(static_cast<std::size_t>(descriptors), 0);
    std::mt19937 rng(1);
    for (int v = 1; v <= versions; ++v) {
      if (v > 1) {
        for (int c = 0; c < 5; ++c) ++generation[rng() % generation.size()];
      }
      json::Array items;
      items.reserve(generation.size());
      for (int i = 0; i < descriptors; ++i) items.push_back(Descriptor(i, generation[i]));
      auto head = registry->Head();
      json::Value payload = json::MakeObject({{"version", static_cast<std::uint64_t>(v)},
                                              {"prev_hash", head->head.payload_b3},
                                              {"governance", model::EncodeGovernance(roots)},
                                              {"items", json::Value(std::move(items))}});
      model::CanonicalPayload cp = testing::MakeCanonical(payload);
      snapshot_bytes = cp.canonical.size();
      std::string b3 = cp.payload_b3;
      std::string id = registry->Propose(std::move(cp))->proposal.proposal_id;
      for (int s = 0; s < 2; ++s) {
        (void)registry->Approve(id, testing::Sign(signers[s], b3, clock.NowMillis()));
      }
      if (!registry->Commit(id).ok()) {
        std::cerr << "commit of version " << v << " failed\n";
        return 1;
      }
    }
    (void)registry->WriteCheckpoint();
  }
  const double build_s = Ms(Clock::now() - build_start) / 1000.0;

  std::uintmax_t store_bytes = 0;
  for (const auto& e : std::filesystem::directory_iterator(data)) {
    if (e.is_regular_file()) store_bytes += e.file_size();
  }

  // In-process cold start: open the store and recover.
  std::vector<double> open_ms;
  for (int r = 0; r < repeat; ++r) {
    auto t0 = Clock::now();
    storage::SqliteStore::Options so;
    so.data_dir = data;
    auto store = std::move(storage::SqliteStore::Open(so)).value();
    auto registry = std::move(core::Registry::Open(store.get(), &clock, roots, options)).value();
    open_ms.push_back(Ms(Clock::now() - t0));
  }

  // The real binary: fork/exec until /readyz answers 200.
  std::vector<double> readyz_ms;
  if (!service.empty()) {
    const std::string roots_path = dir + "/trust_roots.json";
    std::ofstream(roots_path) << json::Canonicalize(model::EncodeGovernance(roots));
    const std::string key_path = dir + "/root.key";
    (void)auth::WriteRootKeyFile(key_path);
    for (int r = 0; r < repeat; ++r) {
      const std::uint16_t port = static_cast<std::uint16_t>(20000 + (::getpid() + r) % 20000);
      std::vector<std::string> args = {service,
                                       "--storage",
                                       "sqlite",
                                       "--data-dir",
                                       data,
                                       "--bind",
                                       "127.0.0.1:" + std::to_string(port),
                                       "--metrics-addr",
                                       "127.0.0.1:0",
                                       "--log-level",
                                       "warn",
                                       "--set",
                                       "bootstrap.trust_roots_path=" + roots_path,
                                       "--set",
                                       "auth.root_key_path=" + key_path,
                                       "--set",
                                       "limits.max_items=" + std::to_string(descriptors + 10)};
      std::vector<char*> cargs;
      for (std::string& a : args) cargs.push_back(a.data());
      cargs.push_back(nullptr);
      auto t0 = Clock::now();
      pid_t pid = 0;
      if (posix_spawn(&pid, service.c_str(), nullptr, nullptr, cargs.data(), environ) != 0) {
        std::cerr << "cannot start " << service << "\n";
        return 1;
      }
      bool ready = false;
      while (Clock::now() - t0 < std::chrono::seconds(30)) {
        if (Ready(port)) {
          ready = true;
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));  // polling the port
      }
      if (ready) readyz_ms.push_back(Ms(Clock::now() - t0));
      ::kill(pid, SIGTERM);
      int status = 0;
      ::waitpid(pid, &status, 0);
    }
  }

  std::printf(
      "{\"descriptors\":%d,\"versions\":%d,\"build_s\":%.1f,\"snapshot_bytes\":%zu,"
      "\"store_bytes\":%ju,\"goal_bytes\":%zu,\"open_ms_median\":%.1f,\"readyz_ms_median\":%.1f,"
      "\"repeat\":%d}\n",
      descriptors, versions, build_s, snapshot_bytes, store_bytes,
      2 * snapshot_bytes + 1024 * static_cast<std::size_t>(versions), Median(open_ms),
      Median(readyz_ms), repeat);
  return 0;
}
