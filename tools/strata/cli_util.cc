#include "cli_util.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <iterator>

namespace strata::cli {

Result<Bytes> ReadInput(const std::string& path) {
  if (path != "-") return ReadFile(path);
  return Bytes(std::istreambuf_iterator<char>(std::cin), {});
}

std::filesystem::path BundledGuest(const std::string& name) {
  if (const char* dir = std::getenv("STRATA_GUEST_DIR")) {
    return std::filesystem::path(dir) / name;
  }
  std::filesystem::path build_tree = STRATA_BUILD_GUEST_DIR;
  if (std::filesystem::exists(build_tree / name)) return build_tree / name;
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return exe.parent_path().parent_path() / "share/strata/guests" / name;
}

std::unique_ptr<Engine> MakeEngine() {
  auto engine = Engine::Create(EngineOptions{});
  if (!engine.ok()) {
    std::cerr << "strata: " << engine.status() << "\n";
    std::exit(1);
  }
  if (!(*engine)->pooling_fallback_reason().empty()) {
    std::cerr << "strata: note: pooling allocator: "
              << (*engine)->pooling_fallback_reason() << "\n";
  }
  return std::move(*engine);
}

std::filesystem::path UserCacheDir() {
  if (const char* env = std::getenv("STRATA_CACHE_DIR"); env && *env) {
    return env;
  }
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) {
    return std::filesystem::path(xdg) / "strata";
  }
  if (const char* home = std::getenv("HOME"); home && *home) {
    return std::filesystem::path(home) / ".cache" / "strata";
  }
  return {};
}

Result<std::shared_ptr<const Module>> LoadModule(Engine& engine,
                                                 const std::filesystem::path& path) {
  auto bytes = ReadFile(path);
  if (!bytes.ok()) return bytes.status();
  std::filesystem::path dir = UserCacheDir();
  if (dir.empty()) return engine.Compile(path.stem().string(), *bytes);
  // Shared by every strata process of the user: never pruned.
  ModuleCache cache(engine, dir / "modules");
  return cache.LoadOrCompile(path.stem().string(), *bytes);
}

int Fail(const Status& status) {
  std::cerr << "strata: " << status << "\n";
  return 1;
}

std::string FormatMs(std::chrono::nanoseconds d) {
  return Fixed(d.count() / 1e6, 3) + " ms";
}


}  // namespace strata::cli
