// The HTTP routes of `strata serve` (docs/SERVING.md):
//   POST   /v1/modules/{name}/call/{export}   a guest call (workers)
//   POST   /v1/extract?url=&engine=           a bundled extractor (workers)
//   GET    /v1/modules, /v1/modules/{name}    registry, tiers, decisions
//   PUT    /v1/modules/{name}                 upload (admin; workers)
//   DELETE /v1/modules/{name}                 removal (admin; workers)
//   GET    /metrics, /healthz, /readyz
// Reads answer on the I/O thread; guest calls, compiles and removals go
// through the bounded queue to the workers.
#ifndef STRATA_SERVER_ROUTES_H_
#define STRATA_SERVER_ROUTES_H_

#include <cstddef>
#include <optional>

#include "server/server_context.h"

namespace strata::server {

// What a request may send, decided from its headers: a refusal that needs
// no body (an admin route without the right token), so that the body is
// never read; else the largest body it may carry.
struct BodyPolicy {
  std::optional<Response> refusal;
  size_t limit = 0;
};
BodyPolicy ForHeaders(const ServerContext& cx,
                      const http::request_header<>& header);

// Answers `request` through `reply`, now or from a worker.
void HandleRequest(ServerContext& cx, Request request, TimePoint arrived,
                   Reply reply);

// A JSON error reply: {"error": code, "message": message}.
Response ErrorReply(http::status status, const std::string& code,
                    const std::string& message, unsigned version,
                    uint32_t retry_after_s = 0);

}  // namespace strata::server

#endif  // STRATA_SERVER_ROUTES_H_
