# Provides the imported target wasmtime::wasmtime (static C API + headers).
# Without STRATA_WASMTIME_ROOT, scripts/build-wasmtime.sh builds the pinned
# crate (with strata's additions) once with cargo and caches it outside the
# build tree; configuring again after the crate changes picks up the new
# build.
if(STRATA_WASMTIME_ROOT)
  set(_wasmtime_root "${STRATA_WASMTIME_ROOT}")
else()
  message(STATUS "Locating the cached wasmtime C API (builds it on first use)")
  execute_process(
    COMMAND bash "${PROJECT_SOURCE_DIR}/scripts/build-wasmtime.sh"
    OUTPUT_VARIABLE _wasmtime_root
    OUTPUT_STRIP_TRAILING_WHITESPACE
    RESULT_VARIABLE _wasmtime_result)
  if(NOT _wasmtime_result EQUAL 0)
    message(FATAL_ERROR "Building the wasmtime C API failed; see above")
  endif()
  file(GLOB _wasmtime_crate CONFIGURE_DEPENDS
       "${PROJECT_SOURCE_DIR}/third_party/wasmtime-c-api/Cargo.*"
       "${PROJECT_SOURCE_DIR}/third_party/wasmtime-c-api/src/*.rs"
       "${PROJECT_SOURCE_DIR}/third_party/wasmtime-c-api/include/*.h")
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${_wasmtime_crate})
endif()

find_path(WASMTIME_INCLUDE_DIR wasmtime.hh NO_CACHE
          PATHS "${_wasmtime_root}/include" NO_DEFAULT_PATH REQUIRED)
find_library(WASMTIME_LIBRARY NAMES libwasmtime.a wasmtime NO_CACHE
             PATHS "${_wasmtime_root}/lib" NO_DEFAULT_PATH REQUIRED)
message(STATUS "wasmtime C API: ${_wasmtime_root}")

find_package(Threads REQUIRED)
add_library(wasmtime::wasmtime STATIC IMPORTED GLOBAL)
set_target_properties(wasmtime::wasmtime PROPERTIES
  IMPORTED_LOCATION "${WASMTIME_LIBRARY}"
  INTERFACE_INCLUDE_DIRECTORIES "${WASMTIME_INCLUDE_DIR}"
  INTERFACE_LINK_LIBRARIES "Threads::Threads;dl;m")
