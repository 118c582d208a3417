// Snapshots of the pool's counters and their Prometheus / JSON forms.
#include <nlohmann/json.hpp>
#include <sstream>

#include "internal/residency.h"
#include "pool/pool_internal.h"

namespace strata {

double PoolMetrics::hit_rate(ServedFrom from) const {
  uint64_t total = 0;
  for (uint64_t n : served) total += n;
  return total == 0 ? 0 : static_cast<double>(served[int(from)]) / total;
}

double PoolMetrics::pressure() const {
  return budget_bytes == 0 ? 0 : static_cast<double>(used_bytes) / budget_bytes;
}

LedgerMetrics Pool::LedgerNow() const {
  memory::Ledger::Totals t = state_->ledger.totals();
  return {t.budget_bytes,  t.held_bytes, t.peak_bytes, t.max_slots,
          t.slots,         t.peak_slots, t.waiting,    t.waits,
          t.wait_timeouts, t.reclaims,   t.violations,
          uint64_t{t.slots} * kInstanceOverheadEstimate};
}

PoolMetrics Pool::Metrics() const {
  const PoolState& s = *state_;
  PoolMetrics m;
  auto now = s.clock->Now();
  for (const auto& entry : Entries(s)) {
    ModuleEntry& e = *entry;
    MutexLock lock(e.mu);
    ModuleMetrics mm = e.counters;
    mm.name = e.name;
    mm.tier = CurrentTier(e);
    mm.hot = static_cast<uint32_t>(e.hot.size());
    mm.in_use = e.in_use;
    mm.target_hot = e.target_hot;
    mm.rate_per_s = e.Rate(now);
    for (const auto& h : e.hot) {
      mm.hot_resident_bytes += h->resident;
      mm.holdings_bytes += h->charge.bytes();
    }
    if (e.code) mm.holdings_bytes += e.code->charge.bytes();
    mm.code_bytes = e.code ? e.code->charge.bytes() : 0;
    mm.held_bytes = e.account.bytes();
    mm.held_slots = e.account.slots();
    mm.instance_bytes = e.instance_bytes;
    mm.call_growth_bytes = e.call_growth_bytes;
    mm.instantiate_ms = e.InstantiateSeconds() * 1e3;
    mm.load_ms = e.load.seconds * 1e3;
    mm.compile_ms = e.compile.seconds * 1e3;
    mm.snapshot_bytes = e.snapshot.bytes;
    mm.snapshot_init = e.snapshot.init_func;
    mm.snapshot_build_ms =
        std::chrono::duration<double, std::milli>(e.snapshot.build_time).count();
    mm.snapshot_error = e.snapshot.error;
    m.promotions += mm.promotions;
    m.demotions += mm.demotions;
    m.evictions += mm.evictions;
    m.bytes_by_tier[int(Tier::kHot)] += mm.hot_resident_bytes;
    m.instances_by_tier[int(Tier::kHot)] += mm.hot;
    if (e.code) {
      Tier code_tier = e.prepared ? Tier::kWarm : Tier::kColdMemory;
      m.bytes_by_tier[int(code_tier)] += mm.code_bytes;
    }
    m.instances_by_tier[int(mm.tier)] += mm.tier == Tier::kHot ? 0 : 1;
    m.acquires_waiting += static_cast<uint32_t>(e.cap_line.size());
    m.modules.push_back(std::move(mm));
  }
  m.exhausted = s.exhausted.load(std::memory_order_relaxed);
  m.budget_bytes = s.options.budget_bytes;
  m.ledger = LedgerNow();
  m.used_bytes = m.ledger.held_bytes;
  m.acquires_waiting += m.ledger.waiting;
  m.process_rss_bytes = internal::ProcessRssBytes();
  m.maintainer_runs = s.maintainer_runs.load(std::memory_order_relaxed);
  m.maintainer_errors = s.maintainer_errors.load(std::memory_order_relaxed);
  m.maintainer_cpu_s =
      s.maintainer_cpu_ns.load(std::memory_order_relaxed) / 1e9;
  m.listener_errors = s.events.errors();
  const Histogram* sources[kServedFromCount];
  for (int i = 0; i < kServedFromCount; ++i) sources[i] = &s.acquire_by_source[i];
  m.acquire = Histogram::Summarize(sources);
  m.call = s.call_latency.Summarize();
  for (int i = 0; i < kServedFromCount; ++i) {
    m.acquire_by_source[i] = s.acquire_by_source[i].Summarize();
    m.served[i] = m.acquire_by_source[i].count;
    m.acquires += m.served[i];
  }
  m.acquire_errors = s.acquire_errors.load(std::memory_order_relaxed);
  return m;
}

namespace {

// A label value as the text exposition format wants it.
std::string Escaped(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

// The seconds a histogram's records add up to.
double TotalSeconds(const Histogram::Summary& h) {
  return h.mean_ns * static_cast<double>(h.count) / 1e9;
}

}  // namespace

std::string PoolMetrics::ToPrometheus() const {
  std::ostringstream o;
  auto family = [&](const char* name, const char* type, const char* help) {
    o << "# HELP " << name << " " << help << "\n# TYPE " << name << " "
      << type << "\n";
  };
  auto gauge = [&](const char* name, const char* help, auto value) {
    family(name, "gauge", help);
    o << name << " " << value << "\n";
  };
  auto counter = [&](const char* name, const char* help, auto value) {
    family(name, "counter", help);
    o << name << " " << value << "\n";
  };
  family("strata_acquires_total", "counter",
         "Acquires served, by the state that served them.");
  for (int i = 0; i < kServedFromCount; ++i) {
    o << "strata_acquires_total{served_from=\"" << ServedFromName(ServedFrom(i))
      << "\"} " << served[i] << "\n";
  }
  family("strata_acquire_served_seconds_total", "counter",
         "Time spent getting instances, by the state that served them (a "
         "cold start's cost is what it took above a hot acquire).");
  for (int i = 0; i < kServedFromCount; ++i) {
    const Histogram::Summary& h = acquire_by_source[i];
    o << "strata_acquire_served_seconds_total{served_from=\""
      << ServedFromName(ServedFrom(i)) << "\"} "
      << TotalSeconds(h) << "\n";
  }
  counter("strata_acquire_errors_total", "Acquires that returned an error.",
          acquire_errors);
  counter("strata_pool_exhausted_total",
          "Acquires that found no capacity (slots or memory).", exhausted);
  gauge("strata_acquires_waiting", "Acquires waiting for capacity now.",
        acquires_waiting);
  counter("strata_promotions_total", "Modules moved to a more prepared tier.",
          promotions);
  counter("strata_demotions_total", "Modules moved to a less prepared tier.",
          demotions);
  counter("strata_evictions_total",
          "Idle holdings dropped to make room for others.", evictions);
  gauge("strata_budget_bytes", "The pool's memory budget.", budget_bytes);
  gauge("strata_used_bytes", "Measured bytes the pool holds.", used_bytes);
  gauge("strata_process_rss_bytes", "Resident set size of the process.",
        process_rss_bytes);
  family("strata_tier_bytes", "gauge", "Measured bytes held, by tier.");
  for (int t = 0; t < kTierCount; ++t) {
    o << "strata_tier_bytes{tier=\"" << TierName(Tier(t)) << "\"} "
      << bytes_by_tier[t] << "\n";
  }
  gauge("strata_ledger_held_bytes",
        "Bytes the memory ledger holds: instances and code in memory.",
        ledger.held_bytes);
  gauge("strata_ledger_peak_bytes", "Most bytes the ledger ever held.",
        ledger.peak_bytes);
  gauge("strata_ledger_estimated_bytes",
        "Of the held bytes, estimated rather than measured (per-instance "
        "store, instance record and tables).",
        ledger.estimated_bytes);
  gauge("strata_ledger_slots", "Live instances (hot, leased, being made).",
        ledger.slots);
  gauge("strata_ledger_max_slots", "The pool's max_instances.", ledger.max_slots);
  gauge("strata_ledger_waiting", "Requests waiting in the ledger's line.",
        ledger.waiting);
  counter("strata_ledger_waits_total", "Reservations that waited in line.",
          ledger.waits);
  counter("strata_ledger_wait_timeouts_total",
          "Reservations that reached their deadline in line.",
          ledger.wait_timeouts);
  counter("strata_ledger_reclaims_total",
          "Idle holdings freed to admit a request.", ledger.reclaims);
  counter("strata_ledger_violations_total",
          "Times a limit would have been passed (always 0).", ledger.violations);
  counter("strata_listener_errors_total", "Exceptions thrown by listeners.",
          listener_errors);
  counter("strata_maintainer_runs_total", "Maintenance passes run.",
          maintainer_runs);
  counter("strata_maintainer_errors_total", "Maintenance passes that failed.",
          maintainer_errors);
  counter("strata_maintainer_cpu_seconds_total",
          "CPU time the maintenance passes took.", maintainer_cpu_s);
  uint64_t made[2] = {};
  for (const auto& mm : modules) {
    made[0] += mm.instantiations_foreground;
    made[1] += mm.instantiations_background;
  }
  family("strata_instantiations_total", "counter",
         "Instances made for the modules registered now: on a request's "
         "path (foreground) or by the refill thread (background).");
  o << "strata_instantiations_total{where=\"foreground\"} " << made[0]
    << "\nstrata_instantiations_total{where=\"background\"} " << made[1]
    << "\n";
  auto summary = [&](const char* name, const char* help,
                     const Histogram::Summary& h) {
    family(name, "summary", help);
    const std::pair<const char*, uint64_t> qs[] = {
        {"0.5", h.p50_ns}, {"0.95", h.p95_ns}, {"0.99", h.p99_ns},
        {"0.999", h.p999_ns}};
    for (const auto& [q, v] : qs) {
      o << name << "{quantile=\"" << q << "\"} " << v / 1e9 << "\n";
    }
    o << name << "_sum " << TotalSeconds(h)
      << "\n" << name << "_count " << h.count << "\n";
  };
  summary("strata_acquire_seconds",
          "Time to get an instance, from whichever state served it.", acquire);
  summary("strata_call_seconds", "Time guest calls took.", call);
  auto per_module = [&](const char* name, const char* help, auto value) {
    family(name, "gauge", help);
    for (const auto& mm : modules) {
      o << name << "{module=\"" << Escaped(mm.name) << "\"} " << value(mm)
        << "\n";
    }
  };
  per_module("strata_module_hot_instances",
             "Idle hot instances a module holds.",
             [](const ModuleMetrics& m) { return m.hot; });
  per_module("strata_module_held_bytes",
             "Bytes the ledger charges a module (instances, code, "
             "reservations).",
             [](const ModuleMetrics& m) { return m.held_bytes; });
  per_module("strata_module_snapshot_bytes",
             "Size of the pre-initialisation snapshot a module's tiers hold "
             "(0: none).",
             [](const ModuleMetrics& m) { return m.snapshot_bytes; });
  family("strata_module_acquires_total", "counter",
         "A module's acquires, by the state that served them.");
  for (const auto& mm : modules) {
    for (int i = 0; i < kServedFromCount; ++i) {
      o << "strata_module_acquires_total{module=\"" << Escaped(mm.name)
        << "\",served_from=\"" << ServedFromName(ServedFrom(i)) << "\"} "
        << mm.served[i] << "\n";
    }
  }
  return o.str();
}

namespace {

nlohmann::json SummaryJson(const Histogram::Summary& h) {
  return {{"count", h.count},     {"mean_ns", h.mean_ns}, {"p50_ns", h.p50_ns},
          {"p95_ns", h.p95_ns},   {"p99_ns", h.p99_ns},   {"p999_ns", h.p999_ns},
          {"max_ns", h.max_ns}};
}

}  // namespace

std::string PoolMetrics::ToJson() const {
  nlohmann::json j;
  for (int i = 0; i < kServedFromCount; ++i) {
    const char* name = ServedFromName(ServedFrom(i));
    j["served"][name] = served[i];
    j["hit_rate"][name] = hit_rate(ServedFrom(i));
    j["acquire_by_source"][name] = SummaryJson(acquire_by_source[i]);
  }
  for (int t = 0; t < kTierCount; ++t) {
    j["tier_bytes"][TierName(Tier(t))] = bytes_by_tier[t];
  }
  j["acquires"] = acquires;
  j["acquire_errors"] = acquire_errors;
  j["exhausted"] = exhausted;
  j["acquires_waiting"] = acquires_waiting;
  j["promotions"] = promotions;
  j["demotions"] = demotions;
  j["evictions"] = evictions;
  j["budget_bytes"] = budget_bytes;
  j["used_bytes"] = used_bytes;
  j["pressure"] = pressure();
  j["process_rss_bytes"] = process_rss_bytes;
  j["maintainer_runs"] = maintainer_runs;
  j["maintainer_errors"] = maintainer_errors;
  j["maintainer_cpu_s"] = maintainer_cpu_s;
  j["listener_errors"] = listener_errors;
  j["ledger"] = {{"budget_bytes", ledger.budget_bytes},
                 {"held_bytes", ledger.held_bytes},
                 {"peak_bytes", ledger.peak_bytes},
                 {"estimated_bytes", ledger.estimated_bytes},
                 {"max_slots", ledger.max_slots},
                 {"slots", ledger.slots},
                 {"peak_slots", ledger.peak_slots},
                 {"waiting", ledger.waiting},
                 {"waits", ledger.waits},
                 {"wait_timeouts", ledger.wait_timeouts},
                 {"reclaims", ledger.reclaims},
                 {"violations", ledger.violations}};
  j["acquire"] = SummaryJson(acquire);
  j["call"] = SummaryJson(call);
  for (const auto& mm : modules) {
    nlohmann::json jm = {{"name", mm.name},
                         {"tier", TierName(mm.tier)},
                         {"hot", mm.hot},
                         {"in_use", mm.in_use},
                         {"target_hot", mm.target_hot},
                         {"rate_per_s", mm.rate_per_s},
                         {"promotions", mm.promotions},
                         {"demotions", mm.demotions},
                         {"evictions", mm.evictions},
                         {"traps", mm.traps},
                         {"timeouts", mm.timeouts},
                         {"retired", mm.retired},
                         {"hot_resident_bytes", mm.hot_resident_bytes},
                         {"held_bytes", mm.held_bytes},
                         {"held_slots", mm.held_slots},
                         {"holdings_bytes", mm.holdings_bytes},
                         {"instance_bytes", mm.instance_bytes},
                         {"call_growth_bytes", mm.call_growth_bytes},
                         {"code_bytes", mm.code_bytes},
                         {"instantiate_ms", mm.instantiate_ms},
                         {"load_ms", mm.load_ms},
                         {"compile_ms", mm.compile_ms}};
    if (!mm.snapshot_init.empty() || !mm.snapshot_error.empty()) {
      jm["snapshot"] = {{"bytes", mm.snapshot_bytes},
                        {"init_func", mm.snapshot_init},
                        {"build_ms", mm.snapshot_build_ms},
                        {"error", mm.snapshot_error}};
    }
    for (int i = 0; i < kServedFromCount; ++i) {
      jm["served"][ServedFromName(ServedFrom(i))] = mm.served[i];
    }
    j["modules"].push_back(std::move(jm));
  }
  return j.dump(2);
}

}  // namespace strata
