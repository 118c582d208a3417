// Calls: a guest call or an extract is checked on the I/O thread, then run
// on a worker: an instance within what is left of the acquire timeout, the
// call under its deadline, and the reply.
#include <algorithm>
#include <nlohmann/json.hpp>
#include <variant>

#include "server/handlers.h"

namespace strata::server {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

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

struct CallSpec {
  std::shared_ptr<const ServedModuleRecord> module;
  std::string export_name;
  Bytes input;
  milliseconds timeout{0};  // 0: the module's call_timeout
  std::vector<std::string> args;  // a command's, after the module's own
  bool json_output = false;
};

}  // namespace

std::variant<Lease, Response> AcquireLease(
    ServerContext& cx, const std::shared_ptr<const ServedModuleRecord>& module,
    TimePoint arrived, unsigned version, Exchange& ex) {
  const HttpOptions& o = cx.config.http;
  const std::string& name = module->name;
  // The module may have been removed, or replaced by an upload of another
  // convention, while the call waited for a worker.
  if (cx.registry->Find(name) != module) {
    return ErrorReply(http::status::not_found, "not_found",
                      "module '" + name +
                          "' was removed or replaced while this call waited",
                      version);
  }
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
  return std::move(*lease);
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

namespace {

// Runs on a worker: an instance within what is left of the acquire
// timeout, then the call under its deadline.
Response CallOnce(ServerContext& cx, const CallSpec& spec, TimePoint arrived,
                  unsigned version, Exchange& ex) {
  const std::string& name = spec.module->name;
  auto acquired = AcquireLease(cx, spec.module, arrived, version, ex);
  if (auto* refusal = std::get_if<Response>(&acquired)) return std::move(*refusal);
  Lease& lease = std::get<Lease>(acquired);

  if (IsCommand(spec.module->convention)) {
    CommandRequest request;
    request.stdin_bytes = spec.input;
    request.wasi.args = spec.args;
    request.timeout = spec.timeout;
    request.max_stdout_bytes = spec.module->options.max_output_bytes;
    auto out = lease.RunCommand(std::move(request));
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
    return res;
  }

  auto out = lease.Call(spec.export_name, spec.input, spec.timeout);
  if (!out.ok()) {
    return StatusReply(CallStatus(out.status().code()), out.status(), version,
                       0);
  }
  return MakeReply(http::status::ok, version, std::move(*out),
                   spec.json_output ? "application/json"
                                    : "application/octet-stream");
}

// Every reply made after an instance was had says where it came from.
Response RunCall(ServerContext& cx, const CallSpec& spec, TimePoint arrived,
                 unsigned version, Exchange& ex) {
  Response res = CallOnce(cx, spec, arrived, version, ex);
  if (!ex.served_from.empty()) res.set("X-Strata-Served-From", ex.served_from);
  return res;
}

}  // namespace

std::optional<Response> OverInputLimit(const ServedModuleRecord& module,
                                       uint64_t bytes, unsigned version) {
  if (bytes <= module.options.max_input_bytes) return std::nullopt;
  return ErrorReply(http::status::payload_too_large, "invalid_argument",
                    "module '" + module.name + "': input of " +
                        std::to_string(bytes) +
                        " bytes is over its max_input_bytes of " +
                        std::to_string(module.options.max_input_bytes),
                    version);
}

void Enqueue(ServerContext& cx, WorkQueue& queue, unsigned version, Exchange ex,
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
  job.run = [run = std::move(run), reply, ex, version]() mutable {
    // The request is answered whatever happens: an exception (memory, say)
    // is a 500, not a dropped connection that a balancer would retry.
    Response res;
    try {
      res = run(ex);
    } catch (const std::exception& e) {
      res = ErrorReply(http::status::internal_server_error, "internal",
                       std::string("the call failed: ") + e.what(), version);
    }
    reply(std::move(res), std::move(ex));
  };
  job.cancel = draining;
  if (!queue.TryPush(std::move(job))) {
    if (cx.draining.load()) return draining();
    cx.metrics.Rejected("queue_full");
    std::string why =
        &queue == cx.admin_queue.get()
            ? "the admin queue is full: " + std::to_string(queue.limit()) +
                  " uploads or removals wait, one runs at a time"
            : "the call queue is full: " + std::to_string(queue.limit()) +
                  " requests wait for a worker (server.queue_limit " +
                  std::to_string(o.queue_limit) + ")";
    reply(ErrorReply(http::status::service_unavailable, "queue_full", why,
                     version, o.retry_after_s),
          ex);
  }
}

namespace {

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

}  // namespace

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
  if (!spec.args.empty() && !IsCommand(module->convention)) {
    return reply(ErrorReply(http::status::bad_request, "invalid_argument",
                            "module '" + name + "' is a " +
                                CallingConventionName(module->convention) +
                                ": ?arg= is for commands",
                            v),
                 ex);
  }
  // A component's function takes JSON arguments and answers JSON.
  spec.json_output |= module->convention == CallingConvention::kComponent;
  if (json_output && module->convention == CallingConvention::kReactor) {
    // an extractor's input: the URL line, then the page
    const std::string* url = t.Param("url");
    std::string first = (url ? *url : "") + "\n";
    spec.input = ToBytes(first);
    spec.input.insert(spec.input.end(), req.body().begin(), req.body().end());
  } else {
    spec.input = std::move(req.body());
  }
  if (auto refusal = OverInputLimit(*module, spec.input.size(), v)) {
    return reply(std::move(*refusal), ex);
  }
  Enqueue(
      cx, *cx.queue, v, std::move(ex),
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

}  // namespace strata::server
