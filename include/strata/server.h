// strata serve: the pool as an HTTP service.
//
// Server listens on one address, reads requests on a small I/O thread pool
// (Boost.Beast on Asio) and hands every guest call, upload and removal to
// a bounded queue served by worker threads; a call never runs on an I/O
// thread, and a full queue is answered 503 with Retry-After at once.
// Routes and statuses: docs/SERVING.md.
//
// Configuration comes from TOML (LoadServerConfig), then STRATA_<SECTION>_
// <KEY> environment variables, then `section.key=value` overrides, all
// through one table of keys (ServerConfigKeys) so that every source is
// checked the same way: a bad value is an error naming the key, the value,
// where it came from and why.
//
// Thread contract: Start, Shutdown and Wait are thread-safe; Shutdown may
// be called from a signal-waiting thread while Wait blocks in another.
//
// Example:
//   auto config = strata::LoadServerConfig("strata.toml", {}, {});
//   auto server = strata::Server::Start(std::move(config).value()).value();
//   std::cout << "listening on port " << server->port() << "\n";
//   server->Wait();  // until Shutdown() (e.g. on SIGTERM) has drained
#ifndef STRATA_SERVER_H_
#define STRATA_SERVER_H_

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "strata/engine.h"
#include "strata/pool.h"
#include "strata/status.h"

namespace strata {

// [server]
struct HttpOptions {
  std::string listen = "127.0.0.1:8080";  // host:port; port 0 picks one
  uint32_t io_threads = 0;        // threads reading requests; 0: two, one on one CPU
  uint32_t workers = 0;           // threads running calls; 0: one per CPU it may use
  uint32_t queue_limit = 256;     // calls waiting for a worker, at most
  uint32_t max_connections = 256; // past it: 503 and close
  size_t max_header_bytes = 16 << 10;  // past it: 431
  size_t max_body_bytes = 16 << 20;    // a call's or extract's body; 413
  size_t max_upload_bytes = 64 << 20;  // a module upload's body; 413
  // Per-phase deadlines: waiting for a kept-alive connection's next
  // request, reading its headers once it started, reading its body,
  // writing the reply. A slow client loses its connection, never a worker.
  std::chrono::milliseconds idle_timeout{60000};
  std::chrono::milliseconds header_timeout{10000};
  std::chrono::milliseconds body_timeout{30000};
  std::chrono::milliseconds write_timeout{30000};
  // From the request's arrival: queue wait plus the wait for an instance.
  std::chrono::milliseconds acquire_timeout{5000};
  // SIGTERM: first /readyz turns 503 while everything else is served as
  // usual for `drain_delay`, so a load balancer's health checks take the
  // node out before it refuses anything; then calls in flight and queued
  // get `shutdown_grace` to finish.
  std::chrono::milliseconds drain_delay{0};
  std::chrono::milliseconds shutdown_grace{10000};
  uint32_t retry_after_s = 1;  // the Retry-After of a 503
  // Enables PUT and DELETE /v1/modules/{name}; at least 16 characters.
  std::string admin_token;
  // This node's name when several serve behind a load balancer: a label of
  // strata_node_info, a field of every access-log line, and the
  // X-Strata-Node header of every reply. Empty: the bound HOST:PORT.
  std::string node_id;
};

// [access_log]: one JSON line per request.
struct AccessLogOptions {
  std::string target = "stderr";  // "stderr", "stdout", "off" or a file
  double sample = 1.0;            // share of requests logged, evenly spread
};

// [modules.NAME]: a module served from a file.
struct ServedModule {
  std::string name;
  // A relative path in a file is resolved against the file's directory
  // when loaded; one from the environment or --set against the current one.
  std::filesystem::path path;
  ModuleOptions options;
};

struct ServerConfig {
  HttpOptions http;
  AccessLogOptions access_log;
  EngineOptions engine;
  PoolOptions pool;
  std::vector<ServedModule> modules;
  // Whether /v1/extract serves a bundled extractor, and under which module
  // name: `extract_modules[engine]`, e.g. {"c", "extractor"}.
  std::vector<std::pair<std::string, std::string>> extract_modules;
};

// One configurable key: its section, name, type and what it sets.
struct ServerConfigKey {
  const char* section;
  const char* name;
  const char* type;  // "string", "integer", "bytes", "duration_ms", ...
  const char* help;
};
const std::vector<ServerConfigKey>& ServerConfigKeys();

// The defaults, then `toml_path` (if not empty), then every STRATA_* entry
// of `environment` ("NAME=VALUE" strings, as `environ` holds), then each
// "section.key=value" of `overrides`. kInvalidArgument names the key, the
// value, the source (file:line, the variable or the flag) and the reason.
Result<ServerConfig> LoadServerConfig(
    const std::filesystem::path& toml_path,
    const std::vector<std::string>& overrides,
    const std::vector<std::string>& environment);
// The same from TOML text (tests, the embedded default).
Result<ServerConfig> ParseServerConfig(std::string_view toml,
                                       const std::string& source_name,
                                       const std::filesystem::path& base_dir);
// Applies one "section.key=value" (as from --set) to `config`;
// `source_name` is how errors name it (empty: "--set <assignment>"). A
// module it creates is checked for a path only by the two loaders above.
Status ApplyConfigOverride(ServerConfig& config, std::string_view assignment,
                           const std::string& source_name);

// Builds the policy a configuration names; the server's default knows the
// core's ("strata", "riptide"). The CLI adds the benchmark baselines.
using PolicyFactory =
    std::function<Result<std::unique_ptr<Policy>>(const std::string& name)>;

class Server {
 public:
  // Creates the engine and pool, registers the modules (taking snapshots
  // they ask for), binds and starts serving. kInvalidArgument for a bad
  // listen address, kIo when it cannot bind, a module's own error when it
  // cannot be registered.
  static Result<std::unique_ptr<Server>> Start(ServerConfig config,
                                               PolicyFactory policies = {});
  ~Server();  // Shutdown() and Wait()

  // The port bound (the configured one, or the one picked for port 0).
  uint16_t port() const;
  // Begins a graceful shutdown: /readyz is 503 when it returns; after
  // drain_delay accepting stops, replies carry Connection: close, queued and
  // running calls get the grace period to finish (new ones 503). Returns at
  // once; idempotent.
  void Shutdown();
  // Blocks until a Shutdown() has drained and every thread has stopped.
  void Wait();

  Pool& pool();

  class Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace strata

#endif  // STRATA_SERVER_H_
