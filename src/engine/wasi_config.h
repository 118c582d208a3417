// Turns strata's WASI grants into a wasmtime WASI configuration (C API
// wasi.h, for what the C++ wrapper does not check).
#ifndef STRATA_ENGINE_WASI_CONFIG_H_
#define STRATA_ENGINE_WASI_CONFIG_H_

#include <filesystem>
#include <string>
#include <wasmtime.hh>

#include "strata/status.h"
#include "strata/wasi.h"

namespace strata {

// Validates `caps` and adds them to `config`: argv (`module` as argv[0],
// then caps.args), the resolved environment and the preopened directories.
// Errors name the module and the grant that failed.
Status ApplyCapabilities(const std::string& module,
                         const WasiCapabilities& caps,
                         wasmtime::WasiConfig& config);

// Stdin from `bytes`, or streamed from `file` when it is set (then `bytes`
// must be empty).
Status ApplyStdin(const std::string& module, const Bytes& bytes,
                  const std::filesystem::path& file,
                  wasmtime::WasiConfig& config);

}  // namespace strata

#endif  // STRATA_ENGINE_WASI_CONFIG_H_
