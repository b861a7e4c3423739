# tlog_bench: the transparency log of issue 5 — proof generation at 1,000,000 leaves (goal
# p99 < 1 ms), the cost of one commit to the Merkle log, a cold load from SQLite, and
# checkpoint signing.
registry_bench(tlog_bench
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/tlog_bench.cc
  DEPS registry_core registry_tlog registry_storage)
