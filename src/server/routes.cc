// The route table: which handler answers which method and path.
#include "server/routes.h"

#include "server/handlers.h"

namespace strata::server {

std::optional<std::string> AdminTarget(const http::request_header<>& header) {
  if (header.method() != http::verb::put &&
      header.method() != http::verb::delete_) {
    return std::nullopt;
  }
  auto target = ParseTarget(header.target());
  if (!target || target->segments.size() != 3 ||
      target->segments[0] != "v1" || target->segments[1] != "modules") {
    return std::nullopt;
  }
  return target->segments[2];
}

BodyPolicy ForHeaders(const ServerContext& cx,
                      const http::request_header<>& header) {
  BodyPolicy policy;
  policy.limit = cx.config.http.max_body_bytes;
  if (AdminTarget(header)) {
    policy.refusal = CheckAdmin(cx, header);
    // Only an authorised upload may send a module's bytes.
    if (!policy.refusal && header.method() == http::verb::put) {
      policy.limit = cx.config.http.max_upload_bytes;
    }
  }
  return policy;
}

namespace {

// PUT (upload) or DELETE of /v1/modules/{name}: the admin token, the name
// and the options are checked here; the work goes to the admin thread.
void HandleModuleAdmin(ServerContext& cx, Request& req, const Target& t,
                       const std::string& name, Exchange ex,
                       const Reply& reply) {
  const unsigned v = req.version();
  const http::verb method = req.method();
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
        cx, *cx.admin_queue, v, std::move(ex),
        [&cx, name, v](Exchange&) { return Remove(cx, name, v); }, reply);
  }
  auto options = UploadOptions(t, name);
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
      cx, *cx.admin_queue, v, std::move(ex),
      [&cx, name, wasm = std::move(req.body()), options = *options,
       v](Exchange&) mutable {
        return Upload(cx, name, std::move(wasm), options, v);
      },
      reply);
}

}  // namespace

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
  // HEAD is a GET whose body the session leaves out.
  auto get_only = [&](auto answer) {
    if (method != http::verb::get && method != http::verb::head) {
      return reply(MethodNotAllowed(v, "GET, HEAD"), ex);
    }
    reply(answer(), ex);
  };

  if (seg.size() == 1 && seg[0] == "healthz") {
    ex.route = "healthz";
    return get_only([&] { return TextReply(http::status::ok, v, "ok\n"); });
  }
  if (seg.size() == 1 && seg[0] == "readyz") {
    ex.route = "readyz";
    return get_only([&] {
      return !cx.ready.load()
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
  if (seg.size() >= 3 && seg[0] == "v1" && seg[1] == "http") {
    ex.route = "http";
    ex.module = seg[2];
    return HandleHttpProxy(cx, req, seg[2], arrived, std::move(ex), reply);
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
      if (method == http::verb::get || method == http::verb::head) {
        return reply(ListModules(cx, v, &name), ex);
      }
      if (method != http::verb::put && method != http::verb::delete_) {
        return reply(MethodNotAllowed(v, "GET, HEAD, PUT, DELETE"), ex);
      }
      return HandleModuleAdmin(cx, req, *target, name, std::move(ex), reply);
    }
  }
  reply(ErrorReply(http::status::not_found, "not_found",
                   "no route for '" + target->path + "'", v),
        ex);
}

}  // namespace strata::server
