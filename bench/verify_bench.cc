// registryctl verify's core cost (transparency issue): core::ChainVerifier over a log of
// `--versions` versions (default 10,000), each approved by 3 signers, measured as versions
// per second — the records are built in memory first (MemoryStore), so only verification
// is timed. Prints one JSON object. Not a test: it asserts nothing.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "registry/core/chain_verifier.h"
#include "registry/core/registry.h"
#include "registry/storage/memory_store.h"
#include "testing/fixtures.h"

int main(int argc, char** argv) {
  using namespace registry;  // NOLINT: a benchmark program's main file
  int versions = 10000;
  int repeat = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--versions") versions = std::stoi(argv[i + 1]);
    if (k == "--repeat") repeat = std::stoi(argv[i + 1]);
  }
  auto signers = testing::MakeSigners("verify", 5);
  model::Governance roots = testing::MakeGovernance(signers, 3);
  storage::MemoryStore store;
  util::ManualClock clock(1'795'000'000'000);
  auto registry = std::move(core::Registry::Open(&store, &clock, roots, {})).value();
  for (int v = 1; v <= versions; ++v) {
    auto head = registry->Head();
    model::CanonicalPayload p = testing::MakeCanonical(testing::MakePayloadValue(
        head->head.version + 1, head->head.payload_b3, roots, 3, std::to_string(v)));
    std::string b3 = p.payload_b3;
    std::string id = registry->Propose(std::move(p))->proposal.proposal_id;
    for (int s = 0; s < 3; ++s) {
      (void)registry->Approve(id, testing::Sign(signers[s], b3, clock.NowMillis()));
    }
    if (!registry->Commit(id).ok()) return 1;
  }
  std::vector<std::string> records;
  records.reserve(static_cast<std::size_t>(versions));
  for (int v = 1; v <= versions; ++v) records.push_back(**store.ReadRecord(v));

  std::vector<double> per_second;
  for (int r = 0; r < repeat; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    core::ChainVerifier verifier(roots);
    for (const std::string& record : records) {
      if (!verifier.Next(record).ok()) return 1;
    }
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    per_second.push_back(versions / s);
  }
  std::sort(per_second.begin(), per_second.end());
  std::printf(
      "{\"versions\":%d,\"signatures_per_version\":3,\"record_bytes\":%zu,"
      "\"versions_per_second_median\":%.0f,\"repeat\":%d}\n",
      versions, records.back().size(), per_second[per_second.size() / 2], repeat);
  return 0;
}
