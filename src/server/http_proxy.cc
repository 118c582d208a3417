// wasi:http proxies: ANY /v1/http/{name}/{path...} is served by the proxy
// component registered as {name}, which sees {path...} and the query, the
// request's headers and its body (already read whole, under
// http.max_body_bytes). Many proxies share one server and one budget; a
// proxy's instance comes from the pool like any other module's.
#include <algorithm>
#include <cctype>

#include "server/handlers.h"

namespace strata::server {
namespace {

constexpr std::string_view kPrefix = "/v1/http/";

// The request target after /v1/http/{name}: "/" when nothing follows.
std::string ForwardedPath(std::string_view target) {
  std::string_view rest = target.substr(kPrefix.size());
  size_t end = rest.find_first_of("/?");
  rest = end == std::string_view::npos ? std::string_view() : rest.substr(end);
  if (rest.empty() || rest.front() == '?') return "/" + std::string(rest);
  return std::string(rest);
}

bool HopByHop(std::string_view name) {
  static constexpr std::string_view kHeaders[] = {
      "connection", "keep-alive", "proxy-connection", "transfer-encoding",
      "te", "trailer", "upgrade", "expect", "content-length"};
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return std::find(std::begin(kHeaders), std::end(kHeaders), lower) !=
         std::end(kHeaders);
}

Response Serve(ServerContext& cx,
               const std::shared_ptr<const ServedModuleRecord>& module,
               HttpRequest request, TimePoint arrived, unsigned version,
               Exchange& ex) {
  auto acquired = AcquireLease(cx, module, arrived, version, ex);
  if (auto* refusal = std::get_if<Response>(&acquired)) return std::move(*refusal);
  auto out = std::get<Lease>(acquired).HandleHttp(std::move(request));
  if (!out.ok()) {
    // The proxy is the origin here: its fault is a server error, as from
    // any HTTP server; a deadline is still a gateway timeout.
    ErrorCode code = out.status().code();
    http::status status = code == ErrorCode::kDeadlineExceeded
                              ? http::status::gateway_timeout
                          : code == ErrorCode::kShutdown
                              ? http::status::service_unavailable
                          : code == ErrorCode::kInvalidArgument
                              ? http::status::bad_request
                              : http::status::internal_server_error;
    return StatusReply(status, out.status(), version, 0);
  }
  const unsigned status = out->status;
  if (status < 200) {
    // An informational status cannot end an exchange: the client would wait
    // for a final answer that never comes.
    return ErrorReply(http::status::bad_gateway, "bad_gateway",
                      "proxy '" + module->name + "' answered " +
                          std::to_string(status) +
                          ", an informational status, as its final response",
                      version);
  }
  Response res{static_cast<http::status>(status), version};
  res.set(http::field::server, "strata");
  for (auto& [name, value] : out->headers) {
    if (!HopByHop(name)) res.insert(name, value);
  }
  // A 204 or 304 has no body (RFC 9110 15.3.5, 15.4.5): what the proxy
  // wrote after one is dropped, as HTTP servers do.
  if (status != 204 && status != 304) res.body() = std::move(out->body);
  return res;
}

}  // namespace

void HandleHttpProxy(ServerContext& cx, Request& req, const std::string& name,
                     TimePoint arrived, Exchange ex, const Reply& reply) {
  unsigned v = req.version();
  auto module = cx.registry->Find(name);
  if (module == nullptr) {
    return reply(ErrorReply(http::status::not_found, "not_found",
                            "no module '" + name + "'", v),
                 ex);
  }
  if (module->convention != CallingConvention::kHttpProxy) {
    return reply(ErrorReply(http::status::not_found, "not_found",
                            "module '" + name + "' is a " +
                                CallingConventionName(module->convention) +
                                ", not a wasi:http proxy",
                            v),
                 ex);
  }
  if (auto refusal = OverInputLimit(*module, req.body().size(), v)) {
    return reply(std::move(*refusal), ex);
  }
  HttpRequest request;
  request.method = std::string(req.method_string());
  request.path = ForwardedPath(req.target());
  if (auto host = req.find(http::field::host); host != req.end()) {
    request.authority = std::string(host->value());
  }
  for (const auto& field : req) {
    if (!HopByHop(field.name_string())) {
      request.headers.emplace_back(std::string(field.name_string()),
                                   std::string(field.value()));
    }
  }
  request.body = std::move(req.body());
  Enqueue(
      cx, *cx.queue, v, std::move(ex),
      [&cx, module, request = std::move(request), arrived, v](Exchange& e) mutable {
        Response res = Serve(cx, module, std::move(request), arrived, v, e);
        if (!e.served_from.empty()) res.set("X-Strata-Served-From", e.served_from);
        return res;
      },
      reply);
}

}  // namespace strata::server
