// Loads the golden vectors under tests/vectors (copied from ../shared/vectors so a clone
// stands alone). Tests only.
#pragma once

#include <fstream>
#include <sstream>
#include <string>

#include "registry/json/parse.h"
#include "registry/json/value.h"
#include "registry/util/check.h"

namespace registry::testing {

inline std::string ReadFileOrDie(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REGISTRY_CHECK(in.good(), "cannot open test vector file");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::string VectorPath(const std::string& relative) {
  return std::string(REGISTRY_VECTORS_DIR) + "/" + relative;
}

inline json::Value LoadJsonVector(const std::string& relative) {
  util::Result<json::Value> v = json::Parse(ReadFileOrDie(VectorPath(relative)));
  REGISTRY_CHECK(v.ok(), "test vector does not parse");
  return std::move(v).value();
}

}  // namespace registry::testing
