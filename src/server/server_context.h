// What every part of the server shares: the configuration, the engine and
// pool, the module registry, the call queue, metrics and the access log.
// Owned by Server::Impl; the I/O threads and workers borrow it.
#ifndef STRATA_SERVER_SERVER_CONTEXT_H_
#define STRATA_SERVER_SERVER_CONTEXT_H_

#include <atomic>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "internal/mutex.h"
#include "server/access_log.h"
#include "server/http_metrics.h"
#include "server/registry.h"
#include "server/work_queue.h"
#include "strata/server.h"

namespace strata::server {

namespace http = boost::beast::http;
using Request = http::request<http::vector_body<uint8_t>>;
using Response = http::response<http::vector_body<uint8_t>>;
using TimePoint = std::chrono::steady_clock::time_point;

// What a route tells the access log and metrics about a request.
struct Exchange {
  std::string route = "unknown";
  std::string module, export_name, served_from;
};

// Answers a request, exactly once, from any thread: the connection posts
// the reply to its own strand.
using Reply = std::function<void(Response, Exchange)>;

struct ServerContext {
  ServerConfig config;
  std::unique_ptr<Engine> engine;
  std::unique_ptr<Pool> pool;
  std::shared_ptr<Registry> registry = std::make_shared<Registry>();
  std::unique_ptr<WorkQueue> queue;
  // Uploads and removals: one thread of their own, so they run one at a
  // time and a compile (or a removal's drain) holds no call worker.
  std::unique_ptr<WorkQueue> admin_queue;
  std::unique_ptr<AccessLog> access_log;
  HttpMetrics metrics;
  // Set once each by Shutdown(), read by requests, hence atomic: `ready`
  // falls first (only /readyz sees it), `draining` after drain_delay.
  std::atomic<bool> ready{true};
  std::atomic<bool> draining{false};
  std::atomic<uint32_t> connections{0};  // relaxed: a gauge and the cap
  // Requests read and not yet answered; shutdown waits for them. Acquire
  // and release: the waiter must see the last reply written.
  std::atomic<uint32_t> busy{0};

  ServerGauges Gauges() const {
    return {config.http.node_id, queue->depth(), queue->limit(),
            queue->running(),
            static_cast<uint32_t>(config.http.workers),
            connections.load(std::memory_order_relaxed),
            draining.load()};
  }
};

}  // namespace strata::server

#endif  // STRATA_SERVER_SERVER_CONTEXT_H_
