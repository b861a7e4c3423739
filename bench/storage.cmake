# storage_bench: the SQLite store's write throughput (fsync and group commit on/off), read
# latency of a 50,000-descriptor registry, and how the store grows with history
# (docs/STORAGE.md has the figures and the command lines).
registry_bench(storage_bench
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/storage_bench.cc
  DEPS registry_storage)
