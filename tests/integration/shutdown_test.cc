// Graceful shutdown (issue 3, item 1): on SIGTERM or SIGINT the service stops accepting,
// finishes the requests in flight, closes the streams, logs "stopping" then "stopped", and
// exits 0. (Every other test's TearDown asserts the exit code and the "stopped" line too.)
#include <signal.h>

#include <chrono>
#include <string>

#include "harness.h"

namespace registry::itest {
namespace {

class ShutdownTest : public ServiceTest {};

TEST_F(ShutdownTest, SigtermFinishesInFlightRequestsAndExitsZero) {
  ASSERT_NO_FATAL_FAILURE(StartService());
  ASSERT_TRUE(CommitNext().ok);
  SseStream stream(api_port(), "/registry/stream");
  ASSERT_TRUE(stream.ok());
  ASSERT_TRUE(stream.Next().has_value());  // retry: the subscriber is registered

  // A write in flight: header admitted (the 100 Continue says so), body not sent yet.
  const std::string body = ProposeBody(NextPayload());
  HttpClient holder(api_port());
  ASSERT_TRUE(holder.Send(
      "POST /registry/proposals HTTP/1.1\r\nHost: x\r\n"
      "Content-Type: application/json\r\nAuthorization: " +
      Bearer(writer_token()) +
      "\r\nExpect: 100-continue\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n"));
  ASSERT_TRUE(HasStatus(holder.ReadResponse(/*head_only=*/true), 100));

  // Idle clients leave first (one the server is still finishing a write on would linger).
  api_.reset();
  admin_.reset();
  service().Signal(SIGTERM);
  std::optional<std::string> stopping = service().WaitForLine(
      [](const std::string& l) { return l.find("\"event\":\"stopping\"") != std::string::npos; },
      kIoTimeout);
  ASSERT_TRUE(stopping.has_value()) << service().Tail();
  EXPECT_NE(stopping->find("SIGTERM"), std::string::npos) << *stopping;

  // Streams are closed when the drain begins: their EOF is the event that says so.
  std::optional<SseFrame> f = stream.NextEvent();
  EXPECT_FALSE(f.has_value()) << f->raw;
  EXPECT_TRUE(stream.last_status() == HttpClient::ReadStatus::kEof ||
              stream.last_status() == HttpClient::ReadStatus::kReset);
  // The in-flight request is still finished (within drain_deadline), not dropped, and its
  // connection closes after it.
  ASSERT_TRUE(holder.Send(body));
  HttpResponse done = holder.ReadResponse();
  EXPECT_TRUE(HasStatus(done, 202));
  EXPECT_TRUE(done.closes()) << "a response during the drain closes its connection";
  holder.Close();

  const int code = service().WaitForExit(std::chrono::seconds(15));
  stopped_ = true;
  ASSERT_EQ(code, 0) << service().Tail();
  std::optional<std::string> stopped = service().WaitForLine(
      [](const std::string& l) { return l.find("\"event\":\"stopped\"") != std::string::npos; },
      std::chrono::milliseconds(0));
  ASSERT_TRUE(stopped.has_value()) << service().Tail();
  EXPECT_NE(stopped->find("\"head\":1"), std::string::npos) << *stopped;
  // Nothing listens any more.
  HttpClient late(api_port());
  EXPECT_FALSE(late.connected());
}

TEST_F(ShutdownTest, SigintIsGracefulToo) {
  ASSERT_NO_FATAL_FAILURE(StartService());
  ASSERT_TRUE(HasStatus(Get("/registry/head"), 200));
  api_.reset();
  admin_.reset();
  service().Signal(SIGINT);
  const int code = service().WaitForExit(std::chrono::seconds(15));
  stopped_ = true;
  EXPECT_EQ(code, 0) << service().Tail();
  std::optional<std::string> stopping = service().WaitForLine(
      [](const std::string& l) { return l.find("\"event\":\"stopping\"") != std::string::npos; },
      std::chrono::milliseconds(0));
  ASSERT_TRUE(stopping.has_value()) << service().Tail();
  EXPECT_NE(stopping->find("SIGINT"), std::string::npos) << *stopping;
  EXPECT_TRUE(service()
                  .WaitForLine(
                      [](const std::string& l) {
                        return l.find("\"event\":\"stopped\"") != std::string::npos;
                      },
                      std::chrono::milliseconds(0))
                  .has_value());
}

}  // namespace
}  // namespace registry::itest
