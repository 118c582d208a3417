#include "engine/component.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <nlohmann/json.hpp>

#include "engine/module_impl.h"
#include "engine/wit_json.h"
#include "strata/engine.h"

namespace strata {
namespace {

using nlohmann::json;
namespace wc = wasmtime::component;

std::string FuncSignature(const wc::FuncType& type) {
  std::string out = "func(";
  for (size_t i = 0; i < type.param_count(); ++i) {
    auto [name, param] = *type.param_nth(i);
    out += (i ? ", " : "") + std::string(name) + ": " + WitTypeName(param);
  }
  out += ")";
  if (auto result = type.result()) out += " -> " + WitTypeName(*result);
  return out;
}

std::string ItemKind(const wc::ComponentItem& item) {
  if (item.is_component_func()) return FuncSignature(item.component_func());
  if (item.is_component_instance()) return "instance";
  if (item.is_resource()) return "resource";
  if (item.is_module()) return "module";
  if (item.is_component()) return "component";
  if (item.is_type()) return "type";
  return "core func";
}

CallingConvention DetectComponentConvention(const ModuleInfo& info) {
  bool functions = false;
  for (const auto& e : info.exports) {
    if (e.name.starts_with("wasi:http/incoming-handler@")) {
      return CallingConvention::kHttpProxy;
    }
    if (e.name.starts_with("wasi:cli/run@")) {
      return CallingConvention::kComponentCommand;
    }
    functions |= e.type.starts_with("func(");
  }
  return functions ? CallingConvention::kComponent : CallingConvention::kUnknown;
}

// A failed component call, or instantiation, as a Status; the instance is
// not trusted again. (Component calls report traps as errors whose message
// names the cause.)
Status Failure(InstanceState& s, const wasmtime::Error& error,
               std::string_view what, std::chrono::milliseconds timeout) {
  s.poisoned = true;
  std::string message = error.message();
  if (message.find("wasm trap: interrupt") != std::string::npos) {
    return CallDeadline(s, what, timeout);
  }
  if (message.find("over its cap of") != std::string::npos) {
    return Status(ErrorCode::kOutputTooLarge,
                  Who(s) + ": " + std::string(what) + ": " + message);
  }
  bool trap = message.find("wasm trap") != std::string::npos;
  return Status(ErrorCode::kTrap, Who(s) + ": " + std::string(what) +
                                      (trap ? " trapped: " : " failed: ") +
                                      TrapMessage(message));
}

// The export `name` ("f", or "interface#f" for a function inside an
// exported interface), from the instance's cache.
Result<wc::Func> FindComponentFunc(InstanceState& s, std::string_view name) {
  if (auto it = s.component_funcs.find(name); it != s.component_funcs.end()) {
    return it->second;
  }
  const wc::Component& component = s.module->component();
  size_t hash = name.find('#');
  std::optional<wc::ExportIndex> index;
  if (hash == std::string_view::npos) {
    index = component.export_index(nullptr, name);
  } else if (auto outer = component.export_index(nullptr, name.substr(0, hash))) {
    index = component.export_index(&*outer, name.substr(hash + 1));
  }
  auto func = index ? s.component->get_func(s.cx(), *index) : std::nullopt;
  if (!func) {
    return Status(ErrorCode::kInvalidArgument,
                  Who(s) + " has no exported function '" + std::string(name) + "'");
  }
  s.component_funcs.emplace(std::string(name), *func);
  return *func;
}

// The call's arguments: a JSON array in parameter order, or an object
// keyed by parameter name.
Result<std::vector<wc::Val>> Arguments(InstanceState& s, std::string_view name,
                                       const wc::FuncType& type,
                                       std::span<const uint8_t> input) {
  json args = json::parse(input.begin(), input.end(), nullptr,
                          /*allow_exceptions=*/false);
  std::string call = Who(s) + ": " + std::string(name);
  if (args.is_discarded() || !(args.is_array() || args.is_object())) {
    return Status(ErrorCode::kInvalidArgument,
                  call + ": arguments must be a JSON array (or an object "
                         "keyed by parameter name) for " + FuncSignature(type));
  }
  size_t count = type.param_count();
  if (args.is_array() && args.size() != count) {
    return Status(ErrorCode::kInvalidArgument,
                  call + " takes " + std::to_string(count) + " argument" +
                      (count == 1 ? "" : "s") + ", got " +
                      std::to_string(args.size()) + ": " + FuncSignature(type));
  }
  std::vector<wc::Val> vals;
  for (size_t i = 0; i < count; ++i) {
    auto [param, param_type] = *type.param_nth(i);
    std::string key(param);
    if (args.is_object() && !args.contains(key)) {
      return Status(ErrorCode::kInvalidArgument,
                    call + ": missing argument '" + key + "' (" +
                        WitTypeName(param_type) + ")");
    }
    const json& arg = args.is_array() ? args[i] : args[key];
    auto val = WitFromJson(arg, param_type, call + ": parameter '" + key + "'");
    if (!val.ok()) return val.status();
    vals.push_back(std::move(*val));
  }
  return vals;
}

bool Within(std::span<const uint8_t> text, std::string_view word) {
  return text.size() >= word.size() &&
         std::memcmp(text.data(), word.data(), word.size()) == 0;
}

}  // namespace

bool IsComponentBytes(std::span<const uint8_t> bytes) {
  static constexpr uint8_t kComponentHeader[8] = {0, 'a', 's', 'm',
                                                  0x0d, 0, 0x01, 0};
  if (bytes.size() >= 8 && std::memcmp(bytes.data(), kComponentHeader, 8) == 0) {
    return true;
  }
  if (bytes.size() >= 4 && std::memcmp(bytes.data(), "\0asm", 4) == 0) {
    return false;
  }
  // Text: the first form, after white space and ;; comments.
  size_t i = 0;
  while (i < bytes.size()) {
    if (std::isspace(bytes[i])) {
      ++i;
    } else if (Within(bytes.subspan(i), ";;")) {
      while (i < bytes.size() && bytes[i] != '\n') ++i;
    } else {
      break;
    }
  }
  return Within(bytes.subspan(i), "(component");
}

wasmtime::Result<wc::Component> CompileComponentBytes(
    wasmtime::Engine& engine, std::span<const uint8_t> bytes) {
  if (bytes.size() >= 4 && std::memcmp(bytes.data(), "\0asm", 4) == 0) {
    return wc::Component::compile(
        engine,
        wasmtime::Span<uint8_t>(const_cast<uint8_t*>(bytes.data()), bytes.size()));
  }
  return wc::Component::compile(
      engine, std::string_view(reinterpret_cast<const char*>(bytes.data()),
                               bytes.size()));
}

ModuleInfo DescribeComponent(wasmtime::Engine& engine,
                             const wc::Component& component) {
  ModuleInfo info;
  wc::ComponentType type = component.type();
  for (size_t i = 0; i < type.import_count(engine); ++i) {
    auto [name, item] = *type.import_nth(engine, i);
    info.imports.push_back({std::string(name), "", ItemKind(item)});
  }
  for (size_t i = 0; i < type.export_count(engine); ++i) {
    auto [name, item] = *type.export_nth(engine, i);
    info.exports.push_back({std::string(name), ItemKind(item), false});
    if (!item.is_component_instance()) continue;
    // An exported interface's functions, callable as "interface#f".
    const auto& inner = item.component_instance();
    for (size_t j = 0; j < inner.export_count(engine); ++j) {
      auto [func, func_item] = *inner.export_nth(engine, j);
      if (!func_item.is_component_func()) continue;
      info.exports.push_back({std::string(name) + "#" + std::string(func),
                              ItemKind(func_item), false});
    }
  }
  info.convention = DetectComponentConvention(info);
  return info;
}

uint64_t ComponentInitialMemory(const wc::Component& component) {
  return strata_component_initial_memory(component.capi());
}

Result<ComponentPre> LinkComponent(const Module& module) {
  strata_component_pre_t* pre = nullptr;
  auto world = module.convention() == CallingConvention::kHttpProxy
                   ? STRATA_COMPONENT_HTTP_PROXY
                   : STRATA_COMPONENT_WASIP2;
  wasmtime_error_t* error =
      strata_component_pre_new(module.component().capi(), world, &pre);
  if (error != nullptr) {
    return Status(ErrorCode::kLink, "component '" + module.name() + "': " +
                                        wasmtime::Error(error).message());
  }
  return ComponentPre(pre, strata_component_pre_delete);
}

Status InstantiateComponent(InstanceState& s, const ComponentPre& pre,
                            std::chrono::milliseconds init_timeout) {
  if (s.module->convention() == CallingConvention::kHttpProxy) {
    wasmtime_context_set_wasi_http(s.cx().capi());
  }
  wasmtime_component_instance_t raw;
  if (wasmtime_error_t* error =
          strata_component_pre_instantiate(pre.get(), s.cx().capi(), &raw)) {
    std::string message = wasmtime::Error(error).message();
    if (message.find("concurrent limit") != std::string::npos) {
      return Status(ErrorCode::kPoolExhausted,
                    Who(s) + ": no pooled instance slot free in the engine: " +
                        message);
    }
    if (message.find("wasm trap: interrupt") != std::string::npos) {
      return StartupDeadline(s, init_timeout);
    }
    return Status(ErrorCode::kInstantiate,
                  Who(s) + ": instantiation failed: " + TrapMessage(message));
  }
  s.component.emplace(raw);
  s.component_pre = pre;
  return OkStatus();
}

Result<Bytes> CallComponent(InstanceState& s, std::string_view export_name,
                            std::span<const uint8_t> input,
                            const CallOptions& options) {
  if (s.module->convention() != CallingConvention::kComponent) {
    return Status(ErrorCode::kInvalidArgument,
                  Who(s) + " is a " + CallingConventionName(s.module->convention()) +
                      " component; only exported functions can be called");
  }
  auto func = FindComponentFunc(s, export_name);
  if (!func.ok()) return func.status();
  wc::FuncType type = func->type(s.cx());
  auto args = Arguments(s, export_name, type, input);
  if (!args.ok()) return args.status();
  std::vector<wc::Val> results(type.result() ? 1 : 0, wc::Val(false));
  SetDeadline(s, options.timeout);
  ++s.calls;
  auto called = func->call(s.cx(), *args, results);
  if (!called) return Failure(s, called.err(), export_name, options.timeout);
  if (auto done = func->post_return(s.cx()); !done) {
    return Failure(s, done.err(), "post-return", options.timeout);
  }
  std::string out = results.empty() ? "null" : WitToJson(results[0]).dump();
  if (out.size() > options.max_output_bytes) {
    return Status(ErrorCode::kOutputTooLarge,
                  Who(s) + ": " + std::string(export_name) + " returned " +
                      std::to_string(out.size()) +
                      " bytes of JSON, over the limit of " +
                      std::to_string(options.max_output_bytes));
  }
  return Bytes(out.begin(), out.end());
}

Result<int> RunComponentMain(InstanceState& s,
                             std::chrono::milliseconds timeout) {
  std::string run;
  for (const auto& e : s.module->info().exports) {
    if (e.name.starts_with("wasi:cli/run@") && e.name.ends_with("#run")) run = e.name;
  }
  auto func = FindComponentFunc(s, run.empty() ? "wasi:cli/run#run" : run);
  if (!func.ok()) return func.status();
  SetDeadline(s, timeout);
  wc::Val result(false);
  auto ran = func->call(s.cx(), {}, wasmtime::Span<wc::Val>(&result, 1));
  if (!ran) {
    if (auto code = ran.err().i32_exit()) return *code;
    return Failure(s, ran.err(), "wasi:cli/run", timeout);
  }
  return result.is_result() && result.get_result().is_ok() ? 0 : 1;
}

// A failed exchange as a Status, by the kind the handler reported (the
// message may hold the guest's own text, so it is never parsed). Only a
// request the guest never saw leaves the instance trusted.
Status HttpFailure(InstanceState& s, strata_http_failure_t failure,
                   const std::string& message, std::chrono::milliseconds timeout) {
  const std::string who = Who(s) + ": wasi:http handle";
  switch (failure) {
    case STRATA_HTTP_BAD_REQUEST:
      return Status(ErrorCode::kInvalidArgument,
                    who + " refused the request: " + message);
    case STRATA_HTTP_DEADLINE:
      s.poisoned = true;
      return CallDeadline(s, "wasi:http handle", timeout);
    case STRATA_HTTP_TOO_LARGE:
      s.poisoned = true;
      return Status(ErrorCode::kOutputTooLarge, who + ": " + message);
    case STRATA_HTTP_FAILED:
      break;
  }
  s.poisoned = true;
  bool trap = message.find("wasm trap") != std::string::npos;
  return Status(ErrorCode::kTrap,
                who + (trap ? " trapped: " : " failed: ") + TrapMessage(message));
}

Result<HttpResponse> HandleComponentHttp(InstanceState& s,
                                         const HttpRequest& request) {
  if (s.module->convention() != CallingConvention::kHttpProxy) {
    return Status(ErrorCode::kInvalidArgument,
                  Who(s) + " is not a wasi:http proxy (it exports no "
                           "wasi:http/incoming-handler)");
  }
  auto bytes = [](std::string_view text) {
    return reinterpret_cast<const uint8_t*>(text.data());
  };
  std::vector<strata_http_header_t> headers;
  for (const auto& [name, value] : request.headers) {
    headers.push_back({bytes(name), name.size(), bytes(value), value.size()});
  }
  strata_http_request_t raw{};
  raw.method = bytes(request.method);
  raw.method_len = request.method.size();
  raw.path = bytes(request.path);
  raw.path_len = request.path.size();
  raw.authority = bytes(request.authority);
  raw.authority_len = request.authority.size();
  raw.headers = headers.data();
  raw.header_count = headers.size();
  raw.body = request.body.data();
  raw.body_len = request.body.size();
  raw.max_response_bytes = request.max_response_bytes;
  raw.timeout_ms = static_cast<uint64_t>(std::max<int64_t>(0, request.timeout.count()));
  SetDeadline(s, request.timeout);
  ++s.calls;
  strata_http_response_t* out = nullptr;
  strata_http_failure_t failure = STRATA_HTTP_FAILED;
  if (wasmtime_error_t* error =
          strata_http_handle(s.component_pre.get(), s.cx().capi(),
                             s.component->capi(), &raw, &out, &failure)) {
    return HttpFailure(s, failure, wasmtime::Error(error).message(),
                       request.timeout);
  }
  std::unique_ptr<strata_http_response_t, void (*)(strata_http_response_t*)> owned(
      out, strata_http_response_delete);
  HttpResponse response;
  response.status = strata_http_response_status(out);
  for (size_t i = 0; i < strata_http_response_header_count(out); ++i) {
    strata_http_header_t h;
    strata_http_response_header(out, i, &h);
    response.headers.emplace_back(
        std::string(reinterpret_cast<const char*>(h.name), h.name_len),
        std::string(reinterpret_cast<const char*>(h.value), h.value_len));
  }
  const uint8_t* data = nullptr;
  size_t len = 0;
  strata_http_response_body(out, &data, &len);
  response.body.assign(data, data + len);
  return response;
}

}  // namespace strata
