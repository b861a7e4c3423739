#include "registry/metrics/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "registry/metrics/labels.h"

namespace registry::metrics {
namespace {

using ::testing::HasSubstr;

// The value of the sample whose name-and-labels part is exactly `series`, or nullopt.
std::optional<double> Sample(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 &&
        line[series.size()] == ' ') {
      return std::stod(line.substr(series.size() + 1));
    }
  }
  return std::nullopt;
}

std::string Requests(std::string_view route, std::string_view method, int status) {
  return "http_requests_total{method=\"" + std::string(method) + "\",route=\"" +
         std::string(route) + "\",status=\"" + std::to_string(status) + "\"}";
}

std::string LatencyCount(std::string_view route, std::string_view method) {
  return "request_latency_seconds_count{method=\"" + std::string(method) + "\",route=\"" +
         std::string(route) + "\"}";
}

std::string LatencyBucket(std::string_view route, std::string_view method, std::string_view le) {
  return "request_latency_seconds_bucket{method=\"" + std::string(method) + "\",route=\"" +
         std::string(route) + "\",le=\"" + std::string(le) + "\"}";
}

TEST(MetricsTest, EveryFamilyHasItsTypeAtStartUp) {
  const Metrics metrics;
  const std::string text = metrics.Serialize();
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
      {"sse_fanout_seconds", "histogram"},
      {"internal_errors_total", "counter"},
      {"http_connections", "gauge"},
  };
  for (const auto& [name, type] : families) {
    EXPECT_THAT(text, HasSubstr("\n# TYPE " + name + " " + type + "\n")) << name;
    EXPECT_THAT(text, HasSubstr("# HELP " + name + " ")) << name;
  }

  // Unlabelled series exist with value 0.
  for (const char* series :
       {"inflight_requests", "registry_checkpoint_age_seconds", "registry_head_version",
        "registry_pending_proposals", "commit_cas_fail_total", "registry_audit_failures_total",
        "registry_storage_bytes", "sse_clients", "internal_errors_total", "http_connections",
        "commit_latency_seconds_count", "audit_chain_verify_seconds_count",
        "sse_fanout_seconds_count"}) {
    EXPECT_EQ(Sample(text, series), 0.0) << series;
  }
}

TEST(MetricsTest, PreCreatedLabelsAtStartUp) {
  const Metrics metrics;
  const std::string text = metrics.Serialize();

  for (const char* reason :
       {"inflight", "rps", "max_conns", "body_too_large", "header_too_large", "bad_request",
        "read_timeout", "content_encoding", "sse_max_clients", "pending_cap", "unauthorized",
        "forbidden", "malformed", "frozen", "not_ready"}) {
    EXPECT_EQ(Sample(text, std::string("rejected_total{reason=\"") + reason + "\"}"), 0.0)
        << reason;
  }
  EXPECT_EQ(Sample(text, "bus_lagged_total{consumer=\"sse\"}"), 0.0);
  for (const char* result : {"committed", "rejected", "cas_fail"}) {
    EXPECT_EQ(Sample(text, std::string("registry_updates_total{result=\"") + result + "\"}"), 0.0);
  }
  for (const char* kind : {"clean", "crash", "checkpoint"}) {
    EXPECT_EQ(Sample(text, std::string("registry_recoveries_total{kind=\"") + kind + "\"}"), 0.0);
  }
  EXPECT_EQ(Sample(text, "approval_verify_seconds_count{algo=\"ed25519\"}"), 0.0);
  EXPECT_EQ(Sample(text, "approval_verify_seconds_bucket{algo=\"ed25519\",le=\"1e-05\"}"), 0.0);

  // Every route appears, with its main method(s).
  const std::vector<std::pair<std::string, std::string>> routes = {
      {"/registry/head", "GET"},
      {"/registry/{version}", "GET"},
      {"/registry/stream", "GET"},
      {"/registry/proposals", "GET"},
      {"/registry/proposals", "POST"},
      {"/registry/proposals/{id}", "GET"},
      {"/registry/approvals/{id}", "POST"},
      {"/registry/commit/{id}", "POST"},
      {"/registry/checkpoint", "GET"},
      {"/registry/proof/inclusion", "GET"},
      {"/registry/proof/consistency", "GET"},
      {"/healthz", "GET"},
      {"/readyz", "GET"},
      {"/version", "GET"},
      {"/metrics", "GET"},
      {"/admin/freeze", "POST"},
      {"/admin/thaw", "POST"},
      {"/admin/audit", "GET"},
  };
  for (const auto& [route, method] : routes) {
    EXPECT_EQ(Sample(text, Requests(route, method, 200)), 0.0) << route << " " << method;
    EXPECT_EQ(Sample(text, LatencyCount(route, method)), 0.0) << route << " " << method;
  }
  EXPECT_EQ(Sample(text, Requests("unmatched", "GET", 404)), 0.0);
  EXPECT_EQ(Sample(text, LatencyCount("unmatched", "GET")), 0.0);
}

TEST(MetricsTest, LatencyBucketsSpanHalfAMillisecondToFiveSeconds) {
  const Metrics metrics;
  const std::string text = metrics.Serialize();
  for (const char* le : {"0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1",
                         "0.25", "0.5", "1", "2.5", "5", "+Inf"}) {
    EXPECT_EQ(Sample(text, LatencyBucket("/registry/head", "GET", le)), 0.0) << le;
  }
}

TEST(MetricsTest, ObserveRequestIncrementsTheRightSeries) {
  Metrics metrics;
  metrics.ObserveRequest(Route::kRegistryHead, Method::kGet, 200, 0.0007);
  metrics.ObserveRequest(Route::kRegistryHead, Method::kGet, 200, 0.2);
  metrics.ObserveRequest(Route::kRegistryHead, Method::kGet, 304, 0.0001);
  metrics.ObserveRequest(Route::kRegistryCommit, Method::kPost, 201, 0.3);
  metrics.ObserveRequest(Route::kRegistryVersion, Method::kGet, 418, 0.01);  // rare status
  metrics.ObserveRequest(Route::kRegistryVersion, Method::kGet, 418, 0.01);
  metrics.ObserveRequest(Route::kUnmatched, Method::kOther, 405, -1.0);  // clock went back
  const std::string text = metrics.Serialize();

  EXPECT_EQ(Sample(text, Requests("/registry/head", "GET", 200)), 2.0);
  EXPECT_EQ(Sample(text, Requests("/registry/head", "GET", 304)), 1.0);
  EXPECT_EQ(Sample(text, Requests("/registry/commit/{id}", "POST", 201)), 1.0);
  EXPECT_EQ(Sample(text, Requests("/registry/commit/{id}", "POST", 200)), 0.0);
  EXPECT_EQ(Sample(text, Requests("/registry/{version}", "GET", 418)), 2.0);
  EXPECT_EQ(Sample(text, Requests("unmatched", "other", 405)), 1.0);
  EXPECT_EQ(Sample(text, Requests("/healthz", "GET", 200)), 0.0);

  EXPECT_EQ(Sample(text, LatencyCount("/registry/head", "GET")), 3.0);
  EXPECT_EQ(Sample(text, LatencyBucket("/registry/head", "GET", "0.0005")), 1.0);
  EXPECT_EQ(Sample(text, LatencyBucket("/registry/head", "GET", "0.001")), 2.0);
  EXPECT_EQ(Sample(text, LatencyBucket("/registry/head", "GET", "0.1")), 2.0);
  EXPECT_EQ(Sample(text, LatencyBucket("/registry/head", "GET", "0.25")), 3.0);
  EXPECT_EQ(Sample(text, LatencyCount("/registry/commit/{id}", "POST")), 1.0);
  EXPECT_EQ(Sample(text, LatencyCount("/registry/{version}", "GET")), 2.0);
  EXPECT_EQ(Sample(text, LatencyCount("unmatched", "other")), 1.0);
  EXPECT_EQ(Sample(text, "request_latency_seconds_sum{method=\"other\",route=\"unmatched\"}"), 0.0);
}

TEST(MetricsTest, RouteLabelsAreAlwaysTemplates) {
  Metrics metrics;
  for (std::size_t r = 0; r < kRouteCount; ++r) {
    for (std::size_t m = 0; m < kMethodCount; ++m) {
      for (int status : {200, 404, 499, 500, 599}) {
        metrics.ObserveRequest(static_cast<Route>(r), static_cast<Method>(m), status, 0.001);
      }
    }
  }
  const std::string text = metrics.Serialize();
  std::set<std::string> templates;
  for (std::size_t r = 0; r < kRouteCount; ++r) {
    templates.emplace(RouteLabel(static_cast<Route>(r)));
  }
  const std::regex route_label("route=\"([^\"]*)\"");
  std::size_t seen = 0;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), route_label);
       it != std::sregex_iterator(); ++it, ++seen) {
    EXPECT_TRUE(templates.contains((*it)[1].str())) << (*it)[1].str();
  }
  EXPECT_GT(seen, kRouteCount * kMethodCount * 5);
}

TEST(MetricsTest, GaugesCountersAndHistograms) {
  Metrics metrics;
  metrics.AddInflightRequests(3);
  metrics.AddInflightRequests(-1);
  metrics.CountRejected(RejectReason::kRps);
  metrics.CountRejected(RejectReason::kRps);
  metrics.CountRejected(RejectReason::kFrozen);
  metrics.CountBusLagged(BusConsumer::kSse, 5);
  metrics.SetCheckpointAgeSeconds(12.5);
  metrics.SetHeadVersion(42);
  metrics.SetPendingProposals(7);
  metrics.CountUpdate(UpdateResult::kCommitted);
  metrics.CountUpdate(UpdateResult::kCasFail);
  metrics.ObserveCommitLatency(0.3);
  metrics.ObserveApprovalVerify(SigAlgo::kEd25519, 0.00004);
  metrics.CountCommitCasFail();
  metrics.CountAuditFailure();
  metrics.ObserveAuditChainVerify(2.0);
  metrics.CountRecovery(RecoveryKind::kCrash);
  metrics.SetStorageBytes(1 << 20);
  metrics.AddSseClients(2);
  metrics.ObserveSseFanout(0.003);
  metrics.CountInternalError();
  metrics.AddHttpConnections(4);
  metrics.AddHttpConnections(-4);
  const std::string text = metrics.Serialize();

  EXPECT_EQ(Sample(text, "inflight_requests"), 2.0);
  EXPECT_EQ(Sample(text, "rejected_total{reason=\"rps\"}"), 2.0);
  EXPECT_EQ(Sample(text, "rejected_total{reason=\"frozen\"}"), 1.0);
  EXPECT_EQ(Sample(text, "rejected_total{reason=\"inflight\"}"), 0.0);
  EXPECT_EQ(Sample(text, "bus_lagged_total{consumer=\"sse\"}"), 5.0);
  EXPECT_EQ(Sample(text, "registry_checkpoint_age_seconds"), 12.5);
  EXPECT_EQ(Sample(text, "registry_head_version"), 42.0);
  EXPECT_EQ(Sample(text, "registry_pending_proposals"), 7.0);
  EXPECT_EQ(Sample(text, "registry_updates_total{result=\"committed\"}"), 1.0);
  EXPECT_EQ(Sample(text, "registry_updates_total{result=\"cas_fail\"}"), 1.0);
  EXPECT_EQ(Sample(text, "registry_updates_total{result=\"rejected\"}"), 0.0);
  EXPECT_EQ(Sample(text, "commit_latency_seconds_count"), 1.0);
  EXPECT_EQ(Sample(text, "commit_latency_seconds_bucket{le=\"0.25\"}"), 0.0);
  EXPECT_EQ(Sample(text, "commit_latency_seconds_bucket{le=\"0.5\"}"), 1.0);
  EXPECT_EQ(Sample(text, "approval_verify_seconds_bucket{algo=\"ed25519\",le=\"2.5e-05\"}"), 0.0);
  EXPECT_EQ(Sample(text, "approval_verify_seconds_bucket{algo=\"ed25519\",le=\"5e-05\"}"), 1.0);
  EXPECT_EQ(Sample(text, "commit_cas_fail_total"), 1.0);
  EXPECT_EQ(Sample(text, "registry_audit_failures_total"), 1.0);
  EXPECT_EQ(Sample(text, "audit_chain_verify_seconds_count"), 1.0);
  EXPECT_EQ(Sample(text, "audit_chain_verify_seconds_sum"), 2.0);
  EXPECT_EQ(Sample(text, "registry_recoveries_total{kind=\"crash\"}"), 1.0);
  EXPECT_EQ(Sample(text, "registry_recoveries_total{kind=\"clean\"}"), 0.0);
  EXPECT_EQ(Sample(text, "registry_storage_bytes"), 1048576.0);
  EXPECT_EQ(Sample(text, "sse_clients"), 2.0);
  EXPECT_EQ(Sample(text, "sse_fanout_seconds_count"), 1.0);
  EXPECT_EQ(Sample(text, "sse_fanout_seconds_bucket{le=\"0.0025\"}"), 0.0);
  EXPECT_EQ(Sample(text, "sse_fanout_seconds_bucket{le=\"0.005\"}"), 1.0);
  EXPECT_EQ(Sample(text, "internal_errors_total"), 1.0);
  EXPECT_EQ(Sample(text, "http_connections"), 0.0);
}

TEST(MetricsTest, InstancesAreIndependent) {
  Metrics a;
  Metrics b;
  a.ObserveRequest(Route::kReadyz, Method::kGet, 200, 0.001);
  EXPECT_EQ(Sample(a.Serialize(), Requests("/readyz", "GET", 200)), 1.0);
  EXPECT_EQ(Sample(b.Serialize(), Requests("/readyz", "GET", 200)), 0.0);
}

TEST(MetricsTest, ConcurrentObservationsAreAllCounted) {
  Metrics metrics;
  constexpr int kThreads = 4;
  constexpr int kPerThread = 2000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&metrics] {
      for (int i = 0; i < kPerThread; ++i) {
        // 202 and 507 are not pre-created: the threads race to resolve them.
        metrics.ObserveRequest(Route::kRegistryProposals, Method::kPost, 202, 0.002);
        metrics.ObserveRequest(Route::kRegistryProposals, Method::kPost, 507, 0.002);
        metrics.AddInflightRequests(1);
        metrics.AddInflightRequests(-1);
      }
    });
  }
  for (std::thread& th : threads) th.join();
  const std::string text = metrics.Serialize();
  EXPECT_EQ(Sample(text, Requests("/registry/proposals", "POST", 202)), kThreads * kPerThread);
  EXPECT_EQ(Sample(text, Requests("/registry/proposals", "POST", 507)), kThreads * kPerThread);
  EXPECT_EQ(Sample(text, LatencyCount("/registry/proposals", "POST")), 2.0 * kThreads * kPerThread);
  EXPECT_EQ(Sample(text, "inflight_requests"), 0.0);
}

TEST(MetricsTest, PromtoolAcceptsTheExposition) {
  const char* promtool = "/usr/bin/promtool";
  if (::access(promtool, X_OK) != 0) GTEST_SKIP() << "promtool not installed";

  Metrics metrics;
  metrics.ObserveRequest(Route::kRegistryHead, Method::kGet, 200, 0.001);
  metrics.ObserveRequest(Route::kUnmatched, Method::kOther, 418, 0.001);
  metrics.CountRejected(RejectReason::kInflight);

  std::string dir_template = ::testing::TempDir() + "/metrics_test.XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template.data()), nullptr);
  const std::string input = dir_template + "/metrics.txt";
  const std::string output = dir_template + "/promtool.out";
  std::ofstream(input) << metrics.Serialize();

  const std::string command =
      std::string(promtool) + " check metrics < " + input + " > " + output + " 2>&1";
  const int status = std::system(command.c_str());
  std::ifstream out_file(output);
  const std::string lint((std::istreambuf_iterator<char>(out_file)), {});
  ::unlink(input.c_str());
  ::unlink(output.c_str());
  ::rmdir(dir_template.c_str());

  ASSERT_TRUE(WIFEXITED(status)) << command;
  EXPECT_EQ(WEXITSTATUS(status), 0) << lint;
  EXPECT_EQ(lint, "");
}

}  // namespace
}  // namespace registry::metrics
