// Helpers for the WASI capability tests: scratch directories, small files,
// the fsprobe guest's report, and running the strata CLI as a subprocess.
#ifndef STRATA_TESTS_WASI_TEST_SUPPORT_H_
#define STRATA_TESTS_WASI_TEST_SUPPORT_H_

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "test_support.h"

extern char** environ;

namespace strata::testing {

// A fresh directory under the system temp dir, removed with its contents.
class ScratchDir {
 public:
  ScratchDir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("strata-wasi-test-" + std::to_string(getpid()) + "-" +
             std::to_string(counter.fetch_add(1)));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& rel) const {
    return path_ / rel;
  }

 private:
  std::filesystem::path path_;
};

inline void WriteText(const std::filesystem::path& path,
                      const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

inline std::string ReadText(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// fsprobe prints one "<op> <arg>: <outcome>" line per operation; this is the
// outcome of the line that starts with `prefix` ("" if there is none).
inline std::string Outcome(const std::string& report,
                           const std::string& prefix) {
  std::istringstream lines(report);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(prefix + ": ", 0) == 0)
      return line.substr(prefix.size() + 2);
  }
  return "";
}

struct ProcessResult {
  int exit_code = -1;
  std::string out, err;
};

// Runs `argv` (argv[0] is a path) in `cwd`, stdout and stderr captured.
inline ProcessResult RunProcess(const std::vector<std::string>& argv,
                                const std::filesystem::path& cwd) {
  ScratchDir capture;
  auto out_path = capture / "stdout", err_path = capture / "stderr";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  // The child runs in `cwd` (relative --dir paths resolve there).
  std::vector<std::string> shell{"/bin/sh", "-c", "cd \"$0\" && exec \"$@\"",
                                 cwd.string()};
  shell.insert(shell.end(), argv.begin(), argv.end());
  std::vector<char*> args;
  for (auto& a : shell) args.push_back(a.data());
  args.push_back(nullptr);
  pid_t pid = 0;
  ProcessResult result;
  if (posix_spawn(&pid, "/bin/sh", &actions, nullptr, args.data(), environ) ==
      0) {
    int status = 0;
    waitpid(pid, &status, 0);
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  posix_spawn_file_actions_destroy(&actions);
  result.out = ReadText(out_path);
  result.err = ReadText(err_path);
  return result;
}

inline std::filesystem::path StrataCli() { return STRATA_TEST_CLI; }

}  // namespace strata::testing

#endif  // STRATA_TESTS_WASI_TEST_SUPPORT_H_
