// Subcommands of the `strata` CLI. Each Add*Command registers its options on
// `app` and the callback that runs it; the callback's return value is the
// process's exit code.
#ifndef STRATA_TOOLS_COMMANDS_H_
#define STRATA_TOOLS_COMMANDS_H_

#include <CLI/CLI.hpp>
#include <functional>

namespace strata::cli {

// Set by the subcommand that ran; main() returns it.
using ExitCode = int;

void AddRunCommand(CLI::App& app, ExitCode& exit_code);
void AddCallCommand(CLI::App& app, ExitCode& exit_code);
void AddBenchCommand(CLI::App& app, ExitCode& exit_code);
void AddInspectCommand(CLI::App& app, ExitCode& exit_code);
void AddExtractCommand(CLI::App& app, ExitCode& exit_code);
void AddPoolDemoCommand(CLI::App& app, ExitCode& exit_code);
void AddServeCommand(CLI::App& app, ExitCode& exit_code);

}  // namespace strata::cli

#endif  // STRATA_TOOLS_COMMANDS_H_
