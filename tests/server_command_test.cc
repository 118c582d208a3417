// WASI commands over HTTP (stdin, args, exit codes), and `strata serve` as
// a process: the embedded default, its ready line, SIGTERM, and a bad
// setting. Not under ThreadSanitizer, for wasi_pool_test's reason
// (tests/CMakeLists.txt).
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "http_test_client.h"
#include "wasi_test_support.h"

namespace strata::testing {
namespace {

using namespace std::chrono_literals;
using http::verb;

TEST(ServerCommandTest, CommandsGetTheBodyOnStdinArgsAndAnExitCode) {
  ServerConfig c = TestServerConfig();
  c.modules = {Guest("hello", "command_hello.wat"),
               Guest("exit3", "command_exit3.wat"),
               Guest("extract", "extractor-cmd.wasm")};
  auto server = Server::Start(std::move(c));
  ASSERT_TRUE(server.ok()) << server.status();
  uint16_t port = (*server)->port();

  HttpReply hello = Request(port, verb::post, "/v1/modules/hello/call/_start");
  EXPECT_EQ(hello.status, 200u) << hello.body;
  EXPECT_EQ(hello.body, "hello from wasi\n");
  EXPECT_EQ(hello.Header("x-strata-exit-code"), "0");

  HttpReply exit3 = Request(port, verb::post, "/v1/modules/exit3/call/_start");
  EXPECT_EQ(exit3.status, 422u);
  EXPECT_EQ(exit3.Header("x-strata-exit-code"), "3");
  auto j = nlohmann::json::parse(exit3.body);
  EXPECT_EQ(j["exit_code"], 3);
  EXPECT_EQ(j["stderr"], "bye\n");

  std::string html =
      "<html><head><title>T</title></head><body><a href=\"x\">x</a></body>"
      "</html>";
  HttpReply page = Request(
      port, verb::post,
      "/v1/modules/extract/call/_start?arg=--base-url&arg=https%3A%2F%2Fa.example%2Fd%2F",
      html);
  ASSERT_EQ(page.status, 200u) << page.body;
  EXPECT_NE(page.body.find("https://a.example/d/x"), std::string::npos)
      << page.body;
  HttpReply reactor_arg = Request(port, verb::post,
                                  "/v1/modules/hello/call/run?arg=x");
  EXPECT_EQ(reactor_arg.status, 404u);  // a command's only entry is _start
}

// `strata serve` as a child process, its stdout on a pipe.
class ServeProcess {
 public:
  explicit ServeProcess(const std::vector<std::string>& args) {
    int fds[2];
    if (pipe(fds) != 0) return;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    std::vector<std::string> argv = {StrataCli().string(), "serve"};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> raw;
    for (auto& a : argv) raw.push_back(a.data());
    raw.push_back(nullptr);
    if (posix_spawn(&pid_, raw[0], &actions, nullptr, raw.data(), environ) != 0) {
      pid_ = -1;
    }
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    out_ = fds[0];
  }
  ~ServeProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (out_ >= 0) close(out_);
  }

  // The port of the ready line, or 0 if the process ended or took longer
  // than `timeout` (start-up compiles the bundled guests once per cache).
  uint16_t WaitUntilReady(std::chrono::seconds timeout) {
    std::string text;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    std::regex ready("listening on http://127\\.0\\.0\\.1:([0-9]+)");
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{out_, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      char buf[256];
      ssize_t n = read(out_, buf, sizeof buf);
      if (n <= 0) return 0;
      text.append(buf, static_cast<size_t>(n));
      std::smatch m;
      if (std::regex_search(text, m, ready)) return std::stoi(m[1]);
    }
    return 0;
  }

  // Sends SIGTERM; the exit code (-1 if it did not exit normally).
  int Terminate() {
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
};

TEST(ServerCommandTest, ServeWithNoConfigurationServesTheExtractor) {
  ServeProcess serve({"--listen", "127.0.0.1:0", "--set",
                      "access_log.target=off"});
  uint16_t port = serve.WaitUntilReady(300s);
  ASSERT_NE(port, 0);
  auto html = ReadFile(DataPath("html/well-formed.html")).value();
  HttpReply r = Request(port, verb::post, "/v1/extract?url=https%3A%2F%2Fe.x%2F",
                        ToString(html));
  EXPECT_EQ(r.status, 200u) << r.body;
  EXPECT_NE(r.body.find("\"title\""), std::string::npos) << r.body;
  EXPECT_EQ(serve.Terminate(), 0);
}

TEST(ServerCommandTest, ABadSettingStopsTheStartNamingIt) {
  ScratchDir dir;
  auto result = RunProcess({StrataCli().string(), "serve", "--set",
                            "server.queue_limit=0"},
                           dir.path());
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("server.queue_limit"), std::string::npos)
      << result.err;
}

}  // namespace
}  // namespace strata::testing
