// Route matching for both planes: maps a method and a raw path to a route template (the
// metrics label) and its one path parameter. Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "registry/metrics/labels.h"

namespace registry::api {

struct RouteMatch {
  metrics::Route route = metrics::Route::kUnmatched;
  std::string_view param;       // {version} or {id}, raw (not percent-decoded)
  bool method_allowed = false;  // false with a known route: 405
  std::string_view allow;       // the Allow header value for the route
};

enum class Plane { kApi, kAdmin };

// Matches `path` (no query string). The API plane also serves /healthz, /readyz and
// /version; the admin plane serves /metrics and /admin/*. Paths are matched exactly: no
// trailing slash, no percent-decoding, no dot segments.
RouteMatch MatchRoute(Plane plane, std::string_view method, std::string_view path);

}  // namespace registry::api
