// Configuration of `strata serve`. One table of keys (Keys() below) serves
// all three sources (the TOML file, STRATA_<SECTION>_<KEY> environment
// variables and --set overrides): each source only turns its text or TOML
// node into a Value of the key's type, and the key's setter alone checks
// and stores it, so a key behaves the same wherever it is set.
#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "server/registry.h"
#include "strata/server.h"
#include "strata/wasi.h"

namespace strata {
namespace {

namespace fs = std::filesystem;

// How a key is written. Each type converts to one Value alternative:
// integers and durations to int64_t, bytes to uint64_t, floats to double,
// bools to bool, strings and paths to std::string, arrays to
// std::vector<std::string>; kBoolOrString to bool or std::string.
enum class Type {
  kString,
  kPath,
  kInteger,
  kBytes,
  kMillis,
  kSeconds,
  kFloat,
  kBool,
  kStrings,
  kBoolOrString,
};

using Value = std::variant<int64_t, uint64_t, double, bool, std::string,
                           std::vector<std::string>>;

const char* TypeName(Type type) {
  switch (type) {
    case Type::kString:
      return "string";
    case Type::kPath:
      return "path";
    case Type::kInteger:
      return "integer";
    case Type::kBytes:
      return "bytes";
    case Type::kMillis:
      return "duration_ms";
    case Type::kSeconds:
      return "duration_s";
    case Type::kFloat:
      return "float";
    case Type::kBool:
      return "bool";
    case Type::kStrings:
      return "string array";
    case Type::kBoolOrString:
      return "bool or string";
  }
  return "?";
}

// What a value of `type` must look like, for "expected ..." messages.
const char* Expected(Type type) {
  switch (type) {
    case Type::kString:
      return "a string";
    case Type::kPath:
      return "a string (a path)";
    case Type::kInteger:
      return "an integer";
    case Type::kBytes:
      return "a byte size: an integer, or a string of digits and a unit B, "
             "K/KiB, M/MiB or G/GiB such as \"64MiB\"";
    case Type::kMillis:
      return "an integer number of milliseconds";
    case Type::kSeconds:
      return "an integer number of seconds";
    case Type::kFloat:
      return "a number";
    case Type::kBool:
      return "a boolean";
    case Type::kStrings:
      return "an array of strings";
    case Type::kBoolOrString:
      return "a boolean or a string (an init function's name)";
  }
  return "?";
}

// Where a setter writes: the configuration, the module of a
// modules.NAME key, and the directory relative paths resolve against.
struct Target {
  ServerConfig& config;
  ServedModule* module;
  const fs::path& base_dir;
};

// Checks and stores one value. A non-OK Status carries only the reason
// ("must be at least 1"); the caller adds the key, the value and the source.
using Setter = std::function<Status(const Value&, Target&)>;

struct Key {
  const char* section;  // "modules.NAME" for a module's keys
  const char* name;
  Type type;
  const char* help;
  Setter set;           // null for extract.ENGINE, which has its own code
  bool secret = false;  // its value never appears in a message
};

Status Reason(std::string why) {
  return Status(ErrorCode::kInvalidArgument, std::move(why));
}

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
Setter ByteSize(uint64_t min, Field field) {
  return [min, field](const Value& value, Target& t) -> Status {
    auto& out = field(t);
    using T = std::remove_reference_t<decltype(out)>;
    uint64_t n = std::get<uint64_t>(value);
    if (n < min) return Reason("must be at least " + FormatBytes(min));
    if constexpr (sizeof(T) < sizeof(uint64_t)) {
      if (n > std::numeric_limits<T>::max()) {
        return Reason("must be at most " +
                      std::to_string(std::numeric_limits<T>::max()));
      }
    }
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

constexpr const char* kModuleSection = "modules.NAME";
constexpr const char* kExtractSection = "extract";
// The sections whose keys STRATA_<SECTION>_<KEY> variables may set.
constexpr const char* kPlainSections[] = {"server", "access_log", "engine",
                                          "pool"};

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
        {"server", "io_threads", Type::kInteger, "threads reading requests",
         Integer(1, In(kHttp, &H::io_threads))},
        {"server", "workers", Type::kInteger,
         "threads running calls; 0: one per core",
         Integer(0, In(kHttp, &H::workers))},
        {"server", "queue_limit", Type::kInteger,
         "calls waiting for a worker; past it 503",
         Integer(1, In(kHttp, &H::queue_limit))},
        {"server", "max_connections", Type::kInteger,
         "open connections; past it 503 and close",
         Integer(1, In(kHttp, &H::max_connections))},
        {"server", "max_header_bytes", Type::kBytes,
         "request headers; past it 431",
         ByteSize(1024, In(kHttp, &H::max_header_bytes))},
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
        {"server", "shutdown_grace_ms", Type::kMillis,
         "time calls get to finish on SIGTERM",
         Duration(0, In(kHttp, &H::shutdown_grace))},
        {"server", "retry_after_s", Type::kInteger, "Retry-After of a 503",
         Integer(0, In(kHttp, &H::retry_after_s))},
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

// `section` as written ("modules.a"), `table_section` as in Keys()
// ("modules.NAME").
Status UnknownKey(std::string_view section, std::string_view name,
                  std::string_view where, std::string_view table_section = {}) {
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

std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// `where` without `value`, for sources such as "--set server.admin_token=..."
// that would otherwise carry it: the "=VALUE" at its end becomes "=...";
// with `everywhere` (a secret), any other occurrence becomes "***" too.
std::string Redact(std::string where, std::string_view value,
                   bool everywhere = false) {
  if (value.empty()) return where;
  std::string suffix = "=" + std::string(value);
  if (where.size() >= suffix.size() &&
      where.compare(where.size() - suffix.size(), suffix.size(), suffix) == 0) {
    where.replace(where.size() - value.size(), value.size(), "...");
  }
  if (!everywhere) return where;
  for (size_t at = where.find(value); at != std::string::npos;
       at = where.find(value, at + 3)) {
    where.replace(at, value.size(), "***");
  }
  return where;
}

std::string Shown(const Key& key, std::string_view shown, size_t length) {
  if (!key.secret) return std::string(shown);
  return "<hidden, " + std::to_string(length) + " characters>";
}

// "server.io_threads = 0 (strata.toml:3:14): must be at least 1".
Status ValueError(std::string_view full_name, std::string_view shown,
                  std::string_view where, std::string_view reason) {
  return Status(ErrorCode::kInvalidArgument,
                std::string(full_name) + " = " + std::string(shown) + " (" +
                    std::string(where) + "): " + std::string(reason));
}

// ---- Values from text (environment, --set) -------------------------------

Result<int64_t> ParseInteger(std::string_view text) {
  int64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || end != text.data() + text.size() ||
      ec == std::errc::invalid_argument) {
    return Reason("expected an integer");
  }
  if (ec == std::errc::result_out_of_range) {
    return Reason("out of range of a 64-bit integer");
  }
  return n;
}

Result<uint64_t> ParseBytes(std::string_view text) {
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') {
    ++digits;
  }
  if (digits == 0) {
    return Reason(std::string("expected ") + Expected(Type::kBytes));
  }
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + digits, n);
  if (ec == std::errc::result_out_of_range) {
    return Reason("too large: past 2^64 bytes");
  }
  std::string_view unit = text.substr(digits);
  if (unit.starts_with(' ') && unit.size() > 1) unit.remove_prefix(1);
  uint64_t scale = 0;
  if (unit.empty() || unit == "B") {
    scale = 1;
  } else if (unit == "K" || unit == "KiB") {
    scale = uint64_t{1} << 10;
  } else if (unit == "M" || unit == "MiB") {
    scale = uint64_t{1} << 20;
  } else if (unit == "G" || unit == "GiB") {
    scale = uint64_t{1} << 30;
  } else {
    return Reason("unknown unit '" + std::string(unit) +
                  "'; expected B, K/KiB, M/MiB or G/GiB (binary multiples)");
  }
  if (n > std::numeric_limits<uint64_t>::max() / scale) {
    return Reason("too large: past 2^64 bytes");
  }
  return n * scale;
}

Result<double> ParseFloat(std::string_view text) {
  double x = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), x);
  if (text.empty() || end != text.data() + text.size() || ec != std::errc()) {
    return Reason("expected a number");
  }
  return x;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::optional<bool> ParseBool(std::string_view text) {
  if (EqualsIgnoreCase(text, "true") || text == "1") return true;
  if (EqualsIgnoreCase(text, "false") || text == "0") return false;
  return std::nullopt;
}

Result<Value> FromToml(const toml::node& node, Type type);

// `array_syntax`: whether a TOML array literal may give an array (--set);
// the environment has no way to write one.
Result<Value> FromText(std::string_view text, Type type, bool array_syntax) {
  switch (type) {
    case Type::kString:
    case Type::kPath:
      return Value(std::string(text));
    case Type::kInteger:
    case Type::kMillis:
    case Type::kSeconds: {
      auto n = ParseInteger(text);
      if (!n.ok()) return n.status();
      return Value(*n);
    }
    case Type::kBytes: {
      auto n = ParseBytes(text);
      if (!n.ok()) return n.status();
      return Value(*n);
    }
    case Type::kFloat: {
      auto x = ParseFloat(text);
      if (!x.ok()) return x.status();
      return Value(*x);
    }
    case Type::kBool: {
      auto b = ParseBool(text);
      if (!b) return Reason("expected true, false, 1 or 0");
      return Value(*b);
    }
    case Type::kBoolOrString: {
      if (text == "true") return Value(true);
      if (text == "false") return Value(false);
      return Value(std::string(text));
    }
    case Type::kStrings: {
      if (!array_syntax) {
        return Reason("an array cannot be set from the environment");
      }
      const char* kHow =
          "expected a TOML array of strings, e.g. [\"-v\", \"x\"]";
      if (!text.starts_with('[')) return Reason(kHow);
      std::string doc = "v = " + std::string(text);
#if TOML_EXCEPTIONS
      toml::table root;
      try {
        root = toml::parse(doc);
      } catch (const toml::parse_error&) {
        return Reason(kHow);
      }
#else
      auto parsed = toml::parse(doc);
      if (!parsed) return Reason(kHow);
      toml::table root = std::move(parsed).table();
#endif
      // One key: anything else means the text closed the array early.
      const toml::node* v = root.get("v");
      if (root.size() != 1 || v == nullptr) return Reason(kHow);
      return FromToml(*v, Type::kStrings);
    }
  }
  return Reason("unsupported type");
}

// ---- Values from TOML -------------------------------------------------------

const char* NodeTypeName(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::table:
      return "a table";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

std::string RenderFull(const toml::node& node) {
  if (node.is_table()) return "{...}";
  if (const auto* s = node.as_string()) return Quote(s->get());
  if (const auto* array = node.as_array()) {
    std::string out = "[";
    for (size_t i = 0; i < array->size(); ++i) {
      out += (i == 0 ? "" : ", ") + RenderFull(*array->get(i));
    }
    return out + "]";
  }
  std::ostringstream os;
  node.visit([&os](const auto& n) { os << n; });
  return os.str();
}

// The node as written in TOML (strings double-quoted as the other sources
// show them), shortened to fit a message.
std::string Render(const toml::node& node) {
  std::string text = RenderFull(node);
  if (text.size() > 80) text = text.substr(0, 77) + "...";
  return text;
}

Status WrongType(const toml::node& node, Type type) {
  return Reason(std::string("expected ") + Expected(type) + ", got " +
                NodeTypeName(node));
}

Result<Value> FromToml(const toml::node& node, Type type) {
  switch (type) {
    case Type::kString:
    case Type::kPath:
      if (const auto* s = node.as_string()) return Value(s->get());
      break;
    case Type::kInteger:
    case Type::kMillis:
    case Type::kSeconds:
      if (const auto* n = node.as_integer()) return Value(n->get());
      break;
    case Type::kBytes:
      if (const auto* n = node.as_integer()) {
        if (n->get() < 0) return Reason("must not be negative");
        return Value(static_cast<uint64_t>(n->get()));
      }
      if (const auto* s = node.as_string()) {
        auto bytes = ParseBytes(s->get());
        if (!bytes.ok()) return bytes.status();
        return Value(*bytes);
      }
      break;
    case Type::kFloat:
      if (const auto* x = node.as_floating_point()) return Value(x->get());
      // `sample = 1` means 1.0; TOML would otherwise demand "1.0".
      if (const auto* n = node.as_integer()) {
        return Value(static_cast<double>(n->get()));
      }
      break;
    case Type::kBool:
      if (const auto* b = node.as_boolean()) return Value(b->get());
      break;
    case Type::kBoolOrString:
      if (const auto* b = node.as_boolean()) return Value(b->get());
      if (const auto* s = node.as_string()) return Value(s->get());
      break;
    case Type::kStrings:
      if (const auto* array = node.as_array()) {
        std::vector<std::string> items;
        for (size_t i = 0; i < array->size(); ++i) {
          const auto* s = array->get(i)->as_string();
          if (s == nullptr) {
            return Reason("element " + std::to_string(i) +
                          ": expected a string, got " +
                          NodeTypeName(*array->get(i)));
          }
          items.push_back(s->get());
        }
        return Value(std::move(items));
      }
      break;
  }
  return WrongType(node, type);
}

std::string Where(const std::string& source_name,
                  const toml::source_region& region) {
  return (source_name.empty() ? std::string("<toml>") : source_name) + ":" +
         std::to_string(region.begin.line) + ":" +
         std::to_string(region.begin.column);
}

// ---- Applying ------------------------------------------------------------

// Where each module was first named, for the "no path" error at the end.
using Origins = std::map<std::string, std::string>;

Status CheckModuleName(std::string_view name, std::string_view where) {
  if (server::ValidModuleName(name)) return OkStatus();
  return Status(ErrorCode::kInvalidArgument,
                "module name " + Quote(name) + " (" + std::string(where) +
                    "): " + server::kModuleNameRule);
}

ServedModule* FindModule(ServerConfig& config, std::string_view name) {
  for (auto& m : config.modules) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

// Runs `key`'s setter on the converted value (or takes the conversion's
// error) and words a failure with the key, the value as `shown` and
// `where`; `raw_length` is what a secret's message shows instead.
Status Assign(const Key& key, const std::string& full_name,
              const Result<Value>& value, std::string_view shown,
              size_t raw_length, const std::string& where, Target target) {
  Status status = value.ok() ? key.set(value.value(), target) : value.status();
  if (status.ok()) return status;
  return ValueError(full_name, Shown(key, shown, raw_length), where,
                    status.message());
}

// Sets one modules.NAME key, creating the module if needed, so that a
// failed assignment leaves `config` as it was.
Status AssignModuleKey(ServerConfig& config, const std::string& name,
                       const Key& key, const Result<Value>& value,
                       std::string_view shown, size_t raw_length,
                       const std::string& where, const fs::path& base_dir,
                       Origins* origins) {
  ServedModule* existing = FindModule(config, name);
  ServedModule module;
  if (existing != nullptr) {
    module = *existing;
  } else {
    module.name = name;
  }
  Status s = Assign(key, "modules." + name + "." + key.name, value, shown,
                    raw_length, where, Target{config, &module, base_dir});
  if (!s.ok()) return s;
  if (existing != nullptr) {
    *existing = std::move(module);
  } else {
    config.modules.push_back(std::move(module));
    if (origins != nullptr) origins->emplace(name, where);
  }
  return OkStatus();
}

// extract.ENGINE = MODULE; an empty module removes the engine's entry.
Status AssignExtract(ServerConfig& config, std::string_view engine,
                     std::string_view module, const std::string& where) {
  std::string full_name = "extract." + std::string(engine);
  if (engine.empty()) {
    return ValueError(full_name, Quote(module), where,
                      "the engine name is empty");
  }
  auto& entries = config.extract_modules;
  auto it = std::find_if(entries.begin(), entries.end(),
                         [&](const auto& e) { return e.first == engine; });
  if (module.empty()) {
    if (it != entries.end()) entries.erase(it);
    return OkStatus();
  }
  if (!server::ValidModuleName(module)) {
    return ValueError(full_name, Quote(module), where,
                      std::string("a module name ") + server::kModuleNameRule);
  }
  if (it != entries.end()) {
    it->second = module;
  } else {
    entries.emplace_back(std::string(engine), std::string(module));
  }
  return OkStatus();
}

Status ApplyTomlSection(ServerConfig& config, std::string_view section,
                        const toml::table& table,
                        const std::string& source_name,
                        const fs::path& base_dir) {
  for (const auto& [k, node] : table) {
    const Key* key = FindKey(section, k.str());
    if (key == nullptr) {
      return UnknownKey(section, k.str(), Where(source_name, k.source()));
    }
    const auto* s = node.as_string();
    Status status = Assign(
        *key, std::string(section) + "." + key->name, FromToml(node, key->type),
        Render(node), s != nullptr ? s->get().size() : 0,
        Where(source_name, node.source()), Target{config, nullptr, base_dir});
    if (!status.ok()) return status;
  }
  return OkStatus();
}

Status ApplyTomlModules(ServerConfig& config, const toml::table& modules,
                        const std::string& source_name,
                        const fs::path& base_dir, Origins* origins) {
  for (const auto& [name_key, node] : modules) {
    const std::string name(name_key.str());
    const std::string where = Where(source_name, name_key.source());
    if (Status s = CheckModuleName(name, where); !s.ok()) {
      return s;
    }
    const auto* table = node.as_table();
    if (table == nullptr) {
      return Status(ErrorCode::kInvalidArgument,
                    "modules." + name + " (" + where +
                        "): expected a table ([modules." + name + "]), got " +
                        NodeTypeName(node));
    }
    // Registered even when empty, so that a table without keys reports its
    // missing path rather than vanishing.
    if (FindModule(config, name) == nullptr) {
      config.modules.push_back(ServedModule{name, {}, {}});
      if (origins != nullptr) origins->emplace(name, where);
    }
    for (const auto& [k, value] : *table) {
      const Key* key = FindKey(kModuleSection, k.str());
      if (key == nullptr) {
        return UnknownKey("modules." + name, k.str(),
                          Where(source_name, k.source()), kModuleSection);
      }
      const auto* s = value.as_string();
      Status status = AssignModuleKey(
          config, name, *key, FromToml(value, key->type), Render(value),
          s != nullptr ? s->get().size() : 0,
          Where(source_name, value.source()), base_dir, origins);
      if (!status.ok()) return status;
    }
  }
  return OkStatus();
}

Status ApplyToml(ServerConfig& config, std::string_view text,
                 const std::string& source_name, const fs::path& base_dir,
                 Origins* origins) {
  toml::table root;
#if TOML_EXCEPTIONS
  try {
    root = toml::parse(text, source_name);
  } catch (const toml::parse_error& error) {
    return Status(ErrorCode::kInvalidArgument,
                  "invalid TOML (" + Where(source_name, error.source()) +
                      "): " + std::string(error.description()));
  }
#else
  auto parsed = toml::parse(text, source_name);
  if (!parsed) {
    return Status(ErrorCode::kInvalidArgument,
                  "invalid TOML (" +
                      Where(source_name, parsed.error().source()) +
                      "): " + std::string(parsed.error().description()));
  }
  root = std::move(parsed).table();
#endif
  for (const auto& [k, node] : root) {
    const std::string section(k.str());
    const std::string where = Where(source_name, k.source());
    bool plain = std::find(std::begin(kPlainSections), std::end(kPlainSections),
                           section) != std::end(kPlainSections);
    if (!plain && section != kExtractSection && section != "modules") {
      return UnknownSection(section, where);
    }
    const auto* table = node.as_table();
    if (table == nullptr) {
      return Status(ErrorCode::kInvalidArgument,
                    "section '" + section + "' (" + where +
                        "): expected a table ([" + section + "]), got " +
                        NodeTypeName(node));
    }
    Status status;
    if (plain) {
      status = ApplyTomlSection(config, section, *table, source_name, base_dir);
    } else if (section == "modules") {
      status = ApplyTomlModules(config, *table, source_name, base_dir, origins);
    } else {
      for (const auto& [engine, value] : *table) {
        const auto* module = value.as_string();
        const std::string value_where = Where(source_name, value.source());
        if (module == nullptr) {
          status = ValueError("extract." + std::string(engine.str()),
                              Render(value), value_where,
                              std::string("expected a string (a module "
                                          "name), got ") +
                                  NodeTypeName(value));
        } else {
          status =
              AssignExtract(config, engine.str(), module->get(), value_where);
        }
        if (!status.ok()) break;
      }
    }
    if (!status.ok()) return status;
  }
  return OkStatus();
}

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

Status ApplyEnvironment(ServerConfig& config,
                        const std::vector<std::string>& environment,
                        const fs::path& cwd) {
  constexpr std::string_view kPrefix = "STRATA_";
  for (const std::string& entry : environment) {
    size_t eq = entry.find('=');
    if (eq == std::string::npos) continue;  // not an assignment
    std::string_view name = std::string_view(entry).substr(0, eq);
    std::string_view text = std::string_view(entry).substr(eq + 1);
    if (!name.starts_with(kPrefix)) continue;
    std::string_view rest = name.substr(kPrefix.size());
    for (const char* section : kPlainSections) {
      const std::string section_prefix = Upper(section) + "_";
      if (!rest.starts_with(section_prefix)) continue;
      std::string_view key_upper = rest.substr(section_prefix.size());
      const Key* key = nullptr;
      for (const Key& k : Keys()) {
        if (k.section == std::string_view(section) &&
            Upper(k.name) == key_upper) {
          key = &k;
          break;
        }
      }
      const std::string where = "environment variable " + std::string(name);
      if (key == nullptr) return UnknownKey(section, Lower(key_upper), where);
      Status status = Assign(*key, std::string(section) + "." + key->name,
                             FromText(text, key->type, false), Quote(text),
                             text.size(), where, Target{config, nullptr, cwd});
      if (!status.ok()) return status;
      break;
    }
  }
  return OkStatus();
}

Status ApplyOverride(ServerConfig& config, std::string_view assignment,
                     const std::string& where, const fs::path& cwd,
                     Origins* origins) {
  size_t eq = assignment.find('=');
  std::string_view path = assignment.substr(0, eq);
  size_t dot = path.find('.');
  if (eq == std::string_view::npos || dot == std::string_view::npos ||
      dot == 0 || dot + 1 == path.size()) {
    return Status(ErrorCode::kInvalidArgument,
                  "override " + Quote(assignment) + " (" + where +
                      "): expected SECTION.KEY=VALUE, e.g. "
                      "server.listen=0.0.0.0:8080");
  }
  std::string_view text = assignment.substr(eq + 1);
  std::string_view section = path.substr(0, dot);
  std::string_view name = path.substr(dot + 1);
  if (section == kExtractSection) {
    return AssignExtract(config, name, text, where);
  }
  if (section == "modules") {
    // The key is after the last dot: module names may hold dots.
    size_t last = name.rfind('.');
    if (last == std::string_view::npos || last == 0 ||
        last + 1 == name.size()) {
      return Status(ErrorCode::kInvalidArgument,
                    "override " + Quote(assignment) + " (" + where +
                        "): expected modules.NAME.KEY=VALUE");
    }
    const std::string module(name.substr(0, last));
    std::string_view key_name = name.substr(last + 1);
    if (Status s = CheckModuleName(module, where); !s.ok()) {
      return s;
    }
    const Key* key = FindKey(kModuleSection, key_name);
    if (key == nullptr) {
      return UnknownKey("modules." + module, key_name, Redact(where, text),
                        kModuleSection);
    }
    return AssignModuleKey(config, module, *key,
                           FromText(text, key->type, true), Quote(text),
                           text.size(), where, cwd, origins);
  }
  bool plain = std::find(std::begin(kPlainSections), std::end(kPlainSections),
                         section) != std::end(kPlainSections);
  if (!plain) return UnknownSection(section, Redact(where, text));
  const Key* key = FindKey(section, name);
  if (key == nullptr) return UnknownKey(section, name, Redact(where, text));
  return Assign(*key, std::string(path), FromText(text, key->type, true),
                Quote(text), text.size(),
                key->secret ? Redact(where, text, true) : where,
                Target{config, nullptr, cwd});
}

// What no single assignment can check: every module got a path.
Status Validate(const ServerConfig& config, const Origins& origins) {
  for (const auto& module : config.modules) {
    if (!module.path.empty()) continue;
    auto origin = origins.find(module.name);
    std::string where = origin != origins.end() ? origin->second : "";
    return Status(ErrorCode::kInvalidArgument,
                  "module '" + module.name + "'" +
                      (where.empty() ? "" : " (" + where + ")") +
                      " has no path; set modules." + module.name + ".path");
  }
  return OkStatus();
}

fs::path CurrentDir() {
  std::error_code ec;
  fs::path cwd = fs::current_path(ec);
  return ec ? fs::path() : cwd;  // empty: relative paths stay relative
}

Result<std::string> ReadConfigFile(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    if (ec) {
      return Status(ErrorCode::kIo, "configuration file '" + path.string() +
                                        "': " + ec.message());
    }
    return Status(ErrorCode::kNotFound,
                  "configuration file '" + path.string() + "' not found");
  }
  if (fs::is_directory(path, ec)) {
    return Status(ErrorCode::kIo,
                  "configuration file '" + path.string() + "' is a directory");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status(ErrorCode::kIo, "cannot read configuration file '" +
                                      path.string() +
                                      "': " + std::strerror(errno));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    return Status(ErrorCode::kIo,
                  "error reading configuration file '" + path.string() + "'");
  }
  return text.str();
}

}  // namespace

const std::vector<ServerConfigKey>& ServerConfigKeys() {
  static const std::vector<ServerConfigKey>* const keys = [] {
    auto* out = new std::vector<ServerConfigKey>;
    for (const Key& key : Keys()) {
      out->push_back(
          ServerConfigKey{key.section, key.name, TypeName(key.type), key.help});
    }
    return out;
  }();
  return *keys;
}

Result<ServerConfig> LoadServerConfig(
    const std::filesystem::path& toml_path,
    const std::vector<std::string>& overrides,
    const std::vector<std::string>& environment) {
  ServerConfig config;
  Origins origins;
  const fs::path cwd = CurrentDir();
  if (!toml_path.empty()) {
    auto text = ReadConfigFile(toml_path);
    if (!text.ok()) return text.status();
    const fs::path base_dir =
        (toml_path.is_absolute() || cwd.empty() ? toml_path : cwd / toml_path)
            .lexically_normal()
            .parent_path();
    if (Status s =
            ApplyToml(config, *text, toml_path.string(), base_dir, &origins);
        !s.ok()) {
      return s;
    }
  }
  if (Status s = ApplyEnvironment(config, environment, cwd); !s.ok()) {
    return s;
  }
  for (const std::string& assignment : overrides) {
    if (Status s = ApplyOverride(config, assignment, "--set " + assignment, cwd,
                                 &origins);
        !s.ok()) {
      return s;
    }
  }
  if (Status s = Validate(config, origins); !s.ok()) return s;
  return config;
}

Result<ServerConfig> ParseServerConfig(std::string_view toml,
                                       const std::string& source_name,
                                       const std::filesystem::path& base_dir) {
  ServerConfig config;
  Origins origins;
  if (Status s = ApplyToml(config, toml, source_name, base_dir, &origins);
      !s.ok()) {
    return s;
  }
  if (Status s = Validate(config, origins); !s.ok()) return s;
  return config;
}

Status ApplyConfigOverride(ServerConfig& config, std::string_view assignment,
                           const std::string& source_name) {
  const std::string where =
      source_name.empty() ? "--set " + std::string(assignment) : source_name;
  return ApplyOverride(config, assignment, where, CurrentDir(), nullptr);
}

}  // namespace strata
