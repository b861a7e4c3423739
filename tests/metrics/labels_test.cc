#include "registry/metrics/labels.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>

namespace registry::metrics {
namespace {

// Only enum values can name a route: no string (a raw request path) converts to one.
static_assert(!std::is_convertible_v<std::string_view, Route>);
static_assert(!std::is_convertible_v<const char*, Route>);
static_assert(!std::is_convertible_v<std::string, Route>);
static_assert(!std::is_convertible_v<std::string_view, Method>);

TEST(LabelsTest, RouteTemplatesAreTheFixedSet) {
  const std::set<std::string_view> expected = {"/registry/head",
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
  std::set<std::string_view> seen;
  for (std::size_t i = 0; i < kRouteCount; ++i) {
    const auto route = static_cast<Route>(i);
    const std::string_view label = RouteLabel(route);
    seen.insert(label);
    EXPECT_EQ(RouteFromTemplate(label), route) << label;
  }
  EXPECT_EQ(seen, expected);
}

TEST(LabelsTest, RawPathsAreNotTemplates) {
  EXPECT_FALSE(RouteFromTemplate("/registry/42").has_value());
  EXPECT_FALSE(RouteFromTemplate("/registry/proposals/01J9ZB4G6Q").has_value());
  EXPECT_FALSE(RouteFromTemplate("/registry/head?x=1").has_value());
  EXPECT_FALSE(RouteFromTemplate("").has_value());
}

TEST(LabelsTest, Methods) {
  EXPECT_EQ(MethodFromString("GET"), Method::kGet);
  EXPECT_EQ(MethodFromString("POST"), Method::kPost);
  EXPECT_EQ(MethodFromString("get"), Method::kOther);
  EXPECT_EQ(MethodFromString("DELETE"), Method::kOther);
  EXPECT_EQ(MethodFromString(""), Method::kOther);
  EXPECT_EQ(MethodLabel(Method::kGet), "GET");
  EXPECT_EQ(MethodLabel(Method::kPost), "POST");
  EXPECT_EQ(MethodLabel(Method::kOther), "other");
}

TEST(LabelsTest, OtherLabelValues) {
  EXPECT_EQ(RejectReasonLabel(RejectReason::kBodyTooLarge), "body_too_large");
  EXPECT_EQ(RejectReasonLabel(RejectReason::kNotReady), "not_ready");
  EXPECT_EQ(UpdateResultLabel(UpdateResult::kCasFail), "cas_fail");
  EXPECT_EQ(RecoveryKindLabel(RecoveryKind::kCheckpoint), "checkpoint");
  EXPECT_EQ(BusConsumerLabel(BusConsumer::kSse), "sse");
  EXPECT_EQ(SigAlgoLabel(SigAlgo::kEd25519), "ed25519");
}

}  // namespace
}  // namespace registry::metrics
