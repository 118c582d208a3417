#include "replay/soak.h"

#include <malloc.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <thread>


namespace strata::bench {
namespace {

using namespace std::chrono_literals;

// The misbehaving modules' call deadline: short enough that a spinning
// guest is stopped quickly, so short that a thread waiting for a core may
// miss it (RequestKind::may_time_out).
constexpr std::chrono::milliseconds kShortDeadline = 20ms;
using SteadyTime = std::chrono::steady_clock::time_point;

// A module of the soak and how it is registered.
struct SoakModule {
  std::string name;
  Bytes bytes;
  ModuleOptions options;
};

// A kind of request: which module and export, on what input, and which
// errors it may get besides running out of capacity.
struct RequestKind {
  std::string module, export_name;
  std::vector<Bytes> inputs;
  std::vector<ErrorCode> allowed;
  bool misbehaving = false;
  bool echo = false;  // the output must equal the input
  int weight = 1;
  // A call under kShortDeadline (the misbehaving modules'): on a machine
  // starved of cores that deadline may pass while the thread waits to run
  // (a call that takes microseconds), which is the deadline working, not a
  // lost request. Counted, and only a few may (see Check).
  bool may_time_out = false;
};

Bytes ToBytes(std::string_view s) { return Bytes(s.begin(), s.end()); }


Result<std::vector<SoakModule>> BaseModules(const SoakOptions& o) {
  auto read = [&](const char* file) { return ReadFile(o.guest_dir / file); };
  auto extractor = read("extractor.wasm");
  auto synth = read("synth.wasm");
  auto echo = read("echo.wat");
  auto probe = read("probe.wat");
  auto misbehave = read("misbehave.wat");
  auto init_trap = read("init_trap.wat");
  for (auto* r : {&extractor, &synth, &echo, &probe, &misbehave, &init_trap}) {
    if (!r->ok()) return r->status();
  }
  ModuleOptions fresh, reuse;
  reuse.reuse = ReuseMode::kReuse;
  ModuleOptions bad = fresh;
  bad.call_timeout = kShortDeadline;
  bad.limits.max_memory_bytes = 8 << 20;
  bad.max_output_bytes = 1024;
  ModuleOptions bad_reuse = bad;
  bad_reuse.reuse = ReuseMode::kReuse;
  std::vector<SoakModule> modules = {
      {"extractor", *extractor, fresh},
      {"extractor-reuse", *extractor, reuse},
      {"echo", *echo, reuse},
      {"probe", *probe, fresh},
      {"misbehave", *misbehave, bad},
      {"misbehave-reuse", *misbehave, bad_reuse},
      {"init-trap", *init_trap, fresh},
  };
  for (uint32_t i = 0; i < 8; ++i) {
    SynthParams p;
    p.variant = i;
    bool heavy = i < 2;
    p.init_pages = heavy ? 32 : 2;  // heavy ones dirty 2 MiB at start-up
    p.init_cpu_iters = heavy ? 500'000 : 0;
    auto variant = MakeSynthVariant(*synth, p);
    if (!variant.ok()) return variant.status();
    modules.push_back({(heavy ? "heavy-" : "synth-") + std::to_string(i),
                       std::move(*variant), i % 2 ? reuse : fresh});
  }
  return modules;
}

std::vector<RequestKind> Kinds(const std::vector<Bytes>& pages,
                               const std::vector<SoakModule>& modules) {
  using E = ErrorCode;
  std::vector<RequestKind> kinds = {
      {"extractor", "extract", pages, {}, false, false, 20},
      {"extractor-reuse", "extract", pages, {}, false, false, 20},
      {"echo", "run", {ToBytes("ping"), ToBytes(std::string(4000, 'x'))}, {},
       false, true, 10},
      {"probe", "run", {ToBytes("x")}, {}, false, false, 5},
      {"misbehave", "secret", {ToBytes("t")}, {E::kTrap}, true, false, 1},
      {"misbehave-reuse", "spin", {{}}, {E::kDeadlineExceeded}, true, false, 1},
      // A bomb is stopped by its memory limit, or by its deadline first
      // when the machine is slow to give it pages.
      {"misbehave", "bomb", {{}}, {E::kMemoryLimit, E::kDeadlineExceeded}, true,
       false, 1},
      {"misbehave-reuse", "recurse", {{}}, {E::kTrap}, true, false, 1},
      {"misbehave", "exit", {{}}, {E::kGuestExit}, true, false, 1},
      {"misbehave-reuse", "big", {{}}, {E::kOutputTooLarge}, true, false, 1},
      {"misbehave-reuse", "echo", {ToBytes("fine")}, {}, false, true, 2},
      {"init-trap", "run", {{}}, {E::kTrap}, true, false, 1},
  };
  for (uint32_t i = 0; i < 8; ++i) {
    kinds.push_back({(i < 2 ? "heavy-" : "synth-") + std::to_string(i), "run",
                     {ToBytes("soak")}, {}, false, false, i < 2 ? 6 : 3});
  }
  for (RequestKind& kind : kinds) {
    auto m = std::find_if(modules.begin(), modules.end(),
                          [&](const SoakModule& m) { return m.name == kind.module; });
    kind.may_time_out = m != modules.end() && m->options.call_timeout == kShortDeadline;
  }
  return kinds;
}

bool IsCapacity(ErrorCode code) {
  return code == ErrorCode::kPoolExhausted || code == ErrorCode::kMemoryLimit;
}

class Soak {
 public:
  Soak(Engine& engine, const SoakOptions& o,
       const std::function<void(const std::string&)>& progress)
      : engine_(engine), o_(o), progress_(progress) {}

  Result<SoakReport> Run() {
    auto base = BaseModules(o_);
    if (!base.ok()) return base.status();
    base_ = std::move(*base);
    for (const auto& entry : std::filesystem::directory_iterator(o_.pages_dir)) {
      auto page = ReadFile(entry.path() / "source.html");
      if (!page.ok()) continue;
      Bytes input = ToBytes("https://example.com/" +
                            entry.path().filename().string() + "/\n");
      input.insert(input.end(), page->begin(), page->end());
      pages_.push_back(std::move(input));
    }
    if (pages_.empty()) {
      return Status(ErrorCode::kNotFound,
                    "soak: no pages in '" + o_.pages_dir.string() + "'");
    }
    kinds_ = Kinds(pages_, base_);
    for (const auto& k : kinds_) total_weight_ += k.weight;

    PoolOptions options;
    options.budget_bytes = o_.budget_bytes;
    options.max_instances = o_.max_instances;
    options.maintain_interval = 1000ms;
    options.idle_timeout = 5s;
    auto pool = Pool::Create(&engine_, options);
    if (!pool.ok()) return pool.status();
    pool_ = std::move(*pool);

    // RSS is compared in the same state at both ends: after a load, a
    // drain, the base modules registered again and every kind of request
    // served once by each worker thread (their stacks, touched by the
    // guests, count in RSS too). A first, shorter load settles the
    // allocators, so what the check sees is growth over the soak itself.
    if (Status s = Register(); !s.ok()) return s;
    std::vector<std::thread> workers;
    for (int t = 0; t < o_.threads; ++t) {
      workers.emplace_back([this, t] { WorkerLoop(t); });
    }
    double settle_s = std::max(5.0, o_.duration_s / 10);
    end_ = std::chrono::steady_clock::now() +
           std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::duration<double>(settle_s));
    RunPhase(Phase::kLoad);
    if (Status s = Drain(); !s.ok()) return s;
    if (Status s = Register(); !s.ok()) return s;
    RunPhase(Phase::kWarm);
    report_.rss_start_bytes = TrimmedRss(&report_.heap_start_bytes);

    auto start = std::chrono::steady_clock::now();
    end_ = start + std::chrono::duration_cast<std::chrono::nanoseconds>(
                       std::chrono::duration<double>(o_.duration_s));
    std::thread admin([this] { Admin(end_); });
    std::thread load([this] { RunPhase(Phase::kLoad); });
    Progress(start, end_);
    load.join();
    admin.join();
    report_.wall_s = std::chrono::duration<double>(
                         std::chrono::steady_clock::now() - start).count();

    report_.peak_held_bytes = pool_->Metrics().ledger.peak_bytes;
    if (Status s = Drain(); !s.ok()) return s;
    report_.final_metrics = pool_->Metrics();
    Snapshot();  // the soak's own counts, at the same moment
    if (Status s = Register(); !s.ok()) return s;
    RunPhase(Phase::kWarm);
    report_.rss_end_bytes = TrimmedRss(&report_.heap_end_bytes);
    RunPhase(Phase::kExit);
    for (auto& t : workers) t.join();
    Check();
    return std::move(report_);
  }

 private:
  Status Register() {
    for (const SoakModule& m : base_) {
      if (Status s = pool_->AddModule(m.name, m.bytes, m.options); !s.ok()) {
        return s;
      }
    }
    return OkStatus();
  }

  // Removes every module: the ledger must then hold nothing.
  Status Drain() {
    for (const auto& m : pool_->Metrics().modules) {
      if (Status s = pool_->RemoveModule(m.name, 5s); !s.ok()) {
        Unexpected("drain: " + s.ToString());
      }
    }
    std::lock_guard<std::mutex> lock(mu_);
    churn_.clear();
    return OkStatus();
  }

  enum class Phase { kWarm, kLoad, kExit };

  // Runs `phase` on every worker and waits until each has finished it.
  void RunPhase(Phase phase) {
    std::unique_lock<std::mutex> lock(phase_mu_);
    phase_ = phase;
    ++phase_gen_;
    phase_done_ = 0;
    phase_cv_.notify_all();
    if (phase == Phase::kExit) return;
    phase_cv_.wait(lock, [&] { return phase_done_ == o_.threads; });
  }

  void WorkerLoop(int index) {
    std::mt19937_64 rng(o_.seed * 1000 + index);
    uint64_t seen = 0;
    while (true) {
      Phase phase;
      {
        std::unique_lock<std::mutex> lock(phase_mu_);
        phase_cv_.wait(lock, [&] { return phase_gen_ != seen; });
        seen = phase_gen_;
        phase = phase_;
      }
      if (phase == Phase::kExit) return;
      if (phase == Phase::kWarm) {
        for (const RequestKind& k : kinds_) Serve(k, k.module, rng, nullptr);
      } else {
        Load(rng);
      }
      std::lock_guard<std::mutex> lock(phase_mu_);
      ++phase_done_;
      phase_cv_.notify_all();
    }
  }

  void Count(const std::string& outcome) {
    std::lock_guard<std::mutex> lock(mu_);
    ++report_.outcomes[outcome];
  }
  void Unexpected(const std::string& what) {
    std::lock_guard<std::mutex> lock(mu_);
    ++report_.outcomes["unexpected"];
    if (first_unexpected_.empty()) first_unexpected_ = what;
  }

  // A clear error names the module it is about.
  bool Clear(const Status& s, const std::string& module) {
    return !s.message().empty() &&
           s.message().find("'" + module + "'") != std::string::npos;
  }

  // Acquires and calls one request of `kind`; counts its outcome.
  void Serve(const RequestKind& kind, const std::string& module,
             std::mt19937_64& rng, std::vector<Lease>* hold) {
    requests_.fetch_add(1);
    auto lease = pool_->Acquire(module, 200ms);
    if (!lease.ok()) {
      acquire_errors_.fetch_add(1);
      ErrorCode code = lease.status().code();
      bool churned = module.rfind("churn-", 0) == 0;
      bool allowed = IsCapacity(code) ||
                     (code == ErrorCode::kNotFound && churned) ||
                     (code == ErrorCode::kTrap && kind.module == "init-trap");
      if (!allowed || !Clear(lease.status(), module)) {
        Unexpected(lease.status().ToString());
      } else {
        Count(ErrorCodeName(code));
      }
      return;
    }
    served_.fetch_add(1);
    const Bytes& input = kind.inputs[rng() % kind.inputs.size()];
    if (kind.misbehaving) misbehaving_.fetch_add(1);
    if (kind.may_time_out) deadline_calls_.fetch_add(1);
    auto out = lease->Call(kind.export_name, input);
    if (out.ok()) {
      if (!kind.allowed.empty()) {
        Unexpected(module + "." + kind.export_name + " succeeded");
      } else if (kind.echo && *out != input) {
        Unexpected(module + ": echo returned other bytes");
      } else {
        Count("ok");
      }
    } else {
      ErrorCode code = out.status().code();
      bool expected = std::find(kind.allowed.begin(), kind.allowed.end(), code) !=
                      kind.allowed.end();
      bool starved = !expected && kind.may_time_out &&
                     code == ErrorCode::kDeadlineExceeded;
      if (starved) starved_.fetch_add(1);
      bool allowed = expected || starved;
      if (!allowed || !Clear(out.status(), module)) {
        Unexpected(out.status().ToString());
      } else {
        Count(ErrorCodeName(code));
      }
    }
    if (hold != nullptr) hold->push_back(std::move(*lease));
  }

  const RequestKind& PickKind(std::mt19937_64& rng) {
    int pick = static_cast<int>(rng() % total_weight_);
    for (const RequestKind& k : kinds_) {
      if ((pick -= k.weight) < 0) return k;
    }
    return kinds_.back();
  }

  void Load(std::mt19937_64& rng) {
    RequestKind churn{"", "run", {ToBytes("churn")}, {}, false, false, 1};
    while (std::chrono::steady_clock::now() < end_) {
      // One request in ten is a burst that holds up to four leases at once:
      // the load goes at and over the budget.
      std::vector<Lease> held;
      int count = rng() % 10 == 0 ? 4 : 1;
      for (int i = 0; i < count; ++i) {
        if (rng() % 20 == 0) {
          std::string name = ChurnName(rng);
          if (!name.empty()) {
            Serve(churn, name, rng, count > 1 ? &held : nullptr);
            continue;
          }
        }
        const RequestKind& kind = PickKind(rng);
        Serve(kind, kind.module, rng, count > 1 ? &held : nullptr);
      }
    }
  }

  std::string ChurnName(std::mt19937_64& rng) {
    std::lock_guard<std::mutex> lock(mu_);
    if (churn_.empty()) return "";
    return churn_[rng() % churn_.size()];
  }

  // Adds a module every 200 ms and removes the oldest once four are in.
  void Admin(SteadyTime end) {
    std::mt19937_64 rng(o_.seed);
    uint32_t next = 0;
    while (std::chrono::steady_clock::now() < end) {
      const SoakModule& like = base_[2 + rng() % 2];  // echo or probe bytes
      std::string name = "churn-" + std::to_string(next++);
      ModuleOptions options = like.options;
      if (Status s = pool_->AddModule(name, like.bytes, options); s.ok()) {
        std::lock_guard<std::mutex> lock(mu_);
        churn_.push_back(name);
        ++report_.modules_added;
      } else {
        Unexpected("AddModule: " + s.ToString());
      }
      std::string victim;
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (churn_.size() > 4) {
          victim = churn_.front();
          churn_.erase(churn_.begin());
        }
      }
      if (!victim.empty()) {
        Status s = pool_->RemoveModule(victim, 100ms);
        if (!s.ok() && s.code() != ErrorCode::kDeadlineExceeded) {
          Unexpected("RemoveModule: " + s.ToString());
        }
        std::lock_guard<std::mutex> lock(mu_);
        ++report_.modules_removed;
      }
      std::this_thread::sleep_for(200ms);
    }
  }

  void Progress(SteadyTime start, SteadyTime end) {
    auto next = start;
    while (std::chrono::steady_clock::now() < end) {
      std::this_thread::sleep_for(100ms);
      if (o_.progress_every_s <= 0 || !progress_) continue;
      auto now = std::chrono::steady_clock::now();
      if (now < next) continue;
      next = now + std::chrono::duration_cast<std::chrono::nanoseconds>(
                       std::chrono::duration<double>(o_.progress_every_s));
      PoolMetrics m = pool_->Metrics();
      char line[256];
      std::snprintf(
          line, sizeof line,
          "soak: %5.0f s  %8llu requests  %8llu served  %6llu errors  held "
          "%5.1f MiB (peak %5.1f of %5.1f)  rss %6.1f MiB",
          std::chrono::duration<double>(now - start).count(),
          static_cast<unsigned long long>(requests_.load()),
          static_cast<unsigned long long>(served_.load()),
          static_cast<unsigned long long>(acquire_errors_.load()),
          m.ledger.held_bytes / 1048576.0, m.ledger.peak_bytes / 1048576.0,
          m.ledger.budget_bytes / 1048576.0, m.process_rss_bytes / 1048576.0);
      progress_(line);
    }
  }

  // The process's RSS once freed heap is given back, and (out) the bytes
  // malloc holds for live allocations: a leak grows the second.
  uint64_t TrimmedRss(uint64_t* heap_in_use) {
    malloc_trim(0);
    struct mallinfo2 mi = mallinfo2();
    *heap_in_use = mi.uordblks + mi.hblkhd;
    return pool_->Metrics().process_rss_bytes;
  }

  void Snapshot() {
    report_.requests = requests_.load();
    report_.served = served_.load();
    report_.misbehaving_calls = misbehaving_.load();
    failed_ = acquire_errors_.load();
  }

  void Check() {
    SoakReport& r = report_;
    const PoolMetrics& m = r.final_metrics;
    auto add = [&](std::string name, bool passed, std::string detail) {
      r.checks.push_back({std::move(name), passed, std::move(detail)});
    };
    uint64_t unexpected = r.outcomes.count("unexpected") ? r.outcomes["unexpected"] : 0;
    add("every request got a result or a clear error", unexpected == 0,
        std::to_string(unexpected) + " unexpected outcomes" +
            (first_unexpected_.empty() ? "" : "; first: " + first_unexpected_));
    // A few calls may miss kShortDeadline while their thread waits for a
    // core; many would mean calls that should end at once do not.
    uint64_t starved = starved_.load(), deadline_calls = deadline_calls_.load();
    add("calls under a " + std::to_string(kShortDeadline.count()) +
            " ms deadline rarely miss it for want of a core",
        starved * 100 <= deadline_calls,
        std::to_string(starved) + " of " + std::to_string(deadline_calls) +
            " timed out where another outcome was expected (at most 1%)");
    bool balanced = m.used_bytes == 0 && m.ledger.slots == 0 &&
                    m.ledger.violations == 0 &&
                    r.peak_held_bytes <= m.ledger.budget_bytes;
    add("the ledger balances after the drain", balanced,
        "held " + std::to_string(m.used_bytes) + " bytes and " +
            std::to_string(m.ledger.slots) + " slots; peak " +
            std::to_string(r.peak_held_bytes) + " of " +
            std::to_string(m.ledger.budget_bytes) + "; violations " +
            std::to_string(m.ledger.violations));
    double ratio = r.rss_start_bytes == 0
                       ? 0
                       : static_cast<double>(r.rss_end_bytes) / r.rss_start_bytes;
    char rss[200];
    std::snprintf(rss, sizeof rss,
                  "%.1f MiB at the start, %.1f MiB after (%.3fx); malloc in "
                  "use %.1f -> %.1f MiB",
                  r.rss_start_bytes / 1048576.0, r.rss_end_bytes / 1048576.0,
                  ratio, r.heap_start_bytes / 1048576.0,
                  r.heap_end_bytes / 1048576.0);
    add("RSS back within 10% of the start", ratio > 0 && ratio <= 1.10, rss);
    bool sums = m.acquires == r.served && m.acquire_errors == failed_ &&
                r.served + failed_ == r.requests;
    add("the pool's counters equal the requests sent", sums,
        "pool: " + std::to_string(m.acquires) + " served and " +
            std::to_string(m.acquire_errors) + " failed; soak: " +
            std::to_string(r.requests) + " sent, " + std::to_string(r.served) +
            " served, " + std::to_string(failed_) + " failed");
  }

  Engine& engine_;
  const SoakOptions& o_;
  std::function<void(const std::string&)> progress_;
  std::vector<SoakModule> base_;
  std::vector<Bytes> pages_;
  std::vector<RequestKind> kinds_;
  int total_weight_ = 0;
  std::unique_ptr<Pool> pool_;
  std::atomic<uint64_t> requests_{0}, served_{0}, acquire_errors_{0},
      misbehaving_{0};
  // Calls under kShortDeadline, and those of them that timed out where
  // another outcome was expected (RequestKind::may_time_out).
  std::atomic<uint64_t> deadline_calls_{0}, starved_{0};
  uint64_t failed_ = 0;  // acquire_errors_ when the metrics were taken
  SteadyTime end_;
  std::mutex phase_mu_;
  std::condition_variable phase_cv_;
  Phase phase_ = Phase::kWarm;
  uint64_t phase_gen_ = 0;
  int phase_done_ = 0;
  std::mutex mu_;
  std::vector<std::string> churn_;
  std::string first_unexpected_;
  SoakReport report_;
};

}  // namespace

bool SoakReport::passed() const {
  for (const SoakCheck& c : checks) {
    if (!c.passed) return false;
  }
  return !checks.empty();
}

std::string SoakReport::ToText() const {
  std::ostringstream o;
  char line[200];
  std::snprintf(line, sizeof line,
                "%.0f s, %llu requests (%llu served), %llu misbehaving calls, "
                "%llu modules added and %llu removed while running\n",
                wall_s, static_cast<unsigned long long>(requests),
                static_cast<unsigned long long>(served),
                static_cast<unsigned long long>(misbehaving_calls),
                static_cast<unsigned long long>(modules_added),
                static_cast<unsigned long long>(modules_removed));
  o << line << "outcomes:";
  for (const auto& [name, n] : outcomes) o << " " << name << " " << n;
  std::snprintf(line, sizeof line,
                "\nledger: peak %.1f MiB of a %.1f MiB budget, %llu waits "
                "(%llu timed out), %llu reclaims\n",
                peak_held_bytes / 1048576.0,
                final_metrics.ledger.budget_bytes / 1048576.0,
                static_cast<unsigned long long>(final_metrics.ledger.waits),
                static_cast<unsigned long long>(final_metrics.ledger.wait_timeouts),
                static_cast<unsigned long long>(final_metrics.ledger.reclaims));
  o << line;
  for (const SoakCheck& c : checks) {
    o << (c.passed ? "PASS  " : "FAIL  ") << c.name << ": " << c.detail << "\n";
  }
  o << (passed() ? "soak passed\n" : "soak FAILED\n");
  return o.str();
}

std::string SoakReport::ToJson() const {
  nlohmann::json j;
  j["wall_s"] = wall_s;
  j["requests"] = requests;
  j["served"] = served;
  j["outcomes"] = outcomes;
  j["modules_added"] = modules_added;
  j["modules_removed"] = modules_removed;
  j["misbehaving_calls"] = misbehaving_calls;
  j["rss_start_bytes"] = rss_start_bytes;
  j["rss_end_bytes"] = rss_end_bytes;
  j["heap_start_bytes"] = heap_start_bytes;
  j["heap_end_bytes"] = heap_end_bytes;
  j["peak_held_bytes"] = peak_held_bytes;
  j["budget_bytes"] = final_metrics.ledger.budget_bytes;
  j["ledger_waits"] = final_metrics.ledger.waits;
  j["ledger_wait_timeouts"] = final_metrics.ledger.wait_timeouts;
  j["ledger_reclaims"] = final_metrics.ledger.reclaims;
  for (const SoakCheck& c : checks) {
    j["checks"].push_back({{"name", c.name}, {"passed", c.passed},
                           {"detail", c.detail}});
  }
  j["passed"] = passed();
  return j.dump(2);
}

Result<SoakReport> RunSoak(
    Engine& engine, const SoakOptions& options,
    const std::function<void(const std::string&)>& progress) {
  Soak soak(engine, options, progress);
  return soak.Run();
}

}  // namespace strata::bench
