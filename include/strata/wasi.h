// WASI capabilities a command module may be granted: preopened directories,
// environment variables and arguments. Nothing is granted by default.
//
// Grants come from two places and are merged for each RunCommand: the
// module's (ModuleOptions::wasi, the same for every call) and the call's
// (CommandRequest::wasi). A pooled command instance is created before its
// request is known, but its guest reads argv, environ and its preopens only
// inside _start, so the pool attaches a fresh WASI context holding the merged
// grants right before _start runs: one call never sees another's
// directories, environment, stdin or output.
//
// Example:
//   strata::CommandRequest request;
//   request.wasi.dirs.push_back(strata::ParsePreopen("./out::/out").value());
//   request.wasi.args = {"-o", "/out/x"};
//   auto out = lease.RunCommand(std::move(request));
#ifndef STRATA_WASI_H_
#define STRATA_WASI_H_

#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "strata/status.h"

namespace strata {

// A host directory the guest sees under `guest`. The guest cannot leave it:
// `..`, absolute paths and symlinks that resolve outside it all fail.
struct Preopen {
  // Must exist and be a directory; relative to the process's working
  // directory.
  std::filesystem::path host;
  std::string guest;  // the guest's name for it, e.g. "/out"
  // Read-only unless asked: a grant built in code is the safe one. (The
  // spec syntax of ParsePreopen follows `wasmtime run --dir` instead.)
  bool writable = false;
};

struct WasiCapabilities {
  // argv[1..]; argv[0] is the module's name. Merged: module's, then call's.
  std::vector<std::string> args;
  // Names copied from the host's environment when the command starts; a
  // name the host does not have is left out, not an error.
  std::vector<std::string> inherit_env;
  // Explicit variables. They override inherited ones, and the call's
  // override the module's of the same name.
  std::vector<std::pair<std::string, std::string>> env;
  // Merged: module's, then call's; a guest path granted twice is an error.
  std::vector<Preopen> dirs;

  bool empty() const {
    return args.empty() && inherit_env.empty() && env.empty() && dirs.empty();
  }
};

// Parses `HOST[::GUEST][:ro|:rw]`, the syntax of `strata run --dir`:
//   "./out"            host ./out, guest "./out", read-write
//   "./out::/out"      host ./out, guest "/out", read-write
//   "data::/data:ro"   host data, guest "/data", read-only
// As in `wasmtime run --dir`, a directory is read-write unless `:ro` is
// given. A trailing `:ro` or `:rw` is always the mode (write `x:ro:rw` for a
// directory named `x:ro`). Syntax only: the host directory is checked when
// a command starts.
Result<Preopen> ParsePreopen(std::string_view spec);

// Parses `KEY=VALUE` (the value may be empty or hold '=').
Result<std::pair<std::string, std::string>> ParseEnvAssignment(
    std::string_view spec);

// The grants one run gets: `module`'s, then `call`'s (see the fields).
WasiCapabilities MergeCapabilities(const WasiCapabilities& module,
                                   const WasiCapabilities& call);

// The environment a run gets from `caps`: inherited names resolved against
// the host's environment now, then explicit values, one entry per name in
// order of first appearance; the last value given for a name wins.
std::vector<std::pair<std::string, std::string>> ResolveEnv(
    const WasiCapabilities& caps);

// Checks what ParsePreopen cannot: every host directory exists and is a
// directory, guest paths are non-empty and unique, env names are valid.
// Messages name `module`, the path or name and what is wrong with it.
Status ValidateCapabilities(const std::string& module,
                            const WasiCapabilities& caps);

}  // namespace strata

#endif  // STRATA_WASI_H_
