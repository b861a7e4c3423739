// Streaming responses (SSE, SPEC §2.4): head, pushed chunks, heartbeat, close, lagging
// consumers, client departure.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "registry/http/message.h"
#include "registry/http/server.h"
#include "server_fixture.h"
#include "test_client.h"

namespace registry::http {
namespace {

using testing::CountingObserver;
using testing::FnHandler;
using testing::Get;
using testing::kWait;
using testing::StartServer;
using testing::TestClient;
using testing::TestLimits;

// Records what the server does with one stream.
struct StreamProbe {
  std::mutex mu;
  std::condition_variable cv;
  std::shared_ptr<StreamSink> sink;
  int opened = 0;
  int lagged = 0;
  int closed = 0;

  Response::Stream MakeStream(std::size_t queue_len, std::chrono::milliseconds heartbeat) {
    Response::Stream s;
    s.queue_len = queue_len;
    s.heartbeat = heartbeat;
    s.on_open = [this](std::shared_ptr<StreamSink> k) {
      // The first event is pushed from inside on_open, as the SSE handler does.
      k->Push(std::make_shared<const std::string>("retry: 2000\n\n"));
      std::lock_guard<std::mutex> lock(mu);
      sink = std::move(k);
      ++opened;
      cv.notify_all();
    };
    s.on_lagged = [this] {
      std::lock_guard<std::mutex> lock(mu);
      ++lagged;
      cv.notify_all();
    };
    s.on_closed = [this] {
      std::lock_guard<std::mutex> lock(mu);
      ++closed;
      cv.notify_all();
    };
    return s;
  }

  std::shared_ptr<StreamSink> WaitOpen() {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait_for(lock, kWait, [&] { return opened > 0; });
    return sink;
  }
  bool WaitClosed() {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, kWait, [&] { return closed > 0; });
  }
  bool WaitLagged() {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, kWait, [&] { return lagged > 0; });
  }
  int counts_closed() {
    std::lock_guard<std::mutex> lock(mu);
    return closed;
  }
};

FnHandler::Fn StreamFn(StreamProbe* probe, std::size_t queue_len,
                       std::chrono::milliseconds heartbeat = std::chrono::milliseconds(15000)) {
  return [=](Request, Responder respond) {
    Response r;
    r.headers.emplace_back("Content-Type", "text/event-stream");
    r.headers.emplace_back("Cache-Control", "no-cache");
    r.stream = probe->MakeStream(queue_len, heartbeat);
    respond(std::move(r));
  };
}

TEST(HttpStreamTest, PushedChunksReachTheClientThenCloseEndsIt) {
  StreamProbe probe;
  FnHandler handler(StreamFn(&probe, 16));
  CountingObserver observer;
  auto server = StartServer(&handler, TestLimits(), &observer);
  ASSERT_NE(server, nullptr);
  TestClient c(server->api_port());
  ASSERT_TRUE(c.Send(Get("/registry/stream")));
  auto head = c.ReadResponse();
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->Header("content-type"), "text/event-stream");
  EXPECT_EQ(head->Header("connection"), "close");
  EXPECT_FALSE(head->Header("content-length").has_value());

  std::shared_ptr<StreamSink> sink = probe.WaitOpen();
  ASSERT_NE(sink, nullptr);
  std::thread producer([sink] {
    for (int i = 1; i <= 3; ++i) {
      EXPECT_TRUE(sink->Push(std::make_shared<const std::string>(
          "id: " + std::to_string(i) + "\nevent: registry.update\ndata: {}\n\n")));
    }
  });
  producer.join();
  auto got = c.ReadUntil("id: 3\n");
  ASSERT_TRUE(got.has_value());
  const std::string& all = *got;
  const auto p0 = all.find("retry: 2000\n\n");
  const auto p1 = all.find("id: 1\n");
  const auto p2 = all.find("id: 2\n");
  const auto p3 = all.find("id: 3\n");
  ASSERT_NE(p0, std::string::npos);
  ASSERT_NE(p1, std::string::npos);
  ASSERT_NE(p2, std::string::npos);
  EXPECT_LT(p0, p1);
  EXPECT_LT(p1, p2);
  EXPECT_LT(p2, p3);

  sink->Close();
  EXPECT_TRUE(sink->closed());
  EXPECT_FALSE(sink->Push(std::make_shared<const std::string>("late")));
  EXPECT_TRUE(c.WaitForClose());
  EXPECT_TRUE(probe.WaitClosed());
  server->Stop();
  EXPECT_EQ(probe.counts_closed(), 1);
  EXPECT_EQ(probe.lagged, 0);
  EXPECT_EQ(observer.inflight(), 0);
  EXPECT_EQ(observer.connections(), 0);
}

// Push writes directly while nothing is queued and queues otherwise (a full socket buffer,
// a write in flight, the rest of a partial send). Bursts larger than the socket buffers,
// each pushed once the client has read the one before, take every path several times.
// Whichever path each chunk takes, the client receives every byte exactly once and in Push
// order, and heartbeats fall only between chunks.
TEST(HttpStreamTest, DirectAndQueuedWritesKeepEveryByteInOrder) {
  StreamProbe probe;
  FnHandler handler(StreamFn(&probe, 1 << 20, std::chrono::milliseconds(10)));
  auto server = StartServer(&handler, TestLimits(), nullptr);
  ASSERT_NE(server, nullptr);
  TestClient c(server->api_port(), /*rcvbuf=*/4096);
  ASSERT_TRUE(c.Send(Get("/registry/stream")));
  ASSERT_TRUE(c.ReadResponse().has_value());
  std::shared_ptr<StreamSink> sink = probe.WaitOpen();
  ASSERT_NE(sink, nullptr);

  constexpr int kBursts = 4;
  constexpr int kPerBurst = 300;  // about 6 MB each
  constexpr int kChunks = kBursts * kPerBurst;
  std::vector<std::string> chunks;
  for (int i = 0; i < kChunks; ++i) {
    // Sizes vary so that a full socket buffer cuts chunks at different offsets.
    chunks.push_back("id: " + std::to_string(i) + "\n" +
                     std::string(static_cast<std::size_t>(5000 + (i * 3371) % 30000),
                                 static_cast<char>('a' + i % 26)) +
                     "\n\n");
  }
  std::mutex mu;
  std::condition_variable cv;
  int matched = 0;  // guarded by mu: chunks the client has received whole
  std::thread producer([&] {
    for (int b = 0; b < kBursts; ++b) {
      for (int i = b * kPerBurst; i < (b + 1) * kPerBurst; ++i) {
        EXPECT_TRUE(sink->Push(std::make_shared<const std::string>(chunks[i])));
      }
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return matched >= (b + 1) * kPerBurst; });
    }
  });

  // Received bytes: the greeting, then chunks in order, with heartbeats only between them.
  std::string buf = c.buffer();
  std::size_t pos = 0;
  bool greeted = false;
  int next = 0;
  auto parse = [&]() -> bool {
    for (;;) {
      const std::string_view rest = std::string_view(buf).substr(pos);
      if (!greeted) {
        if (rest.size() < 13) return true;
        if (!rest.starts_with("retry: 2000\n\n")) return false;
        greeted = true;
        pos += 13;
        continue;
      }
      if (rest.starts_with(":\n\n")) {
        pos += 3;
        continue;
      }
      if (next == kChunks || rest.empty()) return rest.empty() || rest.starts_with(":");
      const std::string& want = chunks[static_cast<std::size_t>(next)];
      const std::size_t n = std::min(rest.size(), want.size());
      if (rest.substr(0, n) != std::string_view(want).substr(0, n)) return false;
      if (n < want.size()) return true;
      pos += want.size();
      std::lock_guard lock(mu);
      matched = ++next;
      cv.notify_all();
    }
  };
  bool in_order = parse();
  while (in_order && next < kChunks) {
    char tmp[65536];
    const ssize_t n = ::recv(c.fd(), tmp, sizeof tmp, 0);
    if (n <= 0) break;
    buf.append(tmp, static_cast<std::size_t>(n));
    in_order = parse();
    if (pos > (1u << 20)) {  // keep the buffer small
      buf.erase(0, pos);
      pos = 0;
    }
  }
  EXPECT_TRUE(in_order) << "chunk " << next << " differs";
  if (next < kChunks) {  // release the producer
    std::lock_guard lock(mu);
    matched = kChunks;
    cv.notify_all();
  }
  producer.join();
  EXPECT_EQ(next, kChunks);
  EXPECT_EQ(probe.lagged, 0);
  server->Stop();
}

TEST(HttpStreamTest, HeartbeatIsWrittenWhenIdle) {
  StreamProbe probe;
  FnHandler handler(StreamFn(&probe, 16, std::chrono::milliseconds(50)));
  auto server = StartServer(&handler, TestLimits(), nullptr);
  ASSERT_NE(server, nullptr);
  TestClient c(server->api_port());
  ASSERT_TRUE(c.Send(Get("/registry/stream")));
  ASSERT_TRUE(c.ReadResponse().has_value());
  auto got = c.ReadUntil("\n\n:\n\n");
  ASSERT_TRUE(got.has_value());
  EXPECT_NE(got->find("retry: 2000\n\n:\n\n"), std::string::npos);
}

TEST(HttpStreamTest, OverflowingQueueLagsAndClosesTheConnection) {
  StreamProbe probe;
  FnHandler handler(StreamFn(&probe, 2));
  CountingObserver observer;
  auto server = StartServer(&handler, TestLimits(), &observer);
  ASSERT_NE(server, nullptr);
  TestClient c(server->api_port(), /*rcvbuf=*/4096);
  ASSERT_TRUE(c.Send(Get("/registry/stream")));
  ASSERT_TRUE(c.ReadResponse().has_value());
  std::shared_ptr<StreamSink> sink = probe.WaitOpen();
  ASSERT_NE(sink, nullptr);
  // The client reads nothing more: socket buffers fill, then the queue.
  auto chunk = std::make_shared<const std::string>(1 << 20, 'e');
  bool refused = false;
  for (int i = 0; i < 10000 && !refused; ++i) refused = !sink->Push(chunk);
  EXPECT_TRUE(refused);
  EXPECT_TRUE(probe.WaitLagged());
  EXPECT_TRUE(probe.WaitClosed());
  EXPECT_TRUE(sink->closed());
  EXPECT_TRUE(observer.WaitConnections(0));
  server->Stop();
  EXPECT_EQ(probe.lagged, 1);
  EXPECT_EQ(probe.counts_closed(), 1);
}

TEST(HttpStreamTest, ClientDepartureClosesTheStream) {
  StreamProbe probe;
  FnHandler handler(StreamFn(&probe, 16));
  CountingObserver observer;
  auto server = StartServer(&handler, TestLimits(), &observer);
  ASSERT_NE(server, nullptr);
  auto c = std::make_unique<TestClient>(server->api_port());
  ASSERT_TRUE(c->Send(Get("/registry/stream")));
  ASSERT_TRUE(c->ReadResponse().has_value());
  std::shared_ptr<StreamSink> sink = probe.WaitOpen();
  ASSERT_NE(sink, nullptr);
  c.reset();
  EXPECT_TRUE(probe.WaitClosed());
  EXPECT_TRUE(sink->closed());
  EXPECT_FALSE(sink->Push(std::make_shared<const std::string>("x")));
  EXPECT_TRUE(observer.WaitConnections(0));
  server->Stop();
  EXPECT_EQ(probe.counts_closed(), 1);
  EXPECT_EQ(probe.lagged, 0);
}

TEST(HttpStreamTest, StopClosesOpenStreams) {
  StreamProbe probe;
  FnHandler handler(StreamFn(&probe, 16));
  auto server = StartServer(&handler, TestLimits(), nullptr);
  ASSERT_NE(server, nullptr);
  TestClient c(server->api_port());
  ASSERT_TRUE(c.Send(Get("/registry/stream")));
  ASSERT_TRUE(c.ReadResponse().has_value());
  std::shared_ptr<StreamSink> sink = probe.WaitOpen();
  ASSERT_NE(sink, nullptr);
  const auto start = std::chrono::steady_clock::now();
  server->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_TRUE(c.WaitForClose());
  EXPECT_EQ(probe.counts_closed(), 1);
  EXPECT_TRUE(sink->closed());
  // The producer may still hold the sink after the server is gone.
  server.reset();
  EXPECT_FALSE(sink->Push(std::make_shared<const std::string>("x")));
}

TEST(HttpStreamTest, StreamAnsweredAfterTheConnectionEndedStillReportsClosed) {
  StreamProbe probe;
  testing::Parked parked;
  FnHandler handler(
      [&](Request r, Responder respond) { parked.Add(std::move(r), std::move(respond)); });
  ServerLimits limits = TestLimits();
  limits.drain_deadline = std::chrono::milliseconds(50);
  auto server = StartServer(&handler, limits, nullptr);
  ASSERT_NE(server, nullptr);
  TestClient c(server->api_port());
  ASSERT_TRUE(c.Send(Get("/registry/stream")));
  ASSERT_TRUE(parked.WaitFor(1));
  server->Stop();  // the request outlives the drain deadline: its connection is closed
  EXPECT_TRUE(c.WaitForClose());
  Response r;
  r.stream = probe.MakeStream(4, std::chrono::milliseconds(15000));
  parked.Take("/registry/stream").second(std::move(r));
  EXPECT_TRUE(probe.WaitClosed());
  EXPECT_EQ(probe.opened, 0);
  EXPECT_EQ(probe.counts_closed(), 1);
}

}  // namespace
}  // namespace registry::http
