// What the route handlers share: the parsed request target, reply
// builders, small parsers, and the handlers routes.cc dispatches to
// (calls.cc, module_views.cc, admin.cc).
#ifndef STRATA_SERVER_HANDLERS_H_
#define STRATA_SERVER_HANDLERS_H_

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "server/routes.h"

namespace strata::server {

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
std::optional<Target> ParseTarget(std::string_view target);

Bytes ToBytes(std::string_view s);
Response MakeReply(http::status status, unsigned version, Bytes body,
                   std::string_view content_type);
Response JsonReply(http::status status, unsigned version,
                   const nlohmann::json& json);
Response TextReply(http::status status, unsigned version,
                   std::string_view text);
// An error reply naming `status`'s code and message.
Response StatusReply(http::status http_status, const Status& status,
                     unsigned version, uint32_t retry_after_s);
Response MethodNotAllowed(unsigned version, const char* allow);

// A non-negative decimal integer, all of `text`.
std::optional<uint64_t> ParseUint(std::string_view text);
// "a, b, c", or "none".
std::string Joined(const std::vector<std::string>& names);

// Calls (calls.cc): a guest call or an extract, checked here, run on a
// worker.
// On a worker: an instance of `module` within what is left of the acquire
// timeout (counted from `arrived`), or the reply refusing the request.
// Records where the instance came from in `ex`.
std::variant<Lease, Response> AcquireLease(
    ServerContext& cx, const std::shared_ptr<const ServedModuleRecord>& module,
    TimePoint arrived, unsigned version, Exchange& ex);
// The status for an error of the guest during a call.
http::status CallStatus(ErrorCode code);
// A 413 when `bytes` of input are over the module's max_input_bytes.
std::optional<Response> OverInputLimit(const ServedModuleRecord& module,
                                       uint64_t bytes, unsigned version);

// ANY /v1/http/{name}/{path...}: a wasi:http proxy component serves the
// request, seeing {path...} and the query (http_proxy.cc).
void HandleHttpProxy(ServerContext& cx, Request& req, const std::string& name,
                     TimePoint arrived, Exchange ex, const Reply& reply);

void HandleCall(ServerContext& cx, Request& req, const Target& t,
                const std::string& name, const std::string& export_name,
                bool json_output, TimePoint arrived, Exchange ex,
                const Reply& reply);
void HandleExtract(ServerContext& cx, Request& req, const Target& t,
                   TimePoint arrived, Exchange ex, const Reply& reply);
// Puts `run` on `queue` (the call queue, or the admin queue); a full or
// closed queue is answered 503 now.
void Enqueue(ServerContext& cx, WorkQueue& queue, unsigned version, Exchange ex,
             std::function<Response(Exchange&)> run, const Reply& reply);

// The registry as JSON (module_views.cc): every module, or `only`.
Response ListModules(ServerContext& cx, unsigned version,
                     const std::string* only);

// Administration (admin.cc).
// Null when the request may administer; else the refusal.
std::optional<Response> CheckAdmin(const ServerContext& cx,
                                   const http::request_header<>& req);
// The module name of an admin route (PUT or DELETE /v1/modules/{name});
// null for any other request.
std::optional<std::string> AdminTarget(const http::request_header<>& header);
// Upload options from the query; an unknown or bad one is an error.
Result<ModuleOptions> UploadOptions(const Target& t, const std::string& name);
// Compiles `wasm` (through the server's cold-tier cache when it has one),
// checks it has an entry point, registers it with the pool, then makes it
// visible to calls. `by_pool`: the failure was the pool's refusal (an
// option, no room, a start-up that failed), not the module's bytes.
Result<std::shared_ptr<const ServedModuleRecord>> RegisterModule(
    ServerContext& cx, const std::string& name, Bytes wasm,
    const ModuleOptions& options, std::string origin, bool* by_pool);
// On a worker: compile, register, then make visible.
Response Upload(ServerContext& cx, const std::string& name, Bytes wasm,
                const ModuleOptions& options, unsigned version);
// On a worker: hide, then drain and remove.
Response Remove(ServerContext& cx, const std::string& name, unsigned version);

}  // namespace strata::server

#endif  // STRATA_SERVER_HANDLERS_H_
