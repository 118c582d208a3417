// strata call: one call of a component's exported function, with JSON
// arguments mapped to its WIT parameters and its result printed as JSON
// (docs/COMPONENTS.md).
#include <iostream>

#include "cli_util.h"
#include "commands.h"

namespace strata::cli {
namespace {

struct CallCommandOptions {
  std::string component;
  std::string export_name;
  std::string args = "[]";
  int64_t timeout_ms = 0;
  uint64_t max_memory = 0;
};

int Call(const CallCommandOptions& o) {
  auto engine = MakeEngine();
  auto module = LoadModule(*engine, o.component);
  if (!module.ok()) return Fail(module.status());
  if ((*module)->convention() != CallingConvention::kComponent) {
    return Fail(Status(
        ErrorCode::kInvalidArgument,
        "'" + (*module)->name() + "' is a " +
            CallingConventionName((*module)->convention()) +
            (IsComponent((*module)->convention())
                 ? "; `strata call` calls a component's exported functions "
                   "(use `strata run` for a wasi:cli/run command)"
                 : " module; `strata call` calls components (use `strata "
                   "run --export` for a reactor)")));
  }
  auto prepared = engine->Prepare(*module);
  if (!prepared.ok()) return Fail(prepared.status());
  InstanceLimits limits;
  limits.max_memory_bytes = o.max_memory;
  auto instance = (*prepared)->Instantiate(limits);
  if (!instance.ok()) return Fail(instance.status());
  CallOptions call;
  call.timeout = std::chrono::milliseconds(o.timeout_ms);
  const auto* args = reinterpret_cast<const uint8_t*>(o.args.data());
  auto out = (*instance)->Call(o.export_name, {args, o.args.size()}, call);
  std::cerr << (*instance)->TakeLog();
  if (!out.ok()) return Fail(out.status());
  std::cout.write(reinterpret_cast<const char*>(out->data()),
                  static_cast<std::streamsize>(out->size()));
  std::cout << "\n";
  return 0;
}

}  // namespace

void AddCallCommand(CLI::App& app, ExitCode& exit_code) {
  auto o = std::make_shared<CallCommandOptions>();
  CLI::App* cmd = app.add_subcommand(
      "call",
      "Call a component's exported function once: arguments as a JSON array "
      "(or an object keyed by parameter name), the result printed as JSON. "
      "Records are objects, lists arrays, enums strings; variant, option and "
      "result are tagged objects ({\"some\": x}, {\"ok\": x}).");
  cmd->add_option("component", o->component, "Component file (.wasm or .wat)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("export", o->export_name,
                  "Exported function: NAME, or INTERFACE#NAME for one inside "
                  "an exported interface")
      ->required();
  cmd->add_option("--args", o->args, "JSON arguments")->capture_default_str();
  cmd->add_option("--timeout", o->timeout_ms, "Deadline in ms (0: none)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--max-memory", o->max_memory,
                  "Largest linear memory in bytes (0: engine default)");
  cmd->callback([o, &exit_code] { exit_code = Call(*o); });
}

}  // namespace strata::cli
