// The route table: which handler answers which method and path.
#include "server/routes.h"

#include "server/handlers.h"

namespace strata::server {

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
