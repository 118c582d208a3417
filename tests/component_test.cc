// Components on the real engine (docs/COMPONENTS.md): the seed's WIT
// extractor called with JSON-mapped WIT values from every tier, the typed
// call's errors, WASI preview 2 commands with their grants, and wasi:http
// proxies. Guests: guests/components (built from C with wit-bindgen and
// wasm-tools).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

#include "test_support.h"

namespace strata::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr char kPage[] =
    "<html lang=\"en\"><head><title>Tiers</title>"
    "<meta name=\"description\" content=\"Hot, warm, cold\"></head>"
    "<body><p>Five tiers of memory.</p><a href=\"/next\">next</a></body></html>";

void SkipWithoutComponents() {
#ifndef STRATA_HAVE_COMPONENT_GUESTS
  GTEST_SKIP() << "component guests were not built (no wit-bindgen/wasm-tools)";
#endif
}

Bytes Args(const json& args) { return ToBytes(args.dump()); }

json CallJson(Instance& instance, const json& args,
              std::string_view export_name = "extract") {
  auto out = instance.Call(export_name, Args(args), {});
  EXPECT_TRUE(out.ok()) << out.status();
  return out.ok() ? json::parse(ToString(*out)) : json();
}

TEST(ComponentTest, DescribesTheExtractorWorld) {
  SkipWithoutComponents();
  auto module = TestEngine().CompileFile(GuestPath("extractor-component.wasm"));
  ASSERT_TRUE(module.ok()) << module.status();
  EXPECT_TRUE((*module)->is_component());
  EXPECT_EQ((*module)->convention(), CallingConvention::kComponent);
  std::string signature;
  for (const auto& e : (*module)->info().exports) {
    if (e.name == "extract") signature = e.type;
  }
  EXPECT_EQ(signature.rfind("func(html: string, url: string, mode: "
                            "enum{article, full, metadata}) -> result<record{url: "
                            "string, title: option<string>",
                            0),
            0u)
      << signature;
  EXPECT_NE(signature.find("variant{invalid-url(string), too-large(u64), "
                           "out-of-memory}"),
            std::string::npos)
      << signature;
  EXPECT_GT((*module)->ResidentImageBytes(), 0u);
  EXPECT_GT((*module)->InitialMemoryBytes(), 0u);
}

TEST(ComponentTest, ExtractReturnsTheRecordAsJson) {
  SkipWithoutComponents();
  auto instance = NewInstance("extractor-component.wasm");
  ASSERT_NE(instance, nullptr);
  json out = CallJson(*instance, {kPage, "https://example.org/a/", "full"});
  ASSERT_TRUE(out.contains("ok")) << out;
  const json& content = out["ok"];
  EXPECT_EQ(content["url"], "https://example.org/a/");
  EXPECT_EQ(content["title"], json({{"some", "Tiers"}}));
  EXPECT_EQ(content["description"], json({{"some", "Hot, warm, cold"}}));
  EXPECT_EQ(content["canonical"], json({{"none", nullptr}}));
  EXPECT_EQ(content["lang"], json({{"some", "en"}}));
  EXPECT_EQ(content["links"], json::array({"https://example.org/next"}));
  EXPECT_GT(content["word-count"].get<int>(), 3);
  // The instance serves again, and by parameter name too.
  json again = CallJson(*instance, {{"html", kPage},
                                    {"url", "https://example.org/a/"},
                                    {"mode", "metadata"}});
  ASSERT_TRUE(again.contains("ok")) << again;
  EXPECT_EQ(again["ok"]["text"], "");
  EXPECT_EQ(again["ok"]["links"], json::array());
  EXPECT_EQ(instance->calls(), 2u);
}

TEST(ComponentTest, TheErrorCaseIsATaggedVariant) {
  SkipWithoutComponents();
  auto instance = NewInstance("extractor-component.wasm");
  ASSERT_NE(instance, nullptr);
  json out = CallJson(*instance, {kPage, "ftp://example.org/", "article"});
  EXPECT_EQ(out, json({{"err", {{"invalid-url", "ftp://example.org/"}}}}));
  // A u64 payload: the page's length, over the extractor's 16 MiB.
  std::string huge((16 << 20) + 1, ' ');
  EXPECT_EQ(CallJson(*instance, {huge, "", "full"}),
            json({{"err", {{"too-large", huge.size()}}}}));
}

struct BadCall {
  const char* name;
  std::string args;
  std::vector<std::string> message;  // every part must appear
};

class ComponentBadCallTest : public ::testing::TestWithParam<BadCall> {};

TEST_P(ComponentBadCallTest, NamesTheParameterTheTypeAndTheValue) {
  SkipWithoutComponents();
  static auto instance = NewInstance("extractor-component.wasm");
  ASSERT_NE(instance, nullptr);
  const BadCall& bad = GetParam();
  auto out = instance->Call("extract", ToBytes(bad.args), {});
  ASSERT_EQ(out.status().code(), ErrorCode::kInvalidArgument) << out.status();
  for (const auto& part : bad.message) {
    EXPECT_NE(out.status().message().find(part), std::string::npos)
        << out.status() << "\nmissing: " << part;
  }
  // A refused call never reached the guest: the instance still serves.
  EXPECT_FALSE(instance->poisoned());
}

INSTANTIATE_TEST_SUITE_P(
    Errors, ComponentBadCallTest,
    ::testing::Values(
        BadCall{"UnknownEnumCase", R"(["<p>x</p>", "", "summary"])",
                {"component 'extractor-component'", "parameter 'mode'",
                 "expected enum{article, full, metadata}", "got \"summary\""}},
        BadCall{"NumberForString", R"([42, "", "full"])",
                {"parameter 'html'", "expected string", "got 42"}},
        BadCall{"TooFewArguments", R"(["<p>x</p>"])",
                {"takes 3 arguments, got 1", "func(html: string"}},
        BadCall{"NotJson", "<p>x</p>", {"must be a JSON array"}},
        BadCall{"MissingNamedArgument", R"({"html": "x", "url": ""})",
                {"missing argument 'mode'"}}),
    [](const auto& info) { return std::string(info.param.name); });

// guests/fixtures/component_mix.wat returns sum((k + 1) x flat[k]) over its
// parameters flattened to i32s, so each lowering is checked exactly.
uint64_t Weighted(const std::vector<uint64_t>& flat) {
  uint64_t sum = 0;
  for (size_t k = 0; k < flat.size(); ++k) sum += (k + 1) * flat[k];
  return sum;
}

TEST(ComponentTest, EveryKindIsLoweredAsTheMappingSays) {
  auto instance = NewInstance("component_mix.wat");
  ASSERT_NE(instance, nullptr);
  // a, b (disc, payload), d (disc, payload), e (disc, payload), f (2), g, h,
  // c, bo.
  struct Case {
    json args;
    std::vector<uint64_t> flat;
  } cases[] = {
      {json::parse(R"([7, {"some": 5}, {"x": 9}, {"err": 3}, [11, 12], ["q"],
                       "green", "é", true])"),
       {7, 1, 5, 0, 9, 1, 3, 11, 12, 2, 1, 233, 1}},
      {json::parse(R"([4294967295, null, "y", {"ok": 4}, [0, 0], [], "red",
                       "a", false])"),
       {4294967295, 0, 0, 1, 0, 0, 4, 0, 0, 0, 0, 97, 0}},
      {json::parse(R"({"a": 0, "b": {"none": null}, "d": {"y": null},
                       "e": {"ok": 0}, "f": [1, 2], "g": ["p", "q"],
                       "h": "red", "c": "€", "bo": false})"),
       {0, 0, 0, 1, 0, 0, 0, 1, 2, 3, 0, 0x20AC, 0}},
      {json::parse(R"([1, 6, {"x": 255}, {"ok": 1}, [0, 0], [], "red", "a",
                       false])"),  // a bare value is some
       {1, 1, 6, 0, 255, 0, 1, 0, 0, 0, 0, 97, 0}},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(CallJson(*instance, c.args, "mix"), json(Weighted(c.flat)))
        << c.args;
  }
}

TEST(ComponentTest, EveryKindRefusesTheWrongShape) {
  auto instance = NewInstance("component_mix.wat");
  ASSERT_NE(instance, nullptr);
  const char* good[] = {"0", "null", "\"y\"", "{\"ok\": 4}", "[0, 0]", "[]",
                        "\"red\"", "\"a\"", "false"};
  struct Bad {
    size_t param;
    const char* value;
    const char* expected;
  } bads[] = {
      {0, "-1", "parameter 'a': expected u32, got -1"},
      {0, "4294967296", "parameter 'a': expected u32, got 4294967296"},
      {1, "{\"some\": \"x\"}", "parameter 'b': expected u32, got \"x\""},
      {2, "\"z\"", "parameter 'd': expected variant{x(u8), y}, got \"z\""},
      {2, "{\"x\": 256}", "parameter 'd'.x: expected u8, got 256"},
      {3, "{\"maybe\": 4}", "parameter 'e': expected result<u32, u32>"},
      {4, "[0]", "parameter 'f': expected tuple<u32, u32>, got [0]"},
      {5, "[\"r\"]", "parameter 'g': expected flags{p, q}, got [\"r\"]"},
      {6, "\"blue\"", "parameter 'h': expected enum{red, green}"},
      {7, "\"ab\"", "parameter 'c': expected char, got \"ab\""},
      {8, "1", "parameter 'bo': expected bool, got 1"},
  };
  for (const Bad& bad : bads) {
    std::string args = "[";
    for (size_t i = 0; i < std::size(good); ++i) {
      args += (i ? ", " : "") + std::string(i == bad.param ? bad.value : good[i]);
    }
    args += "]";
    auto out = instance->Call("mix", ToBytes(args), {});
    ASSERT_EQ(out.status().code(), ErrorCode::kInvalidArgument) << args;
    EXPECT_NE(out.status().message().find(bad.expected), std::string::npos)
        << out.status() << "\nexpected: " << bad.expected;
  }
  EXPECT_FALSE(instance->poisoned());
}

TEST(ComponentTest, UnknownExportIsAClearError) {
  SkipWithoutComponents();
  auto instance = NewInstance("extractor-component.wasm");
  ASSERT_NE(instance, nullptr);
  auto out = instance->Call("summarise", Args(json::array()), {});
  EXPECT_EQ(out.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(out.status().message().find("no exported function 'summarise'"),
            std::string::npos)
      << out.status();
}

std::unique_ptr<Pool> MakePool(const std::filesystem::path& cache_dir) {
  PoolOptions options;
  options.background = false;  // tiers move only when the test says so
  options.clock = std::make_shared<ManualClock>();
  options.cache_dir = cache_dir;
  return Pool::Create(&TestEngine(), options).value();
}

class ComponentTierTest : public ::testing::TestWithParam<Tier> {};

// The seed's extractor from every tier: the same answer, served from the
// tier it was put in, with the ledger balanced after.
TEST_P(ComponentTierTest, ExtractorServesFromEveryTier) {
  SkipWithoutComponents();
  auto dir = std::filesystem::temp_directory_path() /
             ("strata-component-tiers-" + std::to_string(::getpid()));
  auto pool = MakePool(dir);
  ASSERT_TRUE(pool->AddModuleFile("extractor",
                                  GuestPath("extractor-component.wasm"), {})
                  .ok());
  ASSERT_TRUE(pool->MoveTo("extractor", GetParam()).ok());
  {
    auto lease = pool->Acquire("extractor", 5s);
    ASSERT_TRUE(lease.ok()) << lease.status();
    auto out = lease->Call("extract", Args({kPage, "https://example.org/", "article"}));
    ASSERT_TRUE(out.ok()) << out.status();
    json result = json::parse(ToString(*out));
    EXPECT_EQ(result["ok"]["title"], json({{"some", "Tiers"}}));
    switch (GetParam()) {
      case Tier::kHot: EXPECT_EQ(lease->served_from(), ServedFrom::kHot); break;
      case Tier::kWarm: EXPECT_EQ(lease->served_from(), ServedFrom::kWarm); break;
      case Tier::kColdMemory:
        EXPECT_EQ(lease->served_from(), ServedFrom::kColdMemory);
        break;
      case Tier::kColdDisk:
        EXPECT_EQ(lease->served_from(), ServedFrom::kColdDisk);
        break;
      case Tier::kAbsent: EXPECT_EQ(lease->served_from(), ServedFrom::kCompile); break;
    }
  }
  ExpectBalanced(*pool);
  pool.reset();
  std::filesystem::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(EveryTier, ComponentTierTest,
                         ::testing::Values(Tier::kHot, Tier::kWarm,
                                           Tier::kColdMemory, Tier::kColdDisk,
                                           Tier::kAbsent),
                         [](const auto& info) {
                           std::string name = TierName(info.param);
                           std::erase(name, '-');
                           return name;
                         });

std::string Stdout(const CommandOutput& out) { return ToString(out.stdout_bytes); }

TEST(ComponentCommandTest, ThePreview2ExtractorMatchesThePreview1One) {
  SkipWithoutComponents();
  CommandRequest request;
  request.stdin_bytes = ToBytes(kPage);
  request.wasi.args = {"--base-url", "https://example.org/a/"};
  auto p1 = NewInstance("extractor-cmd.wasm");
  auto p2 = NewInstance("extractor-command-component.wasm");
  ASSERT_NE(p1, nullptr);
  ASSERT_NE(p2, nullptr);
  EXPECT_EQ(p2->module().convention(), CallingConvention::kComponentCommand);
  auto a = p1->RunCommand(request);
  auto b = p2->RunCommand(request);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->exit_code, 0);
  EXPECT_EQ(Stdout(*b), Stdout(*a));
  // Run once, as a preview 1 command's _start.
  auto twice = p2->RunCommand(request);
  EXPECT_EQ(twice.status().code(), ErrorCode::kInvalidArgument);
}

class ComponentGrantsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SkipWithoutComponents();
    root_ = std::filesystem::temp_directory_path() /
            ("strata-p2-grants-" + std::to_string(::getpid()));
    std::filesystem::create_directories(root_ / "data");
    std::ofstream(root_ / "data" / "a.txt") << "alpha";
    std::ofstream(root_ / "secret.txt") << "secret";
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  std::string Run(std::vector<std::string> args, WasiCapabilities caps = {}) {
    auto instance = NewInstance("fsprobe-command-component.wasm");
    if (instance == nullptr) return "";
    CommandRequest request;
    request.wasi = std::move(caps);
    request.wasi.args = std::move(args);
    auto out = instance->RunCommand(request);
    EXPECT_TRUE(out.ok()) << out.status();
    return out.ok() ? Stdout(*out) : "";
  }

  WasiCapabilities DataDir(bool read_only) {
    WasiCapabilities caps;
    caps.dirs.push_back({root_ / "data", "/data", !read_only});
    return caps;
  }

  std::filesystem::path root_;
};

TEST_F(ComponentGrantsTest, SeesOnlyWhatItIsGranted) {
  EXPECT_EQ(Run({"cat", "/data/a.txt"}, DataDir(true)), "cat /data/a.txt: ok alpha\n");
  // Nothing granted: no file system at all.
  EXPECT_NE(Run({"cat", "/data/a.txt"}).find("error"), std::string::npos);
  // A read-only grant refuses writes.
  EXPECT_NE(Run({"write", "/data/b.txt", "x"}, DataDir(true)).find("error"),
            std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(root_ / "data" / "b.txt"));
  WasiCapabilities env;
  env.env.push_back({"GREETING", "hi"});
  EXPECT_EQ(Run({"env", "GREETING"}, env), "env GREETING: ok hi\n");
  EXPECT_EQ(Run({"env", "GREETING"}), "env GREETING: unset\n");
}

TEST_F(ComponentGrantsTest, CannotEscapeItsDirectory) {
  for (const char* path : {"/data/../secret.txt", "/secret.txt", "../secret.txt"}) {
    std::string out = Run({"cat", path}, DataDir(false));
    EXPECT_EQ(out.find("secret\n"), std::string::npos) << path << ": " << out;
    EXPECT_NE(out.find("error"), std::string::npos) << path << ": " << out;
  }
  std::string link = Run({"symlink", "../secret.txt", "/data/l", "cat", "/data/l"},
                         DataDir(false));
  EXPECT_EQ(link.find("ok secret"), std::string::npos) << link;
}

// A command's sleep is a wasi:io poll on a wasi:clocks pollable, which
// waits in the host where no epoch check runs: before the poll was held to
// the deadline, this call took the hour.
TEST(ComponentCommandTest, ASleepPastTheDeadlineIsEnded) {
  SkipWithoutComponents();
  auto instance = NewInstance("fsprobe-command-component.wasm");
  ASSERT_NE(instance, nullptr);
  CommandRequest request;
  request.wasi.args = {"sleep", "20", "sleep", "3600000"};  // then an hour
  request.timeout = 300ms;
  auto start = std::chrono::steady_clock::now();
  auto out = instance->RunCommand(request);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), ErrorCode::kDeadlineExceeded) << out.status();
  EXPECT_NE(out.status().message().find("300 ms deadline"), std::string::npos)
      << out.status();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1min);
  EXPECT_TRUE(instance->poisoned());

  // A sleep within the deadline sleeps, and answers as before.
  auto fresh = NewInstance("fsprobe-command-component.wasm");
  ASSERT_NE(fresh, nullptr);
  request.wasi.args = {"sleep", "20"};
  request.timeout = 10s;
  start = std::chrono::steady_clock::now();
  auto slept = fresh->RunCommand(request);
  ASSERT_TRUE(slept.ok()) << slept.status();
  EXPECT_EQ(Stdout(*slept), "sleep 20: ok\n");
  EXPECT_GE(std::chrono::steady_clock::now() - start, 20ms);  // a bound
}

TEST(ComponentCommandTest, PooledRunsAreIsolated) {
  SkipWithoutComponents();
  PoolOptions options;
  options.background = false;
  options.clock = std::make_shared<ManualClock>();
  auto pool = Pool::Create(&TestEngine(), options).value();
  ASSERT_TRUE(pool->AddModuleFile("probe", GuestPath("fsprobe-command-component.wasm"), {})
                  .ok());
  for (int i = 0; i < 3; ++i) {
    auto lease = pool->Acquire("probe", 5s);
    ASSERT_TRUE(lease.ok()) << lease.status();
    CommandRequest request;
    if (i == 0) request.wasi.env.push_back({"ONLY_FIRST", "1"});
    request.wasi.args = {"env", "ONLY_FIRST"};
    auto out = lease->RunCommand(request);
    ASSERT_TRUE(out.ok()) << out.status();
    if (i == 0) {
      EXPECT_EQ(Stdout(*out), "env ONLY_FIRST: ok 1\n");
    } else {
      EXPECT_EQ(Stdout(*out), "env ONLY_FIRST: unset\n");
    }
  }
  ExpectBalanced(*pool);
}

HttpRequest Get(std::string path) {
  HttpRequest request;
  request.method = "GET";
  request.path = std::move(path);
  request.authority = "localhost";
  return request;
}

std::string Header(const HttpResponse& response, std::string_view name) {
  for (const auto& [key, value] : response.headers) {
    if (key == name) return value;
  }
  return "";
}

TEST(ComponentHttpTest, HelloSeesThePathAndAnswers) {
  SkipWithoutComponents();
  auto instance = NewInstance("http-hello.wasm");
  ASSERT_NE(instance, nullptr);
  EXPECT_EQ(instance->module().convention(), CallingConvention::kHttpProxy);
  for (int i = 0; i < 2; ++i) {  // an instance serves request after request
    auto out = instance->HandleHttp(Get("/greet?who=you"));
    ASSERT_TRUE(out.ok()) << out.status();
    EXPECT_EQ(out->status, 200);
    EXPECT_EQ(Header(*out, "x-hello-path"), "/greet?who=you");
    EXPECT_EQ(Header(*out, "content-type"), "text/plain");
    EXPECT_EQ(ToString(out->body), "hello from /greet\n");
  }
  auto teapot = instance->HandleHttp(Get("/status/418"));
  ASSERT_TRUE(teapot.ok()) << teapot.status();
  EXPECT_EQ(teapot->status, 418);
}

TEST(ComponentHttpTest, BodiesStreamBothWaysUpToTheCap) {
  SkipWithoutComponents();
  auto instance = NewInstance("http-hello.wasm");
  ASSERT_NE(instance, nullptr);
  HttpRequest echo = Get("/echo");
  echo.method = "POST";
  echo.headers.push_back({"content-type", "application/octet-stream"});
  echo.body = Bytes(300000, 'e');  // many stream reads
  auto echoed = instance->HandleHttp(echo);
  ASSERT_TRUE(echoed.ok()) << echoed.status();
  EXPECT_EQ(echoed->body, echo.body);

  HttpRequest big = Get("/big?n=200000");  // many 4 KiB writes
  auto out = instance->HandleHttp(big);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->body.size(), 200000u);

  big.max_response_bytes = 100000;
  auto over = instance->HandleHttp(big);
  EXPECT_EQ(over.status().code(), ErrorCode::kOutputTooLarge) << over.status();
  EXPECT_NE(over.status().message().find("100000"), std::string::npos)
      << over.status();
}

TEST(ComponentHttpTest, ATrapIsAnErrorNamingTheTrap) {
  SkipWithoutComponents();
  auto instance = NewInstance("http-hello.wasm");
  ASSERT_NE(instance, nullptr);
  auto out = instance->HandleHttp(Get("/trap"));
  EXPECT_EQ(out.status().code(), ErrorCode::kTrap) << out.status();
  EXPECT_NE(out.status().message().find("unreachable"), std::string::npos)
      << out.status();
  EXPECT_TRUE(instance->poisoned());
}

// The epoch deadline stops only the guest's own code; a guest waiting on
// the host's clock is stopped by the call's deadline all the same.
TEST(ComponentHttpTest, AGuestWaitingOnTheHostMeetsItsDeadline) {
  SkipWithoutComponents();
  auto instance = NewInstance("http-hello.wasm");
  ASSERT_NE(instance, nullptr);
  auto quick = instance->HandleHttp(Get("/sleep?ms=1"));
  ASSERT_TRUE(quick.ok()) << quick.status();
  EXPECT_EQ(ToString(quick->body), "slept\n");

  HttpRequest slow = Get("/sleep?ms=3600000");  // an hour
  slow.timeout = std::chrono::milliseconds(100);
  auto start = std::chrono::steady_clock::now();
  auto out = instance->HandleHttp(slow);
  EXPECT_EQ(out.status().code(), ErrorCode::kDeadlineExceeded) << out.status();
  EXPECT_NE(out.status().message().find("100 ms deadline"), std::string::npos)
      << out.status();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::minutes(1));
  EXPECT_TRUE(instance->poisoned());
}

// The Host header names the authority: one that is not (or that would move
// into the path or query) is refused before the guest runs.
TEST(ComponentHttpTest, AHostThatIsNotAnAuthorityIsRefused) {
  SkipWithoutComponents();
  auto instance = NewInstance("http-hello.wasm");
  ASSERT_NE(instance, nullptr);
  for (const char* host : {"x?", "x/y", "a b"}) {
    HttpRequest request = Get("/admin");
    request.authority = host;
    auto out = instance->HandleHttp(request);
    EXPECT_EQ(out.status().code(), ErrorCode::kInvalidArgument)
        << host << ": " << out.status();
    EXPECT_NE(out.status().message().find("is not an authority"),
              std::string::npos)
        << out.status();
  }
  EXPECT_FALSE(instance->poisoned());
  auto out = instance->HandleHttp(Get("/admin"));
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(Header(*out, "x-hello-path"), "/admin");
}

TEST(ComponentHttpTest, AWarmUpExportIsRefusedNotSkipped) {
  SkipWithoutComponents();
  auto module = TestEngine().CompileFile(GuestPath("http-hello.wasm"));
  ASSERT_TRUE(module.ok()) << module.status();
  auto prepared = TestEngine().Prepare(*module);
  ASSERT_TRUE(prepared.ok()) << prepared.status();
  InstanceLimits limits;
  limits.init_export = "warm";
  auto instance = (*prepared)->Instantiate(limits);
  ASSERT_FALSE(instance.ok());
  EXPECT_EQ(instance.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(instance.status().message().find("init_export 'warm'"),
            std::string::npos)
      << instance.status();
}

TEST(ComponentHttpTest, TheExtractorProxyAnswersJson) {
  SkipWithoutComponents();
  auto instance = NewInstance("http-extractor.wasm");
  ASSERT_NE(instance, nullptr);
  HttpRequest request = Get("/?url=https://example.org/a/");
  request.method = "POST";
  request.body = ToBytes(kPage);
  auto out = instance->HandleHttp(request);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->status, 200);
  json page = json::parse(ToString(out->body));
  EXPECT_EQ(page["title"], "Tiers");
  EXPECT_EQ(page["links"], json::array({"https://example.org/next"}));
}

}  // namespace
}  // namespace strata::testing
