// The admin plane (SPEC §2.2, §7, §8): /readyz write-first degradation, /version, /healthz,
// freeze and thaw (writes 503 Frozen while reads stay 200), and /metrics with every metric
// of SPEC §8 from start-up, route templates as labels, and `promtool check metrics` clean.
#include <set>
#include <string>
#include <vector>

#include "harness.h"
#include "registry/model/payload.h"

namespace registry::itest {
namespace {

class AdminPlaneTest : public ServiceTest {
 protected:
  // Checks `promtool check metrics` on `body` (skipped without promtool).
  static void ExpectPromtoolClean(const std::string& body) {
#ifdef PROMTOOL_PATH
    ProcessResult r = RunProcess(PROMTOOL_PATH, {"check", "metrics"}, body);
    EXPECT_EQ(r.exit_code, 0) << "promtool check metrics:\n" << r.out << r.err;
#else
    (void)body;
#endif
  }
};

TEST_F(AdminPlaneTest, ReadyzDegradesTheWritePlaneFirst) {
  ASSERT_NO_FATAL_FAILURE(StartService());
  allow_503_ = true;
  for (HttpClient* client : {admin_.get(), api_.get()}) {
    HttpResponse r = client->Request("GET", "/readyz");
    ASSERT_TRUE(HasStatus(r, 200));
    json::Value body = ParseJsonOrFail(r.body);
    EXPECT_TRUE(JsonAt(body, {"ready"}) && JsonAt(body, {"ready"})->is_bool() &&
                JsonAt(body, {"ready"})->as_bool())
        << r.body;
    EXPECT_TRUE(JsonAt(body, {"write_ready"}) && JsonAt(body, {"write_ready"})->as_bool())
        << r.body;
    ASSERT_NE(body.Find("missing"), nullptr);
    EXPECT_TRUE(body.Find("missing")->as_array().empty());
    EXPECT_EQ(JsonInt(body, {"version"}), 0);
    EXPECT_EQ(JsonStr(body, {"head_b3"}), head_b3_);
    EXPECT_FALSE(r.Header("retry-after").has_value());
  }

  ASSERT_TRUE(HasStatus(Freeze(true), 200));
  for (HttpClient* client : {admin_.get(), api_.get()}) {
    HttpResponse r = client->Request("GET", "/readyz");
    ASSERT_TRUE(HasStatus(r, 503));
    json::Value body = ParseJsonOrFail(r.body);
    EXPECT_TRUE(JsonAt(body, {"ready"}) && JsonAt(body, {"ready"})->as_bool())
        << "reads stay ready: " << r.body;
    EXPECT_TRUE(JsonAt(body, {"write_ready"}) && !JsonAt(body, {"write_ready"})->as_bool())
        << r.body;
    EXPECT_TRUE(JsonAt(body, {"degraded"}) && JsonAt(body, {"degraded"})->as_bool()) << r.body;
    ASSERT_NE(body.Find("missing"), nullptr);
    ASSERT_EQ(body.Find("missing")->as_array().size(), 1u) << r.body;
    EXPECT_EQ(body.Find("missing")->as_array()[0].as_string(), "frozen");
    std::optional<std::int64_t> retry_after = JsonInt(body, {"retry_after"});
    ASSERT_TRUE(retry_after.has_value()) << r.body;
    EXPECT_GE(*retry_after, 1);
    EXPECT_EQ(r.Header("retry-after"), std::to_string(*retry_after));
  }
  EXPECT_TRUE(HasStatus(Get("/registry/head"), 200));
  EXPECT_TRUE(HasStatus(AdminGet("/healthz"), 200));

  ASSERT_TRUE(HasStatus(Freeze(false), 200));
  EXPECT_TRUE(HasStatus(AdminGet("/readyz"), 200));
}

TEST_F(AdminPlaneTest, VersionAndHealthz) {
  ASSERT_NO_FATAL_FAILURE(StartService());
  for (HttpClient* client : {admin_.get(), api_.get()}) {
    HttpResponse v = client->Request("GET", "/version");
    ASSERT_TRUE(HasStatus(v, 200));
    EXPECT_EQ(v.Header("content-type"), "application/json; charset=utf-8");
    json::Value body = ParseJsonOrFail(v.body);
    EXPECT_EQ(JsonStr(body, {"service"}), "svc-registry");
    EXPECT_FALSE(JsonStr(body, {"version"}).empty());
    EXPECT_NE(JsonStr(body, {"version"}), "<absent>");
    EXPECT_NE(JsonStr(body, {"commit"}), "<absent>");
    EXPECT_FALSE(JsonStr(body, {"commit"}).empty());
    EXPECT_EQ(JsonStr(body, {"schema", "registry"}), "1.0.0");
    ASSERT_NE(body.Find("deprecations"), nullptr);
    EXPECT_TRUE(body.Find("deprecations")->is_array());

    HttpResponse h = client->Request("GET", "/healthz");
    ASSERT_TRUE(HasStatus(h, 200));
    EXPECT_EQ(JsonStr(ParseJsonOrFail(h.body), {"status"}), "ok");
  }
}

TEST_F(AdminPlaneTest, FreezeMakesWrites503WhileReadsStay200) {
  ASSERT_NO_FATAL_FAILURE(StartService());
  allow_503_ = true;
  ASSERT_TRUE(CommitNext().ok);
  // Freeze is an admin action on the admin plane only.
  EXPECT_TRUE(IsError(AdminPost("/admin/freeze"), 401, "Unauthorized"));
  EXPECT_TRUE(IsError(AdminPost("/admin/freeze", {{"Authorization", Bearer(writer_token())}}), 403,
                      "Forbidden"));
  EXPECT_TRUE(IsError(Post("/admin/freeze", "", {{"Authorization", Bearer(admin_token())}}), 404,
                      "NotFound"));

  HttpResponse frozen = AdminPost(
      "/admin/freeze", {{"Authorization", Bearer(admin_token())}, {"X-Corr-ID", "freeze-by-ops"}});
  ASSERT_TRUE(HasStatus(frozen, 200));
  EXPECT_EQ(frozen.body, R"({"frozen":true})");
  EXPECT_EQ(frozen.Header("cache-control"), "no-store");
  // Audited: a log line names the action and its corr id.
  EXPECT_TRUE(service()
                  .WaitForLine(
                      [](const std::string& l) {
                        return l.find("\"event\":\"audit\"") != std::string::npos &&
                               l.find("freeze\"") != std::string::npos &&
                               l.find("\"freeze-by-ops\"") != std::string::npos;
                      },
                      kIoTimeout)
                  .has_value())
      << service().Tail();

  json::Value payload = NextPayload();
  model::CanonicalPayload cp = registry::testing::MakeCanonical(payload);
  HttpResponse p = PostProposal(payload);
  EXPECT_TRUE(IsError(p, 503, "Frozen"));
  EXPECT_EQ(p.Header("cache-control"), "no-store");
  EXPECT_TRUE(IsError(PostApproval(cp.proposal_id, SignWith(0, cp.payload_b3)), 503, "Frozen"));
  EXPECT_TRUE(IsError(PostCommit(cp.proposal_id), 503, "Frozen"));
  // Reads stay up.
  EXPECT_TRUE(HasStatus(Get("/registry/head"), 200));
  EXPECT_TRUE(HasStatus(Get("/registry/1"), 200));
  EXPECT_TRUE(HasStatus(Get("/registry/proposals"), 200));
  SseStream stream(api_port(), "/registry/stream");
  EXPECT_TRUE(stream.ok()) << stream.response().Describe();
  stream.Close();
  // Freezing twice is harmless.
  EXPECT_TRUE(HasStatus(Freeze(true), 200));

  HttpResponse thawed = Freeze(false);
  ASSERT_TRUE(HasStatus(thawed, 200));
  EXPECT_EQ(thawed.body, R"({"frozen":false})");
  ASSERT_TRUE(CommitNext().ok);
  MetricsText m = FetchMetrics();
  EXPECT_EQ(m.Value("rejected_total", {{"reason", "frozen"}}), 3.0);
}

// internal_errors_total counts "genuine internal faults answered with HTTP 500" (its HELP
// text; SPEC §2.3). A write refused because the registry is frozen, and a degraded /readyz,
// are answers the contract asks for, not faults.
TEST_F(AdminPlaneTest, Frozen503AndDegradedReadyzAreNotInternalErrors) {
  ASSERT_NO_FATAL_FAILURE(StartService());
  allow_503_ = true;
  ASSERT_TRUE(HasStatus(Freeze(true), 200));
  EXPECT_TRUE(IsError(PostProposal(NextPayload()), 503, "Frozen"));
  EXPECT_TRUE(HasStatus(Get("/readyz"), 503));
  EXPECT_TRUE(HasStatus(AdminGet("/readyz"), 503));
  MetricsText m = FetchMetrics();
  EXPECT_EQ(m.Value("internal_errors_total"), 0.0);
  EXPECT_EQ(m.Value("rejected_total", {{"reason", "frozen"}}), 1.0);
}

TEST_F(AdminPlaneTest, MetricsOfSpecSection8FromStartUp) {
  ASSERT_NO_FATAL_FAILURE(StartService());
  MetricsText m = FetchMetrics();
  HttpResponse raw = AdminGet("/metrics");
  ASSERT_TRUE(HasStatus(raw, 200));
  EXPECT_TRUE(raw.Header("content-type").value_or("").starts_with("text/plain; version=0.0.4"))
      << raw.Header("content-type").value_or("<none>");

  const std::vector<std::pair<std::string, std::string>> families = {
      {"http_requests_total", "counter"},
      {"request_latency_seconds", "histogram"},
      {"inflight_requests", "gauge"},
      {"rejected_total", "counter"},
      {"bus_lagged_total", "counter"},
      {"registry_checkpoint_age_seconds", "gauge"},
      {"registry_head_version", "gauge"},
      {"registry_pending_proposals", "gauge"},
      {"registry_updates_total", "counter"},
      {"commit_latency_seconds", "histogram"},
      {"approval_verify_seconds", "histogram"},
      {"commit_cas_fail_total", "counter"},
      {"registry_audit_failures_total", "counter"},
      {"audit_chain_verify_seconds", "histogram"},
      {"registry_recoveries_total", "counter"},
      {"registry_storage_bytes", "gauge"},
      {"sse_clients", "gauge"},
      {"sse_fanout_seconds", "histogram"}};
  for (const auto& [name, type] : families) {
    SCOPED_TRACE(name);
    auto it = m.types.find(name);
    ASSERT_NE(it, m.types.end()) << "no # TYPE line";
    EXPECT_EQ(it->second, type);
    const std::string sample = type == "histogram" ? name + "_count" : name;
    EXPECT_FALSE(m.Named(sample).empty()) << "no sample " << sample << " at start-up";
  }
  // Labels the SPEC names.
  for (const MetricSample* s : m.Named("http_requests_total")) {
    EXPECT_TRUE(s->labels.count("route") && s->labels.count("method") && s->labels.count("status"));
  }
  for (const MetricSample* s : m.Named("request_latency_seconds_count")) {
    EXPECT_TRUE(s->labels.count("route") && s->labels.count("method"));
  }
  for (const MetricSample* s : m.Named("rejected_total")) EXPECT_TRUE(s->labels.count("reason"));
  for (const MetricSample* s : m.Named("registry_updates_total")) {
    EXPECT_TRUE(s->labels.count("result"));
  }
  for (const MetricSample* s : m.Named("registry_recoveries_total")) {
    EXPECT_TRUE(s->labels.count("kind"));
  }
  EXPECT_EQ(m.Value("bus_lagged_total", {{"consumer", "sse"}}), 0.0);
  EXPECT_EQ(m.Value("approval_verify_seconds_count", {{"algo", "ed25519"}}), 0.0);
  EXPECT_EQ(m.Value("registry_head_version"), 0.0);
  EXPECT_EQ(m.Value("registry_pending_proposals"), 0.0);
  EXPECT_EQ(m.Value("sse_clients"), 0.0);
  EXPECT_EQ(m.Value("registry_audit_failures_total"), 0.0);
  // Latency buckets from 0.5 ms to 5 s.
  std::set<std::string> les;
  for (const MetricSample* s : m.Named("request_latency_seconds_bucket")) {
    les.insert(s->labels.at("le"));
  }
  EXPECT_TRUE(les.count("0.0005")) << "no 0.5 ms bucket";
  EXPECT_TRUE(les.count("5")) << "no 5 s bucket";
  EXPECT_TRUE(les.count("+Inf"));
  ExpectPromtoolClean(m.body);
}

TEST_F(AdminPlaneTest, MetricsUseRouteTemplatesAndCountTraffic) {
  ASSERT_NO_FATAL_FAILURE(StartService());
  Committed c = CommitNext("metrics-corr");
  ASSERT_TRUE(c.ok);
  ASSERT_TRUE(HasStatus(Get("/registry/1"), 200));
  ASSERT_TRUE(HasStatus(Get("/registry/1", {{"Accept-Encoding", "gzip"}}), 200));
  ASSERT_TRUE(HasStatus(Get("/registry/proposals/" + c.proposal_id), 200));
  EXPECT_TRUE(IsError(Get("/registry/77"), 404, "NotFound"));
  EXPECT_TRUE(IsError(Get("/some/raw/path"), 404, "NotFound"));

  MetricsText m = FetchMetrics();
  const std::set<std::string> templates = {"/registry/head",
                                           "/registry/{version}",
                                           "/registry/stream",
                                           "/registry/proposals",
                                           "/registry/proposals/{id}",
                                           "/registry/approvals/{id}",
                                           "/registry/commit/{id}",
                                           "/registry/checkpoint",
                                           "/registry/proof/inclusion",
                                           "/registry/proof/consistency",
                                           "/healthz",
                                           "/readyz",
                                           "/version",
                                           "/metrics",
                                           "/admin/freeze",
                                           "/admin/thaw",
                                           "/admin/audit",
                                           "unmatched"};
  for (const MetricSample& s : m.samples) {
    for (const auto& [label, value] : s.labels) {
      if (label == "route") {
        EXPECT_TRUE(templates.count(value)) << s.name << " route=" << value;
      }
      EXPECT_EQ(value.find(c.proposal_id), std::string::npos) << s.name;
      EXPECT_EQ(value.find("b3:"), std::string::npos) << s.name;
      EXPECT_EQ(value.find("metrics-corr"), std::string::npos) << s.name;
      EXPECT_NE(value, "/registry/1") << s.name;
    }
  }
  EXPECT_EQ(m.Value("http_requests_total",
                    {{"route", "/registry/{version}"}, {"method", "GET"}, {"status", "200"}}),
            2.0);
  EXPECT_EQ(m.Value("http_requests_total",
                    {{"route", "/registry/{version}"}, {"method", "GET"}, {"status", "404"}}),
            1.0);
  EXPECT_EQ(m.Value("http_requests_total",
                    {{"route", "/registry/proposals"}, {"method", "POST"}, {"status", "202"}}),
            1.0);
  EXPECT_EQ(m.Value("http_requests_total",
                    {{"route", "/registry/commit/{id}"}, {"method", "POST"}, {"status", "201"}}),
            1.0);
  EXPECT_GE(m.Value("request_latency_seconds_count",
                    {{"route", "/registry/{version}"}, {"method", "GET"}})
                .value_or(0),
            3.0);
  EXPECT_EQ(m.Value("registry_head_version"), 1.0);
  EXPECT_EQ(m.Value("registry_updates_total", {{"result", "committed"}}), 1.0);
  EXPECT_EQ(m.Value("approval_verify_seconds_count", {{"algo", "ed25519"}}), 2.0);
  EXPECT_EQ(m.Value("commit_latency_seconds_count"), 1.0);
  ExpectPromtoolClean(m.body);
}

TEST_F(AdminPlaneTest, PromtoolIsAvailable) {
#ifndef PROMTOOL_PATH
  GTEST_SKIP() << "promtool not found at configure time (Debian package prometheus)";
#else
  ProcessResult r = RunProcess(PROMTOOL_PATH, {"--version"}, "");
  EXPECT_EQ(r.exit_code, 0) << r.err;
#endif
}

}  // namespace
}  // namespace registry::itest
