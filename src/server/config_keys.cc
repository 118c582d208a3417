// The table of configuration keys (Keys()) and the setters that check and
// store each key's value; unknown keys and sections, with hints.
#include "server/config_keys.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include "server/config_values.h"
#include "strata/server.h"
#include "strata/wasi.h"

namespace strata::server::config {

namespace fs = std::filesystem;

namespace {

// Durations above a year are surely mistakes, and capping them keeps
// `now + timeout` far from overflowing a clock's representation.
constexpr int64_t kMaxSeconds = int64_t{365} * 24 * 3600;

std::string FormatBytes(uint64_t n) {
  if (n != 0 && n % (uint64_t{1} << 30) == 0) {
    return std::to_string(n >> 30) + "GiB";
  }
  if (n != 0 && n % (uint64_t{1} << 20) == 0) {
    return std::to_string(n >> 20) + "MiB";
  }
  if (n != 0 && n % (uint64_t{1} << 10) == 0) {
    return std::to_string(n >> 10) + "KiB";
  }
  return std::to_string(n);
}

fs::path Resolve(const fs::path& base_dir, const std::string& text) {
  fs::path path(text);
  if (path.empty() || path.is_absolute() || base_dir.empty()) return path;
  return (base_dir / path).lexically_normal();
}

// Field accessors for the builders below: In(&ServerConfig::http,
// &HttpOptions::io_threads) is config.http.io_threads.
template <typename S, typename T>
auto In(S ServerConfig::*section, T S::*member) {
  return [section, member](Target& t) -> T& {
    return (t.config.*section).*member;
  };
}
template <typename T>
auto InModule(T ModuleOptions::*member) {
  return [member](Target& t) -> T& { return t.module->options.*member; };
}

template <typename Field>
Setter Integer(int64_t min, Field field) {
  return [min, field](const Value& value, Target& t) -> Status {
    auto& out = field(t);
    using T = std::remove_reference_t<decltype(out)>;
    int64_t n = std::get<int64_t>(value);
    if (n < min) return Reason("must be at least " + std::to_string(min));
    if (static_cast<uint64_t>(n) > std::numeric_limits<T>::max()) {
      return Reason("must be at most " +
                    std::to_string(std::numeric_limits<T>::max()));
    }
    out = static_cast<T>(n);
    return OkStatus();
  };
}

template <typename Field>
Setter ByteSize(uint64_t min, Field field,
                uint64_t max = std::numeric_limits<uint64_t>::max()) {
  return [min, max, field](const Value& value, Target& t) -> Status {
    auto& out = field(t);
    using T = std::remove_reference_t<decltype(out)>;
    const uint64_t most =
        std::min<uint64_t>(max, std::numeric_limits<T>::max());
    uint64_t n = std::get<uint64_t>(value);
    if (n < min) return Reason("must be at least " + FormatBytes(min));
    if (n > most) return Reason("must be at most " + std::to_string(most));
    out = static_cast<T>(n);
    return OkStatus();
  };
}

// A std::chrono::duration field, written as an integer count of its unit.
template <typename Field>
Setter Duration(int64_t min, Field field) {
  return [min, field](const Value& value, Target& t) -> Status {
    auto& out = field(t);
    using D = std::remove_reference_t<decltype(out)>;
    const int64_t max =
        std::chrono::duration_cast<D>(std::chrono::seconds(kMaxSeconds))
            .count();
    int64_t n = std::get<int64_t>(value);
    if (n < min) return Reason("must be at least " + std::to_string(min));
    if (n > max) {
      return Reason("must be at most " + std::to_string(max) + " (a year)");
    }
    out = D(n);
    return OkStatus();
  };
}

// A share in [0, 1], or (0, 1] when zero is not allowed.
template <typename Field>
Setter Fraction(bool zero_ok, Field field) {
  return [zero_ok, field](const Value& value, Target& t) -> Status {
    double x = std::get<double>(value);
    // Written so that NaN fails both comparisons.
    bool ok = (zero_ok ? x >= 0 : x > 0) && x <= 1;
    if (!ok) return Reason(zero_ok ? "must be in [0, 1]" : "must be in (0, 1]");
    field(t) = x;
    return OkStatus();
  };
}

template <typename Field>
Setter Text(Field field, bool empty_ok) {
  return [field, empty_ok](const Value& value, Target& t) -> Status {
    const auto& s = std::get<std::string>(value);
    if (s.empty() && !empty_ok) return Reason("must not be empty");
    field(t) = s;
    return OkStatus();
  };
}

// Relative paths resolve against the source's base directory; an empty
// path is stored empty (meaning "the default") when `empty_ok`.
template <typename Field>
Setter PathIn(Field field, bool empty_ok) {
  return [field, empty_ok](const Value& value, Target& t) -> Status {
    const auto& s = std::get<std::string>(value);
    if (s.empty() && !empty_ok) return Reason("must not be empty");
    field(t) = Resolve(t.base_dir, s);
    return OkStatus();
  };
}

Status SetListen(const Value& value, Target& t) {
  const auto& s = std::get<std::string>(value);
  size_t colon = s.rfind(':');
  if (colon == std::string::npos) {
    return Reason("expected HOST:PORT, e.g. 127.0.0.1:8080");
  }
  std::string_view host = std::string_view(s).substr(0, colon);
  std::string_view port = std::string_view(s).substr(colon + 1);
  if (host.empty()) {
    return Reason("the host is empty (0.0.0.0 listens on every interface)");
  }
  bool bracketed = host.front() == '[' || host.back() == ']';
  if (bracketed &&
      !(host.size() > 2 && host.front() == '[' && host.back() == ']')) {
    return Reason("unbalanced brackets around the host");
  }
  if (!bracketed && host.find(':') != std::string_view::npos) {
    return Reason("an IPv6 host must be in brackets, e.g. [::1]:8080");
  }
  uint32_t n = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), n);
  if (port.empty() || end != port.data() + port.size() ||
      ec == std::errc::invalid_argument) {
    return Reason("port '" + std::string(port) + "' is not a number");
  }
  if (ec == std::errc::result_out_of_range || n > 65535) {
    return Reason("port " + std::string(port) + " is out of range 0..65535");
  }
  t.config.http.listen = s;
  return OkStatus();
}

constexpr size_t kMinAdminToken = 16;

// A label value and a header value: kept to characters that need no
// escaping in either.
Status SetNodeId(const Value& value, Target& t) {
  const auto& s = std::get<std::string>(value);
  bool ok = s.size() <= 128 && std::all_of(s.begin(), s.end(), [](char c) {
              return std::isalnum(static_cast<unsigned char>(c)) || c == '.' ||
                     c == '_' || c == '-' || c == ':';
            });
  if (!ok) return Reason("must be at most 128 of A-Z a-z 0-9 . _ - :");
  t.config.http.node_id = s;
  return OkStatus();
}

Status SetAdminToken(const Value& value, Target& t) {
  const auto& s = std::get<std::string>(value);
  if (!s.empty() && s.size() < kMinAdminToken) {
    return Reason("must be empty (admin routes off) or at least " +
                  std::to_string(kMinAdminToken) + " characters; it has " +
                  std::to_string(s.size()));
  }
  // It travels in an Authorization header, where other bytes never match.
  for (char c : s) {
    if (c < 0x21 || c > 0x7e) {
      return Reason("must be visible ASCII characters, without spaces");
    }
  }
  t.config.http.admin_token = s;
  return OkStatus();
}

Status SetLogTarget(const Value& value, Target& t) {
  const auto& s = std::get<std::string>(value);
  if (s.empty()) return Reason("must be stderr, stdout, off or a file path");
  t.config.access_log.target = (s == "stderr" || s == "stdout" || s == "off")
                                   ? s
                                   : Resolve(t.base_dir, s).string();
  return OkStatus();
}

Status SetSnapshot(const Value& value, Target& t) {
  auto& out = t.module->options.snapshot;
  if (const bool* on = std::get_if<bool>(&value)) {
    // true: the default init function, named by the empty string.
    out = *on ? std::optional<std::string>("") : std::nullopt;
  } else {
    out = std::get<std::string>(value);
  }
  return OkStatus();
}

Status SetWasiEnv(const Value& value, Target& t) {
  std::vector<std::pair<std::string, std::string>> env;
  const auto& items = std::get<std::vector<std::string>>(value);
  for (size_t i = 0; i < items.size(); ++i) {
    auto pair = ParseEnvAssignment(items[i]);
    if (!pair.ok()) {
      return Reason("element " + std::to_string(i) + ": " +
                    pair.status().message());
    }
    env.push_back(std::move(pair).value());
  }
  t.module->options.wasi.env = std::move(env);
  return OkStatus();
}

}  // namespace

const std::vector<Key>& Keys() {
  static const std::vector<Key>* const keys = [] {
    constexpr auto kHttp = &ServerConfig::http;
    constexpr auto kLog = &ServerConfig::access_log;
    constexpr auto kEngine = &ServerConfig::engine;
    constexpr auto kPool = &ServerConfig::pool;
    using H = HttpOptions;
    using E = EngineOptions;
    using P = PoolOptions;
    using M = ModuleOptions;
    const char* kM = kModuleSection;
    auto* k = new std::vector<Key>{
        {"server", "listen", Type::kString,
         "HOST:PORT to listen on; port 0 picks one", SetListen},
        {"server", "io_threads", Type::kInteger,
         "threads reading requests; 0: two, or one if the server may use one CPU",
         Integer(0, In(kHttp, &H::io_threads))},
        {"server", "workers", Type::kInteger,
         "threads running calls; 0: one per CPU the server may use",
         Integer(0, In(kHttp, &H::workers))},
        {"server", "queue_limit", Type::kInteger,
         "calls waiting for a worker; past it 503",
         Integer(1, In(kHttp, &H::queue_limit))},
        {"server", "max_connections", Type::kInteger,
         "open connections; past it 503 and close",
         Integer(1, In(kHttp, &H::max_connections))},
        {"server", "max_header_bytes", Type::kBytes,
         "request headers; past it 431",
         // Beast counts header bytes in 32 bits.
         ByteSize(1024, In(kHttp, &H::max_header_bytes),
                  std::numeric_limits<uint32_t>::max())},
        {"server", "max_body_bytes", Type::kBytes,
         "body of a call or extract; past it 413",
         ByteSize(1, In(kHttp, &H::max_body_bytes))},
        {"server", "max_upload_bytes", Type::kBytes,
         "body of a module upload; past it 413",
         ByteSize(1, In(kHttp, &H::max_upload_bytes))},
        {"server", "idle_timeout_ms", Type::kMillis,
         "wait for a kept-alive connection's next request",
         Duration(1, In(kHttp, &H::idle_timeout))},
        {"server", "header_timeout_ms", Type::kMillis,
         "reading a request's headers",
         Duration(1, In(kHttp, &H::header_timeout))},
        {"server", "body_timeout_ms", Type::kMillis, "reading a request's body",
         Duration(1, In(kHttp, &H::body_timeout))},
        {"server", "write_timeout_ms", Type::kMillis, "writing a reply",
         Duration(1, In(kHttp, &H::write_timeout))},
        {"server", "acquire_timeout_ms", Type::kMillis,
         "queue wait plus instance wait, from arrival",
         Duration(1, In(kHttp, &H::acquire_timeout))},
        {"server", "drain_delay_ms", Type::kMillis,
         "on SIGTERM, /readyz is 503 this long before draining starts",
         Duration(0, In(kHttp, &H::drain_delay))},
        {"server", "shutdown_grace_ms", Type::kMillis,
         "time calls get to finish on SIGTERM",
         Duration(0, In(kHttp, &H::shutdown_grace))},
        {"server", "retry_after_s", Type::kInteger, "Retry-After of a 503",
         Integer(0, In(kHttp, &H::retry_after_s))},
        {"server", "node_id", Type::kString,
         "this node's name in metrics, logs and X-Strata-Node; empty: "
         "HOST:PORT",
         SetNodeId},
        {"server", "admin_token", Type::kString,
         "enables module PUT/DELETE; empty or >= 16 chars", SetAdminToken,
         /*secret=*/true},

        {"access_log", "target", Type::kString,
         "stderr, stdout, off or a file path", SetLogTarget},
        {"access_log", "sample", Type::kFloat,
         "share of requests logged, in [0, 1]",
         Fraction(true, In(kLog, &AccessLogOptions::sample))},

        {"engine", "pool_slots", Type::kInteger,
         "instance slots reserved up front",
         Integer(1, In(kEngine, &E::pool_slots))},
        {"engine", "pool_max_memory_bytes", Type::kBytes,
         "largest linear memory of a pooled instance",
         ByteSize(64 << 10, In(kEngine, &E::pool_max_memory_bytes))},
        {"engine", "max_wasm_stack_bytes", Type::kBytes,
         "native stack a guest may use",
         ByteSize(64 << 10, In(kEngine, &E::max_wasm_stack_bytes))},

        {"pool", "budget_bytes", Type::kBytes,
         "memory instances and code may hold",
         ByteSize(1 << 20, In(kPool, &P::budget_bytes))},
        {"pool", "max_instances", Type::kInteger, "live instances, pool-wide",
         Integer(1, In(kPool, &P::max_instances))},
        {"pool", "policy", Type::kString, "tiering policy, e.g. strata",
         Text(In(kPool, &P::policy), /*empty_ok=*/false)},
        {"pool", "pressure_threshold", Type::kFloat,
         "share of the budget the policy plans below, in (0, 1]",
         Fraction(false, In(kPool, &P::pressure_threshold))},
        {"pool", "maintain_interval_ms", Type::kMillis,
         "period of the policy's passes",
         Duration(1, In(kPool, &P::maintain_interval))},
        {"pool", "idle_timeout_s", Type::kSeconds,
         "idle this long: no hot instances",
         Duration(1, In(kPool, &P::idle_timeout))},
        {"pool", "warm_keep_alive_s", Type::kSeconds,
         "idle this long: no warm code",
         Duration(1, In(kPool, &P::warm_keep_alive))},
        {"pool", "rate_half_life_s", Type::kSeconds,
         "half-life of request rate estimates",
         Duration(1, In(kPool, &P::rate_half_life))},
        {"pool", "cache_dir", Type::kPath,
         "compiled code cache; empty: a temporary one",
         PathIn(In(kPool, &P::cache_dir), /*empty_ok=*/true)},

        {kExtractSection, "ENGINE", Type::kString,
         "module serving /v1/extract for ENGINE; empty: none", nullptr},

        {kM, "path", Type::kPath, "the .wasm file (required)",
         PathIn([](Target& t) -> fs::path& { return t.module->path; },
                /*empty_ok=*/false)},
        {kM, "reuse", Type::kBool,
         "true: instances serve many calls (trusted code)",
         [](const Value& value, Target& t) -> Status {
           t.module->options.reuse =
               std::get<bool>(value) ? ReuseMode::kReuse : ReuseMode::kFresh;
           return OkStatus();
         }},
        {kM, "timeout_ms", Type::kMillis, "deadline of one call",
         Duration(1, InModule(&M::call_timeout))},
        {kM, "max_memory_bytes", Type::kBytes,
         "linear memory cap; 0: the engine's",
         ByteSize(0,
                  [](Target& t) -> uint64_t& {
                    return t.module->options.limits.max_memory_bytes;
                  })},
        {kM, "max_input_bytes", Type::kBytes, "input of one call",
         ByteSize(1, InModule(&M::max_input_bytes))},
        {kM, "max_output_bytes", Type::kBytes, "output of one call",
         ByteSize(1, InModule(&M::max_output_bytes))},
        {kM, "max_concurrent", Type::kInteger,
         "leased at once; 0: the pool's cap",
         Integer(0, InModule(&M::max_concurrent))},
        {kM, "min_hot", Type::kInteger, "hot instances kept regardless",
         Integer(0, InModule(&M::min_hot))},
        {kM, "max_uses", Type::kInteger, "reuse: calls before retiring",
         Integer(1, InModule(&M::max_uses))},
        {kM, "init_export", Type::kString,
         "export run once after instantiation",
         Text(
             [](Target& t) -> std::string& {
               return t.module->options.limits.init_export;
             },
             /*empty_ok=*/true)},
        {kM, "snapshot", Type::kBoolOrString,
         "pre-initialise: true, false or an init function", SetSnapshot},
        {kM, "args", Type::kStrings, "WASI argv[1..] of a command",
         [](const Value& value, Target& t) -> Status {
           t.module->options.wasi.args =
               std::get<std::vector<std::string>>(value);
           return OkStatus();
         }},
        {kM, "env", Type::kStrings, "WASI environment, KEY=VALUE strings",
         SetWasiEnv},
    };
    return k;
  }();
  return *keys;
}

const Key* FindKey(std::string_view section, std::string_view name) {
  for (const Key& key : Keys()) {
    if (key.section == section && key.name == name) return &key;
  }
  return nullptr;
}

namespace {

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1,
                         diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

// "; did you mean 'x'?" for the one candidate `name` abbreviates, or the
// nearest within two edits; else "; expected one of a, b, c".
std::string Hint(std::string_view name,
                 const std::vector<std::string>& candidates,
                 std::string_view prefix) {
  const std::string* best = nullptr;
  int extensions = 0;
  for (const auto& c : candidates) {
    if (name.size() >= 3 && c.starts_with(name)) best = &c, ++extensions;
  }
  if (extensions != 1) {
    best = nullptr;
    size_t best_distance = 3;  // more edits than this is not a typo
    for (const auto& c : candidates) {
      size_t d = EditDistance(name, c);
      if (d < best_distance) best = &c, best_distance = d;
    }
  }
  if (best != nullptr) {
    return "; did you mean '" + std::string(prefix) + *best + "'?";
  }
  std::string all;
  for (const auto& c : candidates) all += (all.empty() ? "" : ", ") + c;
  return "; expected one of " + all;
}

std::vector<std::string> KeyNames(std::string_view section) {
  std::vector<std::string> names;
  for (const Key& key : Keys()) {
    if (key.section == section) names.push_back(key.name);
  }
  return names;
}

std::vector<std::string> SectionNames() {
  std::vector<std::string> names(std::begin(kPlainSections),
                                 std::end(kPlainSections));
  names.push_back(kExtractSection);
  names.push_back("modules");
  return names;
}

}  // namespace

Status UnknownKey(std::string_view section, std::string_view name,
                  std::string_view where, std::string_view table_section) {
  std::string prefix = std::string(section) + ".";
  return Status(
      ErrorCode::kInvalidArgument,
      "unknown key '" + prefix + std::string(name) + "' (" +
          std::string(where) + ")" +
          Hint(name, KeyNames(table_section.empty() ? section : table_section),
               prefix));
}

Status UnknownSection(std::string_view section, std::string_view where) {
  return Status(ErrorCode::kInvalidArgument,
                "unknown section '" + std::string(section) + "' (" +
                    std::string(where) + ")" +
                    Hint(section, SectionNames(), ""));
}

}  // namespace strata::server::config

namespace strata {

const std::vector<ServerConfigKey>& ServerConfigKeys() {
  static const std::vector<ServerConfigKey>* const keys = [] {
    auto* out = new std::vector<ServerConfigKey>;
    for (const server::config::Key& key : server::config::Keys()) {
      out->push_back(ServerConfigKey{
          key.section, key.name, server::config::TypeName(key.type), key.help});
    }
    return out;
  }();
  return *keys;
}

}  // namespace strata
