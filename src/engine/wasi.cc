#include "strata/wasi.h"

#include <cstdlib>
#include <map>
#include <system_error>

namespace strata {
namespace {

bool HasNul(std::string_view s) {
  return s.find('\0') != std::string_view::npos;
}

Status BadSpec(std::string_view spec, std::string_view why) {
  return Status(ErrorCode::kInvalidArgument,
                "preopen '" + std::string(spec) + "': " + std::string(why) +
                    " (expected HOST[::GUEST][:ro|:rw])");
}

// "/out/" and "/out" name the same guest directory.
std::string_view TrimTrailingSlashes(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  return path;
}

}  // namespace

Result<Preopen> ParsePreopen(std::string_view spec) {
  Preopen preopen;
  preopen.writable = true;  // as `wasmtime run --dir`
  std::string_view rest = spec;
  if (rest.ends_with(":ro")) {
    preopen.writable = false;
    rest.remove_suffix(3);
  } else if (rest.ends_with(":rw")) {
    rest.remove_suffix(3);
  }
  std::string_view host = rest, guest = rest;
  if (auto split = rest.find("::"); split != std::string_view::npos) {
    host = rest.substr(0, split);
    guest = rest.substr(split + 2);
  }
  if (host.empty()) return BadSpec(spec, "no host directory");
  if (guest.empty()) return BadSpec(spec, "empty guest path");
  if (HasNul(rest)) return BadSpec(spec, "contains a NUL byte");
  preopen.host = std::filesystem::path(host);
  preopen.guest = std::string(guest);
  return preopen;
}

Result<std::pair<std::string, std::string>> ParseEnvAssignment(
    std::string_view spec) {
  auto eq = spec.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    return Status(ErrorCode::kInvalidArgument,
                  "environment variable '" + std::string(spec) +
                      "': expected KEY=VALUE with a non-empty KEY");
  }
  return std::pair<std::string, std::string>(spec.substr(0, eq),
                                             spec.substr(eq + 1));
}

WasiCapabilities MergeCapabilities(const WasiCapabilities& module,
                                   const WasiCapabilities& call) {
  WasiCapabilities merged = module;
  auto append = [](auto& to, const auto& from) {
    to.insert(to.end(), from.begin(), from.end());
  };
  append(merged.args, call.args);
  append(merged.inherit_env, call.inherit_env);
  append(merged.env, call.env);
  append(merged.dirs, call.dirs);
  return merged;
}

std::vector<std::pair<std::string, std::string>> ResolveEnv(
    const WasiCapabilities& caps) {
  std::vector<std::pair<std::string, std::string>> env;
  std::map<std::string, size_t, std::less<>> index;
  auto set = [&](const std::string& name, std::string value) {
    auto [it, added] = index.emplace(name, env.size());
    if (added) {
      env.emplace_back(name, std::move(value));
    } else {
      env[it->second].second = std::move(value);
    }
  };
  for (const auto& name : caps.inherit_env) {
    // getenv, not environ: the host may not hold the name at all.
    if (const char* value = std::getenv(name.c_str())) set(name, value);
  }
  for (const auto& [name, value] : caps.env) set(name, value);
  return env;
}

Status ValidateCapabilities(const std::string& module,
                            const WasiCapabilities& caps) {
  const std::string who = "module '" + module + "'";
  auto invalid = [&](std::string what) {
    return Status(ErrorCode::kInvalidArgument, who + ": " + what);
  };
  auto bad_name = [](std::string_view name) {
    return name.empty() || name.find('=') != std::string_view::npos ||
           HasNul(name);
  };
  for (const auto& name : caps.inherit_env) {
    if (bad_name(name)) {
      return invalid("environment name '" + name +
                     "' to inherit is empty or holds '=' or NUL");
    }
  }
  for (const auto& [name, value] : caps.env) {
    if (bad_name(name)) {
      return invalid("environment name '" + name +
                     "' is empty or holds '=' or NUL");
    }
    if (HasNul(value)) {
      return invalid("environment variable '" + name + "' holds a NUL byte");
    }
  }
  for (size_t i = 0; i < caps.args.size(); ++i) {
    if (HasNul(caps.args[i])) {
      return invalid("argument " + std::to_string(i + 1) + " holds a NUL byte");
    }
  }
  std::map<std::string_view, const Preopen*> guests;
  for (const auto& dir : caps.dirs) {
    const std::string host = dir.host.string();
    if (dir.guest.empty() || HasNul(dir.guest)) {
      return invalid("preopen of '" + host +
                     "' has an empty guest path or one holding NUL");
    }
    std::error_code ec;
    auto status = std::filesystem::status(dir.host, ec);
    if (host.empty() || !std::filesystem::exists(status)) {
      return Status(ErrorCode::kNotFound, who + ": preopen host directory '" +
                                              host + "' does not exist");
    }
    if (!std::filesystem::is_directory(status)) {
      return invalid("preopen host path '" + host + "' is not a directory");
    }
    auto [it, added] = guests.emplace(TrimTrailingSlashes(dir.guest), &dir);
    if (!added) {
      return invalid("guest path '" + dir.guest + "' is granted twice (host '" +
                     it->second->host.string() + "' and '" + host + "')");
    }
  }
  return OkStatus();
}

}  // namespace strata
