// Every response carries X-Registry-Version and X-Corr-ID (SPEC §2.1): an acceptable
// incoming X-Corr-ID is echoed, otherwise a fresh ULID is generated; each request leaves one
// JSON access-log line with its corr_id, route template and status (SPEC §8).
#include <set>
#include <string>
#include <vector>

#include "harness.h"
#include "registry/json/parse.h"

namespace registry::itest {
namespace {

bool IsUlid(const std::string& s) {
  if (s.size() != 26) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z')) || c == 'I' || c == 'L' || c == 'O' ||
        c == 'U') {
      return false;
    }
  }
  return true;
}

class HeadersTest : public ServiceTest {
 protected:
  struct Req {
    bool admin;
    std::string method;
    std::string target;
    Headers headers;
    std::string body;
    int status;
    std::string route;  // the access log's route template
  };

  std::vector<Req> Requests() {
    const std::string unknown = "p_" + std::string(24, '0');
    const Headers json = {{"Content-Type", "application/json"}};
    Headers writer = json;
    writer.emplace_back("Authorization", Bearer(writer_token()));
    return {
        {false, "GET", "/registry/head", {}, "", 200, "/registry/head"},
        {false, "GET", "/registry/1", {}, "", 200, "/registry/{version}"},
        {false,
         "GET",
         "/registry/1",
         {{"Accept-Encoding", "gzip"}},
         "",
         200,
         "/registry/{version}"},
        {false, "GET", "/registry/9", {}, "", 404, "/registry/{version}"},
        {false, "GET", "/registry/proposals", {}, "", 200, "/registry/proposals"},
        {false, "GET", "/registry/proposals/" + unknown, {}, "", 404, "/registry/proposals/{id}"},
        {false, "POST", "/registry/proposals", json, "{}", 401, "/registry/proposals"},
        {false, "POST", "/registry/proposals", writer, "{", 400, "/registry/proposals"},
        {false, "POST", "/registry/commit/" + unknown, writer, "", 404, "/registry/commit/{id}"},
        {false, "DELETE", "/registry/head", {}, "", 405, "/registry/head"},
        {false, "GET", "/nope", {}, "", 404, "unmatched"},
        {false, "GET", "/healthz", {}, "", 200, "/healthz"},
        {false, "GET", "/readyz", {}, "", 200, "/readyz"},
        {false, "GET", "/version", {}, "", 200, "/version"},
        {true, "GET", "/metrics", {}, "", 200, "/metrics"},
        {true, "GET", "/healthz", {}, "", 200, "/healthz"},
        {true, "GET", "/readyz", {}, "", 200, "/readyz"},
        {true, "GET", "/version", {}, "", 200, "/version"},
        {true, "POST", "/admin/freeze", {}, "", 401, "/admin/freeze"},
        {true, "GET", "/nope", {}, "", 404, "unmatched"},
    };
  }
};

TEST_F(HeadersTest, EveryResponseCarriesRegistryVersionAndCorrId) {
  ASSERT_NO_FATAL_FAILURE(StartService());
  ASSERT_TRUE(CommitNext().ok);
  std::vector<Req> requests = Requests();
  std::set<std::string> generated;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const Req& q = requests[i];
    SCOPED_TRACE(q.method + " " + q.target + (q.admin ? " (admin)" : ""));
    HttpClient& client = q.admin ? *admin_ : *api_;
    // With an incoming X-Corr-ID: echoed.
    const std::string corr = "itest.corr_" + std::to_string(i) + ":x-Y";
    Headers h = q.headers;
    h.emplace_back("X-Corr-ID", corr);
    HttpResponse r = client.Request(q.method, q.target, h, q.body);
    ASSERT_EQ(r.status, q.status) << r.Describe();
    EXPECT_EQ(r.HeaderCount("x-registry-version"), 1) << r.Describe();
    EXPECT_EQ(r.Header("x-registry-version"), "1");
    EXPECT_EQ(r.HeaderCount("x-corr-id"), 1) << r.Describe();
    EXPECT_EQ(r.Header("x-corr-id"), corr);
    // Its access-log line.
    std::optional<std::string> line = service().WaitForLine(
        [&](const std::string& l) {
          return l.find("\"event\":\"request\"") != std::string::npos &&
                 l.find("\"" + corr + "\"") != std::string::npos;
        },
        kIoTimeout);
    ASSERT_TRUE(line.has_value()) << "no access-log line with corr_id " << corr;
    json::Value log = ParseJsonOrFail(*line);
    EXPECT_EQ(JsonStr(log, {"corr_id"}), corr);
    EXPECT_EQ(JsonStr(log, {"route"}), q.route) << *line;
    EXPECT_EQ(JsonStr(log, {"method"}), q.method) << *line;
    EXPECT_EQ(JsonInt(log, {"status"}), q.status) << *line;
    EXPECT_NE(log.Find("latency_ms"), nullptr) << *line;
    EXPECT_NE(log.Find("ts"), nullptr) << *line;
    EXPECT_EQ(JsonStr(log, {"level"}), "info") << *line;

    // Without one: a fresh ULID.
    HttpResponse g = client.Request(q.method, q.target, q.headers, q.body);
    ASSERT_EQ(g.status, q.status) << g.Describe();
    EXPECT_EQ(g.Header("x-registry-version"), "1");
    std::string id = g.Header("x-corr-id").value_or("");
    EXPECT_TRUE(IsUlid(id)) << "X-Corr-ID: " << id;
    EXPECT_TRUE(generated.insert(id).second) << "corr id reused: " << id;
    if (g.status >= 400) {
      EXPECT_EQ(JsonStr(ParseJsonOrFail(g.body), {"error", "corr_id"}), id);
    }
  }
  // The stream's response head too.
  SseStream s(api_port(), "/registry/stream", {{"X-Corr-ID", "stream-corr"}});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s.response().Header("x-registry-version"), "1");
  EXPECT_EQ(s.response().Header("x-corr-id"), "stream-corr");
}

TEST_F(HeadersTest, UnacceptableCorrIdIsReplaced) {
  ASSERT_NO_FATAL_FAILURE(StartService());
  for (const std::string& bad : {std::string(129, 'a'), std::string("has space"),
                                 std::string("semi;colon"), std::string("caf\xc3\xa9")}) {
    HttpResponse r = Get("/registry/head", {{"X-Corr-ID", bad}});
    ASSERT_TRUE(HasStatus(r, 200));
    EXPECT_TRUE(IsUlid(r.Header("x-corr-id").value_or(""))) << r.Describe();
  }
  HttpResponse longest = Get("/registry/head", {{"X-Corr-ID", std::string(128, 'a')}});
  EXPECT_EQ(longest.Header("x-corr-id"), std::string(128, 'a'));
}

// The answers the HTTP server gives on its own, before a handler runs (413, 415 for a
// Content-Encoding, 429 at the inflight cap, 400 for an unparsable request) are responses
// too: SPEC §2.1 wants X-Registry-Version and X-Corr-ID on every response.
TEST_F(HeadersTest, ServerRejectionsCarryTheCommonHeaders) {
  ASSERT_NO_FATAL_FAILURE(StartServiceWith({"limits.max_body_bytes=4096", "limits.inflight=1"}));
  ASSERT_TRUE(CommitNext().ok);
  struct Case {
    std::string request;
    int status;
    std::string code;
  };
  const std::string auth = "Authorization: " + Bearer(writer_token()) + "\r\n";
  for (const Case& c : std::vector<Case>{
           {"POST /registry/proposals HTTP/1.1\r\nHost: x\r\nX-Corr-ID: too-large\r\n" + auth +
                "Content-Type: application/json\r\nContent-Length: 5000\r\n\r\n",
            413, "PayloadTooLarge"},
           {"POST /registry/proposals HTTP/1.1\r\nHost: x\r\nX-Corr-ID: gzipped\r\n" + auth +
                "Content-Type: application/json\r\nContent-Encoding: gzip\r\n"
                "Content-Length: 2\r\n\r\n{}",
            415, "UnsupportedMediaType"},
           {"GET /registry/head HTTP/1.1\r\nHost: x\r\nX-Corr-ID: bad-header\r\nNo colon "
            "here\r\n\r\n",
            400, "Malformed"}}) {
    SCOPED_TRACE(c.code);
    HttpClient raw(api_port());
    ASSERT_TRUE(raw.Send(c.request));
    HttpResponse r = raw.ReadResponse();
    EXPECT_TRUE(IsError(r, c.status, c.code));
    EXPECT_EQ(r.Header("x-registry-version"), std::optional<std::string>("1")) << r.Describe();
    EXPECT_TRUE(r.Header("x-corr-id").has_value()) << r.Describe();
  }
  // Last: the held request must be finished before anything else is sent.
  {
    // 429 at the inflight cap: one request held in flight (header read, body pending).
    HttpClient holder(api_port());
    ASSERT_TRUE(
        holder.Send("POST /registry/proposals HTTP/1.1\r\nHost: x\r\n"
                    "Content-Type: application/json\r\nExpect: 100-continue\r\n"
                    "Content-Length: 2\r\n\r\n"));
    ASSERT_TRUE(HasStatus(holder.ReadResponse(/*head_only=*/true), 100));
    HttpResponse busy =
        HttpClient(api_port()).Request("GET", "/registry/head", {{"X-Corr-ID", "over-the-cap"}});
    EXPECT_TRUE(IsError(busy, 429, "Busy"));
    EXPECT_EQ(busy.Header("x-registry-version"), std::optional<std::string>("1"))
        << busy.Describe();
    EXPECT_EQ(busy.Header("x-corr-id"), "over-the-cap") << busy.Describe();
    ASSERT_TRUE(holder.Send("{}"));
    EXPECT_TRUE(IsError(holder.ReadResponse(), 401, "Unauthorized"));
  }
}

}  // namespace
}  // namespace registry::itest
