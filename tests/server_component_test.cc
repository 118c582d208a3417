// Components through strata serve: typed calls to the seed's WIT extractor
// with JSON, a preview 2 command, and wasi:http proxies under
// /v1/http/{name}/, several sharing one server and one budget.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "http_test_client.h"
#include "strata/server.h"
#include "test_support.h"

namespace strata::testing {
namespace {

using http::verb;
using nlohmann::json;
using namespace std::chrono_literals;

class ServerComponentTest : public ::testing::Test {
 protected:
  static ModuleOptions SmallInput() {
    ModuleOptions o;
    o.max_input_bytes = 1000;
    return o;
  }

  void SetUp() override {
#ifndef STRATA_HAVE_COMPONENT_GUESTS
    GTEST_SKIP() << "component guests were not built (no wit-bindgen/wasm-tools)";
#endif
    ServerConfig c = TestServerConfig();
    c.http.max_body_bytes = 1 << 20;
    c.modules = {Guest("extractor", "extractor-component.wasm"),
                 Guest("extract-cmd", "extractor-command-component.wasm"),
                 Guest("hello", "http-hello.wasm"),
                 Guest("hello2", "http-hello.wasm", SmallInput()),
                 Guest("pages", "http-extractor.wasm")};
    auto server = Server::Start(std::move(c));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    port_ = server_->port();
  }

  HttpReply Post(const std::string& target, const std::string& body,
                 std::map<std::string, std::string> headers = {}) {
    return Request(port_, verb::post, target, body, headers);
  }

  std::unique_ptr<Server> server_;
  uint16_t port_ = 0;
};

constexpr char kPage[] =
    "<html><head><title>Served</title></head><body><a href=\"b\">b</a></body></html>";

TEST_F(ServerComponentTest, TypedCallTakesAndAnswersJson) {
  json args = {kPage, "https://example.org/a/", "full"};
  HttpReply r = Post("/v1/modules/extractor/call/extract", args.dump(),
                     {{"content-type", "application/json"}});
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(r.Header("content-type"), "application/json");
  EXPECT_FALSE(r.Header("x-strata-served-from").empty());
  json out = json::parse(r.body);
  EXPECT_EQ(out["ok"]["title"], json({{"some", "Served"}}));
  EXPECT_EQ(out["ok"]["links"], json::array({"https://example.org/a/b"}));

  HttpReply bad = Post("/v1/modules/extractor/call/extract",
                       json({kPage, "", "summary"}).dump());
  EXPECT_EQ(bad.status, 400u) << bad.body;
  EXPECT_NE(bad.body.find("parameter 'mode'"), std::string::npos) << bad.body;
  EXPECT_NE(bad.body.find("enum{article, full, metadata}"), std::string::npos)
      << bad.body;

  HttpReply listed = Request(port_, verb::get, "/v1/modules/extractor");
  EXPECT_NE(listed.body.find("\"component\""), std::string::npos) << listed.body;
}

TEST_F(ServerComponentTest, Preview2CommandRunsPerCall) {
  HttpReply r = Post("/v1/modules/extract-cmd/call/run?arg=--base-url&arg=https://x.org/",
                     kPage);
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(r.Header("x-strata-exit-code"), "0");
  EXPECT_EQ(json::parse(r.body)["title"], "Served");
}

TEST_F(ServerComponentTest, ProxiesServeTheirPathsSideBySide) {
  for (const char* name : {"hello", "hello2"}) {
    HttpReply r = Request(port_, verb::get,
                          std::string("/v1/http/") + name + "/a/b?c=d");
    ASSERT_EQ(r.status, 200u) << r.body;
    EXPECT_EQ(r.body, "hello from /a/b\n");
    EXPECT_EQ(r.Header("x-hello-path"), "/a/b?c=d");
    EXPECT_FALSE(r.Header("x-strata-served-from").empty());
  }
  EXPECT_EQ(Request(port_, verb::get, "/v1/http/hello").body, "hello from /\n");
  EXPECT_EQ(Request(port_, verb::get, "/v1/http/hello/status/404").status, 404u);
  HttpReply echo = Post("/v1/http/hello/echo", std::string(200000, 'x'));
  EXPECT_EQ(echo.status, 200u);
  EXPECT_EQ(echo.body.size(), 200000u);

  HttpReply page = Post("/v1/http/pages/?url=https://example.org/a/", kPage);
  ASSERT_EQ(page.status, 200u) << page.body;
  EXPECT_EQ(json::parse(page.body)["title"], "Served");
}

TEST_F(ServerComponentTest, ABodyOverTheCapIs413) {
  HttpReply r = Post("/v1/http/hello/echo", std::string((1 << 20) + 1, 'x'));
  EXPECT_EQ(r.status, 413u) << r.body;
  EXPECT_EQ(Request(port_, verb::get, "/v1/http/hello/ok").status, 200u);
}

TEST_F(ServerComponentTest, AProxysOwnInputLimitIs413) {
  HttpReply over = Post("/v1/http/hello2/echo", std::string(1001, 'x'));
  EXPECT_EQ(over.status, 413u) << over.body;
  EXPECT_NE(over.body.find("module 'hello2': input of 1001 bytes is over its "
                           "max_input_bytes of 1000"),
            std::string::npos)
      << over.body;
  EXPECT_EQ(Post("/v1/http/hello2/echo", std::string(1000, 'x')).status, 200u);
}

TEST_F(ServerComponentTest, ATrapIs500AndTheServerKeepsServing) {
  HttpReply trap = Request(port_, verb::get, "/v1/http/hello/trap");
  EXPECT_EQ(trap.status, 500u) << trap.body;
  EXPECT_NE(trap.body.find("unreachable"), std::string::npos) << trap.body;
  HttpReply next = Request(port_, verb::get, "/v1/http/hello/after");
  EXPECT_EQ(next.status, 200u) << next.body;
}

// A 1xx cannot end an exchange, and 204 and 304 carry no body: a proxy that
// answers so gets a clear 502, or its body dropped, and the server goes on.
TEST_F(ServerComponentTest, StatusesThatCannotCarryTheProxysAnswerAreHandled) {
  for (const char* status : {"204", "304"}) {
    HttpReply r = Request(port_, verb::get, std::string("/v1/http/hello/status/") +
                                                status + "?body=oops");
    EXPECT_EQ(std::to_string(r.status), status) << r.error;
    EXPECT_EQ(r.body, "");
    EXPECT_EQ(r.headers.count("content-length"), 0u) << status;
  }
  HttpReply informational =
      Request(port_, verb::get, "/v1/http/hello/status/103");
  EXPECT_EQ(informational.status, 502u) << informational.body;
  EXPECT_NE(informational.body.find("proxy 'hello' answered 103"),
            std::string::npos)
      << informational.body;
  EXPECT_EQ(Request(port_, verb::get, "/v1/http/hello/after").status, 200u);
}

TEST_F(ServerComponentTest, WrongKindsAreRefusedClearly) {
  EXPECT_EQ(Request(port_, verb::get, "/v1/http/extractor/x").status, 404u);
  EXPECT_EQ(Request(port_, verb::get, "/v1/http/nobody/x").status, 404u);
  HttpReply r = Post("/v1/modules/hello/call/handle", "");
  EXPECT_EQ(r.status, 404u) << r.body;
}

}  // namespace
}  // namespace strata::testing
