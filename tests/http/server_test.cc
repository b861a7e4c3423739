// HttpServer over real sockets: keep-alive, pipelining, limits, admission, timeouts, Stop.
#include "registry/http/server.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "registry/http/message.h"
#include "server_fixture.h"
#include "test_client.h"

namespace registry::http {
namespace {

using testing::CountingObserver;
using testing::EchoFn;
using testing::FnHandler;
using testing::Get;
using testing::Parked;
using testing::RawResponse;
using testing::StartServer;
using testing::TestClient;
using testing::TestLimits;

TEST(HttpServerTest, CreateRequiresHandlerAndErrorBody) {
  HttpServer::Options options;
  options.error_body = testing::TestErrorBody;
  EXPECT_FALSE(HttpServer::Create(options).ok());
  FnHandler handler(EchoFn());
  options.api.handler = &handler;
  options.error_body = nullptr;
  EXPECT_FALSE(HttpServer::Create(options).ok());
}

TEST(HttpServerTest, StartReportsTheAddressThatFailed) {
  FnHandler handler(EchoFn());
  HttpServer::Options options;
  options.api.handler = &handler;
  options.api.address = "not-an-address";
  options.error_body = testing::TestErrorBody;
  auto server = HttpServer::Create(options);
  ASSERT_TRUE(server.ok());
  util::Status s = (*server)->Start();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message().find("not-an-address"), std::string::npos);
}

TEST(HttpServerTest, GetEcho) {
  FnHandler handler(EchoFn());
  CountingObserver observer;
  auto server = StartServer(&handler, TestLimits(), &observer);
  ASSERT_NE(server, nullptr);
  ASSERT_NE(server->api_port(), 0);
  TestClient c(server->api_port());
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(c.Send(Get("/echo/x?a=1&b=2", "X-Test: Hello\r\n")));
  std::optional<RawResponse> r = c.ReadResponse();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "GET /echo/x a=1&b=2 Hello ");
  EXPECT_EQ(r->Header("content-type"), "text/plain");
  EXPECT_EQ(r->Header("content-length"), std::to_string(r->body.size()));
  EXPECT_EQ(r->Header("connection"), "keep-alive");
  server->Stop();
  EXPECT_EQ(observer.inflight(), 0);
  EXPECT_EQ(observer.connections(), 0);
}

TEST(HttpServerTest, RequestCarriesLowerCasedHeadersBodyAndRemote) {
  std::optional<Request> seen;
  FnHandler handler([&](Request r, Responder respond) {
    seen = r;  // the handler runs once; the test reads it after the response
    respond(Response::Text(201, "text/plain", "ok"));
  });
  auto server = StartServer(&handler, TestLimits(), nullptr);
  ASSERT_NE(server, nullptr);
  TestClient c(server->api_port());
  ASSERT_TRUE(
      c.Send("POST /p HTTP/1.1\r\nHost: h\r\nX-Mixed-Case: V\r\nContent-Length: 5\r\n\r\n"
             "hello"));
  auto r = c.ReadResponse();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 201);
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->method, "POST");
  EXPECT_EQ(seen->target, "/p");
  EXPECT_EQ(seen->path, "/p");
  EXPECT_EQ(seen->query, "");
  EXPECT_EQ(seen->body, "hello");
  ASSERT_NE(seen->FindHeader("x-mixed-case"), nullptr);
  EXPECT_EQ(*seen->FindHeader("x-mixed-case"), "V");
  EXPECT_EQ(seen->remote.rfind("127.0.0.1:", 0), 0u) << seen->remote;
  EXPECT_NE(seen->received_at.time_since_epoch().count(), 0);
}

TEST(HttpServerTest, KeepAliveServesThreeRequestsOnOneConnection) {
  FnHandler handler(EchoFn());
  CountingObserver observer;
  auto server = StartServer(&handler, TestLimits(), &observer);
  ASSERT_NE(server, nullptr);
  TestClient c(server->api_port());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(c.Send(Get("/n" + std::to_string(i))));
    auto r = c.ReadResponse();
    ASSERT_TRUE(r.has_value()) << i;
    EXPECT_EQ(r->body, "GET /n" + std::to_string(i) + "  - ");
  }
  EXPECT_TRUE(observer.WaitConnections(1));
  EXPECT_EQ(handler.calls(), 3);
}

TEST(HttpServerTest, PipelinedResponsesKeepRequestOrder) {
  Parked parked;
  FnHandler handler(
      [&](Request r, Responder respond) { parked.Add(std::move(r), std::move(respond)); });
  CountingObserver observer;
  auto server = StartServer(&handler, TestLimits(), &observer);
  ASSERT_NE(server, nullptr);
  TestClient c(server->api_port());
  ASSERT_TRUE(c.Send(Get("/a") + Get("/b") + Get("/c")));
  // All three reach the handler before any is answered: the server reads ahead.
  ASSERT_TRUE(parked.WaitFor(3));
  EXPECT_EQ(observer.inflight(), 3);
  // Answer in reverse order, each from a different thread.
  for (const char* path : {"/c", "/b", "/a"}) {
    auto [req, respond] = parked.Take(path);
    std::thread t([respond = std::move(respond), p = req.path]() mutable {
      respond(Response::Text(200, "text/plain", "body" + p));
    });
    t.join();
  }
  for (const char* path : {"/a", "/b", "/c"}) {
    auto r = c.ReadResponse();
    ASSERT_TRUE(r.has_value()) << path;
    EXPECT_EQ(r->body, std::string("body") + path);
  }
  server->Stop();
  EXPECT_EQ(observer.inflight(), 0);
}

TEST(HttpServerTest, ContentLengthOverCapIs413BeforeTheBody) {
  FnHandler handler(EchoFn());
  CountingObserver observer;
  auto server = StartServer(&handler, TestLimits(), &observer);
  ASSERT_NE(server, nullptr);
  TestClient c(server->api_port());
  // Only the header is sent; the answer must not wait for 10 MB.
  ASSERT_TRUE(
      c.Send("POST /big HTTP/1.1\r\nHost: t\r\nX-Corr-ID: c-1\r\n"
             "Content-Length: 10000000\r\n\r\n"));
  auto r = c.ReadResponse();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 413);
  EXPECT_NE(r->body.find("PayloadTooLarge"), std::string::npos) << r->body;
  EXPECT_EQ(r->Header("x-corr-id"), "c-1");  // error_body saw the request
  EXPECT_EQ(r->Header("connection"), "close");
  EXPECT_TRUE(c.WaitForClose());
  EXPECT_EQ(handler.calls(), 0);
  EXPECT_EQ(observer.rejected("body_too_large"), 1);
}

TEST(HttpServerTest, ChunkedBodyOverCapIs413) {
  FnHandler handler(EchoFn());
  CountingObserver observer;
  ServerLimits limits = TestLimits();
  limits.max_body_bytes = 1024;
  auto server = StartServer(&handler, limits, &observer);
  ASSERT_NE(server, nullptr);
  TestClient c(server->api_port());
  std::string req = "POST /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";
  req += "400\r\n" + std::string(1024, 'a') + "\r\n";
  req += "10\r\n" + std::string(16, 'b') + "\r\n0\r\n\r\n";
  ASSERT_TRUE(c.Send(req));
  auto r = c.ReadResponse();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(r->Header("connection"), "close");
  EXPECT_TRUE(c.WaitForClose());
  EXPECT_EQ(handler.calls(), 0);
  EXPECT_EQ(observer.rejected("body_too_large"), 1);
  server->Stop();
  EXPECT_EQ(observer.inflight(), 0);
}

TEST(HttpServerTest, ChunkedBodyWithinCapIsServed) {
  FnHandler handler(EchoFn());
  auto server = StartServer(&handler, TestLimits(), nullptr);
  ASSERT_NE(server, nullptr);
  TestClient c(server->api_port());
  ASSERT_TRUE(
      c.Send("POST /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
             "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"));
  auto r = c.ReadResponse();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "POST /c  - abcde");
}

TEST(HttpServerTest, ContentEncodingIs415) {
  FnHandler handler(EchoFn());
  CountingObserver observer;
  auto server = StartServer(&handler, TestLimits(), &observer);
  ASSERT_NE(server, nullptr);
  TestClient c(server->api_port());
  ASSERT_TRUE(
      c.Send("POST /z HTTP/1.1\r\nHost: t\r\nContent-Encoding: gzip\r\n"
             "Content-Length: 4\r\n\r\nabcd"));
  auto r = c.ReadResponse();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 415);
  EXPECT_NE(r->body.find("UnsupportedMediaType"), std::string::npos);
  EXPECT_TRUE(c.WaitForClose());
  EXPECT_EQ(handler.calls(), 0);
  EXPECT_EQ(observer.rejected("content_encoding"), 1);
}

TEST(HttpServerTest, IdentityContentEncodingIsAccepted) {
  FnHandler handler(EchoFn());
  auto server = StartServer(&handler, TestLimits(), nullptr);
  ASSERT_NE(server, nullptr);
  TestClient c(server->api_port());
  ASSERT_TRUE(
      c.Send("POST /z HTTP/1.1\r\nHost: t\r\nContent-Encoding: identity\r\n"
             "Content-Length: 2\r\n\r\nok"));
  auto r = c.ReadResponse();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
}

TEST(HttpServerTest, HeaderOverCapIs400) {
  FnHandler handler(EchoFn());
  CountingObserver observer;
  auto server = StartServer(&handler, TestLimits(), &observer);
  ASSERT_NE(server, nullptr);
  TestClient c(server->api_port());
  ASSERT_TRUE(c.Send(Get("/h", "X-Big: " + std::string(17 * 1024, 'a') + "\r\n")));
  auto r = c.ReadResponse();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->body.find("Malformed"), std::string::npos);
  EXPECT_NE(r->body.find("header too large"), std::string::npos);
  EXPECT_TRUE(c.WaitForClose());
  EXPECT_EQ(handler.calls(), 0);
  EXPECT_EQ(observer.rejected("header_too_large"), 1);
}

TEST(HttpServerTest, MalformedRequestIs400AndCloses) {
  FnHandler handler(EchoFn());
  CountingObserver observer;
  auto server = StartServer(&handler, TestLimits(), &observer);
  ASSERT_NE(server, nullptr);
  TestClient c(server->api_port());
  ASSERT_TRUE(c.Send("GET / HTTP/1.1\r\nBad Header\r\n\r\n"));
  auto r = c.ReadResponse();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 400);
  EXPECT_TRUE(c.WaitForClose());
  EXPECT_EQ(observer.rejected("bad_request"), 1);
}

TEST(HttpServerTest, InflightCapAnswers429AtOnceAndAdminIsExempt) {
  Parked parked;
  FnHandler api([&](Request r, Responder respond) {
    if (r.path == "/slow") {
      parked.Add(std::move(r), std::move(respond));
    } else {
      respond(Response::Text(200, "text/plain", "fast"));
    }
  });
  FnHandler admin(EchoFn());
  CountingObserver observer;
  ServerLimits limits = TestLimits();
  limits.inflight = 1;
  limits.retry_after = std::chrono::seconds(7);
  auto server = StartServer(&api, limits, &observer, &admin);
  ASSERT_NE(server, nullptr);
  ASSERT_NE(server->admin_port(), 0);
  ASSERT_NE(server->admin_port(), server->api_port());

  TestClient slow(server->api_port());
  ASSERT_TRUE(slow.Send(Get("/slow")));
  ASSERT_TRUE(parked.WaitFor(1));

  TestClient second(server->api_port());
  ASSERT_TRUE(second.Send(Get("/fast")));
  auto busy = second.ReadResponse();
  ASSERT_TRUE(busy.has_value());
  EXPECT_EQ(busy->status, 429);
  EXPECT_EQ(busy->Header("retry-after"), "7");
  EXPECT_NE(busy->body.find("Busy"), std::string::npos);
  EXPECT_EQ(busy->Header("connection"), "keep-alive");  // no body was left unread
  EXPECT_EQ(observer.rejected("inflight"), 1);

  // The admin plane has no admission control.
  TestClient adm(server->admin_port());
  ASSERT_TRUE(adm.Send(Get("/metrics")));
  auto a = adm.ReadResponse();
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->status, 200);
  EXPECT_EQ(a->body, "GET /metrics  - ");

  auto [req, respond] = parked.Take("/slow");
  respond(Response::Text(200, "text/plain", "slow"));
  auto s = slow.ReadResponse();
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->body, "slow");

  // Capacity is back once the server has finished writing that response, on the same
  // connection that was refused.
  ASSERT_TRUE(observer.WaitInflight(0));
  ASSERT_TRUE(second.Send(Get("/fast")));
  auto ok = second.ReadResponse();
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok->status, 200);
}

TEST(HttpServerTest, RateCapAnswers429) {
  FnHandler handler(EchoFn());
  CountingObserver observer;
  ServerLimits limits = TestLimits();
  limits.rps = 1;
  auto server = StartServer(&handler, limits, &observer);
  ASSERT_NE(server, nullptr);
  TestClient c(server->api_port());
  ASSERT_TRUE(c.Send(Get("/1") + Get("/2")));
  auto first = c.ReadResponse();
  auto second = c.ReadResponse();
  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(first->status, 200);
  EXPECT_EQ(second->status, 429);
  EXPECT_EQ(second->Header("retry-after"), "1");
  EXPECT_EQ(observer.rejected("rps"), 1);
  EXPECT_EQ(handler.calls(), 1);
}

TEST(HttpServerTest, MaxConnsAnswers429AndCloses) {
  FnHandler handler(EchoFn());
  CountingObserver observer;
  ServerLimits limits = TestLimits();
  limits.max_conns = 2;
  auto server = StartServer(&handler, limits, &observer);
  ASSERT_NE(server, nullptr);
  auto c1 = std::make_unique<TestClient>(server->api_port());
  TestClient c2(server->api_port());
  for (TestClient* c : {c1.get(), &c2}) {
    ASSERT_TRUE(c->Send(Get("/")));
    auto r = c->ReadResponse();
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 200);
  }
  ASSERT_TRUE(observer.WaitConnections(2));
  TestClient c3(server->api_port());
  ASSERT_TRUE(c3.ok());
  ASSERT_TRUE(c3.Send(Get("/")));
  auto r = c3.ReadResponse();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 429);
  EXPECT_EQ(r->Header("connection"), "close");
  EXPECT_TRUE(r->Header("retry-after").has_value());
  EXPECT_TRUE(c3.WaitForClose());
  EXPECT_EQ(observer.rejected("max_conns"), 1);
  EXPECT_EQ(observer.connections(), 2);  // the rejected one was never counted

  // A slot frees up when a client leaves.
  c1.reset();
  ASSERT_TRUE(observer.WaitConnections(1));
  TestClient c4(server->api_port());
  ASSERT_TRUE(c4.Send(Get("/")));
  auto r4 = c4.ReadResponse();
  ASSERT_TRUE(r4.has_value());
  EXPECT_EQ(r4->status, 200);
}

TEST(HttpServerTest, SlowHeaderIsCutAtReadTimeout) {
  FnHandler handler(EchoFn());
  CountingObserver observer;
  ServerLimits limits = TestLimits();
  limits.read_timeout = std::chrono::milliseconds(200);
  limits.idle_timeout = std::chrono::milliseconds(60000);
  auto server = StartServer(&handler, limits, &observer);
  ASSERT_NE(server, nullptr);
  TestClient c(server->api_port());
  const std::string partial = "GET / HTTP/1.1\r\nX-Slow: " + std::string(500, 'a');
  const auto start = std::chrono::steady_clock::now();
  bool closed = false;
  // One byte every 20 ms (waiting on the socket, not sleeping): activity never stops, so
  // only read_timeout (not idle_timeout) can end this.
  for (std::size_t i = 0; i < partial.size() && !closed; ++i) {
    if (!c.Send(std::string_view(&partial[i], 1))) {
      closed = true;
      break;
    }
    if (c.Readable(std::chrono::milliseconds(20))) closed = c.WaitForClose();
  }
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(closed);
  EXPECT_LT(elapsed, std::chrono::seconds(3));
  EXPECT_GE(elapsed, std::chrono::milliseconds(150));
  EXPECT_TRUE(observer.WaitRejected("read_timeout", 1));
  EXPECT_EQ(handler.calls(), 0);
}

TEST(HttpServerTest, IdleConnectionIsClosed) {
  FnHandler handler(EchoFn());
  CountingObserver observer;
  ServerLimits limits = TestLimits();
  limits.idle_timeout = std::chrono::milliseconds(200);
  auto server = StartServer(&handler, limits, &observer);
  ASSERT_NE(server, nullptr);
  TestClient c(server->api_port());
  ASSERT_TRUE(c.Send(Get("/")));
  ASSERT_TRUE(c.ReadResponse().has_value());
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(c.WaitForClose());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  EXPECT_EQ(observer.rejected("read_timeout"), 0);  // idling is not a reject
  EXPECT_TRUE(observer.WaitConnections(0));
}

TEST(HttpServerTest, StalledReaderIsCutAtWriteTimeout) {
  auto big = std::make_shared<const std::string>(64 << 20, 'x');
  FnHandler handler([&](Request, Responder respond) {
    Response r;
    r.body = big;
    respond(std::move(r));
  });
  CountingObserver observer;
  ServerLimits limits = TestLimits();
  limits.write_timeout = std::chrono::milliseconds(200);
  auto server = StartServer(&handler, limits, &observer);
  ASSERT_NE(server, nullptr);
  TestClient c(server->api_port(), /*rcvbuf=*/4096);
  ASSERT_TRUE(c.Send(Get("/big")));
  ASSERT_TRUE(observer.WaitConnections(1));
  // The client never reads; the server gives up on the write.
  EXPECT_TRUE(observer.WaitConnections(0));
  EXPECT_EQ(observer.inflight(), 0);
}

TEST(HttpServerTest, ExpectContinueGets100ThenTheResponse) {
  FnHandler handler(EchoFn());
  auto server = StartServer(&handler, TestLimits(), nullptr);
  ASSERT_NE(server, nullptr);
  TestClient c(server->api_port());
  ASSERT_TRUE(
      c.Send("PUT /e HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n"
             "Content-Length: 3\r\n\r\n"));
  auto interim = c.ReadResponse();
  ASSERT_TRUE(interim.has_value());
  EXPECT_EQ(interim->status, 100);
  ASSERT_TRUE(c.Send("xyz"));
  auto r = c.ReadResponse();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "PUT /e  - xyz");
}

TEST(HttpServerTest, Http10WithoutKeepAliveCloses) {
  FnHandler handler(EchoFn());
  auto server = StartServer(&handler, TestLimits(), nullptr);
  ASSERT_NE(server, nullptr);
  TestClient c(server->api_port());
  ASSERT_TRUE(c.Send("GET /old HTTP/1.0\r\n\r\n"));
  auto r = c.ReadResponse();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->Header("connection"), "close");
  EXPECT_TRUE(c.WaitForClose());
}

TEST(HttpServerTest, ConnectionCloseRequestIsHonoured) {
  FnHandler handler(EchoFn());
  auto server = StartServer(&handler, TestLimits(), nullptr);
  ASSERT_NE(server, nullptr);
  TestClient c(server->api_port());
  ASSERT_TRUE(c.Send(Get("/a", "Connection: close\r\n") + Get("/never")));
  auto r = c.ReadResponse();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->Header("connection"), "close");
  EXPECT_TRUE(c.WaitForClose());
  EXPECT_EQ(handler.calls(), 1);
}

TEST(HttpServerTest, ServerOwnsFramingHeadersAndDropsInjectedOnes) {
  FnHandler handler([](Request, Responder respond) {
    Response r = Response::Text(200, "text/plain", "abc");
    r.headers.emplace_back("Content-Length", "999");
    r.headers.emplace_back("X-Evil", "a\r\nSet-Cookie: x=1");
    r.headers.emplace_back("X-Good", "yes");
    respond(std::move(r));
  });
  auto server = StartServer(&handler, TestLimits(), nullptr);
  ASSERT_NE(server, nullptr);
  TestClient c(server->api_port());
  ASSERT_TRUE(c.Send(Get("/")));
  auto r = c.ReadResponse();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->body, "abc");
  EXPECT_EQ(r->Header("content-length"), "3");
  EXPECT_FALSE(r->Header("x-evil").has_value());
  EXPECT_FALSE(r->Header("set-cookie").has_value());
  EXPECT_EQ(r->Header("x-good"), "yes");
}

TEST(HttpServerTest, NoContentHasNoLengthAndKeepsTheConnection) {
  FnHandler handler([](Request r, Responder respond) {
    Response resp;
    resp.status = r.path == "/204" ? 204 : 200;
    respond(std::move(resp));
  });
  auto server = StartServer(&handler, TestLimits(), nullptr);
  ASSERT_NE(server, nullptr);
  TestClient c(server->api_port());
  ASSERT_TRUE(c.Send(Get("/204") + Get("/200")));
  auto a = c.ReadResponse();
  auto b = c.ReadResponse();
  ASSERT_TRUE(a.has_value() && b.has_value());
  EXPECT_EQ(a->status, 204);
  EXPECT_FALSE(a->Header("content-length").has_value());
  EXPECT_EQ(b->status, 200);
  EXPECT_EQ(b->Header("content-length"), "0");
}

TEST(HttpServerTest, HeadGetsLengthButNoBody) {
  FnHandler handler(EchoFn());
  auto server = StartServer(&handler, TestLimits(), nullptr);
  ASSERT_NE(server, nullptr);
  TestClient c(server->api_port());
  ASSERT_TRUE(c.Send("HEAD /h HTTP/1.1\r\nHost: t\r\n\r\n" + Get("/g")));
  // Everything up to the end of the second body ("GET /g  - ").
  auto all = c.ReadUntil("GET /g  - ");
  ASSERT_TRUE(all.has_value());
  const std::size_t head_end = all->find("\r\n\r\n");
  ASSERT_NE(head_end, std::string::npos);
  const std::string first = all->substr(0, head_end + 4);
  EXPECT_NE(first.find("Content-Length: 11\r\n"), std::string::npos) << first;  // "HEAD /h  - "
  // The next bytes are the second response, not a body.
  EXPECT_EQ(all->compare(head_end + 4, 9, "HTTP/1.1 "), 0) << *all;
  EXPECT_EQ(all->find("HEAD /h"), std::string::npos);
}

TEST(HttpServerTest, AbandonedResponderClosesTheConnection) {
  FnHandler handler([](Request, Responder) {});  // drops the responder: a handler bug
  CountingObserver observer;
  auto server = StartServer(&handler, TestLimits(), &observer);
  ASSERT_NE(server, nullptr);
  TestClient c(server->api_port());
  ASSERT_TRUE(c.Send(Get("/")));
  EXPECT_TRUE(c.WaitForClose());
  EXPECT_TRUE(observer.WaitConnections(0));
  EXPECT_EQ(observer.inflight(), 0);
}

TEST(HttpServerTest, HalfClosedClientStillGetsItsResponses) {
  Parked parked;
  FnHandler handler(
      [&](Request r, Responder respond) { parked.Add(std::move(r), std::move(respond)); });
  auto server = StartServer(&handler, TestLimits(), nullptr);
  ASSERT_NE(server, nullptr);
  TestClient c(server->api_port());
  ASSERT_TRUE(c.Send(Get("/a") + Get("/b")));
  ::shutdown(c.fd(), SHUT_WR);
  ASSERT_TRUE(parked.WaitFor(2));
  parked.Take("/b").second(Response::Text(200, "text/plain", "b"));
  parked.Take("/a").second(Response::Text(200, "text/plain", "a"));
  auto a = c.ReadResponse();
  auto b = c.ReadResponse();
  ASSERT_TRUE(a.has_value() && b.has_value());
  EXPECT_EQ(a->body, "a");
  EXPECT_EQ(b->body, "b");
  // The server may or may not have seen the EOF before writing "b"; either way it closes.
  EXPECT_TRUE(c.WaitForClose());
}

TEST(HttpServerTest, StopLetsAnInflightRequestFinish) {
  Parked parked;
  FnHandler handler(
      [&](Request r, Responder respond) { parked.Add(std::move(r), std::move(respond)); });
  CountingObserver observer;
  ServerLimits limits = TestLimits();
  limits.drain_deadline = std::chrono::milliseconds(5000);
  auto server = StartServer(&handler, limits, &observer);
  ASSERT_NE(server, nullptr);
  const std::uint16_t port = server->api_port();
  TestClient c(port);
  ASSERT_TRUE(c.Send(Get("/inflight")));
  ASSERT_TRUE(parked.WaitFor(1));
  TestClient idle(port);  // a keep-alive connection with nothing in flight
  ASSERT_TRUE(idle.ok());
  ASSERT_TRUE(observer.WaitConnections(2));

  std::thread stopper([&] { server->Stop(); });
  // The idle connection is closed by the drain while the in-flight one waits.
  EXPECT_TRUE(idle.WaitForClose());
  auto [req, respond] = parked.Take("/inflight");
  respond(Response::Text(200, "text/plain", "done"));
  auto r = c.ReadResponse();
  stopper.join();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "done");
  EXPECT_EQ(r->Header("connection"), "close");
  EXPECT_TRUE(c.WaitForClose());
  EXPECT_EQ(observer.inflight(), 0);
  EXPECT_EQ(observer.connections(), 0);
  server->Stop();  // idempotent
}

TEST(HttpServerTest, StopClosesRequestsPastTheDrainDeadline) {
  Parked parked;
  FnHandler handler(
      [&](Request r, Responder respond) { parked.Add(std::move(r), std::move(respond)); });
  CountingObserver observer;
  ServerLimits limits = TestLimits();
  limits.drain_deadline = std::chrono::milliseconds(100);
  auto server = StartServer(&handler, limits, &observer);
  ASSERT_NE(server, nullptr);
  TestClient c(server->api_port());
  ASSERT_TRUE(c.Send(Get("/stuck")));
  ASSERT_TRUE(parked.WaitFor(1));
  server->Stop();
  EXPECT_TRUE(c.WaitForClose());
  EXPECT_EQ(observer.inflight(), 0);
  EXPECT_EQ(observer.connections(), 0);
  // Answering after Stop is harmless.
  parked.Take("/stuck").second(Response::Text(200, "text/plain", "late"));
  server.reset();
}

TEST(HttpServerTest, ManyConcurrentClients) {
  FnHandler handler(EchoFn());
  CountingObserver observer;
  auto server = StartServer(&handler, TestLimits(), &observer, nullptr, 4);
  ASSERT_NE(server, nullptr);
  const std::uint16_t port = server->api_port();
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int t = 0; t < 8; ++t) {
    clients.emplace_back([&, t] {
      TestClient c(port);
      for (int i = 0; i < 50; ++i) {
        const std::string path = "/t" + std::to_string(t) + "/" + std::to_string(i);
        if (!c.Send(Get(path) + Get(path))) return;
        for (int k = 0; k < 2; ++k) {
          auto r = c.ReadResponse();
          if (!r || r->body != "GET " + path + "  - ") return;
        }
        ok.fetch_add(1);
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok.load(), 8 * 50);
  server->Stop();
  EXPECT_EQ(observer.inflight(), 0);
  EXPECT_EQ(observer.connections(), 0);
}

}  // namespace
}  // namespace registry::http
