#include "server/routes.h"

#include <openssl/crypto.h>

#include <boost/url/parse.hpp>
#include <charconv>
#include <nlohmann/json.hpp>
#include <optional>

#include "internal/sha256.h"

namespace strata::server {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// The parts of a request target routes look at.
struct Target {
  std::vector<std::string> segments;  // decoded
  std::vector<std::pair<std::string, std::string>> params;  // decoded
  std::string path;

  const std::string* Param(std::string_view key) const {
    for (const auto& [k, v] : params) {
      if (k == key) return &v;
    }
    return nullptr;
  }
};

std::optional<Target> ParseTarget(std::string_view target) {
  auto url = boost::urls::parse_origin_form(target);
  if (!url) return std::nullopt;
  Target t;
  t.path = std::string(url->encoded_path());
  for (auto segment : url->segments()) t.segments.push_back(segment);
  for (auto param : url->params()) {
    t.params.emplace_back(param.key, param.has_value ? param.value : "");
  }
  return t;
}

Bytes ToBytes(std::string_view s) { return Bytes(s.begin(), s.end()); }

Response MakeReply(http::status status, unsigned version, Bytes body,
               std::string_view content_type) {
  Response res{status, version};
  res.set(http::field::server, "strata");
  res.set(http::field::content_type, content_type);
  res.body() = std::move(body);
  return res;
}

Response JsonReply(http::status status, unsigned version,
                   const nlohmann::json& json) {
  std::string text =
      json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
  text += '\n';
  return MakeReply(status, version, ToBytes(text), "application/json");
}

Response TextReply(http::status status, unsigned version,
                   std::string_view text) {
  return MakeReply(status, version, ToBytes(text), "text/plain; charset=utf-8");
}

// Status codes for errors of the pool and the guest, by when they happen:
// while getting an instance (capacity: 503, the guest's start-up: 422) or
// during the call (deadline: 504, the guest's fault: 422).
http::status AcquireStatus(ErrorCode code) {
  switch (code) {
    case ErrorCode::kNotFound:
      return http::status::not_found;
    case ErrorCode::kMemoryLimit:
    case ErrorCode::kPoolExhausted:
    case ErrorCode::kDeadlineExceeded:
    case ErrorCode::kShutdown:
      return http::status::service_unavailable;
    case ErrorCode::kCompile:
    case ErrorCode::kLink:
    case ErrorCode::kInstantiate:
    case ErrorCode::kTrap:
      return http::status::unprocessable_entity;
    case ErrorCode::kInvalidArgument:
      return http::status::bad_request;
    default:
      return http::status::internal_server_error;
  }
}

http::status CallStatus(ErrorCode code) {
  switch (code) {
    case ErrorCode::kDeadlineExceeded:
      return http::status::gateway_timeout;
    case ErrorCode::kTrap:
    case ErrorCode::kMemoryLimit:
    case ErrorCode::kOutputTooLarge:
    case ErrorCode::kGuestExit:
    case ErrorCode::kInstantiate:
      return http::status::unprocessable_entity;
    case ErrorCode::kInvalidArgument:
      return http::status::bad_request;
    case ErrorCode::kShutdown:
      return http::status::service_unavailable;
    default:
      return http::status::internal_server_error;
  }
}

Response StatusReply(http::status http_status, const Status& status,
                     unsigned version, uint32_t retry_after_s) {
  return ErrorReply(http_status, ErrorCodeName(status.code()),
                    status.message(), version, retry_after_s);
}

// A non-negative decimal integer, all of `text`.
std::optional<uint64_t> ParseUint(std::string_view text) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(),
                                   value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    return std::nullopt;
  }
  return value;
}

std::optional<bool> ParseBool(std::string_view text) {
  if (text == "true" || text == "1") return true;
  if (text == "false" || text == "0") return false;
  return std::nullopt;
}

std::string Joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? "none" : out;
}

// --- Calls ---

struct CallSpec {
  std::shared_ptr<const ServedModuleRecord> module;
  std::string export_name;
  Bytes input;
  milliseconds timeout{0};  // 0: the module's call_timeout
  std::vector<std::string> args;  // a command's, after the module's own
  bool json_output = false;
};

// Runs on a worker: an instance within what is left of the acquire
// timeout, then the call under its deadline.
Response RunCall(ServerContext& cx, const CallSpec& spec, TimePoint arrived,
                 unsigned version, Exchange& ex) {
  const HttpOptions& o = cx.config.http;
  const std::string& name = spec.module->name;
  auto waited =
      std::chrono::duration_cast<milliseconds>(Clock::now() - arrived);
  milliseconds left = o.acquire_timeout - waited;
  if (left.count() <= 0) {
    return ErrorReply(http::status::service_unavailable, "pool_exhausted",
                      "module '" + name + "': waited " +
                          std::to_string(waited.count()) +
                          " ms for a worker, over server.acquire_timeout_ms " +
                          std::to_string(o.acquire_timeout.count()),
                      version, o.retry_after_s);
  }
  auto lease = cx.pool->Acquire(name, left);
  if (!lease.ok()) {
    http::status status = AcquireStatus(lease.status().code());
    return StatusReply(status, lease.status(), version,
                       status == http::status::service_unavailable
                           ? o.retry_after_s
                           : 0);
  }
  ex.served_from = ServedFromName(lease->served_from());

  if (spec.module->convention == CallingConvention::kCommand) {
    CommandRequest request;
    request.stdin_bytes = spec.input;
    request.wasi.args = spec.args;
    request.timeout = spec.timeout;
    request.max_stdout_bytes = spec.module->options.max_output_bytes;
    auto out = lease->RunCommand(std::move(request));
    if (!out.ok()) {
      return StatusReply(CallStatus(out.status().code()), out.status(),
                         version, 0);
    }
    Response res{http::status::ok, version};
    if (out->exit_code != 0) {
      auto text = [](const Bytes& b) { return std::string(b.begin(), b.end()); };
      res = JsonReply(http::status::unprocessable_entity, version,
                      {{"error", "guest_exit"},
                       {"message", "module '" + name + "' exited with code " +
                                       std::to_string(out->exit_code)},
                       {"exit_code", out->exit_code},
                       {"stderr", text(out->stderr_bytes)},
                       {"stdout", text(out->stdout_bytes)}});
    } else {
      res = MakeReply(http::status::ok, version, std::move(out->stdout_bytes),
                  "application/octet-stream");
    }
    res.set("X-Strata-Exit-Code", std::to_string(out->exit_code));
    res.set("X-Strata-Served-From", ex.served_from);
    return res;
  }

  auto out = lease->Call(spec.export_name, spec.input, spec.timeout);
  if (!out.ok()) {
    return StatusReply(CallStatus(out.status().code()), out.status(), version,
                       0);
  }
  Response res = MakeReply(http::status::ok, version, std::move(*out),
                       spec.json_output ? "application/json"
                                        : "application/octet-stream");
  res.set("X-Strata-Served-From", ex.served_from);
  return res;
}

// Puts `run` on the call queue; a full or closed queue is answered 503 now.
void Enqueue(ServerContext& cx, unsigned version, Exchange ex,
             std::function<Response(Exchange&)> run, const Reply& reply) {
  const HttpOptions& o = cx.config.http;
  auto draining = [&cx, version, ex, reply, &o] {
    cx.metrics.Rejected("draining");
    reply(ErrorReply(http::status::service_unavailable, "shutdown",
                     "the server is shutting down", version, o.retry_after_s),
          ex);
  };
  if (cx.draining.load()) return draining();
  Job job;
  job.run = [run = std::move(run), reply, ex]() mutable {
    Response res = run(ex);
    reply(std::move(res), std::move(ex));
  };
  job.cancel = draining;
  if (!cx.queue->TryPush(std::move(job))) {
    if (cx.draining.load()) return draining();
    cx.metrics.Rejected("queue_full");
    reply(ErrorReply(http::status::service_unavailable, "queue_full",
                     "the call queue is full: " +
                         std::to_string(cx.queue->limit()) +
                         " requests wait for a worker (server.queue_limit " +
                         std::to_string(o.queue_limit) + ")",
                     version, o.retry_after_s),
          ex);
  }
}

// The deadline a caller asked for: ?timeout_ms= or X-Strata-Timeout-Ms.
std::optional<milliseconds> RequestedTimeout(const Request& req,
                                             const Target& t,
                                             std::string* error) {
  std::string text;
  if (const std::string* p = t.Param("timeout_ms")) {
    text = *p;
  } else if (auto h = req.find("X-Strata-Timeout-Ms"); h != req.end()) {
    text = std::string(h->value());
  } else {
    return milliseconds(0);
  }
  auto value = ParseUint(text);
  if (!value || *value == 0 || *value > 86400000) {
    *error = "timeout_ms '" + text +
             "' is not a whole number of milliseconds from 1 to 86400000";
    return std::nullopt;
  }
  return milliseconds(*value);
}

void HandleCall(ServerContext& cx, Request& req, const Target& t,
                const std::string& name, const std::string& export_name,
                bool json_output, TimePoint arrived, Exchange ex,
                const Reply& reply) {
  unsigned v = req.version();
  auto module = cx.registry->Find(name);
  if (module == nullptr) {
    return reply(ErrorReply(http::status::not_found, "not_found",
                            "no module '" + name + "'", v),
                 ex);
  }
  const auto& exports = module->exports;
  if (std::find(exports.begin(), exports.end(), export_name) == exports.end()) {
    return reply(ErrorReply(http::status::not_found, "not_found",
                            "module '" + name + "' has no export '" +
                                export_name + "' (exports: " +
                                Joined(exports) + ")",
                            v),
                 ex);
  }
  CallSpec spec;
  spec.module = module;
  spec.export_name = export_name;
  spec.json_output = json_output;
  std::string error;
  auto timeout = RequestedTimeout(req, t, &error);
  if (!timeout) {
    return reply(ErrorReply(http::status::bad_request, "invalid_argument",
                            "module '" + name + "': " + error, v),
                 ex);
  }
  spec.timeout = *timeout;
  for (const auto& [key, value] : t.params) {
    if (key == "arg") spec.args.push_back(value);
  }
  if (!spec.args.empty() &&
      module->convention != CallingConvention::kCommand) {
    return reply(ErrorReply(http::status::bad_request, "invalid_argument",
                            "module '" + name +
                                "' is a reactor: ?arg= is for commands",
                            v),
                 ex);
  }
  if (json_output) {  // an extractor's input: the URL line, then the page
    const std::string* url = t.Param("url");
    std::string first = (url ? *url : "") + "\n";
    spec.input = ToBytes(first);
    spec.input.insert(spec.input.end(), req.body().begin(), req.body().end());
  } else {
    spec.input = std::move(req.body());
  }
  if (spec.input.size() > module->options.max_input_bytes) {
    return reply(ErrorReply(http::status::payload_too_large, "invalid_argument",
                            "module '" + name + "': input of " +
                                std::to_string(spec.input.size()) +
                                " bytes is over its max_input_bytes of " +
                                std::to_string(
                                    module->options.max_input_bytes),
                            v),
                 ex);
  }
  Enqueue(
      cx, v, std::move(ex),
      [&cx, spec = std::move(spec), arrived, v](Exchange& e) {
        return RunCall(cx, spec, arrived, v, e);
      },
      reply);
}

void HandleExtract(ServerContext& cx, Request& req, const Target& t,
                   TimePoint arrived, Exchange ex, const Reply& reply) {
  const std::string* engine = t.Param("engine");
  std::string wanted = engine ? *engine : "c";
  std::vector<std::string> engines;
  for (const auto& [e, module] : cx.config.extract_modules) {
    engines.push_back(e);
    if (e == wanted) {
      ex.module = module;
      ex.export_name = "extract";
      return HandleCall(cx, req, t, module, "extract", true, arrived, ex,
                        reply);
    }
  }
  reply(ErrorReply(http::status::bad_request, "invalid_argument",
                   "extract: unknown engine '" + wanted +
                       "' (serving: " + Joined(engines) + ")",
                   req.version()),
        ex);
}

// --- Registry views ---

nlohmann::json ModuleJson(ServerContext& cx, const ServedModuleRecord& r,
                          const ModuleMetrics* m) {
  nlohmann::json j = {
      {"name", r.name},
      {"convention", CallingConventionName(r.convention)},
      {"exports", r.exports},
      {"origin", r.origin},
      {"wasm_bytes", r.bytes},
      {"reuse", r.options.reuse == ReuseMode::kReuse},
      {"call_timeout_ms", r.options.call_timeout.count()},
      {"max_input_bytes", r.options.max_input_bytes}};
  nlohmann::json decisions = nlohmann::json::array();
  for (const Decision& d : cx.registry->Decisions(r.name)) {
    decisions.push_back({{"at", d.at}, {"kind", d.kind}, {"detail", d.detail}});
  }
  j["decisions"] = std::move(decisions);
  if (m == nullptr) return j;
  j["tier"] = TierName(m->tier);
  j["instances"] = {{"hot", m->hot},
                    {"in_use", m->in_use},
                    {"target_hot", m->target_hot}};
  j["rate_per_s"] = m->rate_per_s;
  for (int i = 0; i < kServedFromCount; ++i) {
    j["served"][ServedFromName(ServedFrom(i))] = m->served[i];
  }
  j["memory"] = {{"hot_resident_bytes", m->hot_resident_bytes},
                 {"code_bytes", m->code_bytes},
                 {"held_bytes", m->held_bytes},
                 {"instance_bytes", m->instance_bytes}};
  j["costs_ms"] = {{"instantiate", m->instantiate_ms},
                   {"load", m->load_ms},
                   {"compile", m->compile_ms}};
  j["counts"] = {{"promotions", m->promotions},
                 {"demotions", m->demotions},
                 {"evictions", m->evictions},
                 {"traps", m->traps},
                 {"timeouts", m->timeouts}};
  if (!m->snapshot_init.empty() || !m->snapshot_error.empty()) {
    j["snapshot"] = {{"bytes", m->snapshot_bytes},
                     {"init_func", m->snapshot_init},
                     {"error", m->snapshot_error}};
  }
  return j;
}

Response ListModules(ServerContext& cx, unsigned v,
                     const std::string* only) {
  PoolMetrics metrics = cx.pool->Metrics();
  auto metrics_of = [&](const std::string& name) -> const ModuleMetrics* {
    for (const auto& m : metrics.modules) {
      if (m.name == name) return &m;
    }
    return nullptr;
  };
  if (only != nullptr) {
    auto record = cx.registry->Find(*only);
    if (record == nullptr) {
      return ErrorReply(http::status::not_found, "not_found",
                        "no module '" + *only + "'", v);
    }
    return JsonReply(http::status::ok, v,
                     ModuleJson(cx, *record, metrics_of(*only)));
  }
  nlohmann::json modules = nlohmann::json::array();
  for (const auto& record : cx.registry->All()) {
    modules.push_back(ModuleJson(cx, *record, metrics_of(record->name)));
  }
  return JsonReply(http::status::ok, v,
                   {{"policy", cx.pool->policy().name()},
                    {"budget_bytes", metrics.budget_bytes},
                    {"used_bytes", metrics.used_bytes},
                    {"modules", std::move(modules)}});
}

// --- Administration ---

// Null when the request may administer; else the refusal.
std::optional<Response> CheckAdmin(const ServerContext& cx,
                                   const Request& req) {
  unsigned v = req.version();
  const std::string& token = cx.config.http.admin_token;
  if (token.empty()) {
    return ErrorReply(http::status::forbidden, "forbidden",
                      "admin routes are off: set server.admin_token (16 or "
                      "more characters) to enable them",
                      v);
  }
  std::string_view given;
  if (auto h = req.find(http::field::authorization); h != req.end()) {
    given = h->value();
  }
  constexpr std::string_view kBearer = "Bearer ";
  bool ok = false;
  if (given.starts_with(kBearer)) {
    // Digests have one length, so comparing them takes the same time
    // whatever was sent.
    auto want = internal::Sha256Hex(
        std::span(reinterpret_cast<const uint8_t*>(token.data()), token.size()));
    given.remove_prefix(kBearer.size());
    auto got = internal::Sha256Hex(
        std::span(reinterpret_cast<const uint8_t*>(given.data()), given.size()));
    ok = CRYPTO_memcmp(want.data(), got.data(), want.size()) == 0;
  }
  if (ok) return std::nullopt;
  Response res = ErrorReply(http::status::unauthorized, "unauthorized",
                            "admin routes need 'Authorization: Bearer <token>' "
                            "with the server's admin token",
                            v);
  res.set(http::field::www_authenticate, "Bearer");
  return res;
}

// Upload options from the query; an unknown or bad one is an error.
Result<ModuleOptions> UploadOptions(const Target& t, const std::string& name) {
  ModuleOptions o;
  auto bad = [&](const std::string& key, const std::string& value,
                 const char* want) {
    return Status(ErrorCode::kInvalidArgument,
                  "module '" + name + "': " + key + "='" + value +
                      "' is not " + want);
  };
  for (const auto& [key, value] : t.params) {
    if (key == "reuse") {
      auto b = ParseBool(value);
      if (!b) return bad(key, value, "true or false");
      o.reuse = *b ? ReuseMode::kReuse : ReuseMode::kFresh;
    } else if (key == "snapshot") {
      auto b = ParseBool(value);
      if (b) {
        if (*b) o.snapshot = "";
      } else {
        o.snapshot = value;  // the init function's name
      }
    } else {
      auto n = ParseUint(value);
      if (!n) return bad(key, value, "a whole number");
      if (key == "timeout_ms") {
        if (*n == 0) return bad(key, value, "at least 1");
        o.call_timeout = milliseconds(*n);
      } else if (key == "max_memory_bytes") {
        o.limits.max_memory_bytes = *n;
      } else if (key == "max_input_bytes") {
        o.max_input_bytes = *n;
      } else if (key == "max_output_bytes") {
        o.max_output_bytes = *n;
      } else if (key == "min_hot") {
        o.min_hot = static_cast<uint32_t>(*n);
      } else if (key == "max_concurrent") {
        o.max_concurrent = static_cast<uint32_t>(*n);
      } else {
        return Status(ErrorCode::kInvalidArgument,
                      "module '" + name + "': unknown option '" + key +
                          "' (reuse, snapshot, timeout_ms, max_memory_bytes, "
                          "max_input_bytes, max_output_bytes, min_hot, "
                          "max_concurrent)");
      }
    }
  }
  return o;
}

Response Upload(ServerContext& cx, const std::string& name, Bytes wasm,
                const ModuleOptions& options, unsigned v) {
  internal::MutexLock lock(cx.admin_mu);
  if (cx.registry->Find(name) != nullptr) {
    return ErrorReply(http::status::conflict, "already_exists",
                      "module '" + name +
                          "' is already registered; DELETE it first",
                      v);
  }
  auto compiled = cx.engine->Compile(name, wasm);
  if (!compiled.ok()) {
    return StatusReply(http::status::unprocessable_entity, compiled.status(),
                       v, 0);
  }
  auto record = std::make_shared<ServedModuleRecord>();
  record->name = name;
  record->convention = (*compiled)->convention();
  record->exports = CallableExports(**compiled);
  record->options = options;
  record->origin = "upload";
  record->bytes = wasm.size();
  if (record->convention == CallingConvention::kUnknown) {
    return ErrorReply(http::status::unprocessable_entity, "invalid_argument",
                      "module '" + name +
                          "' is neither a reactor (memory, strata_alloc, "
                          "(ptr, len) -> i64 exports) nor a WASI command "
                          "(_start)",
                      v);
  }
  Status added = cx.pool->AddModule(name, std::move(wasm), *compiled, options);
  if (!added.ok()) {
    return StatusReply(http::status::unprocessable_entity, added, v, 0);
  }
  nlohmann::json j = {{"name", name},
                      {"convention", CallingConventionName(record->convention)},
                      {"exports", record->exports}};
  cx.registry->Insert(std::move(record));
  Response res = JsonReply(http::status::created, v, j);
  res.set(http::field::location, "/v1/modules/" + name);
  return res;
}

Response Remove(ServerContext& cx, const std::string& name, unsigned v) {
  internal::MutexLock lock(cx.admin_mu);
  auto record = cx.registry->Find(name);
  if (record == nullptr) {
    return ErrorReply(http::status::not_found, "not_found",
                      "no module '" + name + "'", v);
  }
  // Out of the registry first, so new calls get 404 while leases drain.
  cx.registry->Erase(name);
  Status removed = cx.pool->RemoveModule(name, record->options.call_timeout);
  if (!removed.ok()) return StatusReply(http::status::internal_server_error,
                                        removed, v, 0);
  Response res{http::status::no_content, v};
  res.set(http::field::server, "strata");
  return res;
}

Response MethodNotAllowed(unsigned v, const char* allow) {
  Response res = ErrorReply(http::status::method_not_allowed,
                            "method_not_allowed",
                            std::string("allowed: ") + allow, v);
  res.set(http::field::allow, allow);
  return res;
}

}  // namespace

Response ErrorReply(http::status status, const std::string& code,
                    const std::string& message, unsigned version,
                    uint32_t retry_after_s) {
  Response res = JsonReply(status, version,
                           {{"error", code}, {"message", message}});
  if (status == http::status::service_unavailable) {
    res.set(http::field::retry_after, std::to_string(retry_after_s));
  }
  return res;
}

size_t BodyLimit(const ServerContext& cx,
                 const http::request_header<>& header) {
  bool upload = header.method() == http::verb::put &&
                header.target().starts_with("/v1/modules/");
  return upload ? cx.config.http.max_upload_bytes
                : cx.config.http.max_body_bytes;
}

void HandleRequest(ServerContext& cx, Request req, TimePoint arrived,
                   Reply reply) {
  unsigned v = req.version();
  http::verb method = req.method();
  Exchange ex;
  auto target = ParseTarget(req.target());
  if (!target) {
    return reply(ErrorReply(http::status::bad_request, "invalid_argument",
                            "malformed request target", v),
                 ex);
  }
  const auto& seg = target->segments;
  auto get_only = [&](auto answer) {
    if (method != http::verb::get) return reply(MethodNotAllowed(v, "GET"), ex);
    reply(answer(), ex);
  };

  if (seg.size() == 1 && seg[0] == "healthz") {
    ex.route = "healthz";
    return get_only([&] { return TextReply(http::status::ok, v, "ok\n"); });
  }
  if (seg.size() == 1 && seg[0] == "readyz") {
    ex.route = "readyz";
    return get_only([&] {
      return cx.draining.load()
                 ? ErrorReply(http::status::service_unavailable, "shutdown",
                              "draining", v, cx.config.http.retry_after_s)
                 : TextReply(http::status::ok, v, "ready\n");
    });
  }
  if (seg.size() == 1 && seg[0] == "metrics") {
    ex.route = "metrics";
    return get_only([&] {
      std::string text = cx.pool->Metrics().ToPrometheus() +
                         cx.metrics.ToPrometheus(cx.Gauges());
      return MakeReply(http::status::ok, v, ToBytes(text),
                   "text/plain; version=0.0.4; charset=utf-8");
    });
  }
  if (seg.size() == 2 && seg[0] == "v1" && seg[1] == "extract") {
    ex.route = "extract";
    if (method != http::verb::post) return reply(MethodNotAllowed(v, "POST"), ex);
    return HandleExtract(cx, req, *target, arrived, std::move(ex), reply);
  }
  if (seg.size() >= 2 && seg[0] == "v1" && seg[1] == "modules") {
    if (seg.size() == 2) {
      ex.route = "modules";
      return get_only([&] { return ListModules(cx, v, nullptr); });
    }
    const std::string& name = seg[2];
    ex.module = name;
    if (seg.size() == 5 && seg[3] == "call") {
      ex.route = "call";
      ex.export_name = seg[4];
      if (method != http::verb::post) {
        return reply(MethodNotAllowed(v, "POST"), ex);
      }
      return HandleCall(cx, req, *target, name, seg[4], false, arrived, ex,
                        reply);
    }
    if (seg.size() == 3) {
      ex.route = "module";
      if (method == http::verb::get) {
        return reply(ListModules(cx, v, &name), ex);
      }
      if (method != http::verb::put && method != http::verb::delete_) {
        return reply(MethodNotAllowed(v, "GET, PUT, DELETE"), ex);
      }
      ex.route = method == http::verb::put ? "upload" : "delete";
      if (auto refused = CheckAdmin(cx, req)) return reply(*refused, ex);
      if (!ValidModuleName(name)) {
        return reply(ErrorReply(http::status::bad_request, "invalid_argument",
                                "module name '" + name + "': " +
                                    kModuleNameRule,
                                v),
                     ex);
      }
      if (method == http::verb::delete_) {
        return Enqueue(
            cx, v, std::move(ex),
            [&cx, name, v](Exchange&) { return Remove(cx, name, v); }, reply);
      }
      auto options = UploadOptions(*target, name);
      if (!options.ok()) {
        return reply(StatusReply(http::status::bad_request, options.status(),
                                 v, 0),
                     ex);
      }
      if (req.body().empty()) {
        return reply(ErrorReply(http::status::bad_request, "invalid_argument",
                                "module '" + name +
                                    "': the body must be the .wasm (or .wat)",
                                v),
                     ex);
      }
      return Enqueue(
          cx, v, std::move(ex),
          [&cx, name, wasm = std::move(req.body()), options = *options,
           v](Exchange&) mutable {
            return Upload(cx, name, std::move(wasm), options, v);
          },
          reply);
    }
  }
  reply(ErrorReply(http::status::not_found, "not_found",
                   "no route for '" + target->path + "'", v),
        ex);
}

}  // namespace strata::server
