// strata inspect: what a module imports and exports, and what compiling it
// costs; with --snapshot, what pre-initialising it gives.
#include <iostream>
#include <optional>

#include "cli_util.h"
#include "commands.h"
#include "strata/snapshot.h"

namespace strata::cli {
namespace {

// Builds the snapshot ModuleOptions::snapshot would, and compares it with
// the module as it is.
int InspectSnapshot(Engine& engine, const std::string& path, const Module& plain,
                    const std::string& init_func) {
  auto bytes = ReadFile(path);
  if (!bytes.ok()) return Fail(bytes.status());
  SnapshotSpec spec;
  spec.init_func = init_func;
  auto image = TakeSnapshot(engine, plain, *bytes, spec);
  if (!image.ok()) return Fail(image.status());
  auto snapshot = engine.Compile(plain.name(), image->wasm);
  if (!snapshot.ok()) return Fail(snapshot.status());
  std::cout << "snapshot    after " << image->init_func << ": "
            << image->wasm.size() << " bytes (module " << bytes->size()
            << "), built in " << FormatMs(image->build_time) << "\n"
            << "  code held " << (*snapshot)->ResidentImageBytes()
            << " bytes with its memory image (module as it is: "
            << plain.ResidentImageBytes() << ")\n"
            << "  memory    initial " << (*snapshot)->InitialMemoryBytes()
            << " bytes, mapped copy-on-write from the image\n";
  return 0;
}

int Inspect(const std::string& path, const std::optional<std::string>& snapshot) {
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
    std::cout << "  " << i.module << (i.name.empty() ? "" : "." + i.name) << ": "
              << i.type << "\n";
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
  if (snapshot) return InspectSnapshot(*engine, path, **module, *snapshot);
  return 0;
}

}  // namespace

void AddInspectCommand(CLI::App& app, ExitCode& exit_code) {
  auto path = std::make_shared<std::string>();
  auto snapshot = std::make_shared<std::optional<std::string>>();
  CLI::App* cmd = app.add_subcommand(
      "inspect",
      "Show a module's imports, exports, memories, calling convention and "
      "compile time");
  cmd->add_option("module", *path, "Module file (.wasm or .wat)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--snapshot", *snapshot,
                  "Also build its pre-initialisation snapshot, after this "
                  "init function (empty: wizer.initialize, else _initialize), "
                  "and show its size, build time and memory")
      ->expected(0, 1);
  cmd->callback([path, snapshot, &exit_code] { exit_code = Inspect(*path, *snapshot); });
}

}  // namespace strata::cli
