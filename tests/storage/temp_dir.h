// TempDir: a fresh private directory (mode 0700, from mkdtemp) removed with everything in it
// when the object is destroyed. Tests only.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>

#include "registry/util/check.h"

namespace registry::storage::testing {

class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern =
        std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/registry-storage-XXXXXX";
    REGISTRY_CHECK(::mkdtemp(pattern.data()) != nullptr, "mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // A path inside the directory (not created).
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace registry::storage::testing
