# verify_bench: ChainVerifier throughput (what registryctl verify spends per version).
add_executable(verify_bench ${CMAKE_CURRENT_SOURCE_DIR}/verify_bench.cc)
target_compile_options(verify_bench PRIVATE ${REGISTRY_WARNINGS})
target_include_directories(verify_bench PRIVATE ${CMAKE_SOURCE_DIR}/tests)
target_link_libraries(verify_bench PRIVATE registry_core)
