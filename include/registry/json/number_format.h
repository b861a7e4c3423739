// ECMAScript Number.prototype.toString(10) for doubles: the shortest decimal that
// round-trips, laid out as ES2019 §7.1.12.1 specifies ("1e+21", "1.5e-7", "0.000001",
// "-0" printed as "0"). Used by the JCS serializer. Pure; thread-safe.
#pragma once

#include <string>

namespace registry::json {

// Appends the ES6 form of `d`. REQUIRES: `d` is finite.
void AppendEs6Number(double d, std::string& out);

std::string FormatEs6Number(double d);

}  // namespace registry::json
