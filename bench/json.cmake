registry_bench(json_bench SOURCES json_bench.cc DEPS registry_json)
# simdjson directly, for the "raw DOM parse" baseline the other figures compare against.
target_link_libraries(json_bench PRIVATE simdjson::simdjson)
# parse_internal.h (StrictParse, the reference parser) is private to src/json.
target_include_directories(json_bench PRIVATE ${CMAKE_SOURCE_DIR}/src/json)
