// PUT and DELETE /v1/modules/{name}: the admin token, upload options, and
// the upload and removal themselves (on a worker, one at a time).
#include <openssl/crypto.h>

#include <nlohmann/json.hpp>

#include "internal/sha256.h"
#include "server/handlers.h"

namespace strata::server {

using std::chrono::milliseconds;

std::optional<Response> CheckAdmin(const ServerContext& cx,
                                   const http::request_header<>& req) {
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
      } else if (key == "min_hot" || key == "max_concurrent") {
        if (*n > 1024) return bad(key, value, "at most 1024");
        (key == "min_hot" ? o.min_hot : o.max_concurrent) =
            static_cast<uint32_t>(*n);
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
  bool by_pool = false;
  auto record = RegisterModule(cx, name, std::move(wasm), options, "upload",
                               &by_pool);
  if (!record.ok()) {
    // A module that does not compile or has no entry point is the module's
    // fault. Of the pool's refusals, a bad option is the request's; no
    // room, the server's state; the rest (a start-up that traps) the
    // module's.
    ErrorCode code = record.status().code();
    http::status status =
        !by_pool ? http::status::unprocessable_entity
        : code == ErrorCode::kInvalidArgument ? http::status::bad_request
        : code == ErrorCode::kMemoryLimit || code == ErrorCode::kPoolExhausted
            ? http::status::service_unavailable
            : http::status::unprocessable_entity;
    return StatusReply(status, record.status(), v,
                       status == http::status::service_unavailable
                           ? cx.config.http.retry_after_s
                           : 0);
  }
  nlohmann::json j = {
      {"name", name},
      {"convention", CallingConventionName((*record)->convention)},
      {"exports", (*record)->exports}};
  Response res = JsonReply(http::status::created, v, j);
  res.set(http::field::location, "/v1/modules/" + name);
  return res;
}

Result<std::shared_ptr<const ServedModuleRecord>> RegisterModule(
    ServerContext& cx, const std::string& name, Bytes wasm,
    const ModuleOptions& options, std::string origin, bool* by_pool) {
  *by_pool = false;
  auto compiled = cx.config.pool.cache
                      ? cx.config.pool.cache->LoadOrCompile(name, wasm)
                      : cx.engine->Compile(name, wasm);
  if (!compiled.ok()) return compiled.status();
  auto record = std::make_shared<ServedModuleRecord>();
  record->name = name;
  record->convention = (*compiled)->convention();
  record->exports = CallableExports(**compiled);
  record->options = options;
  record->bytes = wasm.size();
  if (record->convention == CallingConvention::kUnknown) {
    return Status(ErrorCode::kInvalidArgument,
                  "module '" + name + "' (" + origin +
                      ") is neither a reactor (memory, strata_alloc, "
                      "(ptr, len) -> i64 exports), a WASI command "
                      "(_start), nor a component exporting functions, "
                      "wasi:cli/run or wasi:http/incoming-handler");
  }
  record->origin = std::move(origin);
  Status added =
      cx.pool->AddModule(name, std::move(wasm), std::move(*compiled), options);
  if (!added.ok()) {
    *by_pool = true;
    return added;
  }
  cx.registry->Insert(record);
  return std::shared_ptr<const ServedModuleRecord>(std::move(record));
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
  if (removed.code() == ErrorCode::kDeadlineExceeded) {
    // Removed; a call that outlived the drain still holds an instance,
    // which is dropped when it returns.
    return JsonReply(http::status::accepted, v,
                     {{"name", name}, {"message", removed.message()}});
  }
  if (!removed.ok()) {
    return StatusReply(http::status::internal_server_error, removed, v, 0);
  }
  Response res{http::status::no_content, v};
  res.set(http::field::server, "strata");
  return res;
}

}  // namespace strata::server
