// http::Client against the project's own HttpServer (tests/http/server_fixture.h) and, where a
// test needs exact control of the bytes and of when a connection closes, against a tiny
// scripted socket server.
#include "registry/http/client.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "registry/http/message.h"
#include "registry/http/server.h"
#include "server_fixture.h"

namespace registry::http {
namespace {

using testing::CountingObserver;
using testing::EchoFn;
using testing::FnHandler;
using ::testing::HasSubstr;
using testing::Parked;
using testing::StartServer;
using testing::TestLimits;
using util::ErrorCode;

std::string Base(std::uint16_t port) { return "http://127.0.0.1:" + std::to_string(port); }

Client MustCreate(const std::string& base, ClientOptions options = {}) {
  util::Result<Client> c = Client::Create(base, std::move(options));
  REGISTRY_CHECK(c.ok(), "Client::Create must succeed in this test");
  return std::move(c).value();
}

// A listening socket on 127.0.0.1 whose connections are served, one after the other, by the
// scripts given to it: script i gets the i-th accepted connection's descriptor.
class ScriptedServer {
 public:
  using Script = std::function<void(int fd)>;

  explicit ScriptedServer(std::vector<Script> scripts) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(fd_, 8), 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this, scripts = std::move(scripts)] {
      for (const Script& script : scripts) {
        const int conn = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (conn < 0) return;
        script(conn);
        ::close(conn);
        ++served_;
      }
    });
  }
  ~ScriptedServer() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }

  std::uint16_t port() const { return port_; }
  int served() const { return served_.load(); }

  // Reads one request head (and no body) from `fd`; "" when the peer closed first.
  static std::string ReadHead(int fd) {
    std::string in;
    char c;
    while (in.find("\r\n\r\n") == std::string::npos) {
      if (::recv(fd, &c, 1, 0) != 1) return "";
      in.push_back(c);
    }
    return in;
  }
  static void Send(int fd, std::string_view bytes) {
    ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  }
  static std::string Ok(std::string_view body) {
    return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\nConnection: keep-alive\r\n\r\n" + std::string(body);
  }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<int> served_{0};
  std::thread thread_;
};

TEST(HttpClientTest, GetAndPost) {
  FnHandler handler(EchoFn());
  auto server = StartServer(&handler, TestLimits(), nullptr);
  ASSERT_NE(server, nullptr);
  Client client = MustCreate(Base(server->api_port()));

  util::Result<ClientResponse> get =
      client.Request("GET", "/registry/head?x=1", {{"X-Test", "hello"}});
  ASSERT_TRUE(get.ok()) << get.error().ToString();
  EXPECT_EQ(get->status, 200);
  EXPECT_EQ(get->body, "GET /registry/head x=1 hello ");
  ASSERT_NE(get->FindHeader("Content-Type"), nullptr);
  EXPECT_EQ(*get->FindHeader("content-type"), "text/plain");
  EXPECT_EQ(get->FindHeader("x-missing"), nullptr);

  util::Result<ClientResponse> post = client.Request(
      "POST", "/registry/proposals", {{"Content-Type", "application/json"}}, R"({"a":1})");
  ASSERT_TRUE(post.ok()) << post.error().ToString();
  EXPECT_EQ(post->status, 200);
  EXPECT_EQ(post->body, R"(POST /registry/proposals  - {"a":1})");

  // An empty POST still carries Content-Length: 0 (the server would wait for a body else).
  util::Result<ClientResponse> empty = client.Request("POST", "/registry/commit/p_1");
  ASSERT_TRUE(empty.ok()) << empty.error().ToString();
  EXPECT_EQ(empty->body, "POST /registry/commit/p_1  - ");
}

TEST(HttpClientTest, ErrorStatusesAreResponsesNotErrors) {
  FnHandler handler([](Request, Responder respond) {
    Response r = Response::Text(404, "application/json", R"({"error":{"code":"NotFound"}})");
    r.headers.emplace_back("X-Corr-ID", "c1");
    respond(std::move(r));
  });
  auto server = StartServer(&handler, TestLimits(), nullptr);
  ASSERT_NE(server, nullptr);
  Client client = MustCreate(Base(server->api_port()));
  util::Result<ClientResponse> r = client.Request("GET", "/nope");
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->status, 404);
  EXPECT_THAT(r->body, HasSubstr("NotFound"));
  ASSERT_NE(r->FindHeader("X-CORR-ID"), nullptr);
  EXPECT_EQ(*r->FindHeader("x-corr-id"), "c1");
}

TEST(HttpClientTest, KeepAliveReusesOneConnection) {
  std::mutex mu;
  std::set<std::string> remotes;
  FnHandler handler([&](Request r, Responder respond) {
    {
      std::lock_guard lock(mu);
      remotes.insert(r.remote);
    }
    respond(Response::Text(200, "text/plain", r.path));
  });
  CountingObserver observer;
  auto server = StartServer(&handler, TestLimits(), &observer);
  ASSERT_NE(server, nullptr);
  Client client = MustCreate(Base(server->api_port()));
  for (int i = 0; i < 20; ++i) {
    const std::string path = "/r" + std::to_string(i);
    util::Result<ClientResponse> r =
        client.Request(i % 2 == 0 ? "GET" : "POST", path, {}, i % 2 == 0 ? "" : "body");
    ASSERT_TRUE(r.ok()) << r.error().ToString();
    EXPECT_EQ(r->body, path);
  }
  EXPECT_EQ(handler.calls(), 20);
  std::lock_guard lock(mu);
  EXPECT_EQ(remotes.size(), 1u) << "every request must go over the same connection";
}

TEST(HttpClientTest, ReconnectsAfterTheServerClosedAnIdleConnection) {
  std::mutex mu;
  std::vector<std::string> remotes;
  FnHandler handler([&](Request r, Responder respond) {
    {
      std::lock_guard lock(mu);
      remotes.push_back(r.remote);
    }
    respond(Response::Text(200, "text/plain", "ok"));
  });
  CountingObserver observer;
  ServerLimits limits = TestLimits();
  limits.idle_timeout = std::chrono::milliseconds(100);
  auto server = StartServer(&handler, limits, &observer);
  ASSERT_NE(server, nullptr);
  Client client = MustCreate(Base(server->api_port()));

  ASSERT_TRUE(client.Request("GET", "/a").ok());
  // The server's idle timeout closes the keep-alive connection.
  ASSERT_TRUE(observer.WaitConnections(0));
  util::Result<ClientResponse> again = client.Request("POST", "/b", {}, "x");
  ASSERT_TRUE(again.ok()) << again.error().ToString();
  EXPECT_EQ(again->body, "ok");
  std::lock_guard lock(mu);
  ASSERT_EQ(remotes.size(), 2u) << "the request must reach the server exactly once";
  EXPECT_NE(remotes[0], remotes[1]);
}

TEST(HttpClientTest, RetriesOnceWhenAReusedConnectionDiesUnderTheRequest) {
  // Connection 1 answers one request, then reads the second and closes without answering
  // (the race of a keep-alive timeout); connection 2 answers.
  ScriptedServer server({
      [](int fd) {
        ASSERT_NE(ScriptedServer::ReadHead(fd), "");
        ScriptedServer::Send(fd, ScriptedServer::Ok("first"));
        ASSERT_NE(ScriptedServer::ReadHead(fd), "");
      },
      [](int fd) {
        ASSERT_NE(ScriptedServer::ReadHead(fd), "");
        ScriptedServer::Send(fd, ScriptedServer::Ok("second"));
        ScriptedServer::ReadHead(fd);  // until the client goes away
      },
  });
  Client client = MustCreate(Base(server.port()));
  util::Result<ClientResponse> a = client.Request("GET", "/x");
  ASSERT_TRUE(a.ok()) << a.error().ToString();
  EXPECT_EQ(a->body, "first");
  util::Result<ClientResponse> b = client.Request("GET", "/x");
  ASSERT_TRUE(b.ok()) << b.error().ToString();
  EXPECT_EQ(b->body, "second");
}

TEST(HttpClientTest, DoesNotRetryAFreshConnectionNorRetryTwice) {
  // A fresh connection that dies is an error at once; a reused one is retried only once.
  auto close_after_head = [](int fd) { ScriptedServer::ReadHead(fd); };
  {
    ScriptedServer server({close_after_head, close_after_head});
    Client client = MustCreate(Base(server.port()));
    util::Result<ClientResponse> r = client.Request("GET", "/x");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), ErrorCode::kNotReady);
    EXPECT_THAT(r.error().message(), HasSubstr("closed"));
  }
  {
    ScriptedServer server({
        [](int fd) {
          ScriptedServer::ReadHead(fd);
          ScriptedServer::Send(fd, ScriptedServer::Ok("first"));
          ScriptedServer::ReadHead(fd);
        },
        close_after_head,
        close_after_head,
    });
    Client client = MustCreate(Base(server.port()));
    ASSERT_TRUE(client.Request("GET", "/x").ok());
    util::Result<ClientResponse> r = client.Request("GET", "/x");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), ErrorCode::kNotReady);
  }
}

TEST(HttpClientTest, ConnectionCloseResponseIsHonoured) {
  ScriptedServer server({
      [](int fd) {
        ScriptedServer::ReadHead(fd);
        ScriptedServer::Send(fd,
                             "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi");
      },
      [](int fd) {
        ScriptedServer::ReadHead(fd);
        ScriptedServer::Send(fd, ScriptedServer::Ok("again"));
        ScriptedServer::ReadHead(fd);
      },
  });
  Client client = MustCreate(Base(server.port()));
  util::Result<ClientResponse> a = client.Request("GET", "/x");
  ASSERT_TRUE(a.ok()) << a.error().ToString();
  EXPECT_EQ(a->body, "hi");
  util::Result<ClientResponse> b = client.Request("GET", "/x");
  ASSERT_TRUE(b.ok()) << b.error().ToString();
  EXPECT_EQ(b->body, "again");
}

TEST(HttpClientTest, RequestTimesOut) {
  Parked parked;
  FnHandler handler([&](Request r, Responder respond) { parked.Add(std::move(r), respond); });
  auto server = StartServer(&handler, TestLimits(), nullptr);
  ASSERT_NE(server, nullptr);
  ClientOptions options;
  options.timeout = std::chrono::milliseconds(200);
  Client client = MustCreate(Base(server->api_port()), options);
  const auto start = std::chrono::steady_clock::now();
  util::Result<ClientResponse> r = client.Request("GET", "/slow");
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kNotReady);
  EXPECT_THAT(r.error().message(), HasSubstr("timed out"));
  EXPECT_GE(elapsed, std::chrono::milliseconds(200));
  EXPECT_LT(elapsed, std::chrono::seconds(3));
  ASSERT_TRUE(parked.WaitFor(1));
  parked.Take("/slow").second(Response::Text(200, "text/plain", "late"));

  // The client is still usable afterwards, on a new connection.
  FnHandler echo(EchoFn());
  auto other = StartServer(&echo, TestLimits(), nullptr);
  ASSERT_NE(other, nullptr);
  Client second = MustCreate(Base(other->api_port()), options);
  EXPECT_TRUE(second.Request("GET", "/fast").ok());
}

TEST(HttpClientTest, ConnectionRefusedIsNotReady) {
  std::uint16_t port;
  {
    ScriptedServer closed({});
    port = closed.port();
  }
  Client client = MustCreate(Base(port));
  util::Result<ClientResponse> r = client.Request("GET", "/");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kNotReady);
  EXPECT_THAT(r.error().message(), HasSubstr("cannot connect"));
}

TEST(HttpClientTest, BodyLimit) {
  FnHandler handler([](Request, Responder respond) {
    respond(Response::Text(200, "text/plain", std::string(4096, 'x')));
  });
  auto server = StartServer(&handler, TestLimits(), nullptr);
  ASSERT_NE(server, nullptr);
  ClientOptions options;
  options.max_body_bytes = 4095;
  Client small = MustCreate(Base(server->api_port()), options);
  util::Result<ClientResponse> r = small.Request("GET", "/");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kPayloadTooLarge);
  options.max_body_bytes = 4096;
  Client exact = MustCreate(Base(server->api_port()), options);
  util::Result<ClientResponse> ok = exact.Request("GET", "/");
  ASSERT_TRUE(ok.ok()) << ok.error().ToString();
  EXPECT_EQ(ok->body.size(), 4096u);
}

TEST(HttpClientTest, UrlBase) {
  for (const char* bad : {"https://127.0.0.1:9444", "ftp://host", "127.0.0.1:9444", "http://",
                          "http://:80", "http://host:0", "http://host:65536", "http://host:x",
                          "http://host/a?b", "http://u@host", "http://[::1"}) {
    SCOPED_TRACE(bad);
    util::Result<Client> c = Client::Create(bad);
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.error().code(), ErrorCode::kMalformed);
  }
  util::Result<Client> tls = Client::Create("HTTPS://example.com");
  ASSERT_FALSE(tls.ok());
  EXPECT_THAT(tls.error().message(), HasSubstr("TLS"));

  for (const auto& [in, normalized] : std::vector<std::pair<std::string, std::string>>{
           {"http://127.0.0.1:9444", "http://127.0.0.1:9444"},
           {"http://127.0.0.1:9444/", "http://127.0.0.1:9444"},
           {"http://[::1]:9444/api/", "http://[::1]:9444/api"},
           {"http://localhost", "http://localhost"}}) {
    util::Result<Client> c = Client::Create(in);
    ASSERT_TRUE(c.ok()) << in << ": " << c.error().ToString();
    EXPECT_EQ(c->url_base(), normalized);
  }

  // A path prefix goes in front of every target.
  FnHandler handler(EchoFn());
  auto server = StartServer(&handler, TestLimits(), nullptr);
  ASSERT_NE(server, nullptr);
  Client client = MustCreate(Base(server->api_port()) + "/base/");
  util::Result<ClientResponse> r = client.Request("GET", "/registry/head");
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->body, "GET /base/registry/head  - ");
}

TEST(HttpClientTest, RejectsUnsafeRequests) {
  FnHandler handler(EchoFn());
  auto server = StartServer(&handler, TestLimits(), nullptr);
  ASSERT_NE(server, nullptr);
  Client client = MustCreate(Base(server->api_port()));
  const std::vector<std::pair<std::string, std::vector<Header>>> bad = {
      {"no-slash", {}},
      {"/with space", {}},
      {"/x", {{"X-Evil", "a\r\nInjected: 1"}}},
      {"/x", {{"Bad Name", "v"}}},
      {"/x", {{"Content-Length", "5"}}},
      {"/x", {{"Transfer-Encoding", "chunked"}}},
  };
  for (const auto& [target, headers] : bad) {
    SCOPED_TRACE(target);
    util::Result<ClientResponse> r = client.Request("GET", target, headers);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), ErrorCode::kMalformed);
  }
  EXPECT_FALSE(client.Request("GE T", "/x").ok());
  EXPECT_EQ(handler.calls(), 0);
}

// A stream handler whose body the test writes chunk by chunk.
struct StreamScript {
  std::vector<std::string> chunks;
  bool close_at_end = true;
  std::chrono::milliseconds heartbeat{15000};
};

FnHandler::Fn StreamFn(StreamScript script) {
  return [script](Request, Responder respond) {
    Response r;
    r.status = 200;
    r.headers.emplace_back("Content-Type", "text/event-stream");
    Response::Stream s;
    s.heartbeat = script.heartbeat;
    s.on_open = [script](std::shared_ptr<StreamSink> sink) {
      for (const std::string& c : script.chunks) sink->Push(std::make_shared<const std::string>(c));
      if (script.close_at_end) sink->Close();
    };
    r.stream = std::move(s);
    respond(std::move(r));
  };
}

// The chunks split lines, fields and CRLFs at awkward places.
const std::vector<std::string> kTrickyStream = {
    "retry: 2000\n\n",
    ": a comment\n",
    "id: 1\nevent: registry.update\ndata: line one\ndata: line two\n\n",
    "id: 2\nda",
    "ta: {\"x\":1}\r",
    "\n\r\n",
    ":\n\n",  // a heartbeat
    "data:no-space\n\n",
    "event: nothing\n\n",  // no data: not dispatched
    "data\rdata:  two spaces\r\r",
    "id: 3\nevent: registry.reset\ndata: {}\n\n",
    "data: incomplete, dropped at the end\n",
};

TEST(HttpClientTest, StreamParsesEvents) {
  FnHandler handler(StreamFn({kTrickyStream}));
  auto server = StartServer(&handler, TestLimits(), nullptr);
  ASSERT_NE(server, nullptr);
  Client client = MustCreate(Base(server->api_port()));
  std::vector<SseEvent> events;
  util::Result<ClientResponse> r =
      client.Stream("/registry/stream", {{"Last-Event-ID", "0"}}, [&](const SseEvent& e) {
        events.push_back(e);
        return true;
      });
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->status, 200);
  ASSERT_NE(r->FindHeader("content-type"), nullptr);
  EXPECT_EQ(*r->FindHeader("content-type"), "text/event-stream");
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(events[0].id, "1");
  EXPECT_EQ(events[0].event, "registry.update");
  EXPECT_EQ(events[0].data, "line one\nline two");
  EXPECT_EQ(events[1].id, "2");
  EXPECT_EQ(events[1].event, "message");
  EXPECT_EQ(events[1].data, "{\"x\":1}");
  EXPECT_EQ(events[2].id, "2") << "the last event id persists";
  EXPECT_EQ(events[2].data, "no-space");
  EXPECT_EQ(events[3].event, "message");
  EXPECT_EQ(events[3].data, "\n two spaces");
  EXPECT_EQ(events[4].id, "3");
  EXPECT_EQ(events[4].event, "registry.reset");
  EXPECT_EQ(events[4].data, "{}");
}

TEST(HttpClientTest, StreamStopsWhenTheCallbackSaysSo) {
  StreamScript script{kTrickyStream};
  script.close_at_end = false;  // the server would go on for ever
  FnHandler handler(StreamFn(script));
  CountingObserver observer;
  auto server = StartServer(&handler, TestLimits(), &observer);
  ASSERT_NE(server, nullptr);
  Client client = MustCreate(Base(server->api_port()));
  int seen = 0;
  util::Result<ClientResponse> r =
      client.Stream("/s", {}, [&](const SseEvent&) { return ++seen < 2; });
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(seen, 2);
  // The stream's connection is closed when Stream returns; the client works on.
  EXPECT_TRUE(observer.WaitConnections(0));
  seen = 0;
  ASSERT_TRUE(client.Stream("/s", {}, [&](const SseEvent&) { return ++seen < 1; }).ok());
  EXPECT_EQ(seen, 1);
}

TEST(HttpClientTest, StreamRefusedReturnsTheResponse) {
  FnHandler handler([](Request, Responder respond) {
    Response r = Response::Text(429, "application/json", R"({"error":{"code":"Busy"}})");
    r.headers.emplace_back("Retry-After", "1");
    respond(std::move(r));
  });
  auto server = StartServer(&handler, TestLimits(), nullptr);
  ASSERT_NE(server, nullptr);
  Client client = MustCreate(Base(server->api_port()));
  int events = 0;
  util::Result<ClientResponse> r = client.Stream("/s", {}, [&](const SseEvent&) {
    ++events;
    return true;
  });
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->status, 429);
  EXPECT_EQ(r->body, R"({"error":{"code":"Busy"}})");
  EXPECT_EQ(events, 0);
}

TEST(HttpClientTest, StreamTimesOutWithoutHeartbeats) {
  StreamScript script{{"retry: 2000\n\n", "id: 1\ndata: a\n\n"}};
  script.close_at_end = false;
  script.heartbeat = std::chrono::milliseconds(60000);
  FnHandler handler(StreamFn(script));
  auto server = StartServer(&handler, TestLimits(), nullptr);
  ASSERT_NE(server, nullptr);
  ClientOptions options;
  options.timeout = std::chrono::milliseconds(200);
  Client client = MustCreate(Base(server->api_port()), options);
  int seen = 0;
  const auto start = std::chrono::steady_clock::now();
  util::Result<ClientResponse> r = client.Stream("/s", {}, [&](const SseEvent&) {
    ++seen;
    return true;
  });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kNotReady);
  EXPECT_THAT(r.error().message(), HasSubstr("timed out"));
  EXPECT_EQ(seen, 1);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(200));
}

TEST(HttpClientTest, HeartbeatsKeepAStreamAlive) {
  // The server sends only comments for 3x the client's timeout, then an event.
  ScriptedServer server({[](int fd) {
    ScriptedServer::ReadHead(fd);
    ScriptedServer::Send(fd, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n");
    for (int i = 0; i < 12; ++i) {
      ScriptedServer::Send(fd, ":\n\n");
      std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the pace under test
    }
    ScriptedServer::Send(fd, "id: 9\nevent: registry.update\ndata: {\"version\":9}\n\n");
  }});
  ClientOptions options;
  options.timeout = std::chrono::milliseconds(200);
  Client client = MustCreate(Base(server.port()), options);
  std::vector<SseEvent> events;
  util::Result<ClientResponse> r = client.Stream("/s", {}, [&](const SseEvent& e) {
    events.push_back(e);
    return true;
  });
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].id, "9");
  EXPECT_EQ(events[0].data, "{\"version\":9}");
}

TEST(HttpClientTest, StreamEventLimit) {
  FnHandler handler(StreamFn({{"data: " + std::string(2000, 'x') + "\n\n"}}));
  auto server = StartServer(&handler, TestLimits(), nullptr);
  ASSERT_NE(server, nullptr);
  ClientOptions options;
  options.max_body_bytes = 1000;
  Client client = MustCreate(Base(server->api_port()), options);
  util::Result<ClientResponse> r = client.Stream("/s", {}, [](const SseEvent&) { return true; });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kPayloadTooLarge);
}

}  // namespace
}  // namespace registry::http
