// Restart and tamper behaviour of the real service on SQLite (storage issue, "Must show"):
// commit, stop, start → the same HEAD, the same record bytes and the same audit trail; a
// byte flipped in a stored record of the database file → the service names the version,
// keeps serving reads and refuses writes.
#include <sqlite3.h>

#include "harness.h"

namespace registry::itest {
namespace {

class RestartTest : public ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    storage_ = "sqlite";
  }

  struct Snapshot {
    std::string head;
    std::vector<std::string> records;
    std::string audit;
  };

  Snapshot Take(std::uint64_t versions) {
    Snapshot s;
    HttpResponse head = Get("/registry/head");
    EXPECT_TRUE(HasStatus(head, 200));
    s.head = head.body;
    for (std::uint64_t v = 1; v <= versions; ++v) {
      HttpResponse r = Get("/registry/" + std::to_string(v));
      EXPECT_TRUE(HasStatus(r, 200));
      s.records.push_back(r.body);
    }
    HttpResponse audit = AdminGet("/admin/audit?limit=1000");
    EXPECT_TRUE(HasStatus(audit, 200));
    s.audit = audit.body;
    return s;
  }
};

TEST_F(RestartTest, SameHeadRecordsAndAuditTrailAfterRestart) {
  ASSERT_NO_FATAL_FAILURE(StartService());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(CommitNext().ok);
  // A rejected write is part of the audit trail too.
  EXPECT_TRUE(IsError(PostCommit("p_000000000000000000000000"), 404, "NotFound"));
  Snapshot before = Take(3);
  ASSERT_NO_FATAL_FAILURE(StopServiceGracefully());
  service_.reset();
  stopped_ = false;

  ASSERT_NO_FATAL_FAILURE(StartService());
  Snapshot after = Take(3);
  EXPECT_EQ(after.head, before.head);
  EXPECT_EQ(after.records, before.records);
  EXPECT_EQ(after.audit, before.audit);
  // A clean shutdown wrote a checkpoint at HEAD, so start-up had no tail to verify.
  EXPECT_EQ(FetchMetrics().Value("registry_recoveries_total", {{"kind", "clean"}}), 1.0);
  // And the registry carries on from there.
  SyncHead();
  Committed next = CommitNext();
  ASSERT_TRUE(next.ok);
  EXPECT_EQ(next.version, 4u);
}

// Flips one byte of version `v`'s stored record frame in the database file.
void TamperWithRecord(const std::string& db_path, std::uint64_t v) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* read = nullptr;
  ASSERT_EQ(
      sqlite3_prepare_v2(db, "SELECT frame FROM commits WHERE version = ?", -1, &read, nullptr),
      SQLITE_OK);
  sqlite3_bind_int64(read, 1, static_cast<sqlite3_int64>(v));
  ASSERT_EQ(sqlite3_step(read), SQLITE_ROW);
  const auto* bytes = static_cast<const char*>(sqlite3_column_blob(read, 0));
  std::string frame(bytes, static_cast<std::size_t>(sqlite3_column_bytes(read, 0)));
  sqlite3_finalize(read);
  ASSERT_FALSE(frame.empty());
  frame[frame.size() / 2] ^= 0x01;
  sqlite3_stmt* write = nullptr;
  ASSERT_EQ(
      sqlite3_prepare_v2(db, "UPDATE commits SET frame = ? WHERE version = ?", -1, &write, nullptr),
      SQLITE_OK);
  sqlite3_bind_blob(write, 1, frame.data(), static_cast<int>(frame.size()), SQLITE_TRANSIENT);
  sqlite3_bind_int64(write, 2, static_cast<sqlite3_int64>(v));
  ASSERT_EQ(sqlite3_step(write), SQLITE_DONE);
  sqlite3_finalize(write);
  sqlite3_close(db);
}

TEST_F(RestartTest, TamperedRecordNamesTheVersionAndRefusesWrites) {
  ASSERT_NO_FATAL_FAILURE(StartService());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(CommitNext().ok);
  const std::string head_before = Get("/registry/head").body;
  ASSERT_NO_FATAL_FAILURE(StopServiceGracefully());
  service_.reset();
  stopped_ = false;

  ASSERT_NO_FATAL_FAILURE(TamperWithRecord((dir_ / "data" / "registry.db").string(), 2));
  ASSERT_NO_FATAL_FAILURE(StartService());
  // The history is re-verified after start-up; the failure names version 2.
  std::optional<std::string> failed = service().WaitForLine(
      [](const std::string& l) {
        return l.find("\"event\":\"verification_failed\"") != std::string::npos;
      },
      std::chrono::seconds(10));
  ASSERT_TRUE(failed.has_value()) << service().Tail();
  EXPECT_NE(failed->find("version 2"), std::string::npos) << *failed;

  // Reads stay up; writes are refused; readiness says why.
  EXPECT_EQ(Get("/registry/head").body, head_before);
  EXPECT_TRUE(HasStatus(Get("/registry/3"), 200));
  HttpResponse ready = AdminGet("/readyz");
  EXPECT_EQ(ready.status, 503);
  EXPECT_NE(ready.body.find("\"verification\""), std::string::npos) << ready.body;
  SyncHead();
  EXPECT_TRUE(IsError(PostProposal(NextPayload()), 503, "NotReady"));
  EXPECT_GE(FetchMetrics().Value("registry_audit_failures_total").value_or(0), 1.0);
  allow_503_ = true;  // /readyz and the refused write answered 503 on purpose
}

}  // namespace
}  // namespace registry::itest
