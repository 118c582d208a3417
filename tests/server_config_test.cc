// strata serve's configuration: the TOML file, STRATA_* environment
// variables and --set overrides, through one table of keys; real files in
// a temporary directory, real values and real error messages.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "strata/server.h"

namespace strata {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::seconds;

// A fresh directory, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = fs::temp_directory_path() /
            ("strata_config_test_" + std::to_string(::getpid()) + "_" +
             std::to_string(counter++));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

  fs::path Write(const fs::path& relative, const std::string& text) const {
    fs::path file = path_ / relative;
    fs::create_directories(file.parent_path());
    std::ofstream(file) << text;
    return file;
  }

 private:
  fs::path path_;
};

::testing::AssertionResult Contains(const std::string& text,
                                    const std::string& part) {
  if (text.find(part) != std::string::npos) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << "'" << text << "' does not contain '" << part << "'";
}

::testing::AssertionResult Lacks(const std::string& text,
                                 const std::string& part) {
  if (text.find(part) == std::string::npos) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << "'" << text << "' contains '" << part << "'";
}

fs::path ExamplePath() {
  return fs::path(STRATA_TEST_DATA_DIR) / "../../docs/strata.example.toml";
}

Result<ServerConfig> Parse(const std::string& toml) {
  return ParseServerConfig(toml, "t.toml", "/base");
}

// The message of a failed result, "" (and a test failure) when it is OK.
template <typename T>
std::string ErrorOf(const Result<T>& result) {
  EXPECT_FALSE(result.ok());
  if (result.ok()) return "";
  EXPECT_EQ(result.status().code(), ErrorCode::kInvalidArgument)
      << result.status();
  return result.status().message();
}

const ServedModule* Module(const ServerConfig& config,
                           const std::string& name) {
  for (const auto& m : config.modules) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

TEST(ServerConfigTest, DefaultsWithoutFile) {
  auto config = LoadServerConfig("", {}, {});
  ASSERT_TRUE(config.ok()) << config.status();
  const HttpOptions http;
  EXPECT_EQ(config->http.listen, "127.0.0.1:8080");
  EXPECT_EQ(config->http.io_threads, http.io_threads);
  EXPECT_EQ(config->http.max_body_bytes, http.max_body_bytes);
  EXPECT_EQ(config->http.acquire_timeout, http.acquire_timeout);
  EXPECT_EQ(config->http.admin_token, "");
  EXPECT_EQ(config->access_log.target, "stderr");
  EXPECT_EQ(config->access_log.sample, 1.0);
  EXPECT_EQ(config->engine.pool_slots, EngineOptions().pool_slots);
  EXPECT_EQ(config->pool.budget_bytes, PoolOptions().budget_bytes);
  EXPECT_EQ(config->pool.policy, "strata");
  EXPECT_TRUE(config->pool.cache_dir.empty());
  EXPECT_TRUE(config->modules.empty());
  EXPECT_TRUE(config->extract_modules.empty());
}

// The example documents the defaults: loading it changes no setting, and
// every key of the table appears in it.
TEST(ServerConfigTest, ExampleFileLoadsAndShowsTheDefaults) {
  const fs::path example = ExamplePath();
  auto config = LoadServerConfig(example, {}, {});
  ASSERT_TRUE(config.ok()) << config.status();

  const HttpOptions http;
  const auto& got = config->http;
  EXPECT_EQ(got.listen, http.listen);
  EXPECT_EQ(got.io_threads, http.io_threads);
  EXPECT_EQ(got.workers, http.workers);
  EXPECT_EQ(got.queue_limit, http.queue_limit);
  EXPECT_EQ(got.max_connections, http.max_connections);
  EXPECT_EQ(got.max_header_bytes, http.max_header_bytes);
  EXPECT_EQ(got.max_body_bytes, http.max_body_bytes);
  EXPECT_EQ(got.max_upload_bytes, http.max_upload_bytes);
  EXPECT_EQ(got.idle_timeout, http.idle_timeout);
  EXPECT_EQ(got.header_timeout, http.header_timeout);
  EXPECT_EQ(got.body_timeout, http.body_timeout);
  EXPECT_EQ(got.write_timeout, http.write_timeout);
  EXPECT_EQ(got.acquire_timeout, http.acquire_timeout);
  EXPECT_EQ(got.shutdown_grace, http.shutdown_grace);
  EXPECT_EQ(got.retry_after_s, http.retry_after_s);
  EXPECT_EQ(got.admin_token, http.admin_token);
  EXPECT_EQ(config->access_log.target, AccessLogOptions().target);
  EXPECT_EQ(config->access_log.sample, AccessLogOptions().sample);
  const EngineOptions engine;
  EXPECT_EQ(config->engine.pool_slots, engine.pool_slots);
  EXPECT_EQ(config->engine.pool_max_memory_bytes, engine.pool_max_memory_bytes);
  EXPECT_EQ(config->engine.max_wasm_stack_bytes, engine.max_wasm_stack_bytes);
  const PoolOptions pool;
  EXPECT_EQ(config->pool.budget_bytes, pool.budget_bytes);
  EXPECT_EQ(config->pool.max_instances, pool.max_instances);
  EXPECT_EQ(config->pool.policy, pool.policy);
  EXPECT_EQ(config->pool.pressure_threshold, pool.pressure_threshold);
  EXPECT_EQ(config->pool.maintain_interval, pool.maintain_interval);
  EXPECT_EQ(config->pool.idle_timeout, pool.idle_timeout);
  EXPECT_EQ(config->pool.warm_keep_alive, pool.warm_keep_alive);
  EXPECT_EQ(config->pool.rate_half_life, pool.rate_half_life);
  EXPECT_EQ(config->pool.cache_dir, pool.cache_dir);

  using Pair = std::pair<std::string, std::string>;
  EXPECT_EQ(
      config->extract_modules,
      (std::vector<Pair>{{"c", "extractor"}, {"readability", "readability"}}));
  ASSERT_EQ(config->modules.size(), 2u);
  const ServedModule* extractor = Module(*config, "extractor");
  ASSERT_NE(extractor, nullptr);
  const fs::path docs = fs::absolute(example).lexically_normal().parent_path();
  EXPECT_EQ(extractor->path, docs / "guests/extractor.wasm");
  const ModuleOptions defaults;
  const ModuleOptions& options = extractor->options;
  EXPECT_EQ(options.reuse, defaults.reuse);
  EXPECT_EQ(options.call_timeout, defaults.call_timeout);
  EXPECT_EQ(options.limits.max_memory_bytes, defaults.limits.max_memory_bytes);
  EXPECT_EQ(options.max_input_bytes, defaults.max_input_bytes);
  EXPECT_EQ(options.max_output_bytes, defaults.max_output_bytes);
  EXPECT_EQ(options.max_concurrent, defaults.max_concurrent);
  EXPECT_EQ(options.min_hot, defaults.min_hot);
  EXPECT_EQ(options.max_uses, defaults.max_uses);
  EXPECT_EQ(options.limits.init_export, defaults.limits.init_export);
  EXPECT_EQ(options.snapshot, defaults.snapshot);
  EXPECT_TRUE(options.wasi.empty());
  ASSERT_NE(Module(*config, "readability"), nullptr);
  EXPECT_EQ(Module(*config, "readability")->options.snapshot, "");

  std::ifstream in(example);
  std::stringstream text;
  text << in.rdbuf();
  for (const auto& key : ServerConfigKeys()) {
    if (std::string(key.section) == "extract") continue;  // any names
    EXPECT_TRUE(Contains(text.str(), "\n" + std::string(key.name) + " = "))
        << key.section << "." << key.name << " is not in the example";
  }
}

TEST(ServerConfigTest, KeysTableListsEveryKeyOnce) {
  std::set<std::string> seen;
  for (const auto& key : ServerConfigKeys()) {
    std::string full = std::string(key.section) + "." + key.name;
    EXPECT_TRUE(seen.insert(full).second) << full;
    EXPECT_GT(std::string(key.help).size(), 0u) << full;
    EXPECT_GT(std::string(key.type).size(), 0u) << full;
  }
  EXPECT_TRUE(seen.count("server.listen"));
  EXPECT_TRUE(seen.count("access_log.sample"));
  EXPECT_TRUE(seen.count("engine.max_wasm_stack_bytes"));
  EXPECT_TRUE(seen.count("pool.cache_dir"));
  EXPECT_TRUE(seen.count("extract.ENGINE"));
  EXPECT_TRUE(seen.count("modules.NAME.path"));
  EXPECT_TRUE(seen.count("modules.NAME.snapshot"));
}

TEST(ServerConfigTest, EverySectionSetsItsFields) {
  auto config = Parse(R"(
[server]
listen = "0.0.0.0:9000"
io_threads = 4
workers = 16
queue_limit = 1000
max_connections = 2000
max_header_bytes = "32KiB"
max_body_bytes = "1MiB"
max_upload_bytes = 1048576
idle_timeout_ms = 1500
shutdown_grace_ms = 0
retry_after_s = 3
admin_token = "0123456789abcdef"

[access_log]
target = "off"
sample = 0.25

[engine]
pool_slots = 50
pool_max_memory_bytes = "1GiB"
max_wasm_stack_bytes = "1MiB"

[pool]
budget_bytes = "2GiB"
max_instances = 8
policy = "riptide"
pressure_threshold = 1
maintain_interval_ms = 250
idle_timeout_s = 60
warm_keep_alive_s = 120
rate_half_life_s = 5
cache_dir = "/var/cache/strata"

[extract]
c = "my-extractor"

[modules.my-extractor]
path = "/srv/x.wasm"
reuse = true
timeout_ms = 2500
max_memory_bytes = "128MiB"
max_input_bytes = "1MiB"
max_output_bytes = "2MiB"
max_concurrent = 4
min_hot = 2
max_uses = 50
init_export = "warm_up"
snapshot = "my_init"
args = ["--fast", "in.txt"]
env = ["LANG=C", "EXPR=a=b", "EMPTY="]
)");
  ASSERT_TRUE(config.ok()) << config.status();
  const auto& http = config->http;
  EXPECT_EQ(http.listen, "0.0.0.0:9000");
  EXPECT_EQ(http.io_threads, 4u);
  EXPECT_EQ(http.workers, 16u);
  EXPECT_EQ(http.queue_limit, 1000u);
  EXPECT_EQ(http.max_connections, 2000u);
  EXPECT_EQ(http.max_header_bytes, 32u << 10);
  EXPECT_EQ(http.max_body_bytes, 1u << 20);
  EXPECT_EQ(http.max_upload_bytes, 1u << 20);
  EXPECT_EQ(http.idle_timeout, milliseconds(1500));
  EXPECT_EQ(http.header_timeout, milliseconds(10000));  // untouched
  EXPECT_EQ(http.shutdown_grace, milliseconds(0));
  EXPECT_EQ(http.retry_after_s, 3u);
  EXPECT_EQ(http.admin_token, "0123456789abcdef");

  EXPECT_EQ(config->access_log.target, "off");
  EXPECT_EQ(config->access_log.sample, 0.25);

  EXPECT_EQ(config->engine.pool_slots, 50u);
  EXPECT_EQ(config->engine.pool_max_memory_bytes, uint64_t{1} << 30);
  EXPECT_EQ(config->engine.max_wasm_stack_bytes, size_t{1} << 20);

  EXPECT_EQ(config->pool.budget_bytes, uint64_t{2} << 30);
  EXPECT_EQ(config->pool.max_instances, 8u);
  EXPECT_EQ(config->pool.policy, "riptide");
  EXPECT_EQ(config->pool.pressure_threshold, 1.0);
  EXPECT_EQ(config->pool.maintain_interval, milliseconds(250));
  EXPECT_EQ(config->pool.idle_timeout, seconds(60));
  EXPECT_EQ(config->pool.warm_keep_alive, seconds(120));
  EXPECT_EQ(config->pool.rate_half_life, seconds(5));
  EXPECT_EQ(config->pool.cache_dir, fs::path("/var/cache/strata"));

  ASSERT_EQ(config->extract_modules.size(), 1u);
  EXPECT_EQ(config->extract_modules[0].first, "c");
  EXPECT_EQ(config->extract_modules[0].second, "my-extractor");

  ASSERT_EQ(config->modules.size(), 1u);
  const ServedModule& m = config->modules[0];
  EXPECT_EQ(m.name, "my-extractor");
  EXPECT_EQ(m.path, fs::path("/srv/x.wasm"));
  EXPECT_EQ(m.options.reuse, ReuseMode::kReuse);
  EXPECT_EQ(m.options.call_timeout, milliseconds(2500));
  EXPECT_EQ(m.options.limits.max_memory_bytes, uint64_t{128} << 20);
  EXPECT_EQ(m.options.max_input_bytes, size_t{1} << 20);
  EXPECT_EQ(m.options.max_output_bytes, size_t{2} << 20);
  EXPECT_EQ(m.options.max_concurrent, 4u);
  EXPECT_EQ(m.options.min_hot, 2u);
  EXPECT_EQ(m.options.max_uses, 50u);
  EXPECT_EQ(m.options.limits.init_export, "warm_up");
  EXPECT_EQ(m.options.snapshot, "my_init");
  EXPECT_EQ(m.options.wasi.args,
            (std::vector<std::string>{"--fast", "in.txt"}));
  using Pair = std::pair<std::string, std::string>;
  EXPECT_EQ(m.options.wasi.env,
            (std::vector<Pair>{{"LANG", "C"}, {"EXPR", "a=b"}, {"EMPTY", ""}}));
}

TEST(ServerConfigTest, ByteSizesAcceptBinaryUnits) {
  const std::vector<std::pair<std::string, size_t>> cases = {
      {"1", 1},
      {"\"7\"", 7},
      {"\"12B\"", 12},
      {"\"2K\"", 2048},
      {"\"3KiB\"", 3072},
      {"\"4 MiB\"", size_t{4} << 20},
      {"\"5M\"", size_t{5} << 20},
      {"\"1G\"", size_t{1} << 30},
      {"\"6GiB\"", size_t{6} << 30},
  };
  for (const auto& [text, want] : cases) {
    auto config = Parse("[server]\nmax_body_bytes = " + text + "\n");
    ASSERT_TRUE(config.ok()) << text << ": " << config.status();
    EXPECT_EQ(config->http.max_body_bytes, want) << text;
  }
}

TEST(ServerConfigTest, BadByteSizesSayWhy) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"\"5 KB\"", "unknown unit 'KB'"},
      {"\"5  KiB\"", "unknown unit ' KiB'"},
      {"\"MiB\"", "expected a byte size"},
      {"\"1.5MiB\"", "unknown unit '.5MiB'"},
      {"-1", "must not be negative"},
      {"1.5", "expected a byte size"},
      {"\"99999999999999999999\"", "too large"},
      {"\"17179869184GiB\"", "too large"},
      {"0", "must be at least 1"},
  };
  for (const auto& [text, why] : cases) {
    std::string error =
        ErrorOf(Parse("[server]\nmax_body_bytes = " + text + "\n"));
    EXPECT_TRUE(Contains(
        error, "server.max_body_bytes = " + text + " (t.toml:2:18): " + why))
        << text;
  }
  // A minimum is shown in binary units.
  EXPECT_TRUE(Contains(ErrorOf(Parse("[pool]\nbudget_bytes = \"1023KiB\"\n")),
                       "pool.budget_bytes = \"1023KiB\" (t.toml:2:16): "
                       "must be at least 1MiB"));
}

TEST(ServerConfigTest, RelativePathsResolveAgainstTheFilesDirectory) {
  TempDir dir;
  fs::path file = dir.Write("conf/strata.toml", R"(
[access_log]
target = "logs/access.jsonl"
[pool]
cache_dir = "cache"
[modules.a]
path = "guests/a.wasm"
[modules.b]
path = "/abs/b.wasm"
[modules.c]
path = "../up/c.wasm"
)");
  auto config = LoadServerConfig(file, {}, {});
  ASSERT_TRUE(config.ok()) << config.status();
  const fs::path base = dir.path() / "conf";
  EXPECT_EQ(Module(*config, "a")->path, base / "guests/a.wasm");
  EXPECT_EQ(Module(*config, "b")->path, fs::path("/abs/b.wasm"));
  EXPECT_EQ(Module(*config, "c")->path, dir.path() / "up/c.wasm");
  EXPECT_EQ(config->pool.cache_dir, base / "cache");
  EXPECT_EQ(config->access_log.target, (base / "logs/access.jsonl").string());

  // From --set, relative paths are relative to the current directory.
  auto set = LoadServerConfig(file, {"modules.a.path=here.wasm"}, {});
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(Module(*set, "a")->path, fs::current_path() / "here.wasm");
}

TEST(ServerConfigTest, SnapshotTrueStringOrFalse) {
  auto config = Parse(R"(
[modules.on]
path = "on.wasm"
snapshot = true
[modules.named]
path = "named.wasm"
snapshot = "my_init"
[modules.off]
path = "off.wasm"
snapshot = false
[modules.unset]
path = "unset.wasm"
)");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(Module(*config, "on")->options.snapshot, "");
  EXPECT_EQ(Module(*config, "named")->options.snapshot, "my_init");
  EXPECT_EQ(Module(*config, "off")->options.snapshot, std::nullopt);
  EXPECT_EQ(Module(*config, "unset")->options.snapshot, std::nullopt);
  EXPECT_EQ(Module(*config, "on")->path, fs::path("/base/on.wasm"));

  EXPECT_TRUE(
      Contains(ErrorOf(Parse("[modules.x]\npath = \"x\"\nsnapshot = 1\n")),
               "modules.x.snapshot = 1 (t.toml:3:12): expected a "
               "boolean or a string"));
}

TEST(ServerConfigTest, UnknownKeysAndSectionsNameLineAndColumn) {
  EXPECT_EQ(ErrorOf(Parse("[server]\nlisten = \"h:1\"\nlisen = \"h:2\"\n")),
            "unknown key 'server.lisen' (t.toml:3:1); did you mean "
            "'server.listen'?");
  EXPECT_EQ(ErrorOf(Parse("[serverr]\nlisten = \"h:1\"\n")),
            "unknown section 'serverr' (t.toml:1:2); did you mean 'server'?");
  EXPECT_TRUE(Contains(ErrorOf(Parse("[pool]\n  zzz = 1\n")),
                       "unknown key 'pool.zzz' (t.toml:2:3); expected one "
                       "of budget_bytes, max_instances"));
  EXPECT_TRUE(
      Contains(ErrorOf(Parse("[modules.a]\npath = \"a\"\ntimeout = 5\n")),
               "unknown key 'modules.a.timeout' (t.toml:3:1); did you mean "
               "'modules.a.timeout_ms'?"));
  EXPECT_TRUE(Contains(ErrorOf(Parse("listen = \"h:1\"\n")),
                       "unknown section 'listen' (t.toml:1:1)"));
  EXPECT_TRUE(Contains(ErrorOf(Parse("server = 5\n")),
                       "section 'server' (t.toml:1:1): expected a table "
                       "([server]), got an integer"));
}

TEST(ServerConfigTest, WrongTypeNamesTheExpectedType) {
  EXPECT_EQ(ErrorOf(Parse("[server]\nio_threads = \"two\"\n")),
            "server.io_threads = \"two\" (t.toml:2:14): expected an integer, "
            "got a string");
  EXPECT_EQ(ErrorOf(Parse("[modules.a]\npath = \"a\"\nreuse = \"yes\"\n")),
            "modules.a.reuse = \"yes\" (t.toml:3:9): expected a boolean, got "
            "a string");
  EXPECT_TRUE(
      Contains(ErrorOf(Parse("[modules.a]\npath = \"a\"\nargs = [\"x\", 2]\n")),
               "modules.a.args = [\"x\", 2] (t.toml:3:8): element "
               "1: expected a string, got an integer"));
  EXPECT_TRUE(Contains(ErrorOf(Parse("[extract]\nc = true\n")),
                       "extract.c = true (t.toml:2:5): expected a string"));
}

TEST(ServerConfigTest, TomlSyntaxErrorNamesLineAndColumn) {
  std::string error = ErrorOf(Parse("[server]\nio_threads = 2\nlisten = \n"));
  EXPECT_TRUE(Contains(error, "invalid TOML (t.toml:3:"));

  TempDir dir;
  fs::path file = dir.Write("bad.toml", "[server\nio_threads = 2\n");
  auto config = LoadServerConfig(file, {}, {});
  EXPECT_TRUE(
      Contains(ErrorOf(config), "invalid TOML (" + file.string() + ":1:"));
}

TEST(ServerConfigTest, BadValuesSayWhy) {
  EXPECT_EQ(ErrorOf(Parse("[server]\nlisten = \"127.0.0.1:70000\"\n")),
            "server.listen = \"127.0.0.1:70000\" (t.toml:2:10): port 70000 "
            "is out of range 0..65535");
  EXPECT_TRUE(Contains(ErrorOf(Parse("[server]\nlisten = \":8080\"\n")),
                       "the host is empty"));
  EXPECT_TRUE(Contains(ErrorOf(Parse("[server]\nlisten = \"8080\"\n")),
                       "expected HOST:PORT"));
  EXPECT_TRUE(Contains(ErrorOf(Parse("[server]\nlisten = \"::1:8080\"\n")),
                       "an IPv6 host must be in brackets"));
  auto v6 = Parse("[server]\nlisten = \"[::1]:0\"\n");
  ASSERT_TRUE(v6.ok()) << v6.status();
  EXPECT_EQ(v6->http.listen, "[::1]:0");

  EXPECT_EQ(ErrorOf(Parse("[server]\nqueue_limit = 0\n")),
            "server.queue_limit = 0 (t.toml:2:15): must be at least 1");
  EXPECT_TRUE(Contains(ErrorOf(Parse("[server]\nworkers = 4294967296\n")),
                       "must be at most 4294967295"));
  // Beast's header limit is 32 bits: 4 GiB would have become 0.
  EXPECT_TRUE(Contains(
      ErrorOf(Parse("[server]\nmax_header_bytes = \"4GiB\"\n")),
      "must be at most 4294967295"));
  EXPECT_EQ(ErrorOf(Parse("[access_log]\nsample = 1.5\n")),
            "access_log.sample = 1.5 (t.toml:2:10): must be in [0, 1]");
  EXPECT_TRUE(Contains(ErrorOf(Parse("[pool]\npressure_threshold = 0\n")),
                       "must be in (0, 1]"));
  EXPECT_TRUE(Contains(ErrorOf(Parse("[pool]\npolicy = \"\"\n")),
                       "pool.policy = \"\" (t.toml:2:10): must not be empty"));
  EXPECT_TRUE(Contains(ErrorOf(Parse("[server]\nidle_timeout_ms = 0\n")),
                       "must be at least 1"));
  EXPECT_TRUE(Contains(ErrorOf(Parse("[pool]\nidle_timeout_s = 99999999999\n")),
                       "must be at most 31536000 (a year)"));

  EXPECT_TRUE(Contains(ErrorOf(Parse("[server]\nnode_id = \"a \\\"b\"\n")),
                       "must be at most 128 of A-Z a-z 0-9 . _ - :"));
  auto node = Parse("[server]\nnode_id = \"node-1:8081\"\n");
  ASSERT_TRUE(node.ok()) << node.status();
  EXPECT_EQ(node->http.node_id, "node-1:8081");

  // The sample takes an integer 0 or 1 too.
  auto zero = Parse("[access_log]\nsample = 0\n");
  ASSERT_TRUE(zero.ok()) << zero.status();
  EXPECT_EQ(zero->access_log.sample, 0.0);

  EXPECT_TRUE(Contains(ErrorOf(Parse("[modules.\"bad name\"]\npath = \"x\"\n")),
                       "module name \"bad name\" (t.toml:1:10): must be 1 "
                       "to 128 characters of A-Z a-z 0-9 . _ -"));
  EXPECT_TRUE(Contains(ErrorOf(Parse("[modules.a]\nreuse = true\n")),
                       "module 'a' (t.toml:1:10) has no path"));
  EXPECT_TRUE(Contains(
      ErrorOf(Parse("[modules.a]\npath = \"x\"\nenv = [\"NOVALUE\"]\n")),
      "modules.a.env = [\"NOVALUE\"] (t.toml:3:7): "
      "element 0: environment variable 'NOVALUE': expected "
      "KEY=VALUE"));
}

TEST(ServerConfigTest, ShortAdminTokenIsRejectedWithoutBeingShown) {
  const std::string token = "hunter2secret";  // 13 characters
  std::string error =
      ErrorOf(Parse("[server]\nadmin_token = \"" + token + "\"\n"));
  EXPECT_EQ(error,
            "server.admin_token = <hidden, 13 characters> (t.toml:2:15): must "
            "be empty (admin routes off) or at least 16 characters; it has 13");

  error =
      ErrorOf(LoadServerConfig("", {}, {"STRATA_SERVER_ADMIN_TOKEN=" + token}));
  EXPECT_TRUE(Contains(error,
                       "environment variable "
                       "STRATA_SERVER_ADMIN_TOKEN"));
  EXPECT_TRUE(Lacks(error, token));

  error = ErrorOf(LoadServerConfig("", {"server.admin_token=" + token}, {}));
  EXPECT_TRUE(Contains(error, "(--set server.admin_token=...)"));
  EXPECT_TRUE(Lacks(error, token));

  ServerConfig config;
  Status status = ApplyConfigOverride(config, "server.admin_token=" + token,
                                      "--set server.admin_token=" + token);
  EXPECT_TRUE(Lacks(status.message(), token));

  // Even a mistyped key does not echo the value.
  error = ErrorOf(LoadServerConfig("", {"server.admin_tokn=" + token}, {}));
  EXPECT_TRUE(Contains(error, "unknown key 'server.admin_tokn'"));
  EXPECT_TRUE(Lacks(error, token));

  auto ok = LoadServerConfig(
      "", {}, {"STRATA_SERVER_ADMIN_TOKEN=" + token + "-long-enough"});
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->http.admin_token, token + "-long-enough");
}

TEST(ServerConfigTest, EnvironmentBeatsTomlAndSetBeatsEnvironment) {
  TempDir dir;
  fs::path file = dir.Write("strata.toml", R"(
[server]
listen = "127.0.0.1:1000"
workers = 3
[pool]
budget_bytes = "64MiB"
)");
  const std::vector<std::string> env = {
      "PATH=/usr/bin",
      "STRATA_SERVER_LISTEN=127.0.0.1:2000",
      "STRATA_SERVER_WORKERS=5",
      "STRATA_POOL_BUDGET_BYTES=1GiB",
      "STRATA_ACCESS_LOG_SAMPLE=0.5",
      "STRATA_ENGINE_POOL_SLOTS=20",
  };
  auto config = LoadServerConfig(file, {"server.listen=127.0.0.1:3000"}, env);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->http.listen, "127.0.0.1:3000");  // --set
  EXPECT_EQ(config->http.workers, 5u);               // environment
  EXPECT_EQ(config->pool.budget_bytes, uint64_t{1} << 30);
  EXPECT_EQ(config->access_log.sample, 0.5);
  EXPECT_EQ(config->engine.pool_slots, 20u);

  EXPECT_EQ(ErrorOf(LoadServerConfig(file, {}, {"STRATA_SERVER_WORKERS=-1"})),
            "server.workers = \"-1\" (environment variable "
            "STRATA_SERVER_WORKERS): must be at least 0");
  EXPECT_EQ(
      ErrorOf(LoadServerConfig(file, {}, {"STRATA_POOL_BUDGET_BYTES=lots"})),
      "pool.budget_bytes = \"lots\" (environment variable "
      "STRATA_POOL_BUDGET_BYTES): expected a byte size: an integer, or "
      "a string of digits and a unit B, K/KiB, M/MiB or G/GiB such as "
      "\"64MiB\"");
}

TEST(ServerConfigTest, UnrelatedStrataVariablesAreIgnored) {
  auto config =
      LoadServerConfig("", {},
                       {"STRATA_CACHE_DIR=/tmp/x", "STRATA_GUEST_DIR=/g",
                        "STRATA_=1", "STRATA_SERVERS=1",
                        "STRATA_server_listen=bad", "NOT_STRATA_SERVER_X=1"});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_TRUE(config->pool.cache_dir.empty());
  EXPECT_EQ(config->http.listen, "127.0.0.1:8080");
}

TEST(ServerConfigTest, UnknownKeyInAKnownSectionIsRejected) {
  EXPECT_TRUE(
      Contains(ErrorOf(LoadServerConfig("", {}, {"STRATA_SERVER_BOGUS=1"})),
               "unknown key 'server.bogus' (environment variable "
               "STRATA_SERVER_BOGUS)"));
  EXPECT_TRUE(
      Contains(ErrorOf(LoadServerConfig("", {}, {"STRATA_POOL_BUDGET=1GiB"})),
               "unknown key 'pool.budget' (environment variable "
               "STRATA_POOL_BUDGET); did you mean 'pool.budget_bytes'?"));
  EXPECT_TRUE(Contains(
      ErrorOf(LoadServerConfig("", {}, {"STRATA_ACCESS_LOG_SAMPLE=half"})),
      "access_log.sample = \"half\" (environment variable "
      "STRATA_ACCESS_LOG_SAMPLE): expected a number"));
}

TEST(ServerConfigTest, SetCreatesAndChangesModules) {
  TempDir dir;
  fs::path file = dir.Write("strata.toml", R"(
[modules.a]
path = "a.wasm"
timeout_ms = 100
)");
  auto config = LoadServerConfig(
      file,
      {"modules.a.timeout_ms=200", "modules.b.v2.path=/srv/b.wasm",
       "modules.b.v2.reuse=true", "modules.b.v2.snapshot=init_me",
       "modules.b.v2.args=[\"-x\", \"y z\"]", "modules.b.v2.max_uses=7",
       "extract.c=b.v2", "extract.js=a"},
      {});
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_EQ(config->modules.size(), 2u);
  EXPECT_EQ(Module(*config, "a")->options.call_timeout, milliseconds(200));
  EXPECT_EQ(Module(*config, "a")->path, dir.path() / "a.wasm");
  const ServedModule* b = Module(*config, "b.v2");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->path, fs::path("/srv/b.wasm"));
  EXPECT_EQ(b->options.reuse, ReuseMode::kReuse);
  EXPECT_EQ(b->options.snapshot, "init_me");
  EXPECT_EQ(b->options.wasi.args, (std::vector<std::string>{"-x", "y z"}));
  EXPECT_EQ(b->options.max_uses, 7u);
  using Pair = std::pair<std::string, std::string>;
  EXPECT_EQ(config->extract_modules,
            (std::vector<Pair>{{"c", "b.v2"}, {"js", "a"}}));

  // A module --set creates needs a path by the end of loading.
  EXPECT_EQ(ErrorOf(LoadServerConfig(file, {"modules.c.reuse=true"}, {})),
            "module 'c' (--set modules.c.reuse=true) has no path; set "
            "modules.c.path");
  auto later = LoadServerConfig(
      file, {"modules.c.reuse=true", "modules.c.path=c.wasm"}, {});
  EXPECT_TRUE(later.ok()) << later.status();

  // An empty module removes an extract engine the file configured.
  TempDir dir2;
  fs::path with_extract =
      dir2.Write("s.toml", "[extract]\nc = \"x\"\nreadability = \"r\"\n");
  auto removed = LoadServerConfig(with_extract, {"extract.c="}, {});
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_EQ(removed->extract_modules,
            (std::vector<Pair>{{"readability", "r"}}));
}

TEST(ServerConfigTest, BadOverridesSayWhy) {
  EXPECT_TRUE(Contains(ErrorOf(LoadServerConfig("", {"listen=1"}, {})),
                       "override \"listen=1\" (--set listen=1): expected "
                       "SECTION.KEY=VALUE"));
  EXPECT_TRUE(Contains(ErrorOf(LoadServerConfig("", {"server.listen"}, {})),
                       "expected SECTION.KEY=VALUE"));
  EXPECT_TRUE(Contains(ErrorOf(LoadServerConfig("", {"srv.listen=x"}, {})),
                       "unknown section 'srv' (--set srv.listen=...); "
                       "expected one of server, access_log, engine, pool, "
                       "extract, modules"));
  EXPECT_EQ(ErrorOf(LoadServerConfig("", {"server.io_threads=many"}, {})),
            "server.io_threads = \"many\" (--set server.io_threads=many): "
            "expected an integer");
  EXPECT_TRUE(
      Contains(ErrorOf(LoadServerConfig("", {"modules.a.reuse=maybe"}, {})),
               "modules.a.reuse = \"maybe\" (--set "
               "modules.a.reuse=maybe): expected true, false, 1 or "
               "0"));
  EXPECT_TRUE(Contains(ErrorOf(LoadServerConfig("", {"modules.a.args=x"}, {})),
                       "expected a TOML array of strings"));
  EXPECT_TRUE(Contains(ErrorOf(LoadServerConfig("", {"modules.a=x"}, {})),
                       "expected modules.NAME.KEY=VALUE"));
  EXPECT_TRUE(
      Contains(ErrorOf(LoadServerConfig("", {"modules.a/b.path=x"}, {})),
               "module name \"a/b\""));
  EXPECT_TRUE(Contains(ErrorOf(LoadServerConfig("", {"extract.c=not ok"}, {})),
                       "extract.c = \"not ok\" (--set extract.c=not ok): a "
                       "module name must be 1 to 128"));

  // A failed override leaves the configuration as it was.
  ServerConfig config;
  EXPECT_FALSE(ApplyConfigOverride(config, "modules.m.max_uses=0", "").ok());
  EXPECT_TRUE(config.modules.empty());
  EXPECT_FALSE(ApplyConfigOverride(config, "server.queue_limit=0", "x").ok());
  EXPECT_EQ(config.http.queue_limit, HttpOptions().queue_limit);
  Status ok = ApplyConfigOverride(config, "server.retry_after_s=9", "");
  EXPECT_TRUE(ok.ok()) << ok;
  EXPECT_EQ(config.http.retry_after_s, 9u);
}

TEST(ServerConfigTest, MissingOrUnreadableFileNamesThePath) {
  TempDir dir;
  fs::path missing = dir.path() / "nope.toml";
  auto config = LoadServerConfig(missing, {}, {});
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), ErrorCode::kNotFound);
  EXPECT_TRUE(Contains(config.status().message(), missing.string()));

  auto directory = LoadServerConfig(dir.path(), {}, {});
  ASSERT_FALSE(directory.ok());
  EXPECT_EQ(directory.status().code(), ErrorCode::kIo);
  EXPECT_TRUE(Contains(directory.status().message(), dir.path().string()));
}

}  // namespace
}  // namespace strata
