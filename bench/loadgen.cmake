# loadgen: the load generator of scripts/perf.sh (full write cycles with real signatures, SSE
# subscribers, fixed-rate reads, cold start). docs/PERFORMANCE.md describes its commands.
add_executable(loadgen ${CMAKE_CURRENT_SOURCE_DIR}/loadgen/loadgen.cc)
target_compile_options(loadgen PRIVATE ${REGISTRY_WARNINGS})
target_link_libraries(loadgen PRIVATE registry_http registry_model registry_crypto Threads::Threads)
