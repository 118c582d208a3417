# Provides the imported target wasmtime::wasmtime (static C API + headers).
# Without STRATA_WASMTIME_ROOT, scripts/build-wasmtime.sh builds the pinned
# version once with cargo and caches it outside the build tree.
if(NOT STRATA_WASMTIME_ROOT)
  message(STATUS "Locating the cached wasmtime C API (builds it on first use)")
  execute_process(
    COMMAND bash "${PROJECT_SOURCE_DIR}/scripts/build-wasmtime.sh"
    OUTPUT_VARIABLE _wasmtime_root
    OUTPUT_STRIP_TRAILING_WHITESPACE
    RESULT_VARIABLE _wasmtime_result)
  if(NOT _wasmtime_result EQUAL 0)
    message(FATAL_ERROR "Building the wasmtime C API failed; see above")
  endif()
  set(STRATA_WASMTIME_ROOT "${_wasmtime_root}" CACHE PATH "" FORCE)
endif()

find_path(WASMTIME_INCLUDE_DIR wasmtime.hh
          PATHS "${STRATA_WASMTIME_ROOT}/include" NO_DEFAULT_PATH REQUIRED)
find_library(WASMTIME_LIBRARY NAMES libwasmtime.a wasmtime
             PATHS "${STRATA_WASMTIME_ROOT}/lib" NO_DEFAULT_PATH REQUIRED)
message(STATUS "wasmtime C API: ${STRATA_WASMTIME_ROOT}")

find_package(Threads REQUIRED)
add_library(wasmtime::wasmtime STATIC IMPORTED GLOBAL)
set_target_properties(wasmtime::wasmtime PROPERTIES
  IMPORTED_LOCATION "${WASMTIME_LIBRARY}"
  INTERFACE_INCLUDE_DIRECTORIES "${WASMTIME_INCLUDE_DIR}"
  INTERFACE_LINK_LIBRARIES "Threads::Threads;dl;m")
