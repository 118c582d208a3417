// Instances of real guests: the reactor and command conventions, and every
// fixture's failure mode, after which the process keeps serving.
#include "strata/instance.h"

#include <cstring>

#include "engine/wasi_poll.h"

#include "test_support.h"

namespace strata {
namespace {

using namespace std::chrono_literals;
using testing::NewInstance;
using testing::ToBytes;
using testing::ToString;

TEST(InstanceTest, ReactorCallEchoesInput) {
  auto instance = NewInstance("echo.wat");
  ASSERT_NE(instance, nullptr);
  auto out = instance->Call("run", ToBytes("hello, strata"), {});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(ToString(*out), "hello, strata");
  EXPECT_EQ(instance->calls(), 1u);
}

TEST(InstanceTest, UnknownExportIsInvalidArgument) {
  auto instance = NewInstance("echo.wat");
  ASSERT_NE(instance, nullptr);
  auto out = instance->Call("nope", {}, {});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(out.status().message().find("'nope'"), std::string::npos);
  EXPECT_FALSE(instance->poisoned());
}

TEST(InstanceTest, WrongSignatureIsInvalidArgument) {
  auto instance = NewInstance("echo.wat");
  ASSERT_NE(instance, nullptr);
  auto out = instance->Call("add", {}, {});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(out.status().message().find("(i32, i32) -> (i32)"),
            std::string::npos)
      << out.status();
}

// Before the fix, the i64 that came back was read as an i32, and wasmtime's
// C++ API aborted the process.
TEST(InstanceTest, AllocatorOfTheWrongTypeIsInvalidArgument) {
  auto instance = NewInstance("wide_alloc.wat");
  ASSERT_NE(instance, nullptr);
  auto out = instance->Call("run", ToBytes("x"), {});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(out.status().message().find(
                "strata_alloc has type func (i32) -> (i64), expected func "
                "(i32) -> (i32)"),
            std::string::npos)
      << out.status();
}

TEST(InstanceTest, OversizedInputIsRejectedBeforeTheGuestRuns) {
  auto instance = NewInstance("echo.wat");
  ASSERT_NE(instance, nullptr);
  CallOptions options;
  options.max_input_bytes = 8;
  auto out = instance->Call("run", ToBytes("123456789"), options);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(out.status().message().find("9 bytes"), std::string::npos);
  EXPECT_EQ(instance->calls(), 0u);
}

TEST(InstanceTest, OversizedOutputIsReported) {
  auto instance = NewInstance("echo.wat");
  ASSERT_NE(instance, nullptr);
  CallOptions options;
  options.max_output_bytes = 4;
  auto out = instance->Call("run", ToBytes("too long"), options);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), ErrorCode::kOutputTooLarge);
}

TEST(InstanceTest, TrapIsReportedAndPoisonsTheInstance) {
  auto instance = NewInstance("trap.wat");
  ASSERT_NE(instance, nullptr);
  auto out = instance->Call("run", {}, {});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), ErrorCode::kTrap);
  // The cause first, then where: not wasmtime's whole backtrace.
  EXPECT_NE(out.status().message().find(
                "run trapped: wasm `unreachable` instruction executed (in "),
            std::string::npos)
      << out.status();
  EXPECT_EQ(out.status().message().find("backtrace"), std::string::npos);
  EXPECT_NE(out.status().message().find("'trap'"), std::string::npos);
  EXPECT_TRUE(instance->poisoned());
  EXPECT_FALSE(instance->Call("run", {}, {}).ok());

  auto other = NewInstance("trap.wat");
  ASSERT_NE(other, nullptr);
  auto div = other->Call("divzero", {}, {});
  ASSERT_FALSE(div.ok());
  EXPECT_NE(div.status().message().find("divide by zero"), std::string::npos)
      << div.status();
  // The process keeps serving other modules.
  auto echo = NewInstance("echo.wat");
  ASSERT_NE(echo, nullptr);
  EXPECT_TRUE(echo->Call("run", ToBytes("still here"), {}).ok());
}

TEST(InstanceTest, RunawayGuestHitsItsDeadline) {
  auto instance = NewInstance("loop.wat");
  ASSERT_NE(instance, nullptr);
  CallOptions options;
  options.timeout = 50ms;
  auto start = std::chrono::steady_clock::now();
  auto out = instance->Call("run", {}, options);
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), ErrorCode::kDeadlineExceeded);
  EXPECT_NE(out.status().message().find("50 ms"), std::string::npos);
  EXPECT_GE(elapsed, 50ms);  // a bound, not a timing: it cannot stop early
  EXPECT_TRUE(instance->poisoned());
}

// WASI's poll_oneoff waits in the host, where no epoch check runs: before
// strata's own poll_oneoff, an hour's sleep held the call for the hour.
struct PollResult {
  uint32_t error, events, userdata, type;
};

PollResult ReadPoll(const Bytes& out) {
  PollResult r{};
  EXPECT_EQ(out.size(), sizeof r);
  std::memcpy(&r, out.data(), std::min(out.size(), sizeof r));
  return r;
}

Bytes Nanos(std::chrono::nanoseconds wait) {
  auto n = static_cast<uint64_t>(wait.count());
  Bytes bytes(sizeof n);
  std::memcpy(bytes.data(), &n, sizeof n);
  return bytes;
}

// When a poll_oneoff can first return, from the guest's subscriptions.
TEST(WasiPollTest, WaitIsTheEarliestClockOrNoneWhenAnythingElseIsPolled) {
  using std::chrono::nanoseconds;
  const auto origin = std::chrono::steady_clock::time_point(1000s);
  const auto now = origin + 5s;  // the guest's monotonic clock reads 5 s
  const auto wall = std::chrono::system_clock::time_point(100s);
  // userdata, tag (0 clock, 1 fd_read), clock id, timeout, flags (1 absolute)
  auto sub = [](uint8_t tag, uint32_t id, uint64_t timeout, uint16_t flags) {
    Bytes b(48, 0);
    b[8] = tag;
    std::memcpy(b.data() + 16, &id, 4);
    std::memcpy(b.data() + 24, &timeout, 8);
    std::memcpy(b.data() + 40, &flags, 2);
    return b;
  };
  auto wait = [&](std::vector<Bytes> subs) {
    Bytes all;
    for (const Bytes& b : subs) all.insert(all.end(), b.begin(), b.end());
    return PollWait(all, static_cast<uint32_t>(subs.size()), origin, now, wall);
  };
  constexpr uint64_t kSecond = 1'000'000'000;
  EXPECT_EQ(wait({sub(0, 1, 3 * kSecond, 0)}), nanoseconds(3 * kSecond));
  EXPECT_EQ(wait({sub(0, 1, 7 * kSecond, 1)}), nanoseconds(2 * kSecond));
  EXPECT_EQ(wait({sub(0, 1, 4 * kSecond, 1)}), nanoseconds(0));  // past
  EXPECT_EQ(wait({sub(0, 0, 130 * kSecond, 1)}), nanoseconds(30 * kSecond));
  EXPECT_EQ(wait({sub(0, 1, 9 * kSecond, 0), sub(0, 0, kSecond, 0)}),
            nanoseconds(kSecond));
  EXPECT_EQ(wait({sub(0, 1, ~uint64_t{0}, 0)}), nanoseconds::max());
  // Returns at once: a descriptor beside the clock, a CPU-time clock (an
  // error), nothing, or subscriptions past the end of memory.
  EXPECT_EQ(wait({sub(0, 1, kSecond, 0), sub(1, 0, 0, 0)}), std::nullopt);
  EXPECT_EQ(wait({sub(0, 2, kSecond, 0)}), std::nullopt);
  EXPECT_EQ(wait({}), std::nullopt);
  EXPECT_EQ(PollWait(sub(0, 1, kSecond, 0), 2, origin, now, wall), std::nullopt);
}

TEST(InstanceTest, ASleepPastTheDeadlineEndsTheCall) {
  for (const char* entry : {"sleep", "sleep_until"}) {
    auto instance = NewInstance("sleep.wat");
    ASSERT_NE(instance, nullptr);
    CallOptions options;
    options.timeout = 100ms;
    auto start = std::chrono::steady_clock::now();
    auto out = instance->Call(entry, Nanos(1h), options);
    auto elapsed = std::chrono::steady_clock::now() - start;
    ASSERT_FALSE(out.ok()) << entry;
    EXPECT_EQ(out.status().code(), ErrorCode::kDeadlineExceeded)
        << out.status();
    EXPECT_NE(out.status().message().find(
                  "would exceed its 100 ms deadline: poll_oneoff asked to "
                  "wait "),
              std::string::npos)
        << out.status();
    EXPECT_LT(elapsed, 10min);  // a bound, not a timing: it did not sleep on
    EXPECT_TRUE(instance->poisoned());
  }
}

TEST(InstanceTest, ASleepWithinTheDeadlineSleepsAsAsked) {
  auto instance = NewInstance("sleep.wat");
  ASSERT_NE(instance, nullptr);
  CallOptions options;
  options.timeout = 10s;
  // Twice each: the second call reuses what the first set up.
  for (const char* entry : {"sleep", "sleep", "sleep_until", "sleep_until"}) {
    auto start = std::chrono::steady_clock::now();
    auto out = instance->Call(entry, Nanos(20ms), options);
    auto elapsed = std::chrono::steady_clock::now() - start;
    ASSERT_TRUE(out.ok()) << entry << ": " << out.status();
    PollResult r = ReadPoll(*out);
    EXPECT_EQ(r.error, 0u) << entry;
    EXPECT_EQ(r.events, 1u) << entry;
    EXPECT_EQ(r.userdata, 7u) << entry;
    EXPECT_EQ(r.type, 0u) << entry;  // a clock event
    EXPECT_GE(elapsed, 20ms) << entry;  // a bound: it cannot wake early
  }
  EXPECT_FALSE(instance->poisoned());
}

TEST(InstanceTest, APollThatNamesStdinReturnsAtOnceWithWasmtimesAnswer) {
  auto instance = NewInstance("sleep.wat");
  ASSERT_NE(instance, nullptr);
  CallOptions options;
  options.timeout = 200ms;  // shorter than the hour's clock beside stdin
  auto out = instance->Call("poll_stdin", {}, options);
  ASSERT_TRUE(out.ok()) << out.status();
  PollResult r = ReadPoll(*out);
  EXPECT_EQ(r.error, 0u);
  EXPECT_EQ(r.events, 1u);
  EXPECT_EQ(r.userdata, 2u);
  EXPECT_EQ(r.type, 1u);  // fd_read
}

// A start function that spins (an epoch check ends it) or sleeps (strata's
// poll_oneoff refuses the wait) is a deadline, naming init_timeout.
TEST(InstanceTest, StartFunctionPastItsInitTimeoutIsADeadline) {
  struct Case {
    const char* name;
    const char* wat;
    const char* says;
  };
  const Case cases[] = {
      {"spin-start", "(module (func $spin (loop (br 0))) (start $spin))",
       "start-up ran past its init_timeout of 50 ms"},
      {"sleepy-start", R"(
        (module
          (import "wasi_snapshot_preview1" "poll_oneoff"
            (func $poll (param i32 i32 i32 i32) (result i32)))
          (memory (export "memory") 1)
          (func $start  ;; one relative monotonic clock of an hour
            (i64.store offset=24 (i32.const 0) (i64.const 3600000000000))
            (i32.store offset=16 (i32.const 0) (i32.const 1))
            (drop (call $poll (i32.const 0) (i32.const 64) (i32.const 1)
                              (i32.const 128))))
          (start $start)))",
       "start-up would run past its init_timeout of 50 ms"},
  };
  for (const Case& c : cases) {
    auto module = testing::TestEngine().Compile(c.name, ToBytes(c.wat));
    ASSERT_TRUE(module.ok()) << module.status();
    auto prepared = testing::TestEngine().Prepare(*module);
    ASSERT_TRUE(prepared.ok()) << prepared.status();
    InstanceLimits limits;
    limits.init_timeout = 50ms;
    auto instance = (*prepared)->Instantiate(limits);
    ASSERT_FALSE(instance.ok()) << c.name;
    EXPECT_EQ(instance.status().code(), ErrorCode::kDeadlineExceeded)
        << instance.status();
    EXPECT_NE(instance.status().message().find(c.says), std::string::npos)
        << instance.status();
  }
}

TEST(InstanceTest, MemoryBombIsRefusedAtTheLimit) {
  InstanceLimits limits;
  limits.max_memory_bytes = 10 << 20;
  auto instance = NewInstance("membomb.wat", limits);
  ASSERT_NE(instance, nullptr);
  auto out = instance->Call("run", {}, {});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(ToString(*out), "refused at 145 pages");
  EXPECT_LE(instance->memory_bytes(), limits.max_memory_bytes);
}

TEST(InstanceTest, FreshInstancesSeeNoEarlierCall) {
  auto first = NewInstance("probe.wat");
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(ToString(first->Call("run", {}, {}).value()), "fresh 1");
  EXPECT_EQ(ToString(first->Call("run", {}, {}).value()), "seen 2");
  auto second = NewInstance("probe.wat");
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(ToString(second->Call("run", {}, {}).value()), "fresh 1");
}

TEST(InstanceTest, CommandWritesStdoutAndExitsZero) {
  auto instance = NewInstance("command_hello.wat");
  ASSERT_NE(instance, nullptr);
  auto out = instance->RunCommand({});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->exit_code, 0);
  EXPECT_EQ(ToString(out->stdout_bytes), "hello from wasi\n");
  // _start runs once per instance.
  EXPECT_FALSE(instance->RunCommand({}).ok());
}

TEST(InstanceTest, CommandExitCodeAndStderrAreReported) {
  auto instance = NewInstance("command_exit3.wat");
  ASSERT_NE(instance, nullptr);
  auto out = instance->RunCommand({});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->exit_code, 3);
  EXPECT_EQ(ToString(out->stderr_bytes), "bye\n");
}

TEST(InstanceTest, CommandStdoutOverTheCapIsAnError) {
  auto instance = NewInstance("command_hello.wat");
  ASSERT_NE(instance, nullptr);
  CommandRequest request;
  request.max_stdout_bytes = 5;
  auto out = instance->RunCommand(request);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), ErrorCode::kOutputTooLarge);
  EXPECT_NE(out.status().message().find("cap of 5"), std::string::npos);
}

TEST(InstanceTest, CommandRoundTripThroughStdinAndArgs) {
  auto instance = NewInstance("extractor-cmd.wasm");
  ASSERT_NE(instance, nullptr);
  CommandRequest request;
  request.stdin_bytes = ToBytes(
      "<html lang=de><title>Hallo</title><a href='x/y'>link</a></html>");
  request.wasi.args = {"--base-url", "https://example.org/a/b"};
  auto out = instance->RunCommand(request);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->exit_code, 0) << ToString(out->stderr_bytes);
  std::string json = ToString(out->stdout_bytes);
  EXPECT_NE(json.find("\"title\":\"Hallo\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"lang\":\"de\""), std::string::npos) << json;
  EXPECT_NE(json.find("https://example.org/a/x/y"), std::string::npos) << json;
}

TEST(InstanceTest, SynthVariantsCarryTheirParameters) {
  auto base = ReadFile(testing::GuestPath("synth.wasm"));
  ASSERT_TRUE(base.ok()) << base.status();
  SynthParams params;
  params.variant = 7;
  params.init_pages = 16;
  params.call_iters = 10;
  auto bytes = MakeSynthVariant(*base, params);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  auto& engine = testing::TestEngine();
  auto module = engine.Compile("synth-7", *bytes);
  ASSERT_TRUE(module.ok()) << module.status();
  auto instance = engine.Prepare(*module).value()->Instantiate({});
  ASSERT_TRUE(instance.ok()) << instance.status();
  std::string info = ToString((*instance)->Call("info", {}, {}).value());
  EXPECT_NE(info.find("\"variant\":7"), std::string::npos) << info;
  EXPECT_NE(info.find("\"init_pages\":16"), std::string::npos) << info;
  // Initialisation dirtied 16 pages: they are resident and private.
  EXPECT_GE((*instance)->ResidentBytes(), 16 * kWasmPageBytes);
  auto run = (*instance)->Call("run", ToBytes("x"), {});
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(ToString(*run).substr(0, 3), "ok ");
}

TEST(InstanceTest, SynthVariantNeedsAParameterBlock) {
  auto bytes = MakeSynthVariant(ToBytes("not a synth module"), {});
  ASSERT_FALSE(bytes.ok());
  EXPECT_EQ(bytes.status().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace strata
