# postgres_bench: the PostgreSQL store's commit latency (next to SQLite's, both syncing), and
# how long a commit made through one instance takes to reach another instance's subscriber
# (docs/SCALING.md has the figures and the command line). Starts its own throwaway cluster
# (tests/storage/postgres_cluster.h); run with REGISTRY_TEST_PG_FSYNC=1 for synced commits.
find_package(GTest REQUIRED)
pkg_check_modules(LIBPQ_BENCH REQUIRED IMPORTED_TARGET libpq)
registry_bench(postgres_bench
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/postgres_bench.cc
          ${CMAKE_SOURCE_DIR}/tests/storage/postgres_cluster.cc
  DEPS registry_storage PkgConfig::LIBPQ_BENCH GTest::gtest)
target_include_directories(postgres_bench PRIVATE ${CMAKE_SOURCE_DIR}/tests)
