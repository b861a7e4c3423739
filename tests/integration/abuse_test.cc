// Abuse and overload against the real binary (issue 7 point 4, SPEC §6 and §7), on loopback
// only, every load bounded in count and time and stopping by itself; no test sleeps to wait
// for something (conditions are polled with deadlines; the slow senders' pacing is a poll
// for the server's close):
//   - slowloris senders (header and body tricklers) are cut at read_timeout, counted, and do
//     not slow down a well-behaved client;
//   - a connection flood past max_conns is answered 429 Busy + Retry-After (SPEC §2.3's
//     Busy), or, past the server's bound on connections being rejected at once, closed
//     unanswered; every one counted in rejected_total{reason="max_conns"}; the admitted
//     connections keep working;
//   - 10,000 idle stream subscribers (RLIMIT_NOFILE raised to the hard limit), then all gone
//     at once, twice: the server keeps serving, counts them in and out, and the second round
//     reuses the first one's memory; and RSS goes back down after they leave;
//   - 3x capacity (limits.inflight = 4 and 12 concurrent clients; limits.rps = 100 and 300
//     requests at once): the excess gets 429 Busy + Retry-After, the counters match what
//     the clients saw, the cap holds, and the server returns to normal by itself; and
//     writes are shed before reads.
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"
#include "registry/model/payload.h"

namespace registry::itest {
namespace {

// The memory checks need the production allocator: in an AddressSanitizer build the
// service's freed memory sits in ASan's quarantine (not reused at once, not trimmed), so
// they are skipped there; leaks are LeakSanitizer's job in that build.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAddressSanitizer = true;
#else
constexpr bool kAddressSanitizer = false;
#endif

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// VmRSS of `pid` in KiB, or -1.
long RssKib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

// A blocking TCP connection to 127.0.0.1:port, or -1.
int ConnectRaw(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool SendAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

class AbuseTest : public ServiceTest {
 protected:
  double Metric(std::string_view name, const std::map<std::string, std::string>& labels = {}) {
    return FetchMetrics().Value(name, labels).value_or(-1);
  }

  // Polls `name` (admin plane) until `pred` holds or `timeout` passes; returns the last value.
  template <typename Pred>
  double PollMetric(std::string_view name, Pred pred, milliseconds timeout,
                    const std::map<std::string, std::string>& labels = {}) {
    const Clock::time_point deadline = Clock::now() + timeout;
    double v = Metric(name, labels);
    while (!pred(v) && Clock::now() < deadline) {
      std::this_thread::sleep_for(milliseconds(10));
      v = Metric(name, labels);
    }
    return v;
  }

  // HEAD /registry/head on a new connection answers 200 within `timeout` (polled: a slot
  // or a token is released asynchronously to what the client sees).
  void ExpectServingWithin(milliseconds timeout) {
    const Clock::time_point deadline = Clock::now() + timeout;
    HttpResponse r;
    for (;;) {
      r = HttpClient(api_port()).Request("HEAD", "/registry/head");
      if (r.status == 200 || Clock::now() >= deadline) break;
      std::this_thread::sleep_for(milliseconds(10));
    }
    EXPECT_TRUE(HasStatus(r, 200)) << "not serving again within " << timeout.count() << " ms";
  }
};

// ---- Slowloris ----

TEST_F(AbuseTest, SlowSendersAreCutAtReadTimeoutAndDoNotBlockOthers) {
  ASSERT_NO_FATAL_FAILURE(StartServiceWith({"read_timeout=500ms"}));
  const double cut_before = Metric("rejected_total", {{"reason", "read_timeout"}});
  // The scrape itself is a request in flight: the idle value.
  const double idle_inflight = Metric("inflight_requests");
  constexpr int kSenders = 40;
  const std::string header = "GET /registry/head HTTP/1.1\r\nHost: x\r\nX-Slow: ";
  const std::string body_head =
      "POST /registry/proposals HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: 100000\r\n\r\n{";
  struct Slow {
    int fd = -1;
    bool body = false;  // trickles a body (header complete) rather than a header
    Clock::time_point started;
    Clock::time_point cut;
    int bytes_sent = 0;
  };
  std::vector<Slow> slow(kSenders);
  for (int i = 0; i < kSenders; ++i) {
    slow[i].fd = ConnectRaw(api_port());
    ASSERT_GE(slow[i].fd, 0);
    slow[i].body = i % 2 == 1;
    slow[i].started = Clock::now();
    ASSERT_TRUE(SendAll(slow[i].fd, slow[i].body ? body_head : header));
  }
  // One byte per sender every 50 ms, the pause being a poll for the server's close; a
  // well-behaved client is served in between. Stops when every sender is cut, or at 10 s.
  HttpClient good(api_port());
  milliseconds worst_good{0};
  int good_requests = 0;
  int open = kSenders;
  const Clock::time_point deadline = Clock::now() + std::chrono::seconds(10);
  while (open > 0 && Clock::now() < deadline) {
    std::vector<pollfd> fds;
    for (const Slow& s : slow) {
      if (s.fd >= 0) fds.push_back({s.fd, POLLIN, 0});
    }
    ::poll(fds.data(), fds.size(), 50);
    for (Slow& s : slow) {
      if (s.fd < 0) continue;
      char buf[4096];
      const ssize_t n = ::recv(s.fd, buf, sizeof(buf), MSG_DONTWAIT);
      const bool closed = n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
      EXPECT_LE(n, 0) << "a slow sender got an answer: "
                      << std::string(buf, std::max<ssize_t>(n, 0));
      if (closed || !SendAll(s.fd, "a")) {
        s.cut = Clock::now();
        ::close(s.fd);
        s.fd = -1;
        --open;
      } else {
        ++s.bytes_sent;
      }
    }
    const Clock::time_point t0 = Clock::now();
    HttpResponse r = good.Request("GET", "/registry/head");
    worst_good = std::max(worst_good, std::chrono::duration_cast<milliseconds>(Clock::now() - t0));
    ++good_requests;
    EXPECT_TRUE(HasStatus(r, 200));
  }
  ASSERT_EQ(open, 0) << "slow senders still connected after 10 s";
  for (const Slow& s : slow) {
    const auto lived = std::chrono::duration_cast<milliseconds>(s.cut - s.started);
    EXPECT_GE(lived, milliseconds(400)) << (s.body ? "body" : "header") << " trickler";
    EXPECT_LT(lived, milliseconds(3000)) << (s.body ? "body" : "header") << " trickler";
    EXPECT_GE(s.bytes_sent, 3) << "it was still sending when cut";
  }
  std::cerr << "[ " << kSenders << " slow senders cut; " << good_requests
            << " requests of a good client meanwhile, slowest " << worst_good.count() << " ms ]\n";
  EXPECT_LT(worst_good, milliseconds(1000));
  EXPECT_EQ(Metric("rejected_total", {{"reason", "read_timeout"}}) - cut_before, kSenders);
  EXPECT_EQ(
      PollMetric(
          "inflight_requests", [&](double v) { return v == idle_inflight; }, milliseconds(5000)),
      idle_inflight);
}

// ---- Connection flood ----

TEST_F(AbuseTest, ConnectionFloodPastMaxConnsIsAnsweredBusyAndCounted) {
  constexpr int kMaxConns = 16;
  constexpr int kFlood = 600;
  ASSERT_NO_FATAL_FAILURE(StartServiceWith({"max_conns=" + std::to_string(kMaxConns)}));
  // The fixture's API client holds one connection.
  ASSERT_TRUE(HasStatus(Get("/registry/head"), 200));
  ASSERT_EQ(Metric("http_connections"), 2.0) << "API and admin client";
  const double rejected_before = Metric("rejected_total", {{"reason", "max_conns"}});
  std::vector<int> fds;
  for (int i = 0; i < kFlood; ++i) {
    int fd = ConnectRaw(api_port());
    ASSERT_GE(fd, 0) << "connect " << i;
    fds.push_back(fd);
  }
  // Every connection asks for HEAD; the admitted ones get 200, the others were answered
  // 429 Busy at accept (or closed unanswered past the server's reject bound).
  int ok = 0;
  int busy = 0;
  int closed = 0;
  for (int fd : fds) SendAll(fd, "GET /registry/head HTTP/1.1\r\nHost: x\r\n\r\n");
  for (int& fd : fds) {
    std::string buf;
    const Clock::time_point deadline = Clock::now() + kIoTimeout;
    for (;;) {
      pollfd p{fd, POLLIN, 0};
      const int left = static_cast<int>(std::max<long>(
          0, std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count()));
      if (::poll(&p, 1, left) <= 0) break;
      char chunk[8192];
      const ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
      if (n <= 0) break;
      buf.append(chunk, static_cast<std::size_t>(n));
      const std::size_t end = buf.find("\r\n\r\n");
      if (end == std::string::npos) continue;
      const std::size_t cl = buf.find("Content-Length: ");
      if (cl == std::string::npos || cl > end) continue;
      const std::size_t length = std::stoul(buf.substr(cl + 16));
      if (buf.size() >= end + 4 + length) break;
    }
    if (buf.rfind("HTTP/1.1 200", 0) == 0) {
      ++ok;
    } else if (buf.rfind("HTTP/1.1 429", 0) == 0) {
      ++busy;
      EXPECT_NE(buf.find("Retry-After: "), std::string::npos) << buf;
      EXPECT_NE(buf.find("\"code\":\"Busy\""), std::string::npos) << buf;
      EXPECT_NE(buf.find("Connection: close"), std::string::npos) << buf;
    } else if (buf.empty()) {
      ++closed;
    } else {
      ADD_FAILURE() << "unexpected answer: " << buf.substr(0, 300);
    }
  }
  std::cerr << "[ flood of " << kFlood << " connections, max_conns " << kMaxConns << ": " << ok
            << " admitted, " << busy << " answered 429 Busy, " << closed
            << " closed unanswered ]\n";
  EXPECT_EQ(ok, kMaxConns - 1);
  EXPECT_EQ(busy + closed, kFlood - (kMaxConns - 1));
  EXPECT_GT(busy, 0);
  EXPECT_EQ(Metric("rejected_total", {{"reason", "max_conns"}}) - rejected_before, busy + closed);
  // The fixture's connection was admitted before the flood and still works.
  EXPECT_TRUE(HasStatus(Get("/registry/head"), 200));
  for (int fd : fds) ::close(fd);
  // Once the flood is gone, new connections are admitted again.
  EXPECT_EQ(PollMetric(
                "http_connections", [](double v) { return v == 2.0; }, milliseconds(5000)),
            2.0);
  ExpectServingWithin(milliseconds(5000));
  ASSERT_TRUE(CommitNext().ok);
}

// ---- 10,000 idle stream subscribers ----

class SubscriberFloodTest : public AbuseTest {
 protected:
  // 10,000 as the issue asks; 2,000 in an AddressSanitizer (Debug) build, whose service is
  // an order of magnitude slower: there the point is memory safety under the flood, and
  // 10,000 took 10 s to connect, long enough for the liveness checks to time out.
  static constexpr int kWanted = kAddressSanitizer ? 2000 : 10000;

  // Raises RLIMIT_NOFILE to the hard limit (the service inherits it) and starts the service
  // for as many idle subscribers as that allows, up to kWanted.
  void SetUpFlood() {
    rlimit lim{};
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &lim), 0);
    lim.rlim_cur = lim.rlim_max;
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &lim), 0);
    subscribers_ =
        static_cast<int>(std::min<rlim_t>(kWanted, lim.rlim_cur > 200 ? lim.rlim_cur - 200 : 0));
    if (subscribers_ < kWanted) {
      std::cerr << "[ RLIMIT_NOFILE hard limit " << lim.rlim_max << ": only " << subscribers_
                << " subscribers possible ]\n";
    }
    ASSERT_GE(subscribers_, std::min(kWanted, 1000));
    ASSERT_NO_FATAL_FAILURE(StartServiceWith({"max_conns=" + std::to_string(subscribers_ + 100),
                                              "sse.max_clients=" + std::to_string(subscribers_)}));
    ASSERT_TRUE(CommitNext().ok);
    rss_base_ = RssKib(service().pid());
    ASSERT_GT(rss_base_, 0);
  }

  struct Round {
    long rss_peak = 0;   // KiB, with every subscriber connected
    long rss_after = 0;  // KiB, once they are all gone
  };

  // Connects subscribers_ idle subscribers (GET /registry/stream, then never a read), waits
  // until the service counts them all, closes them all at once and waits until it counts
  // none. `rss_settled(peak, rss)` ends the wait for RSS to drop (polled up to 10 s).
  Round SubscribeAndLeave(const std::function<bool(long peak, long rss)>& rss_settled) {
    Round round;
    const pid_t pid = service().pid();
    std::vector<int> fds;
    fds.reserve(static_cast<std::size_t>(subscribers_));
    const std::string request = "GET /registry/stream HTTP/1.1\r\nHost: x\r\n\r\n";
    const Clock::time_point started = Clock::now();
    for (int i = 0; i < subscribers_; ++i) {
      int fd = ConnectRaw(api_port());
      EXPECT_GE(fd, 0) << "connect " << i << ": " << std::strerror(errno);
      if (fd < 0) break;
      fds.push_back(fd);
      EXPECT_TRUE(SendAll(fd, request)) << "subscriber " << i;
    }
    const double connected = PollMetric(
        "sse_clients", [&](double v) { return v == subscribers_; }, milliseconds(60000));
    EXPECT_EQ(connected, subscribers_);
    const auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - started);
    round.rss_peak = RssKib(pid);
    // Served meanwhile.
    ExpectServingWithin(milliseconds(5000));

    // All gone at once.
    for (int fd : fds) ::close(fd);
    const Clock::time_point gone = Clock::now();
    EXPECT_EQ(PollMetric(
                  "sse_clients", [](double v) { return v == 0; }, milliseconds(30000)),
              0.0);
    EXPECT_EQ(PollMetric(
                  "http_connections", [](double v) { return v == 2.0; }, milliseconds(30000)),
              2.0);
    const auto drained = std::chrono::duration_cast<milliseconds>(Clock::now() - gone);
    round.rss_after = RssKib(pid);
    const Clock::time_point rss_deadline = Clock::now() + std::chrono::seconds(10);
    while (!rss_settled(round.rss_peak, round.rss_after) && Clock::now() < rss_deadline) {
      std::this_thread::sleep_for(milliseconds(50));
      round.rss_after = RssKib(pid);
    }
    std::cerr << "[ " << fds.size() << " subscribers connected in " << took.count()
              << " ms, gone in " << drained.count() << " ms; VmRSS " << rss_base_ << " KiB -> "
              << round.rss_peak << " KiB -> " << round.rss_after << " KiB ]\n";
    return round;
  }

  // Still serving: reads, a new stream, a commit that reaches it.
  void ExpectStillServing(const std::string& next_version) {
    ExpectServingWithin(milliseconds(5000));
    SseStream s(api_port(), "/registry/stream");
    ASSERT_TRUE(s.ok()) << s.response().Describe();
    ASSERT_TRUE(CommitNext().ok);
    std::optional<SseFrame> f = s.NextEvent();
    ASSERT_TRUE(f.has_value());
    EXPECT_EQ(f->id, next_version);
    EXPECT_EQ(Metric("internal_errors_total"), 0.0);
  }

  int subscribers_ = 0;
  long rss_base_ = 0;
};

// Two rounds of 10,000 idle subscribers that all leave at once: the service keeps serving,
// counts them in and out exactly, and the second round reuses the memory of the first (no
// per-subscriber leak).
TEST_F(SubscriberFloodTest, TenThousandIdleSubscribersThenAllGoneAtOnce) {
  ASSERT_NO_FATAL_FAILURE(SetUpFlood());
  const Round first = SubscribeAndLeave([](long, long) { return true; });
  ASSERT_FALSE(HasFailure());
  ASSERT_NO_FATAL_FAILURE(ExpectStillServing("2"));
  const Round second = SubscribeAndLeave([](long, long) { return true; });
  ASSERT_FALSE(HasFailure());
  ASSERT_NO_FATAL_FAILURE(ExpectStillServing("3"));
  if (kAddressSanitizer) return;  // see kAddressSanitizer
  const long grown = first.rss_peak - rss_base_;
  EXPECT_GT(grown, 0);
  EXPECT_LE(second.rss_peak - rss_base_, grown + grown / 5)
      << "the second round needed more memory than the first: a per-subscriber leak";
}

// Issue 7 point 4: "memory goes back down" once the subscribers leave. With 10,000 idle
// subscribers the service's VmRSS grows by about 140 MiB (about 14 KiB a subscriber); glibc
// keeps freed heap for reuse, so the service's housekeeping trims the heap once the
// connection count has fallen to half its recent peak (apps/svc-registry/run.cc).
TEST_F(SubscriberFloodTest, RssGoesBackDownAfterSubscribersLeave) {
  if (kAddressSanitizer) GTEST_SKIP() << "RSS under ASan's allocator says nothing about glibc's";
  ASSERT_NO_FATAL_FAILURE(SetUpFlood());
  const Round round = SubscribeAndLeave(
      [&](long peak, long rss) { return rss - rss_base_ <= (peak - rss_base_) / 2; });
  const long grown = round.rss_peak - rss_base_;
  EXPECT_GT(grown, 0);
  // At most half of what the subscribers added is still resident.
  EXPECT_LE(round.rss_after - rss_base_, grown / 2)
      << "VmRSS did not come back down: base " << rss_base_ << " peak " << round.rss_peak
      << " after " << round.rss_after << " KiB";
  ASSERT_NO_FATAL_FAILURE(ExpectStillServing("2"));
}

// ---- 3x capacity ----

struct LoadResult {
  int reads = 0;
  int read_busy = 0;
  int writes = 0;
  int write_busy = 0;
  int other = 0;  // anything but 2xx or 429 Busy
  std::string first_other;
  milliseconds elapsed{0};
};

class OverloadTest : public AbuseTest {
 protected:
  // `clients` closed-loop clients, half readers (GET /registry/head), half writers (POST
  // /registry/proposals, each payload new), `per_client` requests each. Every 429 is checked
  // to be Busy with Retry-After.
  LoadResult RunLoad(int clients, int per_client) {
    LoadResult total;
    std::mutex mu;
    const std::uint16_t port = api_port();
    const std::string token = Bearer(writer_token());
    // Payloads prepared up front (no JSON work in the load loop).
    std::vector<std::vector<std::string>> bodies(static_cast<std::size_t>(clients));
    for (int c = 1; c < clients; c += 2) {
      for (int i = 0; i < per_client; ++i) {
        bodies[c].push_back(
            ProposeBody(NextPayload(1, "load-" + std::to_string(c) + "-" + std::to_string(i))));
      }
    }
    const Clock::time_point started = Clock::now();
    std::vector<std::thread> threads;
    for (int c = 0; c < clients; ++c) {
      threads.emplace_back([&, c] {
        LoadResult mine;
        HttpClient client(port);
        const bool writer = c % 2 == 1;
        for (int i = 0; i < per_client; ++i) {
          HttpResponse r =
              writer
                  ? client.Request("POST", "/registry/proposals",
                                   {{"Content-Type", "application/json"}, {"Authorization", token}},
                                   bodies[c][i])
                  : client.Request("GET", "/registry/head");
          (writer ? mine.writes : mine.reads)++;
          if (r.status == 429) {
            (writer ? mine.write_busy : mine.read_busy)++;
            ::testing::AssertionResult busy = IsError(r, 429, "Busy");
            if (!busy && mine.first_other.empty()) mine.first_other = busy.message();
            if (!busy) ++mine.other;
          } else if (r.status < 200 || r.status > 299) {
            ++mine.other;
            if (mine.first_other.empty()) mine.first_other = r.Describe();
          }
        }
        std::lock_guard lock(mu);
        total.reads += mine.reads;
        total.read_busy += mine.read_busy;
        total.writes += mine.writes;
        total.write_busy += mine.write_busy;
        total.other += mine.other;
        if (total.first_other.empty()) total.first_other = mine.first_other;
      });
    }
    for (std::thread& t : threads) t.join();
    total.elapsed = std::chrono::duration_cast<milliseconds>(Clock::now() - started);
    std::cerr << "[ " << clients << " clients: " << total.reads << " reads (" << total.read_busy
              << " shed), " << total.writes << " writes (" << total.write_busy << " shed) in "
              << total.elapsed.count() << " ms ]\n";
    return total;
  }

  void ExpectBackToNormal(double idle_inflight);

  double Rejected(const std::string& reason) {
    return FetchMetrics().Value("rejected_total", {{"reason", reason}}).value_or(0);
  }
};

constexpr int kInflight = 4;
constexpr int kRps = 100;

// After a load: nothing left in flight, and a client under the rate cap (a request every
// 20 ms) is served 10 times in a row, then a whole write flow works.
void OverloadTest::ExpectBackToNormal(double idle_inflight) {
  EXPECT_EQ(
      PollMetric(
          "inflight_requests", [&](double v) { return v == idle_inflight; }, milliseconds(5000)),
      idle_inflight);
  ExpectServingWithin(milliseconds(5000));
  HttpClient paced(api_port());
  int consecutive = 0;
  const Clock::time_point deadline = Clock::now() + std::chrono::seconds(5);
  while (consecutive < 10 && Clock::now() < deadline) {
    HttpResponse r = paced.Request("GET", "/registry/head");
    consecutive = r.status == 200 ? consecutive + 1 : 0;
    std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_EQ(consecutive, 10);
  // Writes come back once the rate bucket is more than half full again (they are shed first,
  // so they resume last): poll with a harmless write until ten in a row are admitted, so
  // that the bucket has room for the writes of a whole commit cycle.
  HttpResponse probe;
  int admitted = 0;
  while (admitted < 10 && Clock::now() < deadline + std::chrono::seconds(5)) {
    probe = PostCommit("p_000000000000000000000000");
    admitted = probe.status == 429 ? 0 : admitted + 1;
    if (probe.status != 429 && probe.status != 404) break;
    std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_TRUE(IsError(probe, 404, "NotFound"));
  EXPECT_EQ(admitted, 10);
  ASSERT_NO_FATAL_FAILURE(SyncHead());
  ASSERT_TRUE(CommitNext().ok);
}

// limits.inflight = 4 and 12 concurrent closed-loop clients (3x the capacity), 6,000
// requests in all.
TEST_F(OverloadTest, ThreeTimesTheInflightCapacityGets429BusyAndRecoversByItself) {
  ASSERT_NO_FATAL_FAILURE(StartServiceWith(
      {"limits.inflight=" + std::to_string(kInflight), "governance.max_pending=4000"}));
  const double rejected_before = Rejected("inflight");
  // The scrape itself is a request in flight: the idle value.
  const double idle_inflight = Metric("inflight_requests");
  const LoadResult load = RunLoad(3 * kInflight, 500);
  EXPECT_EQ(load.other, 0) << load.first_other;
  const int shed = load.read_busy + load.write_busy;
  EXPECT_GT(shed, 0) << "3x capacity was not over capacity";
  EXPECT_LT(shed, load.reads + load.writes) << "nothing was admitted";
  // The counter agrees with what the clients saw.
  EXPECT_EQ(Rejected("inflight") - rejected_before, shed);
  ASSERT_NO_FATAL_FAILURE(ExpectBackToNormal(idle_inflight));
}

// limits.rps = 100 and 300 requests (3x one second's worth) from 12 clients at once: about
// a second's burst is admitted, the rest gets 429.
TEST_F(OverloadTest, ThreeTimesTheRateCapacityGets429BusyAndRecoversByItself) {
  ASSERT_NO_FATAL_FAILURE(StartServiceWith({"limits.rps=" + std::to_string(kRps)}));
  const double rejected_before = Rejected("rps");
  const double idle_inflight = Metric("inflight_requests");
  const LoadResult load = RunLoad(12, 3 * kRps / 12);
  EXPECT_EQ(load.other, 0) << load.first_other;
  const int shed = load.read_busy + load.write_busy;
  const int admitted = load.reads + load.writes - shed;
  EXPECT_EQ(Rejected("rps") - rejected_before, shed);
  // The cap held: one second's burst (less the requests made since the start) plus the rate
  // over the run, with 10% slack for a loaded machine's clocks.
  const double allowed = kRps + kRps * (load.elapsed.count() / 1000.0);
  EXPECT_LE(admitted, allowed * 1.1)
      << "admitted " << admitted << " in " << load.elapsed.count() << " ms";
  EXPECT_GE(shed, 3 * kRps - allowed * 1.1) << "in " << load.elapsed.count() << " ms";
  ASSERT_NO_FATAL_FAILURE(ExpectBackToNormal(idle_inflight));
}

// Issue 7 point 4: writes are shed before reads (Session::OnHeader admits a write only while
// at most half of the inflight slots are taken).
TEST_F(OverloadTest, WritesAreShedBeforeReads) {
  ASSERT_NO_FATAL_FAILURE(StartServiceWith(
      {"limits.inflight=" + std::to_string(kInflight), "governance.max_pending=4000"}));
  const LoadResult load = RunLoad(3 * kInflight, 500);
  EXPECT_EQ(load.other, 0) << load.first_other;
  ASSERT_GT(load.write_busy, 0);
  const double read_shed = static_cast<double>(load.read_busy) / load.reads;
  const double write_shed = static_cast<double>(load.write_busy) / load.writes;
  // Reads are shed at most half as often as writes.
  EXPECT_LE(read_shed, write_shed / 2)
      << "reads shed " << read_shed * 100 << "%, writes shed " << write_shed * 100 << "%";
}

}  // namespace
}  // namespace registry::itest
