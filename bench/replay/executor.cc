#include "replay/executor.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "baselines/baselines.h"

namespace strata::bench {
namespace {

using Nanos = std::chrono::nanoseconds;
using SteadyClock = std::chrono::steady_clock;
using namespace std::chrono_literals;

Nanos Since(SteadyClock::time_point start) {
  return std::chrono::duration_cast<Nanos>(SteadyClock::now() - start);
}

uint64_t ProcessRss() {
  std::ifstream statm("/proc/self/statm");
  uint64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

// One request on an instance: the export on `input`, or a command's _start
// with `input` as its stdin.
Status CallOnce(Instance& instance, const std::string& export_name,
                std::span<const uint8_t> input) {
  if (instance.module().convention() == CallingConvention::kCommand) {
    CommandRequest request;
    request.stdin_bytes.assign(input.begin(), input.end());
    auto out = instance.RunCommand(request);
    if (!out.ok()) return out.status();
    if (out->exit_code != 0) {
      return Status(ErrorCode::kGuestExit,
                    "module '" + instance.module().name() + "': exited with code " +
                        std::to_string(out->exit_code));
    }
    return OkStatus();
  }
  return instance.Call(export_name, input, {}).status();
}

// The export a module is called on: the workload's, or "run".
std::string ExportOf(const WorkloadModule& m) {
  return m.export_name.empty() ? "run" : m.export_name;
}

// The instances an executor without a pool has in flight, counted as the
// pool's ledger counts a leased one: from before its start-up runs (which
// dirties its pages) until the request lets it go; its resident pages, at
// least as many as the module's last instance had after its call (the
// ledger's allowance for what a call dirties), plus the engine's overhead
// estimate. So its memory readings show what it really holds, not only its
// code.
class InFlight {
 public:
  class Counted {
   public:
    Counted(std::atomic<uint64_t>& total, uint64_t bytes) : total_(total) {
      Grow(bytes);
    }
    ~Counted() { total_.fetch_sub(bytes_, std::memory_order_relaxed); }
    Counted(const Counted&) = delete;
    Counted& operator=(const Counted&) = delete;

    // Counts at least `instance_bytes` (plus the overhead) from now on: an
    // instance counted before it existed, once its size is known.
    void Grow(uint64_t instance_bytes) {
      uint64_t bytes = instance_bytes + kInstanceOverheadEstimate;
      if (bytes <= bytes_) return;
      total_.fetch_add(bytes - bytes_, std::memory_order_relaxed);
      bytes_ = bytes;
    }

   private:
    std::atomic<uint64_t>& total_;
    uint64_t bytes_ = 0;
  };
  // An instance about to be made, of `instance_bytes` as far as known (0
  // before a module's first call): Grow it once the instance exists.
  Counted Count(uint64_t instance_bytes) { return Counted(bytes_, instance_bytes); }
  uint64_t bytes() const { return bytes_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> bytes_{0};
};

class NoneExecutor final : public Executor {
 public:
  explicit NoneExecutor(Engine& engine) : engine_(engine) {}
  const std::string& name() const override { return name_; }
  Status Register(const WorkloadModule& m, std::shared_ptr<const Module>) override {
    modules_.push_back(m);
    return OkStatus();
  }
  Result<Served> Serve(uint32_t i, std::span<const uint8_t> input) override {
    auto start = SteadyClock::now();
    const WorkloadModule& m = modules_[i];
    auto module = engine_.Compile(m.name, m.bytes);
    if (!module.ok()) return module.status();
    auto prepared = engine_.Prepare(*module);
    if (!prepared.ok()) return prepared.status();
    auto counted = in_flight_.Count(0);
    auto instance = (*prepared)->Instantiate({});
    if (!instance.ok()) return instance.status();
    Served served{ServedFrom::kCompile, Since(start)};
    counted.Grow((*instance)->ResidentBytes());
    Status called = CallOnce(**instance, ExportOf(m), input);
    if (!called.ok()) return called;
    return served;
  }
  // The code it compiles per call is not counted: it is not a holding.
  uint64_t Held() const override { return in_flight_.bytes(); }
  MemorySample Memory() const override { return {Held(), 0, ProcessRss()}; }

 private:
  Engine& engine_;
  const std::string name_ = "none";
  std::vector<WorkloadModule> modules_;
  InFlight in_flight_;
};

class InstantiateExecutor final : public Executor {
 public:
  explicit InstantiateExecutor(Engine& engine) : engine_(engine) {}
  const std::string& name() const override { return name_; }
  Status Register(const WorkloadModule& m,
                  std::shared_ptr<const Module> compiled) override {
    auto prepared = engine_.Prepare(compiled);
    if (!prepared.ok()) return prepared.status();
    code_bytes_ += compiled->ResidentImageBytes();
    auto entry = std::make_unique<Entry>();
    entry->export_name = ExportOf(m);
    entry->prepared = std::move(*prepared);
    modules_.push_back(std::move(entry));
    return OkStatus();
  }
  Result<Served> Serve(uint32_t i, std::span<const uint8_t> input) override {
    auto start = SteadyClock::now();
    Entry& m = *modules_[i];
    // Page tables are read as the pool reads a fresh instance's: after the
    // first call and one in 8 after it, and whenever memory grew; between
    // readings, the last one stands (a new instance has no more pages).
    uint64_t last = m.after_call.load();
    auto counted = in_flight_.Count(last);
    auto instance = m.prepared->Instantiate({});
    if (!instance.ok()) return instance.status();
    Served served{ServedFrom::kWarm, Since(start)};
    if (last == 0) counted.Grow((*instance)->ResidentBytes());
    Status called = CallOnce(**instance, m.export_name, input);
    uint64_t sized = (*instance)->memory_bytes();
    if (m.calls.fetch_add(1) % 8 == 0 || sized > m.sized.load()) {
      m.sized.store(sized);
      m.after_call.store((*instance)->ResidentBytes());
    }
    if (!called.ok()) return called;
    return served;
  }
  uint64_t Held() const override { return code_bytes_ + in_flight_.bytes(); }
  MemorySample Memory() const override {
    return {Held(), code_bytes_, ProcessRss()};
  }

 private:
  Engine& engine_;
  const std::string name_ = "instantiate";
  uint64_t code_bytes_ = 0;
  InFlight in_flight_;
  struct Entry {
    std::string export_name;
    std::shared_ptr<const PreparedModule> prepared;
    std::atomic<uint64_t> after_call{0};  // resident pages after a call, last read
    std::atomic<uint64_t> sized{0};       // linear memory size then
    std::atomic<uint64_t> calls{0};
  };
  std::vector<std::unique_ptr<Entry>> modules_;
};

class PoolExecutor final : public Executor {
 public:
  PoolExecutor(std::string name, std::unique_ptr<Pool> pool, ReuseMode reuse)
      : name_(std::move(name)), pool_(std::move(pool)) {
    module_options_.reuse = reuse;
  }
  const std::string& name() const override { return name_; }
  bool budgeted() const override { return true; }
  Status Register(const WorkloadModule& m,
                  std::shared_ptr<const Module> compiled) override {
    names_.push_back(m.name);
    exports_.push_back(ExportOf(m));
    return pool_->AddModule(m.name, m.bytes, std::move(compiled), module_options_);
  }
  Result<Served> Serve(uint32_t i, std::span<const uint8_t> input) override {
    auto start = SteadyClock::now();
    auto lease = pool_->Acquire(names_[i], 10s);
    if (!lease.ok()) return lease.status();
    Served served{lease->served_from(), Since(start)};
    Status called;
    if (lease->instance().module().convention() == CallingConvention::kCommand) {
      CommandRequest request;
      request.stdin_bytes.assign(input.begin(), input.end());
      auto out = lease->RunCommand(std::move(request));
      called = out.ok() ? OkStatus() : out.status();
    } else {
      called = lease->Call(exports_[i], input).status();
    }
    if (!called.ok()) return called;
    return served;
  }
  void Settle() override {
    pool_->RunMaintenance();
    pool_->WaitForRefills();
  }
  void FinishBackground() override {
    pool_->RunRequestedMaintenance();
    pool_->WaitForRefills();
  }
  void Maintain() override { Settle(); }
  uint64_t Held() const override { return pool_->LedgerNow().held_bytes; }
  MemorySample Memory() const override {
    PoolMetrics m = pool_->Metrics();
    uint64_t idle = 0;
    for (const ModuleMetrics& mm : m.modules) idle += mm.holdings_bytes;
    uint32_t hot = m.instances_by_tier[int(Tier::kHot)];
    uint32_t warm = m.instances_by_tier[int(Tier::kWarm)];
    for (auto [peak, now] : {std::pair{&peak_hot_, hot}, std::pair{&peak_warm_, warm}}) {
      uint32_t seen = peak->load();
      while (now > seen && !peak->compare_exchange_weak(seen, now)) {
      }
    }
    return {m.used_bytes, idle, m.process_rss_bytes};
  }
  PoolFigures Figures() const override {
    PoolMetrics m = pool_->Metrics();
    PoolFigures f;
    f.promotions = m.promotions;
    f.demotions = m.demotions;
    f.evictions = m.evictions;
    f.maintainer_runs = m.maintainer_runs;
    f.maintainer_cpu_s = m.maintainer_cpu_s;
    f.peak_held_bytes = m.ledger.peak_bytes;
    f.ledger_violations = m.ledger.violations;
    f.acquires = m.acquires;
    f.exposed_acquires = ExposedAcquires(m.ToPrometheus());
    for (const ModuleMetrics& mm : m.modules) {
      f.instantiations_background += mm.instantiations_background;
      f.instantiations_foreground += mm.instantiations_foreground;
    }
    f.modules = std::move(m.modules);
    f.peak_hot_instances = peak_hot_.load();
    f.peak_warm_modules = peak_warm_.load();
    return f;
  }

 private:
  // The sum of the strata_acquires_total samples of an exposition.
  static uint64_t ExposedAcquires(const std::string& text) {
    uint64_t sum = 0;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
      if (line.rfind("strata_acquires_total{", 0) != 0) continue;
      sum += std::strtoull(line.substr(line.rfind(' ') + 1).c_str(), nullptr, 10);
    }
    return sum;
  }

  const std::string name_;
  std::unique_ptr<Pool> pool_;
  ModuleOptions module_options_;
  std::vector<std::string> names_, exports_;
  mutable std::atomic<uint32_t> peak_hot_{0}, peak_warm_{0};
};

}  // namespace

Result<uint64_t> ParseBudget(const std::string& text, uint64_t working_set) {
  char* end = nullptr;
  double value = std::strtod(text.c_str(), &end);
  std::string unit(end);
  double bytes = -1;
  if (end != text.c_str() && value > 0) {
    if (unit == "%") bytes = working_set * value / 100;
    if (unit.empty()) bytes = value;
    if (unit == "K" || unit == "KiB") bytes = value * 1024;
    if (unit == "M" || unit == "MiB") bytes = value * 1048576;
    if (unit == "G" || unit == "GiB") bytes = value * 1073741824;
  }
  if (!(bytes >= 1 && bytes < 1.8e19)) {
    return Status(ErrorCode::kInvalidArgument,
                  "bench: budget '" + text +
                      "' is neither bytes (K/M/G suffix) nor a percentage");
  }
  return static_cast<uint64_t>(bytes);
}

Result<std::vector<std::shared_ptr<const Module>>> CompileWorkload(
    Engine& engine, const Workload& w) {
  std::vector<std::shared_ptr<const Module>> out;
  out.reserve(w.modules.size());
  for (const WorkloadModule& m : w.modules) {
    auto compiled = engine.Compile(m.name, m.bytes);
    if (!compiled.ok()) return compiled.status();
    out.push_back(std::move(*compiled));
  }
  return out;
}

Result<uint64_t> MeasureWorkingSet(
    Engine& engine, const Workload& w,
    const std::vector<std::shared_ptr<const Module>>& compiled) {
  uint64_t total = 0;
  for (size_t i = 0; i < w.modules.size(); ++i) {
    auto prepared = engine.Prepare(compiled[i]);
    if (!prepared.ok()) return prepared.status();
    auto instance = (*prepared)->Instantiate({});
    if (!instance.ok()) return instance.status();
    total += (*instance)->ResidentBytes() + compiled[i]->ResidentImageBytes();
  }
  return total;
}

Result<std::chrono::nanoseconds> MeasureHotAcquireP50(
    Engine& engine, const WorkloadModule& m, std::shared_ptr<const Module> compiled,
    ReuseMode reuse) {
  PoolOptions options;
  options.max_instances = 4;
  auto pool = Pool::Create(&engine, options);
  if (!pool.ok()) return pool.status();
  ModuleOptions module_options;
  module_options.min_hot = 1;
  module_options.reuse = reuse;
  if (Status s = (*pool)->AddModule(m.name, m.bytes, std::move(compiled),
                                    module_options);
      !s.ok()) {
    return s;
  }
  (*pool)->RunMaintenance();
  Histogram hot;
  for (int i = 0; i < 200; ++i) {
    (*pool)->WaitForRefills();
    auto start = SteadyClock::now();
    auto lease = (*pool)->Acquire(m.name, 1s);
    Nanos took = Since(start);
    if (lease.ok() && lease->served_from() == ServedFrom::kHot) hot.Record(took);
  }
  Histogram::Summary summary = hot.Summarize();
  if (summary.count == 0) {
    return Status(ErrorCode::kInternal,
                  "bench: no acquire of '" + m.name + "' was served hot");
  }
  return Nanos(summary.p50_ns);
}

Result<std::unique_ptr<Executor>> MakeExecutor(const std::string& policy,
                                               Engine& engine,
                                               const ExecutorOptions& o) {
  if (policy == "none") return std::unique_ptr<Executor>(new NoneExecutor(engine));
  if (policy == "instantiate") {
    return std::unique_ptr<Executor>(new InstantiateExecutor(engine));
  }
  std::unique_ptr<Policy> chosen;
  if (policy == "riptide" || policy == "strata") {
    chosen = MakePolicy(policy);
  } else {
    auto baseline = MakeBaselinePolicy(policy);
    if (!baseline.ok()) {
      return Status(ErrorCode::kInvalidArgument,
                    "bench: unknown policy '" + policy +
                        "' (expected none, instantiate, fifo, keepalive[:TTL], "
                        "gdsf, histogram, riptide, strata or all)");
    }
    chosen = std::move(*baseline);
  }
  PoolOptions options;
  options.budget_bytes = o.budget_bytes;
  options.max_instances = o.max_instances;
  if (engine.pooling_enabled()) {
    // The pool may hold no more instances than the engine has slots.
    options.max_instances = std::min(options.max_instances, engine.options().pool_slots);
  }
  options.maintain_interval = o.maintain_interval;
  options.clock = o.clock;
  options.maintainer_thread = !o.host_maintenance;
  options.cache = o.cache;
  auto pool = Pool::Create(&engine, options, std::move(chosen));
  if (!pool.ok()) return pool.status();
  return std::unique_ptr<Executor>(new PoolExecutor(policy, std::move(*pool), o.reuse));
}

}  // namespace strata::bench
