// Unit tests of registryctl verify's checks (apps/registryctl/log_check.h) and of the archive
// that fetch writes and verify --dir reads (archive.h, dir_log_source.h), without a server:
// a log is built in memory with core::Registry and served by a fake LogSource or written to
// a temporary archive directory.
#include "log_check.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "archive.h"
#include "dir_log_source.h"
#include "registry/core/merkle_proof.h"
#include "registry/core/registry.h"
#include "registry/json/canonical.h"
#include "registry/model/commit_record.h"
#include "registry/storage/memory_store.h"
#include "testing/fixtures.h"

namespace registry::ctl {
namespace {

constexpr util::UnixMillis kAt = 1'795'000'000'000;
constexpr std::uint64_t kVersions = 40;

// A log of kVersions versions (a rotation at 20), its HEAD object and records.
struct TestLog {
  model::Governance roots;
  json::Value head;
  std::vector<std::string> records;  // records[v - 1] is version v
};

const TestLog& Log() {
  static const TestLog* log = [] {
    auto* out = new TestLog;
    std::vector<testing::TestSigner> signers = testing::MakeSigners("lc", 4);
    out->roots = testing::MakeGovernance(signers, 2);
    model::Governance rotated = testing::MakeGovernance({signers[1], signers[2], signers[3]}, 2);
    storage::MemoryStore store;
    util::ManualClock clock(kAt);
    auto registry = std::move(core::Registry::Open(&store, &clock, out->roots, {})).value();
    for (std::uint64_t v = 1; v <= kVersions; ++v) {
      const model::Governance& next = v < 20 ? out->roots : rotated;
      auto head = registry->Head();
      model::CanonicalPayload p = testing::MakeCanonical(
          testing::MakePayloadValue(v, head->head.payload_b3, next, 2, "v" + std::to_string(v)));
      std::string id = registry->Propose(p)->proposal.proposal_id;
      for (int i : {1, 2, 3}) {
        REGISTRY_CHECK(registry->Approve(id, testing::Sign(signers[i], p.payload_b3, kAt)).ok(),
                       "approve");
      }
      REGISTRY_CHECK(registry->Commit(id).ok(), "commit");
    }
    out->head = model::EncodeHead(registry->Head()->head);
    for (std::uint64_t v = 1; v <= kVersions; ++v) out->records.push_back(**store.ReadRecord(v));
    return out;
  }();
  return *log;
}

// A LogSource serving a TestLog's records, some of them pruned (kPruned) or missing.
class FakeSource final : public LogSource {
 public:
  explicit FakeSource(std::vector<std::string> records) : records_(std::move(records)) {}
  std::string Describe() const override { return "fake"; }
  util::Result<std::string> Checkpoint() override {
    return util::Error(util::ErrorCode::kNotFound, "none");
  }
  util::Result<json::Value> Head() override { return Log().head; }
  util::Result<std::string> Record(std::uint64_t v) override {
    ++reads_;
    if (pruned.count(v) != 0) {
      return util::Error(util::ErrorCode::kPruned, "GET /registry/" + std::to_string(v) +
                                                       " answered 410 (Pruned: retention)");
    }
    if (v == 0 || v > records_.size()) return util::Error(util::ErrorCode::kNotFound, "none");
    return records_[v - 1];
  }
  util::Result<std::vector<core::Hash>> InclusionProof(std::uint64_t, std::uint64_t,
                                                       std::span<const core::Hash>) override {
    return util::Error(util::ErrorCode::kNotFound, "none");
  }
  util::Result<std::vector<core::Hash>> ConsistencyProof(std::uint64_t, std::uint64_t,
                                                         std::span<const core::Hash>) override {
    return util::Error(util::ErrorCode::kNotFound, "none");
  }

  std::set<std::uint64_t> pruned;
  int reads() const { return reads_; }

 private:
  std::vector<std::string> records_;
  int reads_ = 0;
};

LogCheckOptions Options(std::size_t threads) {
  LogCheckOptions o;
  o.trust_roots = Log().roots;
  o.threads = threads;
  o.batch_versions = 7;  // batch boundaries inside the log
  return o;
}

// Flips a character inside version v's first signature (base64), keeping the JSON valid.
std::string BreakSignature(std::string record) {
  const std::size_t at = record.find("\"sig\":\"") + 7;
  record[at] = record[at] == 'A' ? 'B' : 'A';
  return record;
}

class LogCheckTest : public ::testing::TestWithParam<std::size_t> {};

TEST_P(LogCheckTest, VerifiesTheWholeLog) {
  FakeSource source(Log().records);
  std::vector<std::string> lines;
  LogCheckOptions o = Options(GetParam());
  o.progress = [&lines](const std::string& line) { lines.push_back(line); };
  util::Result<LogCheckResult> r = CheckLog(source, o);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->versions, kVersions);
  EXPECT_EQ(r->head, Log().head);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].find("40 versions verified"), 0u) << lines[0];
  EXPECT_EQ(source.reads(), static_cast<int>(kVersions));
}

TEST_P(LogCheckTest, APrunedVersionStopsWithThePrunedMessage) {
  FakeSource source(Log().records);
  source.pruned = {1, 2, 3};
  util::Result<LogCheckResult> r = CheckLog(source, Options(GetParam()));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), util::ErrorCode::kPruned);
  const std::string& m = r.error().message();
  EXPECT_EQ(m.find("version 1 is pruned: fake no longer serves it (GET /registry/1 answered 410"),
            0u)
      << m;
  EXPECT_NE(m.find("a full verification needs an archive made with `registryctl fetch` before "
                   "pruning"),
            std::string::npos)
      << m;
  EXPECT_EQ(m.find("does not verify"), std::string::npos) << m;

  // Pruned in the middle (a batch boundary is at 8): the versions before it are verified.
  FakeSource middle(Log().records);
  middle.pruned = {15};
  r = CheckLog(middle, Options(GetParam()));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), util::ErrorCode::kPruned);
  EXPECT_EQ(r.error().message().find("version 15 is pruned"), 0u) << r.error().message();
}

TEST_P(LogCheckTest, TheEarliestFailureWinsOverALaterPrunedVersion) {
  // Version 13 is tampered, 14 is pruned (same batch) and 30 is tampered (a later batch,
  // read while 13's batch is verified).
  std::vector<std::string> records = Log().records;
  records[12] = BreakSignature(records[12]);
  records[29] = BreakSignature(records[29]);
  FakeSource source(records);
  source.pruned = {14};
  util::Result<LogCheckResult> r = CheckLog(source, Options(GetParam()));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), util::ErrorCode::kMalformed);
  EXPECT_EQ(r.error().message().find("version 13: signature of org:lc#k1 does not verify"), 0u)
      << r.error().message();
}

TEST_P(LogCheckTest, ModifiedAndReorderedHistoryFailNamingVersionAndRule) {
  std::vector<std::string> modified = Log().records;
  const std::size_t at = modified[24].find("node:v25-0");
  ASSERT_NE(at, std::string::npos);
  modified[24].replace(at, 10, "node:v99-0");
  FakeSource a(modified);
  util::Result<LogCheckResult> r = CheckLog(a, Options(GetParam()));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message().find("version 25: payload_b3 "), 0u) << r.error().message();
  EXPECT_NE(r.error().message().find("does not match the payload"), std::string::npos);

  std::vector<std::string> reordered = Log().records;
  std::swap(reordered[9], reordered[10]);
  FakeSource b(reordered);
  r = CheckLog(b, Options(GetParam()));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "version 10: record carries version 11");
}

INSTANTIATE_TEST_SUITE_P(Threads, LogCheckTest, ::testing::Values(1, 3),
                         [](const auto& info) { return std::to_string(info.param) + "threads"; });

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/log_check_test.XXXXXX";
    REGISTRY_CHECK(::mkdtemp(tmpl) != nullptr, "mkdtemp");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Writes the test log as `registryctl fetch` would (no checkpoint: no log key).
void WriteArchive(const std::string& dir) {
  std::filesystem::create_directories(dir + "/" + kArchiveRecordsDir);
  for (std::uint64_t v = 1; v <= kVersions; ++v) {
    ASSERT_TRUE(ReplaceFile(ArchiveRecordPath(dir, v), Log().records[v - 1]).ok());
  }
  ASSERT_TRUE(ReplaceFile(dir + "/" + kArchiveHeadFile, json::Canonicalize(Log().head)).ok());
}

util::Result<LogCheckResult> CheckDir(const std::string& dir) {
  util::Result<std::unique_ptr<DirLogSource>> source = DirLogSource::Open(dir);
  if (!source.ok()) return source.error();
  return CheckLog(**source, Options(2));
}

TEST(ArchiveTest, RecordNamesSortInVersionOrderAndParseBack) {
  EXPECT_EQ(ArchiveRecordName(42), "records/00000000000000000042.json");
  EXPECT_EQ(ArchiveRecordName(UINT64_MAX), "records/18446744073709551615.json");
  EXPECT_LT(ArchiveRecordName(9), ArchiveRecordName(10));
  EXPECT_EQ(ParseArchiveRecordFileName("00000000000000000042.json"), 42u);
  EXPECT_EQ(ParseArchiveRecordFileName("18446744073709551615.json"), UINT64_MAX);
  EXPECT_EQ(ParseArchiveRecordFileName("18446744073709551616.json"), std::nullopt);
  EXPECT_EQ(ParseArchiveRecordFileName("00000000000000000042.json.tmp"), std::nullopt);
  EXPECT_EQ(ParseArchiveRecordFileName("0000000000000000004x.json"), std::nullopt);
  EXPECT_EQ(ParseArchiveRecordFileName("42.json"), std::nullopt);
}

TEST(DirLogSourceTest, VerifiesAnArchiveAndDerivesProofsFromItsLeaves) {
  TempDir tmp;
  WriteArchive(tmp.path());
  util::Result<LogCheckResult> r = CheckDir(tmp.path());
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->versions, kVersions);

  util::Result<std::unique_ptr<DirLogSource>> source = DirLogSource::Open(tmp.path());
  ASSERT_TRUE(source.ok());
  EXPECT_EQ((*source)->HighestRecord(), kVersions);
  std::vector<core::Hash> leaves;
  for (const std::string& record : Log().records) leaves.push_back(core::LeafHash(record));
  const core::Hash root = core::RootOfLeafHashes(std::span(leaves).first(30));
  util::Result<std::vector<core::Hash>> path = (*source)->InclusionProof(7, 30, leaves);
  ASSERT_TRUE(path.ok());
  EXPECT_TRUE(core::VerifyInclusion(6, 30, leaves[6], *path, root).ok());
  util::Result<std::vector<core::Hash>> consistency = (*source)->ConsistencyProof(11, 30, leaves);
  ASSERT_TRUE(consistency.ok());
  EXPECT_TRUE(core::VerifyConsistency(11, 30, core::RootOfLeafHashes(std::span(leaves).first(11)),
                                      root, *consistency)
                  .ok());
  EXPECT_FALSE((*source)->InclusionProof(31, 30, leaves).ok());
  EXPECT_FALSE((*source)->ConsistencyProof(0, 30, leaves).ok());
}

TEST(DirLogSourceTest, SwappedRecordFilesAreAReorderedHistory) {
  TempDir tmp;
  WriteArchive(tmp.path());
  std::filesystem::rename(ArchiveRecordPath(tmp.path(), 5), tmp.path() + "/swap");
  std::filesystem::rename(ArchiveRecordPath(tmp.path(), 6), ArchiveRecordPath(tmp.path(), 5));
  std::filesystem::rename(tmp.path() + "/swap", ArchiveRecordPath(tmp.path(), 6));
  util::Result<LogCheckResult> r = CheckDir(tmp.path());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "version 5: record carries version 6");
}

TEST(DirLogSourceTest, AMissingVersionIsAGapNotAPrunedVersion) {
  // Removed [first, last]: the early versions (as if archived after pruning), one in the
  // middle, the last one. Each is a gap, a failed check (exit 1), named at its first version.
  const std::vector<std::pair<std::uint64_t, std::uint64_t>> removals = {
      {1, 5}, {17, 17}, {kVersions, kVersions}};
  for (const auto& [first, last] : removals) {
    SCOPED_TRACE(first);
    TempDir tmp;
    WriteArchive(tmp.path());
    for (std::uint64_t v = first; v <= last; ++v) {
      ASSERT_TRUE(std::filesystem::remove(ArchiveRecordPath(tmp.path(), v)));
    }
    util::Result<LogCheckResult> r = CheckDir(tmp.path());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), util::ErrorCode::kMalformed);
    EXPECT_EQ(r.error().message(), "version " + std::to_string(first) +
                                       ": missing from the archive (no " +
                                       ArchiveRecordName(first) + "): the archive has a gap");
    EXPECT_EQ(r.error().message().find("pruned"), std::string::npos);
  }
}

TEST(DirLogSourceTest, AModifiedRecordFileFailsAtItsVersion) {
  TempDir tmp;
  WriteArchive(tmp.path());
  ASSERT_TRUE(
      ReplaceFile(ArchiveRecordPath(tmp.path(), 33), BreakSignature(Log().records[32])).ok());
  util::Result<LogCheckResult> r = CheckDir(tmp.path());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message().find("version 33: signature of org:lc#k1 does not verify"), 0u)
      << r.error().message();
}

TEST(DirLogSourceTest, RefusesADirectoryThatIsNotAnArchive) {
  TempDir tmp;
  util::Result<std::unique_ptr<DirLogSource>> none = DirLogSource::Open(tmp.path());
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message().find("not an archive made by `registryctl fetch`"),
            std::string::npos);
  WriteArchive(tmp.path());
  std::filesystem::remove(tmp.path() + "/" + kArchiveHeadFile);
  util::Result<LogCheckResult> r = CheckDir(tmp.path());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message().find("HEAD: " + tmp.path() + " is not a complete archive"), 0u)
      << r.error().message();
}

}  // namespace
}  // namespace registry::ctl
