# BLAKE3 from the C sources that Debian's librust-blake3-dev installs, with the x86-64
# SIMD assembly (SSE2, SSE4.1, AVX2, AVX-512) selected at run time by blake3_dispatch.c.
#
# Defines the static library target `blake3` and the variable BLAKE3_C_DIR (the directory
# holding blake3.h; only src/crypto and the crypto benchmark add it to their include path).
# -DBLAKE3_C_DIR=<dir> overrides the search.
set(BLAKE3_C_DIR "" CACHE PATH "Directory with the BLAKE3 C sources (blake3.c, blake3.h)")
if(NOT BLAKE3_C_DIR)
  file(GLOB _blake3_dirs LIST_DIRECTORIES true "/usr/share/cargo/registry/blake3-*/c")
  if(_blake3_dirs)
    # Newest version first; NATURAL so that 1.10 sorts above 1.9.
    list(SORT _blake3_dirs COMPARE NATURAL ORDER DESCENDING)
    list(GET _blake3_dirs 0 _blake3_dir)
    # A plain variable (shadowing the empty cache entry), so that a package upgrade is
    # picked up by the next configure.
    set(BLAKE3_C_DIR "${_blake3_dir}")
  endif()
endif()
if(NOT BLAKE3_C_DIR OR NOT EXISTS "${BLAKE3_C_DIR}/blake3.c")
  message(FATAL_ERROR
    "BLAKE3 C sources not found under /usr/share/cargo/registry/blake3-*/c. "
    "Install the Debian package librust-blake3-dev (scripts/setup.sh does), "
    "or pass -DBLAKE3_C_DIR=<dir>.")
endif()
message(STATUS "BLAKE3 C sources: ${BLAKE3_C_DIR}")

set(_b3_sources
  ${BLAKE3_C_DIR}/blake3.c
  ${BLAKE3_C_DIR}/blake3_dispatch.c
  ${BLAKE3_C_DIR}/blake3_portable.c)
set(_b3_defs "")
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$" AND NOT WIN32)
  # The Unix (System V ABI) assembly; blake3_dispatch.c picks the widest set the CPU and OS
  # support (cpuid + xgetbv) on first use.
  list(APPEND _b3_sources
    ${BLAKE3_C_DIR}/blake3_sse2_x86-64_unix.S
    ${BLAKE3_C_DIR}/blake3_sse41_x86-64_unix.S
    ${BLAKE3_C_DIR}/blake3_avx2_x86-64_unix.S
    ${BLAKE3_C_DIR}/blake3_avx512_x86-64_unix.S)
  set_source_files_properties(
    ${BLAKE3_C_DIR}/blake3_sse2_x86-64_unix.S
    ${BLAKE3_C_DIR}/blake3_sse41_x86-64_unix.S
    ${BLAKE3_C_DIR}/blake3_avx2_x86-64_unix.S
    ${BLAKE3_C_DIR}/blake3_avx512_x86-64_unix.S
    PROPERTIES LANGUAGE ASM)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64|ARM64)$")
  # blake3_impl.h turns NEON on by itself for AArch64, so its source must be linked.
  list(APPEND _b3_sources ${BLAKE3_C_DIR}/blake3_neon.c)
  set(_b3_defs BLAKE3_USE_NEON=1)
else()
  # Portable C only. On 32-bit x86 the dispatcher would otherwise call the x86 back ends.
  set(_b3_defs BLAKE3_NO_SSE2 BLAKE3_NO_SSE41 BLAKE3_NO_AVX2 BLAKE3_NO_AVX512)
endif()
add_library(blake3 STATIC ${_b3_sources})
target_compile_definitions(blake3 PRIVATE ${_b3_defs})
# Only the crypto module includes blake3.h; the include path stays private to it.
set_target_properties(blake3 PROPERTIES POSITION_INDEPENDENT_CODE ON)
