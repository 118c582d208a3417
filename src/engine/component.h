// Engine internals for components (docs/COMPONENTS.md): recognising,
// compiling and describing one, linking it (strata's component InstancePre,
// third_party/wasmtime-c-api/src/component.rs), and what an instance of one
// does for Instance::Call, RunCommand and HandleHttp.
#ifndef STRATA_ENGINE_COMPONENT_H_
#define STRATA_ENGINE_COMPONENT_H_

#include <memory>
#include <span>
#include <string>
#include <wasmtime.hh>
#include <wasmtime/component.hh>

#include "strata/instance.h"
#include "strata/module.h"
#include "strata/status.h"
#include "strata_capi.h"

namespace strata {

struct InstanceState;

// True for the component binary format, or text starting "(component".
bool IsComponentBytes(std::span<const uint8_t> bytes);

wasmtime::Result<wasmtime::component::Component> CompileComponentBytes(
    wasmtime::Engine& engine, std::span<const uint8_t> bytes);

// Imports and exports (functions with their WIT signatures, interface
// instances) and the calling convention.
ModuleInfo DescribeComponent(wasmtime::Engine& engine,
                             const wasmtime::component::Component& component);

// An upper bound on the linear memory an instance starts with (its core
// modules' memories times the largest declared minimum).
uint64_t ComponentInitialMemory(const wasmtime::component::Component& component);

using ComponentPre = std::shared_ptr<strata_component_pre_t>;

// The component linked with WASI preview 2 (and wasi:http for a proxy), or
// kLink naming what is missing.
Result<ComponentPre> LinkComponent(const Module& module);

// Instantiates into `state` (its store, limits and deadline already set).
Status InstantiateComponent(InstanceState& state, const ComponentPre& pre,
                            std::chrono::milliseconds init_timeout);

// Instance::Call for a component: `input` is a JSON array of arguments (or
// an object keyed by parameter name); the result is the JSON of the
// function's result (null when it has none).
Result<Bytes> CallComponent(InstanceState& state, std::string_view export_name,
                            std::span<const uint8_t> input,
                            const CallOptions& options);

// Runs a wasi:cli/run component's `run` (Instance::RunCommand has set up
// its WASI context); its exit code. Through the preview 1 adapter any
// non-zero exit becomes 1.
Result<int> RunComponentMain(InstanceState& state,
                             std::chrono::milliseconds timeout);

Result<HttpResponse> HandleComponentHttp(InstanceState& state,
                                         const HttpRequest& request);

}  // namespace strata

#endif  // STRATA_ENGINE_COMPONENT_H_
