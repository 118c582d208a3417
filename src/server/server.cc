// Server: start-up (engine, pool, modules, socket), the acceptor and I/O
// threads, and the graceful shutdown.
#include "strata/server.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <charconv>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

#include "internal/cpus.h"
#include "server/handlers.h"
#include "server/registry.h"
#include "server/server_context.h"
#include "server/session.h"

namespace strata {

namespace net = boost::asio;
using net::ip::tcp;

class Server::Impl {
 public:
  server::ServerContext cx;

  Status Init(ServerConfig config, const PolicyFactory& policies);
  void Shutdown();
  void Wait();
  uint16_t port() const { return port_; }

 private:
  Status RegisterModules();
  Status Bind();
  void Accept();
  void Drain();
  void RunIo();

  net::io_context ioc_;
  std::optional<net::executor_work_guard<net::io_context::executor_type>>
      work_;
  std::optional<tcp::acceptor> acceptor_;
  std::optional<net::steady_timer> retry_timer_;  // on the acceptor's strand
  std::vector<std::thread> io_threads_;
  uint16_t port_ = 0;

  std::mutex mu_;  // guards the shutdown state below
  std::condition_variable done_cv_;
  bool shutdown_started_ = false;
  bool done_ = false;
  std::thread drainer_;  // owns the shutdown sequence once started
};

namespace {

// Uploads and removals that may wait for the one admin thread; past it 503.
constexpr uint32_t kAdminQueueLimit = 16;

// "host:port" -> endpoint; kInvalidArgument naming the value.
Result<tcp::endpoint> ParseListen(const std::string& listen) {
  auto bad = [&](const std::string& why) {
    return Status(ErrorCode::kInvalidArgument,
                  "server.listen '" + listen + "': " + why);
  };
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) return bad("expected host:port");
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  unsigned port = 0;
  std::string_view p(listen.data() + colon + 1, listen.size() - colon - 1);
  auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
  if (ec != std::errc() || end != p.data() + p.size() || port > 65535) {
    return bad("port must be a number from 0 to 65535");
  }
  if (host == "localhost") host = "127.0.0.1";
  boost::system::error_code error;
  auto address = net::ip::make_address(host, error);
  if (error) return bad("host must be an IP address or localhost");
  return tcp::endpoint(address, static_cast<uint16_t>(port));
}

}  // namespace

Status Server::Impl::Init(ServerConfig config, const PolicyFactory& policies) {
  const uint32_t cpus = internal::UsableCpus();
  if (config.http.workers == 0) config.http.workers = cpus;
  if (config.http.io_threads == 0) {
    // On one CPU a second I/O thread only adds wake-ups: hello with reuse,
    // pinned to one core, served 27.4k-28.7k requests/s with one against
    // 20.7k-21.0k with two (docs/BENCHMARKS.md).
    config.http.io_threads = std::min(2u, cpus);
  }
  cx.config = std::move(config);
  const ServerConfig& c = cx.config;
  auto endpoint = ParseListen(c.http.listen);
  if (!endpoint.ok()) return endpoint.status();

  auto log = server::AccessLog::Open(c.access_log);
  if (!log.ok()) return log.status();
  cx.access_log = std::move(*log);

  auto engine = Engine::Create(c.engine);
  if (!engine.ok()) return engine.status();
  cx.engine = std::move(*engine);
  if (!c.pool.cache_dir.empty()) {
    // Shared by the pool (cold-on-disk) and registration, so a restart
    // loads compiled code and snapshots instead of compiling again.
    cx.config.pool.cache =
        std::make_shared<ModuleCache>(*cx.engine, c.pool.cache_dir);
  }
  PolicyFactory make = policies;
  if (!make) {
    make = [](const std::string& name) -> Result<std::unique_ptr<Policy>> {
      auto policy = MakePolicy(name);
      if (policy == nullptr) {
        return Status(ErrorCode::kInvalidArgument,
                      "pool.policy '" + name + "': unknown (strata, riptide)");
      }
      return policy;
    };
  }
  auto policy = make(c.pool.policy);
  if (!policy.ok()) return policy.status();
  auto pool = Pool::Create(cx.engine.get(), c.pool, std::move(*policy));
  if (!pool.ok()) return pool.status();
  cx.pool = std::move(*pool);
  cx.pool->AddListener(cx.registry);
  // Bound before the modules load (a snapshot can take seconds), so a
  // taken port fails at once; connections wait in the backlog meanwhile.
  // On a strand: its accept loop and the close from Drain() never overlap.
  acceptor_.emplace(net::make_strand(ioc_));
  retry_timer_.emplace(acceptor_->get_executor());
  boost::system::error_code ec;
  acceptor_->open(endpoint->protocol(), ec);
  if (!ec) acceptor_->set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_->bind(*endpoint, ec);
  if (!ec) acceptor_->listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status(ErrorCode::kIo, "server.listen '" + c.http.listen +
                                      "': cannot listen: " + ec.message());
  }
  if (Status s = RegisterModules(); !s.ok()) return s;

  cx.queue = std::make_unique<server::WorkQueue>(c.http.workers,
                                                 c.http.queue_limit);
  cx.admin_queue = std::make_unique<server::WorkQueue>(1, kAdminQueueLimit);
  port_ = acceptor_->local_endpoint().port();
  if (cx.config.http.node_id.empty()) {
    cx.config.http.node_id =
        endpoint->address().to_string() + ":" + std::to_string(port_);
  }
  // With every session waiting on a worker, the io_context would have no
  // work and its threads would return before the replies are posted.
  work_.emplace(ioc_.get_executor());
  Accept();
  for (uint32_t i = 0; i < c.http.io_threads; ++i) {
    io_threads_.emplace_back([this] { RunIo(); });
  }
  return OkStatus();
}

// An exception out of a handler ends only that handler's connection (its
// session is dropped with the handler); the I/O thread goes on serving.
void Server::Impl::RunIo() {
  while (true) {
    try {
      ioc_.run();
      return;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "strata serve: a connection failed: %s\n", e.what());
    }
  }
}

Status Server::Impl::RegisterModules() {
  for (const ServedModule& m : cx.config.modules) {
    auto bytes = ReadFile(m.path);
    if (!bytes.ok()) {
      return Status(bytes.status().code(),
                    "module '" + m.name + "': " + bytes.status().message());
    }
    bool by_pool = false;
    auto record = server::RegisterModule(cx, m.name, std::move(*bytes),
                                         m.options, m.path.string(), &by_pool);
    if (!record.ok()) return record.status();
  }
  return OkStatus();
}

void Server::Impl::Accept() {
  acceptor_->async_accept(
      net::make_strand(ioc_),
      [this](boost::system::error_code ec, tcp::socket socket) {
        if (ec == net::error::operation_aborted || !acceptor_->is_open()) {
          return;
        }
        if (ec) {
          // Out of file descriptors, say: try again shortly rather than
          // spin on the error.
          retry_timer_->expires_after(std::chrono::milliseconds(100));
          retry_timer_->async_wait([this](boost::system::error_code e) {
            if (!e && acceptor_->is_open()) Accept();
          });
          return;
        }
        bool over = cx.connections.load(std::memory_order_relaxed) >=
                    cx.config.http.max_connections;
        server::StartSession(cx, std::move(socket), over);
        Accept();
      });
}

void Server::Impl::Shutdown() {
  std::lock_guard lock(mu_);
  if (shutdown_started_) return;
  shutdown_started_ = true;
  cx.ready.store(false);  // before Shutdown() returns: /readyz is 503 now
  drainer_ = std::thread([this] { Drain(); });
}

// Stop accepting; let queued and running calls finish within the grace
// period (later ones, and any still queued after it, get 503); let the
// last replies be written; then stop the threads.
void Server::Impl::Drain() {
  std::this_thread::sleep_for(cx.config.http.drain_delay);
  cx.draining.store(true);
  net::post(acceptor_->get_executor(), [this] {
    boost::system::error_code ignored;
    acceptor_->close(ignored);
    retry_timer_->cancel();
  });
  const auto grace = cx.config.http.shutdown_grace;
  auto deadline = std::chrono::steady_clock::now() + grace;
  for (server::WorkQueue* queue : {cx.queue.get(), cx.admin_queue.get()}) {
    queue->Close();
  }
  for (server::WorkQueue* queue : {cx.queue.get(), cx.admin_queue.get()}) {
    queue->WaitIdle(std::chrono::duration_cast<std::chrono::milliseconds>(
        std::max(deadline - std::chrono::steady_clock::now(),
                 std::chrono::steady_clock::duration::zero())));
    queue->Stop();  // cancels what is left; joins the workers
  }
  // Replies posted by the workers are written by the I/O threads.
  auto write_deadline =
      std::max(deadline, std::chrono::steady_clock::now()) +
      cx.config.http.write_timeout;
  while (cx.busy.load(std::memory_order_acquire) > 0 &&
         std::chrono::steady_clock::now() < write_deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  work_.reset();
  ioc_.stop();
  for (std::thread& t : io_threads_) t.join();
  io_threads_.clear();
  cx.pool->Shutdown();
  std::lock_guard lock(mu_);
  done_ = true;
  done_cv_.notify_all();
}

void Server::Impl::Wait() {
  std::unique_lock lock(mu_);
  done_cv_.wait(lock, [this] { return done_; });
  // The drainer no longer needs mu_ once done_ is set.
  if (drainer_.joinable()) drainer_.join();
}

Result<std::unique_ptr<Server>> Server::Start(ServerConfig config,
                                              PolicyFactory policies) {
  auto impl = std::make_unique<Impl>();
  if (Status s = impl->Init(std::move(config), policies); !s.ok()) {
    // Threads were started only after everything else succeeded.
    return s;
  }
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() {
  Shutdown();
  Wait();
}

uint16_t Server::port() const { return impl_->port(); }
void Server::Shutdown() { impl_->Shutdown(); }
void Server::Wait() { impl_->Wait(); }
Pool& Server::pool() { return *impl_->cx.pool; }

}  // namespace strata
