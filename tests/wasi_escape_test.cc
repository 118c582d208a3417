// A guest (fsprobe) tries to leave its preopened directories: `..`, absolute
// paths, host symlinks that point outside, symlinks it makes itself, and
// writes into a read-only grant. Every escape must fail; the legitimate
// reads and writes next to them must succeed.
#include <unistd.h>

#include "wasi_test_support.h"

namespace strata {
namespace {

using testing::NewInstance;
using testing::Outcome;
using testing::ReadText;
using testing::ScratchDir;
using testing::ToString;
using testing::WriteText;

// Host layout:          guest view:
//   root/secret.txt       (not granted)
//   root/data/in.txt      /data/in.txt      (read-only)
//   root/data/sub/        /data/sub/
//   root/out/             /out              (read-write)
class WasiEscapeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteText(root_ / "secret.txt", "TOP SECRET");
    WriteText(root_ / "data/in.txt", "public input");
    std::filesystem::create_directories(root_ / "data/sub");
    std::filesystem::create_directories(root_ / "out");
  }

  // Runs fsprobe with `ops` and returns its report.
  std::string Probe(const std::vector<std::string>& ops) {
    auto instance = NewInstance("fsprobe.wasm");
    if (instance == nullptr) return "";
    CommandRequest request;
    request.wasi.dirs = {{root_ / "data", "/data", false},
                         {root_ / "out", "/out", true}};
    request.wasi.args = ops;
    auto out = instance->RunCommand(request);
    EXPECT_TRUE(out.ok()) << out.status();
    if (!out.ok()) return "";
    EXPECT_EQ(out->exit_code, 0);
    return ToString(out->stdout_bytes);
  }

  static bool Failed(const std::string& report, const std::string& op) {
    std::string outcome = Outcome(report, op);
    return outcome.rfind("error ", 0) == 0;
  }

  ScratchDir root_;
};

TEST_F(WasiEscapeTest, DotDotCannotLeaveAPreopen) {
  std::string report = Probe({"cat", "/data/../secret.txt",
                              "cat", "/data/sub/../../secret.txt",
                              "cat", "../secret.txt",
                              "cat", "/out/../secret.txt",
                              "cat", "/data/sub/../in.txt"});
  EXPECT_TRUE(Failed(report, "cat /data/../secret.txt")) << report;
  EXPECT_TRUE(Failed(report, "cat /data/sub/../../secret.txt")) << report;
  EXPECT_TRUE(Failed(report, "cat ../secret.txt")) << report;
  EXPECT_TRUE(Failed(report, "cat /out/../secret.txt")) << report;
  // `..` that stays inside is an ordinary path.
  EXPECT_EQ(Outcome(report, "cat /data/sub/../in.txt"), "ok public input");
  EXPECT_EQ(report.find("TOP SECRET"), std::string::npos) << report;
}

TEST_F(WasiEscapeTest, AbsolutePathsOutsideThePreopensFail) {
  std::string host_secret = (root_ / "secret.txt").string();
  std::string report = Probe({"cat", "/etc/passwd",
                              "cat", host_secret,
                              "ls", "/",
                              "write", "/tmp/strata-escape.txt", "x",
                              "cat", "/data/in.txt"});
  EXPECT_TRUE(Failed(report, "cat /etc/passwd")) << report;
  EXPECT_TRUE(Failed(report, "cat " + host_secret)) << report;
  EXPECT_TRUE(Failed(report, "ls /")) << report;
  EXPECT_TRUE(Failed(report, "write /tmp/strata-escape.txt")) << report;
  EXPECT_FALSE(std::filesystem::exists("/tmp/strata-escape.txt"));
  EXPECT_EQ(Outcome(report, "cat /data/in.txt"), "ok public input");
}

TEST_F(WasiEscapeTest, HostSymlinksPointingOutsideAreNotFollowed) {
  std::filesystem::create_symlink("../secret.txt", root_ / "data/rel-link");
  std::filesystem::create_symlink(root_ / "secret.txt",
                                  root_ / "data/abs-link");
  std::filesystem::create_directory_symlink("/etc", root_ / "data/etc-link");
  std::filesystem::create_directory_symlink(root_.path(),
                                            root_ / "out/root-link");
  std::filesystem::create_symlink("in.txt", root_ / "data/inside-link");
  std::string report = Probe({"cat", "/data/rel-link",
                              "cat", "/data/abs-link",
                              "cat", "/data/etc-link/passwd",
                              "cat", "/out/root-link/secret.txt",
                              "write", "/out/root-link/planted.txt", "x",
                              "cat", "/data/inside-link"});
  EXPECT_TRUE(Failed(report, "cat /data/rel-link")) << report;
  EXPECT_TRUE(Failed(report, "cat /data/abs-link")) << report;
  EXPECT_TRUE(Failed(report, "cat /data/etc-link/passwd")) << report;
  EXPECT_TRUE(Failed(report, "cat /out/root-link/secret.txt")) << report;
  EXPECT_TRUE(Failed(report, "write /out/root-link/planted.txt")) << report;
  EXPECT_FALSE(std::filesystem::exists(root_ / "planted.txt"));
  // A symlink that stays inside the preopen works.
  EXPECT_EQ(Outcome(report, "cat /data/inside-link"), "ok public input");
  EXPECT_EQ(report.find("TOP SECRET"), std::string::npos) << report;
}

TEST_F(WasiEscapeTest, SymlinksTheGuestMakesCannotLeadOutside) {
  std::string report = Probe({"symlink", "/etc/passwd", "/out/abs",
                              "cat", "/out/abs",
                              "symlink", "../secret.txt", "/out/rel",
                              "cat", "/out/rel",
                              "write", "/out/rel", "overwrite",
                              "symlink", "../secret.txt", "/data/link",
                              "symlink", "note.txt", "/out/inside",
                              "write", "/out/note.txt", "kept",
                              "cat", "/out/inside"});
  // Creating a link may or may not be refused; following one out must be.
  EXPECT_TRUE(Failed(report, "cat /out/abs")) << report;
  EXPECT_TRUE(Failed(report, "cat /out/rel")) << report;
  EXPECT_TRUE(Failed(report, "write /out/rel")) << report;
  EXPECT_EQ(ReadText(root_ / "secret.txt"), "TOP SECRET");
  // No link can be made in the read-only directory.
  EXPECT_TRUE(Failed(report, "symlink /data/link")) << report;
  EXPECT_EQ(Outcome(report, "cat /out/inside"), "ok kept") << report;
  EXPECT_EQ(report.find("TOP SECRET"), std::string::npos) << report;
}

TEST_F(WasiEscapeTest, ReadOnlyPreopenRefusesEveryChange) {
  std::string report = Probe({"write", "/data/in.txt", "changed",
                              "write", "/data/new.txt", "x",
                              "mkdir", "/data/newdir",
                              "rm", "/data/in.txt",
                              "write", "/out/ok.txt", "written",
                              "cat", "/data/in.txt"});
  EXPECT_TRUE(Failed(report, "write /data/in.txt")) << report;
  EXPECT_TRUE(Failed(report, "write /data/new.txt")) << report;
  EXPECT_TRUE(Failed(report, "mkdir /data/newdir")) << report;
  EXPECT_TRUE(Failed(report, "rm /data/in.txt")) << report;
  EXPECT_EQ(ReadText(root_ / "data/in.txt"), "public input");
  EXPECT_FALSE(std::filesystem::exists(root_ / "data/new.txt"));
  EXPECT_FALSE(std::filesystem::exists(root_ / "data/newdir"));
  EXPECT_EQ(Outcome(report, "write /out/ok.txt"), "ok");
  EXPECT_EQ(ReadText(root_ / "out/ok.txt"), "written");
  EXPECT_EQ(Outcome(report, "cat /data/in.txt"), "ok public input");
}

}  // namespace
}  // namespace strata
