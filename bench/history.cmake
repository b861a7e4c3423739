# history_bench: the storage issue's 1,000 versions × 50,000 descriptors figures (store size,
# cold start). A plain program (no Google Benchmark loop): one history is built per run.
add_executable(history_bench ${CMAKE_CURRENT_SOURCE_DIR}/history_bench.cc)
target_compile_options(history_bench PRIVATE ${REGISTRY_WARNINGS})
target_include_directories(history_bench PRIVATE ${CMAKE_SOURCE_DIR}/tests)
target_link_libraries(history_bench PRIVATE registry_core registry_auth)
