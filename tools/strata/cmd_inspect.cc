// strata inspect: what a module imports and exports, and what compiling it
// costs.
#include <iostream>

#include "cli_util.h"
#include "commands.h"

namespace strata::cli {
namespace {

int Inspect(const std::string& path) {
  auto engine = MakeEngine();
  auto module = engine->CompileFile(path);
  if (!module.ok()) return Fail(module.status());
  const ModuleInfo& info = (*module)->info();
  std::cout << "module      " << (*module)->name() << "\n"
            << "sha256      " << (*module)->hash() << "\n"
            << "convention  " << CallingConventionName(info.convention) << "\n"
            << "compile     " << FormatMs((*module)->load_time()) << "\n";
  std::cout << "imports (" << info.imports.size() << ")\n";
  for (const auto& i : info.imports) {
    std::cout << "  " << i.module << "." << i.name << ": " << i.type << "\n";
  }
  std::cout << "exports (" << info.exports.size() << ")\n";
  for (const auto& e : info.exports) {
    std::cout << "  " << e.name << ": " << e.type
              << (e.is_reactor_entry ? "  [entry point]" : "") << "\n";
  }
  std::cout << "memories (" << info.memories.size() << ")\n";
  for (const auto& m : info.memories) {
    std::cout << "  " << m.name << ": initial " << m.min_pages
              << " pages, maximum "
              << (m.max_pages ? std::to_string(*m.max_pages) + " pages"
                              : std::string("none"))
              << "\n";
  }
  return 0;
}

}  // namespace

void AddInspectCommand(CLI::App& app, ExitCode& exit_code) {
  auto path = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand(
      "inspect",
      "Show a module's imports, exports, memories, calling convention and "
      "compile time");
  cmd->add_option("module", *path, "Module file (.wasm or .wat)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->callback([path, &exit_code] { exit_code = Inspect(*path); });
}

}  // namespace strata::cli
