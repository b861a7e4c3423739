// Issue 7 point 5, what slow_storage_test.cc's AStalledStreamConsumerNeverDelaysACommit does
// not show: a raw-socket subscriber that sends its GET and then never reads a byte (with
// the default queue length, so it stays connected for a long time before it lags) leaves
// commit latency where it was before it came, and the other subscribers still receive every
// event, in order, as each commit is acknowledged.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "fault/in_process_service.h"

namespace registry::fault {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::microseconds;
using std::chrono::milliseconds;

// The `q`-quantile (0..1) of `v` (copied).
microseconds Quantile(std::vector<microseconds> v, double q) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(q * static_cast<double>(v.size())))];
}

class StalledConsumerTest : public FaultServiceTest {
 protected:
  void TearDown() override {
    if (stalled_fd_ >= 0) ::close(stalled_fd_);
    FaultServiceTest::TearDown();
  }

  // The value of the unlabelled gauge or counter `name` on /metrics, or -1.
  double AdminMetric(const std::string& name) {
    HttpResponse r = AdminGet("/metrics");
    const std::string prefix = "\n" + name + " ";
    const std::size_t at = ("\n" + r.body).find(prefix);
    if (at == std::string::npos) return -1;
    return std::stod(r.body.substr(at + prefix.size() - 1));
  }

  // Proposes and approves (auto-commit) the next version; returns the latency of the
  // approval that commits it. Every subscriber in `readers` must then hear of it.
  microseconds CommitOne(int v, std::vector<std::unique_ptr<itest::SseStream>>& readers) {
    json::Value payload = NextPayload("v" + std::to_string(v));
    Proposed p = IdentityOf(payload);
    EXPECT_TRUE(HasStatus(PostProposal(*api_, payload), 202)) << "version " << v;
    const Clock::time_point t0 = Clock::now();
    HttpResponse approved = PostApproval(*api_, p.proposal_id, SignWith(0, p.payload_b3),
                                         {{"X-Corr-ID", std::string(120, 'c')}});
    const auto latency = std::chrono::duration_cast<microseconds>(Clock::now() - t0);
    EXPECT_TRUE(HasStatus(approved, 200)) << "version " << v;
    EXPECT_NE(approved.body.find("\"committed\""), std::string::npos) << approved.body;
    head_version_ = static_cast<std::uint64_t>(v);
    head_b3_ = p.payload_b3;
    for (auto& r : readers) {
      std::optional<itest::SseFrame> f = r->NextEvent();
      EXPECT_TRUE(f.has_value()) << "a reading subscriber missed version " << v;
      if (f.has_value()) {
        EXPECT_EQ(f->id, std::to_string(v)) << f->raw;
      }
    }
    return latency;
  }

  int stalled_fd_ = -1;
};

TEST_F(StalledConsumerTest, ASubscriberThatNeverReadsDelaysNoCommitAndNoOtherSubscriber) {
  ServiceOptions options;
  options.signers = 1;
  options.m = 1;
  options.auto_commit = true;  // default sse_queue_len (256)
  ASSERT_NO_FATAL_FAILURE(StartService(options));
  std::vector<std::unique_ptr<itest::SseStream>> readers;
  for (int i = 0; i < 3; ++i) {
    readers.push_back(std::make_unique<itest::SseStream>(svc_->api_port(), "/registry/stream"));
    ASSERT_TRUE(readers.back()->ok()) << readers.back()->response().Describe();
    std::optional<itest::SseFrame> retry = readers.back()->Next();
    ASSERT_TRUE(retry.has_value() && retry->retry.has_value()) << "not subscribed";
  }

  // Baseline: commits with three reading subscribers.
  constexpr int kBaseline = 100;
  constexpr int kStalled = 1000;
  std::vector<microseconds> before;
  int v = 0;
  for (int i = 0; i < kBaseline; ++i) {
    before.push_back(CommitOne(++v, readers));
    ASSERT_FALSE(HasFailure());
  }

  // The stalled subscriber: a raw socket with a small receive buffer, never read.
  stalled_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(stalled_fd_, 0);
  int rcvbuf = 1024;
  ::setsockopt(stalled_fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(svc_->api_port());
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(stalled_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  const std::string get = "GET /registry/stream HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_EQ(::send(stalled_fd_, get.data(), get.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(get.size()));
  // Subscribed once the gauge counts it (bounded poll).
  double clients = -1;
  for (int i = 0; i < 500 && clients != 4; ++i) {
    clients = AdminMetric("sse_clients");
    if (clients != 4) std::this_thread::sleep_for(milliseconds(10));
  }
  ASSERT_EQ(clients, 4);

  std::vector<microseconds> during;
  for (int i = 0; i < kStalled; ++i) {
    during.push_back(CommitOne(++v, readers));
    ASSERT_FALSE(HasFailure());
  }
  int unread = 0;
  ::ioctl(stalled_fd_, FIONREAD, &unread);
  const microseconds p50_before = Quantile(before, 0.5);
  const microseconds p90_before = Quantile(before, 0.9);
  const microseconds p50_during = Quantile(during, 0.5);
  const microseconds p90_during = Quantile(during, 0.9);
  std::cerr << "[ commit latency p50/p90: " << p50_before.count() << "/" << p90_before.count()
            << " us before, " << p50_during.count() << "/" << p90_during.count()
            << " us with the stalled subscriber; it holds " << unread
            << " unread bytes; dropped for lag: " << svc_->dropped_subscribers() << " ]\n";
  EXPECT_GT(unread, 0) << "the stalled subscriber received nothing: not subscribed?";
  // Commits keep their latency: the stalled consumer adds no wait (generous bounds for a
  // shared machine; a commit that waited for the consumer would take write_timeout, 5 s).
  EXPECT_LE(p50_during, 2 * p50_before + milliseconds(2));
  EXPECT_LE(p90_during, 3 * p90_before + milliseconds(5));
  EXPECT_EQ(svc_->registry().Head()->head.version, static_cast<std::uint64_t>(v));
  // At most the stalled subscriber was dropped, never a reading one.
  EXPECT_LE(svc_->dropped_subscribers(), 1u);
}

}  // namespace
}  // namespace registry::fault
