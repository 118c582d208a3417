// strata serve's server on an ephemeral loopback port, real guests and a
// real HTTP client: every route, every status, bad clients, concurrent
// administration, /metrics through promtool, and the graceful shutdown.
#include <sched.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "http_test_client.h"
#include "wasi_test_support.h"

namespace strata::testing {
namespace {

using namespace std::chrono_literals;
using http::verb;

constexpr const char* kToken = "test-admin-token-0123456789";

class ServerTest : public ::testing::Test {
 protected:
  // The modules most tests use; `tweak` adjusts the config first.
  void Start(const std::function<void(ServerConfig&)>& tweak = {}) {
    ServerConfig c = TestServerConfig();
    ModuleOptions slow;
    slow.call_timeout = 20s;
    c.modules = {Guest("echo", "echo.wat"), Guest("trap", "trap.wat"),
                 Guest("loop", "loop.wat"), Guest("synth", "synth.wasm", slow),
                 Guest("extractor", "extractor.wasm")};
    c.extract_modules = {{"c", "extractor"}};
    if (tweak) tweak(c);
    auto server = Server::Start(std::move(c));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    port_ = server_->port();
  }

  HttpReply Call(const std::string& module, const std::string& fn,
                 const std::string& body, const std::string& query = "") {
    return Request(port_, verb::post,
                   "/v1/modules/" + module + "/call/" + fn + query, body);
  }

  // A gauge's value in /metrics (-1 when absent).
  double Gauge(const std::string& name) {
    std::string text = Request(port_, verb::get, "/metrics").body;
    size_t at = text.find("\n" + name + " ");
    if (at == std::string::npos) return -1;
    return std::stod(text.substr(at + name.size() + 2));
  }

  // Waits until `done` holds (checked every 10 ms, at most 10 s).
  static bool Eventually(const std::function<bool()>& done) {
    for (int i = 0; i < 1000; ++i) {
      if (done()) return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }

  std::unique_ptr<Server> server_;
  uint16_t port_ = 0;
};

nlohmann::json Json(const HttpReply& r) {
  return nlohmann::json::parse(r.body, nullptr, /*allow_exceptions=*/false);
}

TEST_F(ServerTest, CallsAReactorExport) {
  Start([](ServerConfig& c) { c.http.node_id = "node-a"; });
  HttpReply r = Call("echo", "run", "hello over http");
  EXPECT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(r.body, "hello over http");
  EXPECT_FALSE(r.Header("x-strata-served-from").empty());
  EXPECT_EQ(r.Header("x-strata-node"), "node-a");
}

TEST_F(ServerTest, UnknownModuleRouteOrExportIs404) {
  Start();
  HttpReply module = Call("nope", "run", "x");
  EXPECT_EQ(module.status, 404u);
  EXPECT_NE(module.body.find("no module 'nope'"), std::string::npos);
  HttpReply fn = Call("echo", "missing", "x");
  EXPECT_EQ(fn.status, 404u);
  EXPECT_NE(fn.body.find("no export 'missing' (exports: run)"),
            std::string::npos)
      << fn.body;
  EXPECT_EQ(Request(port_, verb::get, "/v2/anything").status, 404u);
}

TEST_F(ServerTest, WrongMethodIs405WithAllow) {
  Start();
  HttpReply r = Request(port_, verb::get, "/v1/modules/echo/call/run");
  EXPECT_EQ(r.status, 405u);
  EXPECT_EQ(r.Header("allow"), "POST");
}

TEST_F(ServerTest, BodyOverTheServerOrModuleLimitIs413) {
  Start([](ServerConfig& c) {
    c.http.max_body_bytes = 4096;
    c.modules[0].options.max_input_bytes = 100;
  });
  HttpReply server_limit = Call("trap", "run", std::string(5000, 'x'));
  EXPECT_EQ(server_limit.status, 413u);
  EXPECT_NE(server_limit.body.find("4096"), std::string::npos);
  HttpReply module_limit = Call("echo", "run", std::string(200, 'x'));
  EXPECT_EQ(module_limit.status, 413u);
  EXPECT_NE(module_limit.body.find("module 'echo'"), std::string::npos);
  EXPECT_NE(module_limit.body.find("100"), std::string::npos);
  EXPECT_EQ(Call("echo", "run", "small").status, 200u);
}

TEST_F(ServerTest, BodiesOverAMebibyteWithinTheLimitAreServed) {
  // Beast's parser refuses bodies over 1 MiB unless told otherwise.
  Start();
  std::string big(3 << 20, 'b');
  HttpReply r = Call("echo", "run", big);
  EXPECT_EQ(r.status, 200u) << r.body.substr(0, 200);
  EXPECT_EQ(r.body.size(), big.size());
}

TEST_F(ServerTest, AnUnauthorisedUploadIsRefusedBeforeItsBodyIsRead) {
  Start([](ServerConfig& c) { c.http.admin_token = kToken; });
  HttpClient client(port_);
  // Headers only: the 60 MB the client announces are never sent, and the
  // refusal comes anyway.
  HttpReply r = client.SendRaw(
      "PUT /v1/modules/big HTTP/1.1\r\nHost: x\r\n"
      "Content-Length: 60000000\r\nExpect: 100-continue\r\n\r\n");
  EXPECT_EQ(r.status, 401u) << r.error;
}

TEST_F(ServerTest, HeadIsAGetWithoutItsBody) {
  Start();
  HttpClient client(port_);
  HttpReply head = client.SendRaw("HEAD /v1/modules/echo HTTP/1.1\r\nHost: x\r\n\r\n",
                                   /*head=*/true);
  EXPECT_EQ(head.status, 200u) << head.error;
  EXPECT_TRUE(head.body.empty());
  EXPECT_NE(head.Header("content-length"), "0");
  // The connection is still in step: the next reply is read whole.
  HttpReply next = client.Send(verb::get, "/healthz");
  EXPECT_EQ(next.status, 200u) << next.error;
  EXPECT_EQ(next.body, "ok\n");
}

TEST_F(ServerTest, TrapIs422WithTheTrapMessage) {
  Start();
  HttpReply r = Call("trap", "run", "x");
  EXPECT_EQ(r.status, 422u);
  EXPECT_FALSE(r.Header("x-strata-served-from").empty());
  auto j = Json(r);
  EXPECT_EQ(j["error"], "trap");
  EXPECT_NE(j["message"].get<std::string>().find("unreachable"),
            std::string::npos)
      << r.body;
  EXPECT_EQ(Call("echo", "run", "still serving").status, 200u);
}

TEST_F(ServerTest, DeadlineIs504AndAPerCallTimeoutIsHonoured) {
  Start();
  auto start = std::chrono::steady_clock::now();
  HttpReply r = Call("loop", "run", "x", "?timeout_ms=100");
  EXPECT_EQ(r.status, 504u) << r.body;
  EXPECT_NE(r.body.find("100 ms"), std::string::npos) << r.body;
  // The module's own deadline is 10 s: the request's shorter one was used.
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  HttpReply header = Request(port_, verb::post, "/v1/modules/loop/call/run",
                             "x", {{"X-Strata-Timeout-Ms", "50"}});
  EXPECT_EQ(header.status, 504u);
  EXPECT_EQ(Call("echo", "run", "x", "?timeout_ms=abc").status, 400u);
}

TEST_F(ServerTest, FullQueueIs503WithRetryAfter) {
  Start([](ServerConfig& c) {
    c.http.workers = 1;
    c.http.queue_limit = 1;
  });
  std::thread running([&] { Call("loop", "run", "x", "?timeout_ms=1500"); });
  ASSERT_TRUE(Eventually([&] { return Gauge("strata_http_calls_running") == 1; }));
  std::thread queued([&] { Call("loop", "run", "x", "?timeout_ms=100"); });
  ASSERT_TRUE(Eventually([&] { return Gauge("strata_http_queue_depth") == 1; }));
  HttpReply r = Call("echo", "run", "x");
  EXPECT_EQ(r.status, 503u);
  EXPECT_EQ(r.Header("retry-after"), "1");
  EXPECT_EQ(Json(r)["error"], "queue_full");
  running.join();
  queued.join();
  EXPECT_EQ(Call("echo", "run", "x").status, 200u);
}

TEST_F(ServerTest, NoInstanceWithinTheAcquireTimeoutIs503) {
  Start([](ServerConfig& c) {
    c.pool.max_instances = 1;
    c.http.acquire_timeout = 200ms;
  });
  std::thread holder([&] { Call("loop", "run", "x", "?timeout_ms=1500"); });
  ASSERT_TRUE(Eventually([&] { return Gauge("strata_http_calls_running") == 1; }));
  HttpReply r = Call("echo", "run", "x");
  EXPECT_EQ(r.status, 503u) << r.body;
  EXPECT_FALSE(r.Header("retry-after").empty());
  holder.join();
  EXPECT_EQ(Call("echo", "run", "x").status, 200u);
}

TEST_F(ServerTest, ExtractServesTheBundledExtractor) {
  Start();
  auto html = ReadFile(DataPath("html/well-formed.html")).value();
  HttpReply r = Request(port_, verb::post,
                        "/v1/extract?url=https%3A%2F%2Fexample.com%2Fdir%2F",
                        ToString(html));
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(r.Header("content-type"), "application/json");
  auto j = Json(r);
  ASSERT_FALSE(j.is_discarded()) << r.body;
  EXPECT_TRUE(j.contains("title")) << r.body;
  HttpReply engine = Request(port_, verb::post, "/v1/extract?engine=perl", "x");
  EXPECT_EQ(engine.status, 400u);
  EXPECT_NE(engine.body.find("serving: c"), std::string::npos);
}

TEST_F(ServerTest, ModulesListTiersRatesMemoryAndDecisions) {
  Start();
  ASSERT_EQ(Call("echo", "run", "x").status, 200u);
  HttpReply all = Request(port_, verb::get, "/v1/modules");
  ASSERT_EQ(all.status, 200u);
  auto j = Json(all);
  EXPECT_EQ(j["policy"], "strata");
  EXPECT_EQ(j["modules"].size(), 5u);
  HttpReply one = Request(port_, verb::get, "/v1/modules/echo");
  ASSERT_EQ(one.status, 200u);
  auto m = Json(one);
  EXPECT_EQ(m["convention"], "reactor");
  EXPECT_EQ(m["exports"], nlohmann::json::array({"run"}));
  EXPECT_TRUE(m.contains("tier"));
  EXPECT_GE(m["served"]["compile"].get<int>() + m["served"]["warm"].get<int>() +
                m["served"]["hot"].get<int>() +
                m["served"]["cold-memory"].get<int>() +
                m["served"]["cold-disk"].get<int>(),
            1);
  EXPECT_TRUE(m["memory"].contains("held_bytes"));
  EXPECT_TRUE(m["decisions"].is_array());
  EXPECT_EQ(Request(port_, verb::get, "/v1/modules/nope").status, 404u);
}

TEST_F(ServerTest, HealthAndReadiness) {
  Start();
  EXPECT_EQ(Request(port_, verb::get, "/healthz").status, 200u);
  EXPECT_EQ(Request(port_, verb::get, "/readyz").status, 200u);
}

// Uploads and removals run on a thread of their own: before, an upload's
// compile took the server's one call worker, and calls waited behind it.
TEST_F(ServerTest, AnUploadBeingCompiledHoldsNoCallWorker) {
  auto faults = std::make_shared<ScriptedFaults>();
  faults->Gate(FaultPoint::kCompile, "held");
  Start([&](ServerConfig& c) {
    c.http.admin_token = kToken;
    c.http.workers = 1;
    c.engine.faults = faults;
  });
  std::map<std::string, std::string> auth = {
      {"Authorization", std::string("Bearer ") + kToken}};
  std::string wasm = ToString(ReadFile(GuestPath("probe.wat")).value());
  HttpReply created;
  std::thread upload([&] {
    created = Request(port_, verb::put, "/v1/modules/held", wasm, auth);
  });
  ASSERT_TRUE(faults->WaitGated());
  HttpReply served = Call("echo", "run", "served while compiling");
  faults->Open();
  upload.join();
  EXPECT_EQ(served.status, 200u) << served.body;
  EXPECT_EQ(served.body, "served while compiling");
  EXPECT_EQ(created.status, 201u) << created.body;
  EXPECT_EQ(Call("held", "run", "x").status, 200u);
}

TEST_F(ServerTest, AdminRoutesAreOffWithoutAToken) {
  Start();
  auto wasm = ReadFile(GuestPath("echo.wat")).value();
  HttpReply r = Request(port_, verb::put, "/v1/modules/new", ToString(wasm));
  EXPECT_EQ(r.status, 403u);
  EXPECT_NE(r.body.find("server.admin_token"), std::string::npos);
  EXPECT_EQ(Request(port_, verb::delete_, "/v1/modules/echo").status, 403u);
  EXPECT_EQ(Call("echo", "run", "x").status, 200u);
}

TEST_F(ServerTest, UploadCallAndDeleteAModule) {
  Start([](ServerConfig& c) { c.http.admin_token = kToken; });
  std::map<std::string, std::string> auth = {
      {"Authorization", std::string("Bearer ") + kToken}};
  std::string wasm = ToString(ReadFile(GuestPath("echo.wat")).value());
  EXPECT_EQ(Request(port_, verb::put, "/v1/modules/up", wasm,
                    {{"Authorization", "Bearer wrong-token-0000000000"}})
                .status,
            401u);
  HttpReply created =
      Request(port_, verb::put, "/v1/modules/up?reuse=true", wasm, auth);
  ASSERT_EQ(created.status, 201u) << created.body;
  EXPECT_EQ(Json(created)["exports"], nlohmann::json::array({"run"}));
  EXPECT_EQ(Call("up", "run", "uploaded").body, "uploaded");
  EXPECT_EQ(Request(port_, verb::put, "/v1/modules/up", wasm, auth).status,
            409u);
  HttpReply bad = Request(port_, verb::put, "/v1/modules/bad", "not wasm", auth);
  EXPECT_EQ(bad.status, 422u);
  EXPECT_EQ(Json(bad)["error"], "compile");
  EXPECT_EQ(Request(port_, verb::put, "/v1/modules/x?color=red", wasm, auth)
                .status,
            400u);
  // An upload's options are held to the config file's rules.
  for (const char* options :
       {"timeout_ms=18446744073709551615", "max_input_bytes=0", "reuse=maybe"}) {
    HttpReply refused = Request(
        port_, verb::put, std::string("/v1/modules/x?") + options, wasm, auth);
    EXPECT_EQ(refused.status, 400u) << options << ": " << refused.body;
    EXPECT_NE(refused.body.find("modules.x."), std::string::npos) << refused.body;
  }
  EXPECT_EQ(Request(port_, verb::put, "/v1/modules/bad%20name", wasm, auth)
                .status,
            400u);
  EXPECT_EQ(Request(port_, verb::delete_, "/v1/modules/up", "", auth).status,
            204u);
  EXPECT_EQ(Call("up", "run", "x").status, 404u);
  EXPECT_EQ(Request(port_, verb::delete_, "/v1/modules/up", "", auth).status,
            404u);
}

TEST_F(ServerTest, UploadOverItsLimitIs413) {
  Start([](ServerConfig& c) {
    c.http.admin_token = kToken;
    c.http.max_upload_bytes = 1000;
  });
  HttpReply r = Request(port_, verb::put, "/v1/modules/big",
                        std::string(2000, 'x'),
                        {{"Authorization", std::string("Bearer ") + kToken}});
  EXPECT_EQ(r.status, 413u);
}

TEST_F(ServerTest, ConcurrentUploadsAndDeletesOfOneModule) {
  Start([](ServerConfig& c) { c.http.admin_token = kToken; });
  std::map<std::string, std::string> auth = {
      {"Authorization", std::string("Bearer ") + kToken}};
  std::string wasm = ToString(ReadFile(GuestPath("echo.wat")).value());
  std::atomic<int> unexpected{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 8; ++i) {
        bool put = (i + t) % 2 == 0;
        HttpReply r = put ? Request(port_, verb::put, "/v1/modules/same", wasm, auth)
                          : Request(port_, verb::delete_, "/v1/modules/same", "", auth);
        bool ok = put ? (r.status == 201 || r.status == 409)
                      : (r.status == 204 || r.status == 404);
        HttpReply c = Call("same", "run", "x");
        ok = ok && (c.status == 200 || c.status == 404);
        if (!ok) ++unexpected;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(unexpected.load(), 0);
  // Whatever the last word was, the registry and the pool agree on it.
  HttpReply state = Request(port_, verb::get, "/v1/modules/same");
  HttpReply call = Call("same", "run", "agree");
  if (state.status == 200) {
    EXPECT_EQ(call.status, 200u);
  } else {
    EXPECT_EQ(state.status, 404u);
    EXPECT_EQ(call.status, 404u);
  }
  EXPECT_EQ(Call("echo", "run", "x").status, 200u);
}

TEST_F(ServerTest, MetricsPassPromtool) {
  Start();
  ASSERT_EQ(Call("echo", "run", "x").status, 200u);
  ASSERT_EQ(Call("trap", "run", "x").status, 422u);
  HttpReply r = Request(port_, verb::get, "/metrics");
  ASSERT_EQ(r.status, 200u);
  EXPECT_NE(r.body.find("strata_http_request_duration_seconds_bucket{route=\"call\""),
            std::string::npos);
  EXPECT_NE(r.body.find("strata_http_requests_total{route=\"call\",code=\"422\"} 1"),
            std::string::npos);
  EXPECT_NE(r.body.find("strata_acquires_total"), std::string::npos);
  EXPECT_NE(r.body.find("\nprocess_start_time_seconds 1"), std::string::npos);
  // With no node_id configured, the node is named by its address.
  EXPECT_NE(r.body.find("strata_node_info{node=\"127.0.0.1:" +
                        std::to_string(port_) + "\"} 1"),
            std::string::npos);
  if (std::system("command -v promtool >/dev/null") != 0) {
    GTEST_SKIP() << "promtool not installed (scripts/setup.sh installs it)";
  }
  ScratchDir dir;
  std::ofstream(dir / "metrics.txt") << r.body;
  std::string command = "promtool check metrics < '" +
                        (dir / "metrics.txt").string() + "' > '" +
                        (dir / "promtool.txt").string() + "' 2>&1";
  int rc = std::system(command.c_str());
  std::ifstream in(dir / "promtool.txt");
  std::string report((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(rc, 0) << report;
}

// A server pinned to one CPU (taskset, a cpuset) starts one worker by
// default, not one per CPU of the machine: more would only time-slice.
TEST_F(ServerTest, DefaultWorkersFollowTheCpusTheServerMayUse) {
  cpu_set_t saved, one;
  ASSERT_EQ(sched_getaffinity(0, sizeof(saved), &saved), 0);
  CPU_ZERO(&one);
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &saved)) {
      CPU_SET(cpu, &one);
      break;
    }
  }
  ASSERT_EQ(sched_setaffinity(0, sizeof(one), &one), 0);
  Start([](ServerConfig& c) { c.http.workers = 0; });
  ASSERT_EQ(sched_setaffinity(0, sizeof(saved), &saved), 0);
  EXPECT_EQ(Gauge("strata_http_workers"), 1);
  EXPECT_EQ(Call("echo", "run", "pinned").body, "pinned");
}

TEST_F(ServerTest, MalformedRequestsAre400AndTheServerKeepsServing) {
  Start();
  HttpClient client(port_);
  HttpReply r = client.SendRaw("NOT HTTP AT ALL\r\n\r\n");
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(Call("echo", "run", "x").status, 200u);
}

TEST_F(ServerTest, HeadersOverTheLimitAre431) {
  Start([](ServerConfig& c) { c.http.max_header_bytes = 2048; });
  HttpReply r = Request(port_, verb::get, "/healthz", "",
                        {{"X-Padding", std::string(4096, 'p')}});
  EXPECT_EQ(r.status, 431u);
  EXPECT_EQ(Request(port_, verb::get, "/healthz").status, 200u);
}

TEST_F(ServerTest, ASlowClientLosesItsConnectionNotAWorker) {
  Start([](ServerConfig& c) {
    c.http.header_timeout = 300ms;
    c.http.workers = 1;
  });
  HttpClient slow(port_);
  slow.WriteRaw("POST /v1/modules/echo/call/run HTTP/1.1\r\nHost: x\r\n");
  // The one worker still serves others while the slow client dawdles.
  EXPECT_EQ(Call("echo", "run", "x").status, 200u);
  EXPECT_TRUE(slow.ClosedWithin(5s));
}

TEST_F(ServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  Start();
  HttpClient client(port_);
  for (int i = 0; i < 3; ++i) {
    HttpReply r = client.Send(verb::post, "/v1/modules/echo/call/run",
                              "n" + std::to_string(i));
    EXPECT_EQ(r.status, 200u) << r.error;
    EXPECT_EQ(r.body, "n" + std::to_string(i));
  }
}

TEST_F(ServerTest, ConnectionsOverTheCapGet503) {
  Start([](ServerConfig& c) { c.http.max_connections = 2; });
  HttpClient a(port_), b(port_);
  ASSERT_EQ(a.Send(verb::get, "/healthz").status, 200u);
  ASSERT_EQ(b.Send(verb::get, "/healthz").status, 200u);
  HttpClient c(port_);
  HttpReply r = c.Send(verb::get, "/healthz");
  EXPECT_EQ(r.status, 503u) << r.error;
}

TEST_F(ServerTest, AccessLogWritesOneJsonLinePerRequest) {
  ScratchDir dir;
  auto log = dir / "access.log";
  Start([&](ServerConfig& c) { c.access_log.target = log.string(); });
  ASSERT_EQ(Call("echo", "run", "x").status, 200u);
  ASSERT_EQ(Call("nope", "run", "x").status, 404u);
  server_.reset();  // flushes and closes the log
  std::ifstream in(log);
  std::string line;
  std::vector<nlohmann::json> lines;
  while (std::getline(in, line)) lines.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["node"], "127.0.0.1:" + std::to_string(port_));
  EXPECT_EQ(lines[0]["module"], "echo");
  EXPECT_EQ(lines[0]["export"], "run");
  EXPECT_EQ(lines[0]["status"], 200);
  EXPECT_TRUE(lines[0].contains("served_from"));
  EXPECT_TRUE(lines[0].contains("latency_ms"));
  EXPECT_EQ(lines[1]["status"], 404);
}

TEST_F(ServerTest, ReadinessFallsBeforeDrainingBegins) {
  Start([](ServerConfig& c) { c.http.drain_delay = 2s; });
  server_->Shutdown();
  // Within the delay: not ready, but still serving as usual.
  EXPECT_EQ(Request(port_, verb::get, "/readyz").status, 503u);
  HttpReply call = Call("echo", "run", "x");
  EXPECT_EQ(call.status, 200u);
  EXPECT_NE(call.Header("connection"), "close");
  server_->Wait();
  EXPECT_EQ(Request(port_, verb::get, "/healthz").status, 0u);  // closed
}

TEST_F(ServerTest, ShutdownFinishesCallsInFlight) {
  Start();
  HttpReply slow;
  std::thread caller([&] {
    // About a second of guest work on this machine.
    slow = Call("synth", "run", "iters=200000000");
  });
  ASSERT_TRUE(Eventually([&] { return Gauge("strata_http_calls_running") == 1; }));
  server_->Shutdown();
  caller.join();
  EXPECT_EQ(slow.status, 200u) << slow.body << slow.error;
  EXPECT_EQ(slow.body.rfind("ok ", 0), 0u) << slow.body;
  EXPECT_EQ(slow.Header("connection"), "close");
  server_->Wait();
  EXPECT_EQ(Request(port_, verb::get, "/healthz").status, 0u);  // closed
}

}  // namespace
}  // namespace strata::testing
