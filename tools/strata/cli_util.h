// Helpers shared by the CLI's subcommands.
#ifndef STRATA_TOOLS_CLI_UTIL_H_
#define STRATA_TOOLS_CLI_UTIL_H_

#include <filesystem>
#include <memory>
#include <string>

#include "replay/format.h"
#include "strata/strata.h"

namespace strata::cli {

// Reads a file, or standard input for "-".
Result<Bytes> ReadInput(const std::string& path);
// The bundled guest `name` (e.g. "extractor.wasm"): $STRATA_GUEST_DIR, the
// build tree, then <prefix>/share/strata/guests next to the executable.
std::filesystem::path BundledGuest(const std::string& name);
// An engine with default options; prints a note when pooling fell back.
std::unique_ptr<Engine> MakeEngine();
// The user's cache: $STRATA_CACHE_DIR, $XDG_CACHE_HOME/strata or
// ~/.cache/strata; empty when none of them is set.
std::filesystem::path UserCacheDir();
// The module at `path`, from the user's compiled-module cache
// ($STRATA_CACHE_DIR or ~/.cache/strata, under modules/) when it holds a
// valid entry for these bytes and this engine, else compiled and stored
// there, as wasmtime's own cache does. The module's name is the file's stem.
Result<std::shared_ptr<const Module>> LoadModule(Engine& engine,
                                                 const std::filesystem::path& path);
// Prints "strata: <status>" to stderr and returns exit code 1.
int Fail(const Status& status);
// Milliseconds with three decimals, e.g. "12.345 ms".
std::string FormatMs(std::chrono::nanoseconds d);
using bench::Fixed;
using bench::Mib;
using bench::Us;

}  // namespace strata::cli

#endif  // STRATA_TOOLS_CLI_UTIL_H_
