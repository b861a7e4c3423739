// Case 5: a slow or hung disk never blocks the read plane, and a stalled stream consumer
// never delays a commit. A commit is held inside the store with BlockWrites (a latch, not a
// timer) while the test reads.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <iostream>
#include <thread>

#include "fault/in_process_service.h"

namespace registry::fault {
namespace {

using std::chrono::milliseconds;
using storage::StoreOp;
using storage::StoreOps;

constexpr milliseconds kWait{5000};

class SlowStorageTest : public FaultServiceTest {
 protected:
  // Proposes the next version and approves it with m signers; returns it.
  Proposed ReadyToCommit(const std::string& tag) {
    Proposed p = ProposeNext(tag);
    for (std::uint32_t i = 0; i < svc_->governance().m; ++i) {
      EXPECT_TRUE(HasStatus(
          PostApproval(*api_, p.proposal_id, SignWith(static_cast<int>(i), p.payload_b3)), 200));
    }
    return p;
  }

  // Starts POST /registry/commit/{id} on its own connection and thread.
  std::future<HttpResponse> CommitAsync(const std::string& proposal_id) {
    const std::uint16_t port = svc_->api_port();
    return std::async(std::launch::async, [port, proposal_id] {
      HttpClient client(port);
      return PostCommit(client, proposal_id);
    });
  }
};

// A commit stuck in the store (under the core's writer mutex) leaves HEAD, records, /readyz
// and /healthz answering at once, with the last good HEAD.
TEST_F(SlowStorageTest, ACommitStuckInTheStoreDoesNotBlockHeadOrRecordReads) {
  ASSERT_NO_FATAL_FAILURE(StartService());
  ASSERT_NO_FATAL_FAILURE(CommitNext("v1"));
  const HttpResponse head_before = Get("/registry/head");
  ASSERT_TRUE(HasStatus(head_before, 200));
  Proposed p = ReadyToCommit("v2");
  ASSERT_FALSE(HasFailure());

  svc_->faults().Block(StoreOps::Of(StoreOp::kAppendCommit));
  std::future<HttpResponse> commit = CommitAsync(p.proposal_id);
  ASSERT_TRUE(svc_->faults().WaitUntilBlocked(1, kWait)) << "the commit never reached the store";

  for (int i = 0; i < 20; ++i) {
    HttpResponse head = Get("/registry/head");
    ASSERT_TRUE(HasStatus(head, 200));
    EXPECT_EQ(head.body, head_before.body);
    ASSERT_TRUE(HasStatus(Get("/registry/1"), 200));
    ASSERT_TRUE(HasStatus(AdminGet("/readyz"), 200));
    ASSERT_TRUE(HasStatus(Get("/healthz"), 200));
  }
  // Every read above answered while the commit was still held.
  EXPECT_EQ(svc_->faults().blocked(), 1u);
  EXPECT_EQ(commit.wait_for(milliseconds(0)), std::future_status::timeout);

  svc_->faults().Unblock();
  ASSERT_EQ(commit.wait_for(kWait), std::future_status::ready);
  HttpResponse committed = commit.get();
  ASSERT_TRUE(HasStatus(committed, 201));
  EXPECT_EQ(VersionOf(Get("/registry/head").body), 2);
}

// The proposal reads (GET /registry/proposals, /registry/proposals/{id}) while a commit is
// stuck in the store. DISABLED: they hang today. Registry::ListPending and GetProposal take
// the writer mutex, which CommitLocked holds across store_->AppendCommit, and ApiService runs
// both handlers on the HTTP I/O threads: with a hung disk, io_threads such reads stall every
// read of the API plane, HEAD included (see the report).
TEST_F(SlowStorageTest, ACommitStuckInTheStoreDoesNotBlockProposalReads) {
  ASSERT_NO_FATAL_FAILURE(StartService());
  ASSERT_NO_FATAL_FAILURE(CommitNext("v1"));
  Proposed pending = ProposeNext("v2-other");
  Proposed p = ReadyToCommit("v2");
  ASSERT_FALSE(HasFailure());

  svc_->faults().Block(StoreOps::Of(StoreOp::kAppendCommit));
  std::future<HttpResponse> commit = CommitAsync(p.proposal_id);
  ASSERT_TRUE(svc_->faults().WaitUntilBlocked(1, kWait));

  HttpClient::Options bounded;
  bounded.timeout = milliseconds(2000);
  HttpClient reader(svc_->api_port(), bounded);
  HttpResponse list = reader.Request("GET", "/registry/proposals");
  EXPECT_TRUE(HasStatus(list, 200));
  HttpResponse one = reader.Request("GET", "/registry/proposals/" + pending.proposal_id);
  EXPECT_TRUE(HasStatus(one, 200));
  EXPECT_EQ(svc_->faults().blocked(), 1u);

  svc_->faults().Unblock();
  ASSERT_EQ(commit.wait_for(kWait), std::future_status::ready);
  EXPECT_TRUE(HasStatus(commit.get(), 201));
}

// The consequence for the whole read plane: with as many proposal reads in flight as there
// are I/O threads, each stuck on the writer mutex, a HEAD read on a fresh connection gets no
// answer either. DISABLED: fails today, for the reason given above.
TEST_F(SlowStorageTest, ProposalReadsStuckBehindACommitDoNotStallHeadReads) {
  ServiceOptions options;
  options.io_threads = 2;
  ASSERT_NO_FATAL_FAILURE(StartService(options));
  ASSERT_NO_FATAL_FAILURE(CommitNext("v1"));
  Proposed p = ReadyToCommit("v2");
  ASSERT_FALSE(HasFailure());

  svc_->faults().Block(StoreOps::Of(StoreOp::kAppendCommit));
  std::future<HttpResponse> commit = CommitAsync(p.proposal_id);
  ASSERT_TRUE(svc_->faults().WaitUntilBlocked(1, kWait));

  HttpClient::Options bounded;
  bounded.timeout = milliseconds(2000);
  std::vector<std::unique_ptr<HttpClient>> listers;
  for (std::size_t i = 0; i < options.io_threads; ++i) {
    listers.push_back(std::make_unique<HttpClient>(svc_->api_port(), bounded));
    ASSERT_TRUE(listers.back()->connected());
    ASSERT_TRUE(listers.back()->Send("GET /registry/proposals HTTP/1.1\r\nHost: t\r\n\r\n"));
  }
  HttpClient head_reader(svc_->api_port(), bounded);
  EXPECT_TRUE(HasStatus(head_reader.Request("GET", "/registry/head"), 200));

  svc_->faults().Unblock();
  ASSERT_EQ(commit.wait_for(kWait), std::future_status::ready);
  EXPECT_TRUE(HasStatus(commit.get(), 201));
}

// 200 ms per write (a slow fsync): commits still complete, and HEAD reads issued while a
// commit is in the store answer in the meantime with the old HEAD or the new one.
TEST_F(SlowStorageTest, SlowFsyncSlowsCommitsButNotReads) {
  ASSERT_NO_FATAL_FAILURE(StartService());
  ASSERT_NO_FATAL_FAILURE(CommitNext("v1"));
  Proposed p = ReadyToCommit("v2");
  ASSERT_FALSE(HasFailure());

  svc_->faults().AddLatency(StoreOps::Writes(), milliseconds(200));
  const std::uint64_t appends = svc_->faults().counts(StoreOp::kAppendCommit).calls;
  std::future<HttpResponse> commit = CommitAsync(p.proposal_id);
  // Bounded wait for the commit to enter the store (the call is counted before its latency).
  for (int i = 0; i < 1'000'000 && svc_->faults().counts(StoreOp::kAppendCommit).calls == appends;
       ++i) {
    std::this_thread::yield();
  }
  ASSERT_GT(svc_->faults().counts(StoreOp::kAppendCommit).calls, appends);

  int reads_while_committing = 0;
  std::int64_t last = 1;
  while (commit.wait_for(milliseconds(0)) != std::future_status::ready) {
    HttpResponse head = Get("/registry/head");
    ASSERT_TRUE(HasStatus(head, 200));
    const std::int64_t v = VersionOf(head.body);
    EXPECT_TRUE(v == 1 || v == 2) << head.body;
    EXPECT_GE(v, last);
    last = v;
    if (commit.wait_for(milliseconds(0)) != std::future_status::ready) ++reads_while_committing;
  }
  EXPECT_TRUE(HasStatus(commit.get(), 201));
  std::cerr << "[ " << reads_while_committing << " HEAD reads answered during one slow commit ]\n";
  EXPECT_GT(reads_while_committing, 0);
  svc_->faults().Heal();
}

// A stream subscriber that never reads: commits keep completing, one after another, until
// the bus drops it for lag (and after).
TEST_F(SlowStorageTest, AStalledStreamConsumerNeverDelaysACommit) {
  ServiceOptions options;
  options.signers = 1;
  options.m = 1;
  options.auto_commit = true;
  options.sse_queue_len = 2;
  ASSERT_NO_FATAL_FAILURE(StartService(options));

  HttpClient::Options small;
  small.rcvbuf = 2048;
  itest::SseStream stalled(svc_->api_port(), "/registry/stream", {}, small);
  ASSERT_TRUE(stalled.ok()) << stalled.response().Describe();
  std::optional<itest::SseFrame> first = stalled.Next();
  ASSERT_TRUE(first.has_value() && first->retry.has_value()) << "not subscribed";
  // From here on the subscriber reads nothing.

  // Long corr ids make bigger frames, so that fewer commits fill the stalled socket.
  const std::string corr_pad(120, 'c');
  constexpr int kMaxVersions = 30000;
  int v = 0;
  int after_drop = 0;
  while (v < kMaxVersions && after_drop < 5) {
    ++v;
    json::Value payload = NextPayload("v" + std::to_string(v));
    Proposed p = IdentityOf(payload);
    ASSERT_TRUE(HasStatus(PostProposal(*api_, payload), 202)) << "version " << v;
    HttpResponse approved = PostApproval(*api_, p.proposal_id, SignWith(0, p.payload_b3),
                                         {{"X-Corr-ID", corr_pad + std::to_string(v)}});
    ASSERT_TRUE(HasStatus(approved, 200)) << "version " << v;
    ASSERT_NE(approved.body.find("\"committed\""), std::string::npos)
        << "auto-commit did not fire at version " << v << ": " << approved.body;
    head_version_ = static_cast<std::uint64_t>(v);
    head_b3_ = p.payload_b3;
    if (svc_->dropped_subscribers() > 0) ++after_drop;
  }
  std::cerr << "[ stalled subscriber dropped; " << v << " versions committed meanwhile ]\n";
  EXPECT_EQ(svc_->dropped_subscribers(), 1u);
  EXPECT_EQ(svc_->registry().Head()->head.version, static_cast<std::uint64_t>(v));
}

}  // namespace
}  // namespace registry::fault
