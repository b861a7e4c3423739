// RFC 8785's reference vectors: every input/X.json canonicalizes to exactly output/X.json,
// whose bytes are also spelled out in outhex/X.txt.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "registry/json/canonical.h"
#include "registry/json/parse.h"

namespace registry::json {
namespace {

namespace fs = std::filesystem;

const fs::path kJcsDir = fs::path(REGISTRY_VECTORS_DIR) / "jcs";

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> VectorNames() {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(kJcsDir / "input")) {
    if (entry.path().extension() == ".json") names.push_back(entry.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string HexToBytes(const std::string& text) {
  std::istringstream in(text);
  std::string token;
  std::string bytes;
  while (in >> token) bytes.push_back(static_cast<char>(std::stoi(token, nullptr, 16)));
  return bytes;
}

TEST(JcsVectorsTest, AllSixReferenceVectorsArePresent) {
  EXPECT_EQ(VectorNames(), (std::vector<std::string>{"arrays", "french", "structures", "unicode",
                                                     "values", "weird"}));
}

TEST(JcsVectorsTest, InputCanonicalizesToOutput) {
  for (const std::string& name : VectorNames()) {
    SCOPED_TRACE(name);
    const std::string input = ReadFile(kJcsDir / "input" / (name + ".json"));
    const std::string expected = ReadFile(kJcsDir / "output" / (name + ".json"));
    ASSERT_FALSE(expected.empty());
    auto parsed = Parse(input);
    ASSERT_TRUE(parsed.ok()) << parsed.error().message();
    EXPECT_EQ(Canonicalize(*parsed), expected);
  }
}

TEST(JcsVectorsTest, OutHexMatchesOutputBytes) {
  for (const std::string& name : VectorNames()) {
    SCOPED_TRACE(name);
    const std::string expected = ReadFile(kJcsDir / "output" / (name + ".json"));
    const std::string hex = ReadFile(kJcsDir / "outhex" / (name + ".txt"));
    ASSERT_FALSE(hex.empty());
    EXPECT_EQ(HexToBytes(hex), expected);
  }
}

TEST(JcsVectorsTest, OutputIsAFixedPoint) {
  for (const std::string& name : VectorNames()) {
    SCOPED_TRACE(name);
    const std::string expected = ReadFile(kJcsDir / "output" / (name + ".json"));
    auto parsed = Parse(expected);
    ASSERT_TRUE(parsed.ok()) << parsed.error().message();
    EXPECT_EQ(Canonicalize(*parsed), expected);
  }
}

}  // namespace
}  // namespace registry::json
