// strata serve: the pool as an HTTP service (docs/SERVING.md). Reads the
// configuration, starts the server, and drains it on SIGTERM or SIGINT.
#include <csignal>
#include <iostream>

#include "baselines/baselines.h"
#include "cli_util.h"
#include "commands.h"
#include "strata/server.h"

extern char** environ;

namespace strata::cli {
namespace {

struct ServeOptions {
  std::string config;
  std::string listen;
  std::vector<std::string> overrides;
  bool help_config = false;
};

void PrintConfigKeys() {
  std::cout << "Configuration keys (TOML [section] key; environment "
               "STRATA_<SECTION>_<KEY>; --set section.key=value):\n\n";
  for (const ServerConfigKey& k : ServerConfigKeys()) {
    std::string key = std::string(k.section) + "." + k.name;
    std::cout << "  " << key << std::string(key.size() < 34 ? 34 - key.size() : 1, ' ')
              << k.type << "\n      " << k.help << "\n";
  }
}

// The embedded default: with no module configured, the bundled extractors
// (the C one, and Readability pre-initialised when it was built).
void AddBundledModules(ServerConfig& config) {
  if (!config.modules.empty()) return;
  ServedModule c{"extractor", BundledGuest("extractor.wasm"), {}};
  config.modules.push_back(c);
  bool readability = std::filesystem::exists(BundledGuest("readability.wasm"));
  if (readability) {
    ServedModule r{"readability", BundledGuest("readability.wasm"), {}};
    r.options.snapshot = "";
    config.modules.push_back(r);
  }
  if (config.extract_modules.empty()) {
    config.extract_modules.emplace_back("c", "extractor");
    if (readability) config.extract_modules.emplace_back("readability", "readability");
  }
}

Result<std::unique_ptr<Policy>> MakeServerPolicy(const std::string& name) {
  if (auto core = MakePolicy(name)) return core;
  auto baseline = bench::MakeBaselinePolicy(name);
  if (baseline.ok()) return baseline;
  return Status(ErrorCode::kInvalidArgument,
                "pool.policy '" + name +
                    "': unknown (strata, riptide, instantiate, "
                    "keepalive[:TTL], gdsf, histogram, fifo)");
}

int Serve(const ServeOptions& o) {
  if (o.help_config) {
    PrintConfigKeys();
    return 0;
  }
  std::vector<std::string> overrides = o.overrides;
  if (!o.listen.empty()) overrides.push_back("server.listen=" + o.listen);
  std::vector<std::string> environment;
  for (char** e = environ; *e != nullptr; ++e) environment.emplace_back(*e);
  auto config = LoadServerConfig(o.config, overrides, environment);
  if (!config.ok()) return Fail(config.status());
  AddBundledModules(*config);
  if (config->pool.cache_dir.empty() && !UserCacheDir().empty()) {
    config->pool.cache_dir = UserCacheDir() / "serve";
  }

  // Every thread the server starts inherits this mask, so the signals
  // reach sigwait below and nothing else.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  std::cerr << "strata serve: loading " << config->modules.size()
            << " module(s)\n";
  std::string listen = config->http.listen;
  auto server = Server::Start(std::move(*config), MakeServerPolicy);
  if (!server.ok()) return Fail(server.status());
  std::string host = listen.substr(0, listen.rfind(':'));
  std::cout << "strata serve: listening on http://" << host << ":"
            << (*server)->port() << std::endl;

  int signal = 0;
  sigwait(&signals, &signal);
  std::cerr << "strata serve: " << (signal == SIGTERM ? "SIGTERM" : "SIGINT")
            << ", draining\n";
  (*server)->Shutdown();
  (*server)->Wait();
  std::cerr << "strata serve: stopped\n";
  return 0;
}

}  // namespace

void AddServeCommand(CLI::App& app, ExitCode& exit_code) {
  auto o = std::make_shared<ServeOptions>();
  CLI::App* cmd = app.add_subcommand(
      "serve",
      "Serve modules over HTTP from a stratified pool (with no configuration: "
      "the bundled extractors on 127.0.0.1:8080)");
  cmd->add_option("--config", o->config, "TOML configuration file")
      ->check(CLI::ExistingFile);
  cmd->add_option("--listen", o->listen,
                  "host:port to listen on (port 0 picks a free one); "
                  "overrides server.listen");
  cmd->add_option("--set", o->overrides,
                  "section.key=value, over the file and STRATA_* variables "
                  "(repeatable; see --help-config)");
  cmd->add_flag("--help-config", o->help_config,
                "List every configuration key and exit");
  cmd->callback([o, &exit_code] { exit_code = Serve(*o); });
}

}  // namespace strata::cli
