# perf_micro_bench: the micro-benchmarks of the performance issue (canonicalize+hash slope,
# approval verify against raw libsodium, HEAD advance per backend, SSE fan-out, Merkle append).
# scripts/perf.sh runs it with --benchmark_format=json into the report.
registry_bench(perf_micro_bench
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/perf_micro_bench.cc
  DEPS registry_bus registry_core registry_storage registry_model PkgConfig::SODIUM)
