// strata run: one call of a module, with no pool.
#include <iostream>

#include "cli_util.h"
#include "commands.h"

namespace strata::cli {
namespace {

struct RunOptions {
  std::string module;
  std::string export_name;
  std::string input;
  int64_t timeout_ms = 0;
  uint64_t max_memory = 0;
  std::vector<std::string> args;
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
                    std::to_string(entries.size()) +
                    " entry points (" + names + "); choose one with --export");
}

void Write(std::ostream& out, const Bytes& bytes) {
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  out.flush();
}

int Run(const RunOptions& o) {
  auto engine = MakeEngine();
  auto module = engine->CompileFile(o.module);
  if (!module.ok()) return Fail(module.status());
  auto prepared = engine->Prepare(*module);
  if (!prepared.ok()) return Fail(prepared.status());
  InstanceLimits limits;
  limits.max_memory_bytes = o.max_memory;
  if (o.timeout_ms > 0) limits.init_timeout = std::chrono::milliseconds(o.timeout_ms);
  auto instance = (*prepared)->Instantiate(limits);
  if (!instance.ok()) return Fail(instance.status());
  Bytes input;
  if (!o.input.empty()) {
    auto read = ReadInput(o.input);
    if (!read.ok()) return Fail(read.status());
    input = std::move(*read);
  }
  auto timeout = std::chrono::milliseconds(o.timeout_ms);

  if ((*module)->convention() == CallingConvention::kCommand &&
      o.export_name.empty()) {
    CommandRequest request;
    request.stdin_bytes = std::move(input);
    request.args = o.args;
    request.timeout = timeout;
    auto out = (*instance)->RunCommand(request);
    if (!out.ok()) return Fail(out.status());
    Write(std::cout, out->stdout_bytes);
    Write(std::cerr, out->stderr_bytes);
    return out->exit_code;
  }
  auto entry = PickExport(**module, o.export_name);
  if (!entry.ok()) return Fail(entry.status());
  CallOptions call;
  call.timeout = timeout;
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
      "Run one call of a module: a WASI command's _start (stdin, args after "
      "--), or a reactor export (input bytes in, output bytes out)");
  cmd->add_option("module", o->module, "Module file (.wasm or .wat)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--export", o->export_name,
                  "Reactor export to call (default: the only entry point)");
  cmd->add_option("--input", o->input,
                  "Input file, or - for standard input (default: none)");
  cmd->add_option("--timeout", o->timeout_ms, "Deadline in ms (0: none)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--max-memory", o->max_memory,
                  "Largest linear memory in bytes (0: engine default)");
  cmd->add_option("args", o->args, "Arguments for a command module (after --)");
  cmd->callback([o, &exit_code] { exit_code = Run(*o); });
}

}  // namespace strata::cli
