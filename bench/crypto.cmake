# crypto_bench: the registry's crypto wrappers against the raw libraries they wrap, so that a
# wrapper regression (an extra copy, a lost SIMD path) shows as a ratio, not a guess.
registry_bench(crypto_bench
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/crypto_bench.cc
  DEPS registry_crypto blake3 PkgConfig::SODIUM)
# The raw reference calls blake3_hasher_* directly; only this target and src/crypto see it.
target_include_directories(crypto_bench PRIVATE ${BLAKE3_C_DIR})
