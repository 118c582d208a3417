// strata: run WebAssembly modules on wasmtime, one call at a time or from a
// stratified instance pool.
#include <CLI/CLI.hpp>

#include "commands.h"

int main(int argc, char** argv) {
  CLI::App app{"strata: a stratified WebAssembly instance pool on wasmtime"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "strata 0.1.0");
  strata::cli::ExitCode exit_code = 0;
  strata::cli::AddRunCommand(app, exit_code);
  strata::cli::AddCallCommand(app, exit_code);
  strata::cli::AddBenchCommand(app, exit_code);
  strata::cli::AddInspectCommand(app, exit_code);
  strata::cli::AddExtractCommand(app, exit_code);
  strata::cli::AddPoolDemoCommand(app, exit_code);
  strata::cli::AddServeCommand(app, exit_code);
  CLI11_PARSE(app, argc, argv);
  return exit_code;
}
