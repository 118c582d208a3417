#include "engine/wasi_config.h"

#include <system_error>
#include <vector>

namespace strata {
namespace {

std::vector<const char*> CStrings(const std::vector<std::string>& strings) {
  std::vector<const char*> pointers;
  pointers.reserve(strings.size());
  for (const auto& s : strings) pointers.push_back(s.c_str());
  return pointers;
}

}  // namespace

Status ApplyCapabilities(const std::string& module,
                         const WasiCapabilities& caps,
                         wasmtime::WasiConfig& config) {
  if (Status valid = ValidateCapabilities(module, caps); !valid.ok()) {
    return valid;
  }
  const std::string who = "module '" + module + "'";
  std::vector<std::string> argv{module};
  argv.insert(argv.end(), caps.args.begin(), caps.args.end());
  auto argv_ptrs = CStrings(argv);
  if (!wasi_config_set_argv(config.capi(), argv_ptrs.size(),
                            argv_ptrs.data())) {
    return Status(ErrorCode::kInvalidArgument,
                  who + ": an argument is not valid UTF-8");
  }

  std::vector<std::string> names, values;
  for (auto& [name, value] : ResolveEnv(caps)) {
    names.push_back(std::move(name));
    values.push_back(std::move(value));
  }
  auto name_ptrs = CStrings(names);
  auto value_ptrs = CStrings(values);
  // An empty environment is the default; skipping the call also keeps null
  // array pointers away from the C API.
  if (!names.empty() &&
      !wasi_config_set_env(config.capi(), names.size(), name_ptrs.data(),
                           value_ptrs.data())) {
    return Status(ErrorCode::kInvalidArgument,
                  who + ": an environment variable is not valid UTF-8");
  }

  for (const auto& dir : caps.dirs) {
    // wasmtime opens the directory now and confines every guest path
    // lookup to it (cap-std): `..`, absolute paths and symlinks that
    // resolve outside fail in the guest.
    if (!wasi_config_preopen_dir(config.capi(), dir.host.c_str(),
                                 dir.guest.c_str(), dir.writable)) {
      return Status(ErrorCode::kIo, who + ": cannot preopen host directory '" +
                                        dir.host.string() + "' as '" +
                                        dir.guest + "'");
    }
  }
  return OkStatus();
}

Status ApplyStdin(const std::string& module, const Bytes& bytes,
                  const std::filesystem::path& file,
                  wasmtime::WasiConfig& config) {
  const std::string who = "module '" + module + "'";
  if (!file.empty()) {
    if (!bytes.empty()) {
      return Status(ErrorCode::kInvalidArgument,
                    who + ": stdin is given both as " +
                        std::to_string(bytes.size()) + " bytes and as file '" +
                        file.string() + "'; give one");
    }
    std::error_code ec;
    if (std::filesystem::is_directory(file, ec)) {
      return Status(
          ErrorCode::kInvalidArgument,
          who + ": stdin file '" + file.string() + "' is a directory");
    }
    if (!wasi_config_set_stdin_file(config.capi(), file.c_str())) {
      return Status(ErrorCode::kNotFound,
                    who + ": cannot open stdin file '" + file.string() + "'");
    }
    return OkStatus();
  }
  wasm_byte_vec_t stdin_vec;  // ownership passes to the WASI config
  wasm_byte_vec_new(&stdin_vec, bytes.size(),
                    reinterpret_cast<const char*>(bytes.data()));
  wasi_config_set_stdin_bytes(config.capi(), &stdin_vec);
  return OkStatus();
}

}  // namespace strata
