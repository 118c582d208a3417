// strata run: one call of a module, with no pool (or, with --repeat, many
// calls timed without and with a pool).
#include <iostream>

#include "cli_util.h"
#include "commands.h"
#include "run_timing.h"

namespace strata::cli {
namespace {

struct RunOptions {
  std::string module;
  std::string export_name;
  std::string input;
  std::string stdin_file;
  int64_t timeout_ms = 0;
  uint64_t max_memory = 0;
  uint64_t max_stdout = 64 << 20;
  uint64_t max_stderr = 1 << 20;
  std::vector<std::string> dirs;
  std::vector<std::string> env;
  std::vector<std::string> inherit_env;
  int repeat = 0;
  std::vector<std::string> args;

  bool GrantsWasi() const {
    return !dirs.empty() || !env.empty() || !inherit_env.empty() ||
           !stdin_file.empty();
  }
};

// The reactor entry to call: --export, or the module's only entry point.
Result<std::string> PickExport(const Module& module, const std::string& given) {
  if (!given.empty()) return given;
  std::vector<std::string> entries;
  for (const auto& e : module.info().exports) {
    if (e.is_reactor_entry) entries.push_back(e.name);
  }
  if (entries.size() == 1) return entries[0];
  std::string names;
  for (const auto& n : entries) names += (names.empty() ? "" : ", ") + n;
  return Status(ErrorCode::kInvalidArgument,
                "module '" + module.name() + "' has " +
                    std::to_string(entries.size()) + " entry points (" + names +
                    "); choose one with --export");
}

void Write(std::ostream& out, const Bytes& bytes) {
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  out.flush();
}

// The command request the flags describe: grants, stdin, caps, deadline.
Result<CommandRequest> MakeRequest(const RunOptions& o, Bytes input) {
  CommandRequest request;
  for (const auto& spec : o.dirs) {
    auto dir = ParsePreopen(spec);
    if (!dir.ok()) return dir.status();
    request.wasi.dirs.push_back(std::move(*dir));
  }
  for (const auto& spec : o.env) {
    auto var = ParseEnvAssignment(spec);
    if (!var.ok()) return var.status();
    request.wasi.env.push_back(std::move(*var));
  }
  request.wasi.inherit_env = o.inherit_env;
  request.wasi.args = o.args;
  request.stdin_bytes = std::move(input);
  request.stdin_file = o.stdin_file;
  request.timeout = std::chrono::milliseconds(o.timeout_ms);
  request.max_stdout_bytes = o.max_stdout;
  request.max_stderr_bytes = o.max_stderr;
  return request;
}

int PrintCommandOutput(const CommandOutput& out) {
  Write(std::cout, out.stdout_bytes);
  Write(std::cerr, out.stderr_bytes);
  return out.exit_code;
}

int Run(const RunOptions& o) {
  auto engine = MakeEngine();
  auto module = LoadModule(*engine, o.module);
  if (!module.ok()) return Fail(module.status());
  const bool command = IsCommand((*module)->convention()) && o.export_name.empty();
  if (!command && (o.GrantsWasi() || o.repeat > 0)) {
    return Fail(Status(ErrorCode::kInvalidArgument,
                       "module '" + (*module)->name() +
                           "' is run as a reactor export; --dir, --env, "
                           "--inherit-env, --stdin and --repeat apply to WASI "
                           "commands (_start)"));
  }
  InstanceLimits limits;
  limits.max_memory_bytes = o.max_memory;
  if (o.timeout_ms > 0)
    limits.init_timeout = std::chrono::milliseconds(o.timeout_ms);
  Bytes input;
  if (!o.input.empty()) {
    auto read = ReadInput(o.input);
    if (!read.ok()) return Fail(read.status());
    input = std::move(*read);
  }

  Result<CommandRequest> request = CommandRequest{};
  if (command) {
    request = MakeRequest(o, std::move(input));
    if (!request.ok()) return Fail(request.status());
    if (o.repeat > 0) {
      auto bytes = ReadFile(o.module);
      if (!bytes.ok()) return Fail(bytes.status());
      auto out = RunRepeated(*engine, *module, *bytes, limits, *request,
                             o.repeat, std::cerr);
      if (!out.ok()) return Fail(out.status());
      return PrintCommandOutput(*out);
    }
  }

  auto prepared = engine->Prepare(*module);
  if (!prepared.ok()) return Fail(prepared.status());
  auto instance = (*prepared)->Instantiate(limits);
  if (!instance.ok()) return Fail(instance.status());
  if (command) {
    auto out = (*instance)->RunCommand(*request);
    if (!out.ok()) return Fail(out.status());
    return PrintCommandOutput(*out);
  }
  auto entry = PickExport(**module, o.export_name);
  if (!entry.ok()) return Fail(entry.status());
  CallOptions call;
  call.timeout = std::chrono::milliseconds(o.timeout_ms);
  auto out = (*instance)->Call(*entry, input, call);
  std::cerr << (*instance)->TakeLog();
  if (!out.ok()) return Fail(out.status());
  Write(std::cout, *out);
  return 0;
}

}  // namespace

void AddRunCommand(CLI::App& app, ExitCode& exit_code) {
  auto o = std::make_shared<RunOptions>();
  CLI::App* cmd = app.add_subcommand(
      "run",
      "Run one call of a module: a WASI command's _start or a wasi:cli/run "
      "component's run (stdin, args after --, granted directories and "
      "environment), or a reactor export (input bytes in, output bytes out). "
      "A command gets nothing it is not granted.");
  cmd->add_option("module", o->module, "Module file (.wasm or .wat)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--export", o->export_name,
                  "Reactor export to call (default: the only entry point)");
  auto* input = cmd->add_option(
      "--input", o->input,
      "Input file, or - for standard input (default: none); a command reads "
      "it as stdin");
  cmd->add_option("--stdin", o->stdin_file,
                  "Command: stream stdin from this file (not read into memory)")
      ->check(CLI::ExistingFile)
      ->excludes(input);
  cmd->add_option("--dir", o->dirs,
                  "Command: preopen HOST[::GUEST][:ro|:rw] (repeatable). The "
                  "guest sees HOST as GUEST (default: HOST as written), "
                  "read-write unless :ro, and nothing outside it")
      ->allow_extra_args(false);
  cmd->add_option("--env", o->env,
                  "Command: set KEY=VALUE in its environment (repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("--inherit-env", o->inherit_env,
                  "Command: copy NAME from strata's environment if set "
                  "(repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("--timeout", o->timeout_ms, "Deadline in ms (0: none)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--max-memory", o->max_memory,
                  "Largest linear memory in bytes (0: engine default)");
  cmd->add_option("--max-stdout", o->max_stdout,
                  "Command: stdout cap in bytes; more is an error, never cut "
                  "silently")
      ->capture_default_str();
  cmd->add_option("--max-stderr", o->max_stderr, "Command: stderr cap in bytes")
      ->capture_default_str();
  cmd->add_option("--repeat", o->repeat,
                  "Command: run N times without a pool, then N times through "
                  "a pool, and print compile, instantiate and call times to "
                  "stderr (the first run's output is printed)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("args", o->args, "Arguments for a command module (after --)");
  cmd->callback([o, &exit_code] { exit_code = Run(*o); });
}

}  // namespace strata::cli
