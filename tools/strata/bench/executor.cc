#include "bench/executor.h"

#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <fstream>
#include <mutex>
#include <thread>

namespace strata::bench {
namespace {

using Nanos = std::chrono::nanoseconds;
using SteadyClock = std::chrono::steady_clock;

Nanos Since(SteadyClock::time_point start) {
  return std::chrono::duration_cast<Nanos>(SteadyClock::now() - start);
}

uint64_t ProcessRss() {
  std::ifstream statm("/proc/self/statm");
  uint64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

Status CallOnce(Instance& instance, const WorkloadModule& m,
                std::span<const uint8_t> input) {
  return instance.Call(m.export_name, input, {}).status();
}

// A module compiled and linked, with the size of the code it holds in
// memory (that of wasmtime's compiled artifact).
struct Linked {
  std::shared_ptr<const PreparedModule> prepared;
  uint64_t code_bytes = 0;
};

Result<Linked> Link(Engine& engine, const WorkloadModule& m) {
  auto module = engine.Compile(m.name, m.bytes);
  if (!module.ok()) return module.status();
  auto prepared = engine.Prepare(*module);
  if (!prepared.ok()) return prepared.status();
  auto artifact = (*module)->Serialize();
  return Linked{std::move(*prepared), artifact.ok() ? artifact->size() : 0};
}

class NoneExecutor final : public Executor {
 public:
  explicit NoneExecutor(Engine& engine) : engine_(engine) {}
  const std::string& name() const override { return name_; }
  Status Register(const WorkloadModule& m) override {
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
    auto instance = (*prepared)->Instantiate({});
    if (!instance.ok()) return instance.status();
    Served served{ServedFrom::kCompile, Since(start)};
    Status called = CallOnce(**instance, m, input);
    if (!called.ok()) return called;
    return served;
  }
  MemorySample Memory() const override { return {0, 0, ProcessRss()}; }

 private:
  Engine& engine_;
  const std::string name_ = "none";
  std::vector<WorkloadModule> modules_;
};

class InstantiateExecutor final : public Executor {
 public:
  explicit InstantiateExecutor(Engine& engine) : engine_(engine) {}
  const std::string& name() const override { return name_; }
  Status Register(const WorkloadModule& m) override {
    auto linked = Link(engine_, m);
    if (!linked.ok()) return linked.status();
    code_bytes_ += linked->code_bytes;
    modules_.push_back({m, std::move(linked->prepared)});
    return OkStatus();
  }
  Result<Served> Serve(uint32_t i, std::span<const uint8_t> input) override {
    auto start = SteadyClock::now();
    auto& [m, prepared] = modules_[i];
    auto instance = prepared->Instantiate({});
    if (!instance.ok()) return instance.status();
    Served served{ServedFrom::kWarm, Since(start)};
    Status called = CallOnce(**instance, m, input);
    if (!called.ok()) return called;
    return served;
  }
  MemorySample Memory() const override {
    return {code_bytes_, 0, ProcessRss()};
  }

 private:
  Engine& engine_;
  const std::string name_ = "instantiate";
  uint64_t code_bytes_ = 0;
  std::vector<std::pair<WorkloadModule, std::shared_ptr<const PreparedModule>>>
      modules_;
};

// One FIFO queue of ready (fresh) instances per module, all the same size,
// refilled by a background thread; a module whose queue is empty is served
// by instantiating on the request path.
class FifoExecutor final : public Executor {
 public:
  FifoExecutor(Engine& engine, const ExecutorOptions& o)
      : engine_(engine), options_(o), refiller_([this] { RefillLoop(); }) {}
  ~FifoExecutor() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    refiller_.join();
  }
  const std::string& name() const override { return name_; }

  Status Register(const WorkloadModule& m) override {
    auto linked = Link(engine_, m);
    if (!linked.ok()) return linked.status();
    // Measure one instance to size the queues.
    auto probe = linked->prepared->Instantiate({});
    if (!probe.ok()) return probe.status();
    std::lock_guard<std::mutex> lock(mu_);
    code_bytes_ += linked->code_bytes;
    auto q = std::make_unique<Queue>();
    q->module = m;
    q->prepared = std::move(linked->prepared);
    q->instance_bytes = (*probe)->ResidentBytes();
    queues_.push_back(std::move(q));
    Resize();
    cv_.notify_one();  // the new queue (and a deeper depth) needs filling
    return OkStatus();
  }

  Result<Served> Serve(uint32_t i, std::span<const uint8_t> input) override {
    auto start = SteadyClock::now();
    Queue& q = *queues_[i];
    std::unique_ptr<Instance> instance;
    ServedFrom from = ServedFrom::kHot;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!q.ready.empty()) {
        instance = std::move(q.ready.front());
        q.ready.pop_front();
        idle_bytes_ -= q.instance_bytes;
        cv_.notify_one();
      }
    }
    if (!instance) {
      from = ServedFrom::kWarm;
      auto made = q.prepared->Instantiate({});
      if (!made.ok()) return made.status();
      instance = std::move(*made);
    }
    Served served{from, Since(start)};
    Status called = CallOnce(*instance, q.module, input);
    if (!called.ok()) return called;
    return served;
  }

  void Settle() override {
    std::unique_lock<std::mutex> lock(mu_);
    idle_cv_.wait(lock, [&] { return !NeedsRefill(); });
  }

  MemorySample Memory() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return {code_bytes_ + idle_bytes_, idle_bytes_, ProcessRss()};
  }

 private:
  struct Queue {
    WorkloadModule module;
    std::shared_ptr<const PreparedModule> prepared;
    uint64_t instance_bytes = 0;
    bool failing = false;  // instantiation failed: serve on the request path
    std::deque<std::unique_ptr<Instance>> ready;
  };

  // Every queue gets the same depth: what the budget left after code holds
  // for one instance of each module, times as many as fit (at most 4).
  // Queues filled while fewer modules were registered give back what the
  // new depth no longer allows. Under mu_.
  void Resize() {
    uint64_t per_round = 0;
    for (const auto& q : queues_) per_round += q->instance_bytes;
    uint64_t left = options_.budget_bytes -
                    std::min(options_.budget_bytes, code_bytes_);
    depth_ = per_round == 0 ? 0 : std::min<uint64_t>(4, left / per_round);
    for (auto& q : queues_) {
      while (q->ready.size() > depth_) {
        q->ready.pop_back();
        idle_bytes_ -= q->instance_bytes;
      }
    }
  }
  bool NeedsRefill() const {
    for (const auto& q : queues_) {
      if (!q->failing && q->ready.size() < depth_) return true;
    }
    return false;
  }

  void RefillLoop() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_) {
      Queue* target = nullptr;
      for (auto& q : queues_) {
        if (!q->failing && q->ready.size() < depth_) {
          target = q.get();
          break;
        }
      }
      if (target == nullptr) {
        idle_cv_.notify_all();
        cv_.wait(lock);
        continue;
      }
      lock.unlock();
      auto made = target->prepared->Instantiate({});
      lock.lock();
      if (made.ok()) {
        target->ready.push_back(std::move(*made));
        idle_bytes_ += target->instance_bytes;
      } else {
        target->failing = true;  // no retry loop; Serve reports the error
      }
    }
  }

  Engine& engine_;
  const ExecutorOptions options_;
  const std::string name_ = "fifo";
  mutable std::mutex mu_;
  std::condition_variable cv_, idle_cv_;
  std::vector<std::unique_ptr<Queue>> queues_;
  uint64_t depth_ = 0;
  uint64_t code_bytes_ = 0, idle_bytes_ = 0;
  bool stop_ = false;
  std::thread refiller_;
};

class PoolExecutor final : public Executor {
 public:
  PoolExecutor(std::string policy, std::unique_ptr<Pool> pool)
      : name_(std::move(policy)), pool_(std::move(pool)) {}
  const std::string& name() const override { return name_; }
  Status Register(const WorkloadModule& m) override {
    names_.push_back(m.name);
    exports_.push_back(m.export_name);
    return pool_->AddModule(m.name, m.bytes, {});
  }
  Result<Served> Serve(uint32_t i, std::span<const uint8_t> input) override {
    auto start = SteadyClock::now();
    auto lease = pool_->Acquire(names_[i], std::chrono::seconds(30));
    if (!lease.ok()) return lease.status();
    Served served{lease->served_from(), Since(start)};
    auto out = lease->Call(exports_[i], input);
    if (!out.ok()) return out.status();
    return served;
  }
  void Maintain() override {
    pool_->RunMaintenance();
    pool_->WaitForRefills();
  }
  void Settle() override { pool_->WaitForRefills(); }
  MemorySample Memory() const override {
    PoolMetrics m = pool_->Metrics();
    return {m.used_bytes, m.bytes_by_tier[int(Tier::kHot)],
            m.process_rss_bytes};
  }
  PoolFigures Figures() const override {
    PoolMetrics m = pool_->Metrics();
    return {m.promotions, m.demotions, m.evictions, m.maintainer_runs,
            m.maintainer_cpu_s};
  }

 private:
  const std::string name_;
  std::unique_ptr<Pool> pool_;
  std::vector<std::string> names_, exports_;
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
  if (bytes < 1) {
    return Status(ErrorCode::kInvalidArgument,
                  "bench: budget '" + text +
                      "' is neither bytes (K/M/G suffix) nor a percentage");
  }
  return static_cast<uint64_t>(bytes);
}

Result<uint64_t> MeasureWorkingSet(Engine& engine, const Workload& w) {
  uint64_t total = 0;
  for (const WorkloadModule& m : w.modules) {
    auto linked = Link(engine, m);
    if (!linked.ok()) return linked.status();
    auto instance = linked->prepared->Instantiate({});
    if (!instance.ok()) return instance.status();
    total += (*instance)->ResidentBytes() + linked->code_bytes;
  }
  return total;
}

Result<std::unique_ptr<Executor>> MakeExecutor(const std::string& policy,
                                               Engine& engine,
                                               const ExecutorOptions& o) {
  if (policy == "none") return std::unique_ptr<Executor>(new NoneExecutor(engine));
  if (policy == "instantiate") {
    return std::unique_ptr<Executor>(new InstantiateExecutor(engine));
  }
  if (policy == "fifo") return std::unique_ptr<Executor>(new FifoExecutor(engine, o));
  if (policy == "riptide" || policy == "strata") {
    PoolOptions options;
    options.policy = policy;
    options.budget_bytes = o.budget_bytes;
    options.max_instances = o.max_instances;
    if (engine.pooling_enabled()) {
      // The pool may hold no more instances than the engine has slots.
      options.max_instances =
          std::min(options.max_instances, engine.options().pool_slots);
    }
    options.maintain_interval = o.maintain_interval;
    if (o.virtual_clock) {
      options.clock = o.virtual_clock;
      // The driver runs each pass at its virtual time.
      options.maintain_interval = std::chrono::hours(24);
    }
    auto pool = Pool::Create(&engine, options);
    if (!pool.ok()) return pool.status();
    return std::unique_ptr<Executor>(new PoolExecutor(policy, std::move(*pool)));
  }
  return Status(ErrorCode::kInvalidArgument,
                "bench: unknown policy '" + policy +
                    "' (expected none, instantiate, fifo, riptide, strata or all)");
}

}  // namespace strata::bench
