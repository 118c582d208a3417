// PUT and DELETE /v1/modules/{name}: the admin token, upload options, and
// the upload and removal themselves (on a worker, one at a time).
#include <openssl/crypto.h>

#include <algorithm>
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

// An upload's query options are a module's configuration keys, checked by
// the same setters as modules.NAME.KEY in the config file or --set.
Result<ModuleOptions> UploadOptions(const Target& t, const std::string& name) {
  static constexpr std::string_view kAllowed[] = {
      "reuse",           "snapshot",         "timeout_ms",
      "max_memory_bytes", "max_input_bytes", "max_output_bytes",
      "min_hot",         "max_concurrent",   "max_uses"};
  ServerConfig scratch;
  for (const auto& [key, value] : t.params) {
    if (std::find(std::begin(kAllowed), std::end(kAllowed), key) ==
        std::end(kAllowed)) {
      return Status(ErrorCode::kInvalidArgument,
                    "module '" + name + "': unknown option '" + key + "' (" +
                        Joined({std::begin(kAllowed), std::end(kAllowed)}) +
                        ")");
    }
    const std::string assignment = "modules." + name + "." + key + "=" + value;
    if (Status s = ApplyConfigOverride(scratch, assignment,
                                       "the upload's ?" + key + "=");
        !s.ok()) {
      return Status(ErrorCode::kInvalidArgument, s.message());
    }
  }
  return scratch.modules.empty() ? ModuleOptions{}
                                 : scratch.modules.front().options;
}

Response Upload(ServerContext& cx, const std::string& name, Bytes wasm,
                const ModuleOptions& options, unsigned v) {
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
