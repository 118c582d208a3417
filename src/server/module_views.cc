// GET /v1/modules[/{name}]: the registry with each module's tier,
// instances, rate, served-from counts, measured memory, tier costs,
// snapshot and the policy's latest decisions.
#include <nlohmann/json.hpp>

#include "server/handlers.h"

namespace strata::server {
namespace {


nlohmann::json ModuleJson(ServerContext& cx, const ServedModuleRecord& r,
                          const ModuleMetrics* m) {
  nlohmann::json j = {
      {"name", r.name},
      {"convention", CallingConventionName(r.convention)},
      {"exports", r.exports},
      {"origin", r.origin},
      {"wasm_bytes", r.bytes},
      {"reuse", r.options.reuse == ReuseMode::kReuse},
      {"call_timeout_ms", r.options.call_timeout.count()},
      {"max_input_bytes", r.options.max_input_bytes}};
  nlohmann::json decisions = nlohmann::json::array();
  for (const Decision& d : cx.registry->Decisions(r.name)) {
    decisions.push_back({{"at", d.at}, {"kind", d.kind}, {"detail", d.detail}});
  }
  j["decisions"] = std::move(decisions);
  if (m == nullptr) return j;
  j["tier"] = TierName(m->tier);
  j["instances"] = {{"hot", m->hot},
                    {"in_use", m->in_use},
                    {"target_hot", m->target_hot}};
  j["rate_per_s"] = m->rate_per_s;
  for (int i = 0; i < kServedFromCount; ++i) {
    j["served"][ServedFromName(ServedFrom(i))] = m->served[i];
  }
  j["memory"] = {{"hot_resident_bytes", m->hot_resident_bytes},
                 {"code_bytes", m->code_bytes},
                 {"held_bytes", m->held_bytes},
                 {"instance_bytes", m->instance_bytes}};
  j["costs_ms"] = {{"instantiate", m->instantiate_ms},
                   {"load", m->load_ms},
                   {"compile", m->compile_ms}};
  j["counts"] = {{"promotions", m->promotions},
                 {"demotions", m->demotions},
                 {"evictions", m->evictions},
                 {"traps", m->traps},
                 {"timeouts", m->timeouts}};
  if (!m->snapshot_init.empty() || !m->snapshot_error.empty()) {
    j["snapshot"] = {{"bytes", m->snapshot_bytes},
                     {"init_func", m->snapshot_init},
                     {"error", m->snapshot_error}};
  }
  return j;
}

}  // namespace

Response ListModules(ServerContext& cx, unsigned v,
                     const std::string* only) {
  PoolMetrics metrics = cx.pool->Metrics();
  auto metrics_of = [&](const std::string& name) -> const ModuleMetrics* {
    for (const auto& m : metrics.modules) {
      if (m.name == name) return &m;
    }
    return nullptr;
  };
  if (only != nullptr) {
    auto record = cx.registry->Find(*only);
    if (record == nullptr) {
      return ErrorReply(http::status::not_found, "not_found",
                        "no module '" + *only + "'", v);
    }
    return JsonReply(http::status::ok, v,
                     ModuleJson(cx, *record, metrics_of(*only)));
  }
  nlohmann::json modules = nlohmann::json::array();
  for (const auto& record : cx.registry->All()) {
    modules.push_back(ModuleJson(cx, *record, metrics_of(record->name)));
  }
  return JsonReply(http::status::ok, v,
                   {{"policy", cx.pool->policy().name()},
                    {"budget_bytes", metrics.budget_bytes},
                    {"used_bytes", metrics.used_bytes},
                    {"modules", std::move(modules)}});
}

}  // namespace strata::server
