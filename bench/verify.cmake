# verify_bench: `registryctl verify` throughput over 10,000 versions x 3 signatures — the
# single-threaded ChainVerifier, CheckLog (the verify path) on 1 thread and on every core, in
# memory and over a fetch archive, against a raw-libsodium reference (see verify_bench.cc). It
# compiles the registryctl sources that need no CLI or HTTP.
registry_bench(verify_bench
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/verify_bench.cc
          ${CMAKE_SOURCE_DIR}/apps/registryctl/archive.cc
          ${CMAKE_SOURCE_DIR}/apps/registryctl/dir_log_source.cc
          ${CMAKE_SOURCE_DIR}/apps/registryctl/log_check.cc
  DEPS registry_core registry_tlog registry_storage PkgConfig::SODIUM)
target_include_directories(verify_bench PRIVATE
  ${CMAKE_SOURCE_DIR}/tests ${CMAKE_SOURCE_DIR}/apps/registryctl)
