// GET /registry/stream (SPEC §2.4): live registry.update events carrying the commit's
// corr_id, resume with Last-Event-ID and ?since= without a gap or a duplicate, reset frames,
// heartbeats, and a slow subscriber dropped (and counted) while another keeps receiving.
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"

namespace registry::itest {
namespace {

using std::chrono::milliseconds;

class StreamTest : public ServiceTest {
 protected:
  // Expects the `retry: 2000` frame a new stream starts with.
  static void ExpectRetryFrame(SseStream& s) {
    std::optional<SseFrame> f = s.Next();
    ASSERT_TRUE(f.has_value()) << "no frame on connect";
    EXPECT_EQ(f->retry, "2000") << f->raw;
    EXPECT_FALSE(f->id.has_value()) << f->raw;
  }

  // Expects the next event to be the registry.update of `version`; returns its data.
  static json::Value ExpectUpdate(SseStream& s, std::uint64_t version) {
    std::optional<SseFrame> f = s.NextEvent();
    if (!f.has_value()) {
      ADD_FAILURE() << "no event for version " << version;
      return json::Value();
    }
    EXPECT_EQ(f->id, std::to_string(version)) << f->raw;
    EXPECT_EQ(f->event, "registry.update") << f->raw;
    json::Value data = ParseJsonOrFail(f->data);
    EXPECT_EQ(JsonInt(data, {"version"}), static_cast<std::int64_t>(version)) << f->raw;
    return data;
  }

  // The versions of consecutive update events until nothing comes within `quiet`.
  static std::vector<std::uint64_t> DrainUpdates(SseStream& s, milliseconds quiet) {
    std::vector<std::uint64_t> versions;
    for (;;) {
      std::optional<SseFrame> f = s.NextEvent(quiet);
      if (!f.has_value()) return versions;
      if (f->event == "registry.update" && f->id) versions.push_back(std::stoull(*f->id));
    }
  }

  std::string HeadRoot() {
    HttpResponse r = Get("/registry/head");
    EXPECT_TRUE(HasStatus(r, 200));
    return JsonStr(ParseJsonOrFail(r.body), {"root"});
  }
};

TEST_F(StreamTest, LiveEventsThenResumeWithoutGapOrDuplicate) {
  ASSERT_NO_FATAL_FAILURE(StartService());
  SseStream s1(api_port(), "/registry/stream", {{"X-Corr-ID", "stream-client-1"}});
  ASSERT_TRUE(s1.ok()) << s1.response().Describe();
  EXPECT_EQ(s1.response().Header("content-type"), "text/event-stream");
  EXPECT_EQ(s1.response().Header("cache-control"), "no-cache");
  EXPECT_EQ(s1.response().Header("x-registry-version"), "0");
  EXPECT_EQ(s1.response().Header("x-corr-id"), "stream-client-1");
  ASSERT_NO_FATAL_FAILURE(ExpectRetryFrame(s1));

  // Two commits, each with its own corr id on the commit request.
  for (std::uint64_t v = 1; v <= 2; ++v) {
    const std::string corr = "itest-commit-" + std::to_string(v);
    Committed c = CommitNext(corr);
    ASSERT_TRUE(c.ok);
    EXPECT_EQ(c.corr_id, corr);
    json::Value data = ExpectUpdate(s1, v);
    EXPECT_EQ(JsonStr(data, {"payload_b3"}), c.payload_b3);
    EXPECT_EQ(JsonStr(data, {"committed_at"}), c.committed_at);
    EXPECT_EQ(JsonStr(data, {"corr_id"}), corr);
    EXPECT_EQ(JsonStr(data, {"root"}), HeadRoot());
    std::vector<std::string> members;
    for (const auto& [name, value] : data.as_object()) members.push_back(name);
    EXPECT_EQ(members, (std::vector<std::string>{"committed_at", "corr_id", "payload_b3", "root",
                                                 "version"}));
  }
  s1.Close();

  // Missed while disconnected.
  ASSERT_TRUE(CommitNext().ok);
  ASSERT_TRUE(CommitNext().ok);

  SseStream s2(api_port(), "/registry/stream", {{"Last-Event-ID", "2"}});
  ASSERT_TRUE(s2.ok()) << s2.response().Describe();
  ASSERT_NO_FATAL_FAILURE(ExpectRetryFrame(s2));
  ExpectUpdate(s2, 3);
  ExpectUpdate(s2, 4);
  ASSERT_TRUE(CommitNext().ok);
  ExpectUpdate(s2, 5);
  ASSERT_TRUE(CommitNext().ok);
  ExpectUpdate(s2, 6);  // and not 4 or 5 again

  SseStream s3(api_port(), "/registry/stream?since=3");
  ASSERT_TRUE(s3.ok()) << s3.response().Describe();
  ASSERT_NO_FATAL_FAILURE(ExpectRetryFrame(s3));
  for (std::uint64_t v = 4; v <= 6; ++v) ExpectUpdate(s3, v);

  SseStream all(api_port(), "/registry/stream?since=0");
  ASSERT_TRUE(all.ok());
  ASSERT_NO_FATAL_FAILURE(ExpectRetryFrame(all));
  for (std::uint64_t v = 1; v <= 6; ++v) ExpectUpdate(all, v);

  // Up to date: nothing replayed, the next live event is the next version.
  SseStream current(api_port(), "/registry/stream", {{"Last-Event-ID", "6"}});
  ASSERT_TRUE(current.ok());
  ASSERT_NO_FATAL_FAILURE(ExpectRetryFrame(current));
  ASSERT_TRUE(CommitNext().ok);
  for (SseStream* s : {&s2, &s3, &all, &current}) ExpectUpdate(*s, 7);

  // Versions 1, 2, 5 and 6 each had a listener, and each pass ended before the next began
  // (version 7 arrived): at least four fan-out passes were timed.
  EXPECT_GE(FetchMetrics().Value("sse_fanout_seconds_count").value_or(0), 4.0);
}

TEST_F(StreamTest, ResumeAheadOfHeadGetsAReset) {
  ASSERT_NO_FATAL_FAILURE(StartService());
  ASSERT_TRUE(CommitNext().ok);
  SseStream s(api_port(), "/registry/stream", {{"Last-Event-ID", "99"}});
  ASSERT_TRUE(s.ok()) << s.response().Describe();
  std::optional<SseFrame> f = s.NextEvent();
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->event, "registry.reset") << f->raw;
  json::Value head = ParseJsonOrFail(f->data);
  EXPECT_EQ(JsonInt(head, {"version"}), 1);
  EXPECT_EQ(JsonStr(head, {"payload_b3"}), head_b3_);
  EXPECT_EQ(JsonStr(head, {"root"}), HeadRoot());
  // Then live events.
  ASSERT_TRUE(CommitNext().ok);
  ExpectUpdate(s, 2);
}

TEST_F(StreamTest, HeartbeatComments) {
  ASSERT_NO_FATAL_FAILURE(StartServiceWith({"sse.heartbeat=200ms"}));
  SseStream s(api_port(), "/registry/stream");
  ASSERT_TRUE(s.ok()) << s.response().Describe();
  ASSERT_NO_FATAL_FAILURE(ExpectRetryFrame(s));
  for (int i = 0; i < 2; ++i) {
    const auto started = std::chrono::steady_clock::now();
    std::optional<SseFrame> f = s.Next(milliseconds(3000));
    ASSERT_TRUE(f.has_value()) << "no heartbeat within 3 s";
    EXPECT_TRUE(f->heartbeat()) << f->raw;
    EXPECT_FALSE(f->comments.empty()) << f->raw;
    // Not a busy loop: the period is about 200 ms (lower bound kept loose for the timer).
    if (i == 1) {
      EXPECT_GE(std::chrono::steady_clock::now() - started, milliseconds(100));
    }
  }
  // Events still flow between heartbeats.
  ASSERT_TRUE(CommitNext().ok);
  ExpectUpdate(s, 1);
}

// A subscriber that stops reading is disconnected once its queue (sse.queue_len) overflows;
// the publisher does not wait for it, and another subscriber receives every version in
// order. The slow one reads what was delivered before the drop, then EOF. (Its resume is
// ResumeReplaysMoreVersionsThanTheQueueHolds.)
TEST_F(StreamTest, SlowSubscriberIsDroppedWhileOthersKeepReceiving) {
  ASSERT_NO_FATAL_FAILURE(UseGeneratedTrustRoots(1, 1));
  ASSERT_NO_FATAL_FAILURE(StartServiceWith({"governance.auto_commit=true", "sse.queue_len=2"}));
  // The slow subscriber never reads; a small receive buffer makes the socket buffers fill
  // with few events.
  HttpClient::Options small;
  small.rcvbuf = 2048;
  SseStream slow(api_port(), "/registry/stream", {}, small);
  ASSERT_TRUE(slow.ok()) << slow.response().Describe();
  // Its first frame says it is subscribed; from here on it reads nothing.
  ASSERT_NO_FATAL_FAILURE(ExpectRetryFrame(slow));
  SseStream good(api_port(), "/registry/stream");
  ASSERT_TRUE(good.ok()) << good.response().Describe();
  ASSERT_NO_FATAL_FAILURE(ExpectRetryFrame(good));

  // Commit until the service reports the lagging subscriber. The good subscriber is read in
  // lock-step, so its own queue never holds more than one event. Long corr ids make the
  // frames bigger, so that fewer commits fill the slow socket.
  const std::string corr_pad(120, 'c');
  constexpr std::uint64_t kMaxVersions = 30000;
  bool lagged = false;
  std::uint64_t v = 0;
  while (!lagged && v < kMaxVersions) {
    ++v;
    const std::string corr = corr_pad + std::to_string(v);
    Committed c = CommitNext(corr, 1);
    ASSERT_TRUE(c.ok) << "version " << v;
    // Auto-commit: the event carries the corr id of the approval that committed.
    json::Value data = ExpectUpdate(good, v);
    ASSERT_FALSE(HasFailure());
    ASSERT_EQ(JsonStr(data, {"corr_id"}), corr);
    if (v % 50 == 0) {
      lagged = FetchMetrics().Value("bus_lagged_total", {{"consumer", "sse"}}).value_or(0) > 0;
    }
  }
  ASSERT_TRUE(lagged) << "no subscriber was dropped after " << v << " versions";
  std::cerr << "[ slow subscriber dropped after " << v << " versions ]\n";

  // The good subscriber keeps receiving.
  for (int i = 0; i < 3; ++i) {
    ++v;
    ASSERT_TRUE(CommitNext().ok);
    ExpectUpdate(good, v);
  }
  MetricsText m = FetchMetrics();
  EXPECT_EQ(m.Value("bus_lagged_total", {{"consumer", "sse"}}), 1.0)
      << "only the slow subscriber lags";

  // The slow subscriber gets what was delivered before the drop, in order, then EOF.
  std::vector<std::uint64_t> got = DrainUpdates(slow, milliseconds(3000));
  EXPECT_TRUE(slow.last_status() == HttpClient::ReadStatus::kEof ||
              slow.last_status() == HttpClient::ReadStatus::kReset)
      << "the slow subscriber was not disconnected";
  ASSERT_FALSE(got.empty());
  for (std::size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(got[i], i + 1) << "gap or reorder; first frames " << got[0] << " "
                             << (got.size() > 1 ? got[1] : 0);
  }
  EXPECT_LT(got.back(), v);

  // The gauge follows (the close is asynchronous to the counter: poll, bounded).
  std::optional<double> clients;
  for (int i = 0; i < 200; ++i) {
    clients = FetchMetrics().Value("sse_clients");
    if (clients == 1.0) break;
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_EQ(clients, 1.0);
}

// SPEC §2.4: a client resuming with Last-Event-ID "first receives every version after N
// that is still retained, in order". A subscriber dropped for lag resumes exactly this way,
// and usually has missed more versions than its queue holds.
TEST_F(StreamTest, ResumeReplaysMoreVersionsThanTheQueueHolds) {
  ASSERT_NO_FATAL_FAILURE(UseGeneratedTrustRoots(1, 1));
  ASSERT_NO_FATAL_FAILURE(StartServiceWith({"governance.auto_commit=true", "sse.queue_len=4"}));
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(CommitNext().ok);
  for (const Headers& resume : std::vector<Headers>{{}, {{"Last-Event-ID", "2"}}}) {
    const std::string target = resume.empty() ? "/registry/stream?since=0" : "/registry/stream";
    SseStream s(api_port(), target, resume);
    ASSERT_TRUE(s.ok()) << s.response().Describe();
    ASSERT_NO_FATAL_FAILURE(ExpectRetryFrame(s));
    for (std::uint64_t v = resume.empty() ? 1 : 3; v <= 10 && !HasFailure(); ++v) {
      ExpectUpdate(s, v);
    }
  }
  EXPECT_EQ(FetchMetrics().Value("bus_lagged_total", {{"consumer", "sse"}}), 0.0);
}

}  // namespace
}  // namespace registry::itest
