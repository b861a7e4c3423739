# payload_bench: the proposal pipeline (parse, strict decode, canonicalize, hash) by size.
registry_bench(payload_bench SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/payload_bench.cc DEPS registry_model)
