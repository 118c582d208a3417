// Pooled command instances and per-call WASI grants: a hot instance is made
// before its request is known, and each call still sees only its own
// directories, environment, stdin and output, plus the module's grants.
#include <thread>

#include "wasi_test_support.h"

namespace strata {
namespace {

using namespace std::chrono_literals;
using testing::GuestPath;
using testing::Outcome;
using testing::ReadText;
using testing::ScratchDir;
using testing::TestEngine;
using testing::ToBytes;
using testing::ToString;
using testing::WriteText;

std::unique_ptr<Pool> MakePool() {
  PoolOptions options;
  options.maintain_interval = 1h;  // maintenance only when the test asks
  return Pool::Create(&TestEngine(), options).value();
}

// fsprobe with a module-level grant shared by every call: a read-only /lib
// and an argument and variable every run gets.
struct FsprobePool {
  ScratchDir lib;
  std::unique_ptr<Pool> pool = MakePool();

  explicit FsprobePool(uint32_t min_hot) {
    WriteText(lib / "shared.txt", "module data");
    ModuleOptions options;
    options.min_hot = min_hot;
    options.wasi.dirs = {{lib.path(), "/lib", false}};
    options.wasi.args = {"cat", "/lib/shared.txt"};
    options.wasi.env = {{"ROLE", "module"}};
    Status added =
        pool->AddModuleFile("fsprobe", GuestPath("fsprobe.wasm"), options);
    EXPECT_TRUE(added.ok()) << added;
    pool->RunMaintenance();
    pool->WaitForRefills();
  }
};

// One call's private grants: its own output directory, stdin and variable.
struct Call {
  ScratchDir out;
  std::string secret;

  CommandRequest Request() const {
    CommandRequest request;
    request.wasi.dirs = {{out.path(), "/out", true}};
    request.wasi.env = {{"CALL_SECRET", secret}};
    request.stdin_bytes = ToBytes("stdin of " + secret);
    request.wasi.args = {
        "write", "/out/" + secret + ".txt", secret,  // its own output file
        "ls", "/out", "environ", "env", "CALL_SECRET", "env", "ROLE", "stdin"};
    return request;
  }
};

TEST(WasiPoolTest, HotInstancesGetEachCallsGrantsAndNoOtherCalls) {
  FsprobePool fixture(/*min_hot=*/1);
  Call first{.secret = "alpha"}, second{.secret = "bravo"};
  std::string reports[2];
  for (int i = 0; i < 2; ++i) {
    Call& call = i == 0 ? first : second;
    auto lease = fixture.pool->Acquire("fsprobe", 5s);
    ASSERT_TRUE(lease.ok()) << lease.status();
    // Instantiated before this request existed.
    EXPECT_EQ(lease->served_from(), ServedFrom::kHot);
    auto out = lease->RunCommand(call.Request());
    ASSERT_TRUE(out.ok()) << out.status();
    reports[i] = ToString(out->stdout_bytes);
    fixture.pool->WaitForRefills();
  }
  for (int i = 0; i < 2; ++i) {
    const Call& mine = i == 0 ? first : second;
    const Call& other = i == 0 ? second : first;
    const std::string& report = reports[i];
    // The module's grants, then the call's.
    EXPECT_EQ(Outcome(report, "cat /lib/shared.txt"), "ok module data")
        << report;
    EXPECT_EQ(Outcome(report, "env ROLE"), "ok module");
    EXPECT_EQ(Outcome(report, "environ"), "ok CALL_SECRET,ROLE");
    EXPECT_EQ(Outcome(report, "env CALL_SECRET"), "ok " + mine.secret);
    EXPECT_EQ(Outcome(report, "stdin"), "ok stdin of " + mine.secret);
    // Its own output directory holds only its own file ...
    EXPECT_EQ(Outcome(report, "ls /out"), "ok " + mine.secret + ".txt");
    EXPECT_EQ(ReadText(mine.out / (mine.secret + ".txt")), mine.secret);
    EXPECT_FALSE(std::filesystem::exists(mine.out / (other.secret + ".txt")));
    // ... and nothing of the other call reaches its output.
    EXPECT_EQ(report.find(other.secret), std::string::npos) << report;
  }
}

TEST(WasiPoolTest, CallGrantsDoNotOutliveTheCall) {
  FsprobePool fixture(/*min_hot=*/1);
  Call granted{.secret = "charlie"};
  {
    auto lease = fixture.pool->Acquire("fsprobe", 5s).value();
    ASSERT_TRUE(lease.RunCommand(granted.Request()).ok());
  }
  fixture.pool->WaitForRefills();
  // The next call asks for nothing: it has the module's grants only.
  auto lease = fixture.pool->Acquire("fsprobe", 5s).value();
  CommandRequest bare;
  bare.wasi.args = {"ls", "/out", "environ", "stdin"};
  auto out = lease.RunCommand(bare);
  ASSERT_TRUE(out.ok()) << out.status();
  std::string report = ToString(out->stdout_bytes);
  EXPECT_EQ(Outcome(report, "ls /out").rfind("error ", 0), 0u) << report;
  EXPECT_EQ(Outcome(report, "environ"), "ok ROLE");
  EXPECT_EQ(Outcome(report, "stdin"), "ok ");
  EXPECT_EQ(report.find("charlie"), std::string::npos) << report;
}

TEST(WasiPoolTest, ConcurrentCallsStayApart) {
  constexpr int kThreads = 4, kCallsPerThread = 5;
  FsprobePool fixture(/*min_hot=*/2);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kCallsPerThread; ++i) {
        Call call{.secret = "t" + std::to_string(t) + "c" + std::to_string(i)};
        auto lease = fixture.pool->Acquire("fsprobe", 10s);
        if (!lease.ok()) {
          ++failures;
          continue;
        }
        auto out = lease->RunCommand(call.Request());
        std::string report = out.ok() ? ToString(out->stdout_bytes) : "";
        bool alone =
            out.ok() &&
            Outcome(report, "ls /out") == "ok " + call.secret + ".txt" &&
            Outcome(report, "env CALL_SECRET") == "ok " + call.secret &&
            Outcome(report, "stdin") == "ok stdin of " + call.secret &&
            report.find("t" + std::to_string((t + 1) % kThreads) + "c") ==
                std::string::npos;
        if (!alone) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace strata
