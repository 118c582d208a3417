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
// Prints "strata: <status>" to stderr and returns exit code 1.
int Fail(const Status& status);
// Milliseconds with three decimals, e.g. "12.345 ms".
std::string FormatMs(std::chrono::nanoseconds d);
using bench::Fixed;
using bench::Mib;
using bench::Us;

}  // namespace strata::cli

#endif  // STRATA_TOOLS_CLI_UTIL_H_
