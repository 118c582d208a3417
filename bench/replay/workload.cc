#include "replay/workload.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <random>

#include "replay/trace.h"

namespace strata::bench {
namespace {

using Nanos = std::chrono::nanoseconds;
using Rng = std::mt19937_64;

Nanos Seconds(double s) {
  return std::chrono::duration_cast<Nanos>(std::chrono::duration<double>(s));
}

// The bundled guests a workload is made of.
struct Guests {
  Bytes extractor, synth;
  std::vector<Bytes> pages;  // extractor inputs: base URL line + HTML
};

Result<Guests> LoadGuests(const WorkloadParams& p, bool need_pages) {
  Guests g;
  auto extractor = ReadFile(p.guest_dir / "extractor.wasm");
  if (!extractor.ok()) return extractor.status();
  auto synth = ReadFile(p.guest_dir / "synth.wasm");
  if (!synth.ok()) return synth.status();
  g.extractor = std::move(*extractor);
  g.synth = std::move(*synth);
  if (!need_pages) return g;
  std::error_code ec;
  for (const auto& dir : std::filesystem::directory_iterator(p.pages_dir, ec)) {
    auto html = ReadFile(dir.path() / "source.html");
    if (!html.ok()) continue;
    std::string base =
        "https://example.com/" + dir.path().filename().string() + "/\n";
    Bytes input(base.begin(), base.end());
    input.insert(input.end(), html->begin(), html->end());
    g.pages.push_back(std::move(input));
  }
  if (g.pages.empty()) {
    return Status(ErrorCode::kNotFound, "bench: no NAME/source.html pages under '" +
                                            p.pages_dir.string() + "'");
  }
  return g;
}

WorkloadModule Synth(const Guests& g, const std::string& name,
                     const SynthParams& params) {
  WorkloadModule m;
  m.name = name;
  m.bytes = MakeSynthVariant(g.synth, params).value();
  m.inputs = {Bytes{'h', 'i'}};
  return m;
}

// `count` light synth modules named prefix-0.., distinct by variant.
void AddLightSynths(const Guests& g, Workload& w, const std::string& prefix,
                    uint32_t count) {
  for (uint32_t i = 0; i < count; ++i) {
    SynthParams p;
    p.variant = static_cast<uint32_t>(w.modules.size());
    w.modules.push_back(Synth(g, prefix + "-" + std::to_string(i), p));
  }
}

// Poisson arrival times at `rate` per second for `duration_s`.
std::vector<Nanos> PoissonTimes(Rng& rng, double rate, double duration_s) {
  std::exponential_distribution<double> gap(rate);
  std::vector<Nanos> out;
  for (double t = gap(rng); t < duration_s; t += gap(rng)) {
    out.push_back(Seconds(t));
  }
  return out;
}

// Popularity by rank: weight of module i is 1 / (i + 1)^s.
std::discrete_distribution<uint32_t> Zipf(uint32_t n, double s) {
  std::vector<double> weights(n);
  for (uint32_t i = 0; i < n; ++i) weights[i] = 1.0 / std::pow(i + 1, s);
  return {weights.begin(), weights.end()};
}

// Arrivals at `times`, each to the module `pick` draws, input drawn
// uniformly among that module's inputs.
template <typename Pick>
void Schedule(Workload& w, Rng& rng, const std::vector<Nanos>& times,
              Pick pick) {
  for (Nanos t : times) {
    uint32_t m = pick(rng);
    auto inputs = static_cast<uint32_t>(w.modules[m].inputs.size());
    w.arrivals.push_back({t, m, static_cast<uint32_t>(rng() % inputs)});
  }
}

Result<Workload> HotBiased(const WorkloadParams& p, Rng& rng) {
  auto g = LoadGuests(p, /*need_pages=*/true);
  if (!g.ok()) return g.status();
  Workload w;
  WorkloadModule extractor{"extractor", g->extractor, "extract", g->pages};
  w.modules.push_back(std::move(extractor));
  AddLightSynths(*g, w, "warm", 3);
  AddLightSynths(*g, w, "cold", 16);
  w.description = "70% extractor, 20% over 3 synth, 10% over 16 synth";
  std::uniform_real_distribution<double> u(0, 1);
  Schedule(w, rng, PoissonTimes(rng, p.rate, p.duration_s), [&](Rng& r) {
    double x = u(r);
    if (x < 0.7) return uint32_t{0};
    if (x < 0.9) return static_cast<uint32_t>(1 + r() % 3);
    return static_cast<uint32_t>(4 + r() % 16);
  });
  return w;
}

Result<Workload> ZipfOver(const WorkloadParams& p, Rng& rng, double s,
                          uint32_t default_modules, const std::string& what) {
  auto g = LoadGuests(p, /*need_pages=*/false);
  if (!g.ok()) return g.status();
  Workload w;
  uint32_t n = p.modules > 0 ? p.modules : default_modules;
  AddLightSynths(*g, w, "synth", n);
  w.description = what + " over " + std::to_string(n) + " synth modules";
  auto zipf = Zipf(n, s);
  Schedule(w, rng, PoissonTimes(rng, p.rate, p.duration_s),
           [&](Rng& r) { return zipf(r); });
  return w;
}

// On-off arrivals: a quarter of each 2 s period carries all the load.
Result<Workload> Burst(const WorkloadParams& p, Rng& rng) {
  auto g = LoadGuests(p, /*need_pages=*/false);
  if (!g.ok()) return g.status();
  Workload w;
  uint32_t n = p.modules > 0 ? p.modules : 10;
  AddLightSynths(*g, w, "synth", n);
  w.description = "bursts: 0.5 s at 4x the rate, then 1.5 s idle; zipf 1.0 "
                  "over " + std::to_string(n) + " synth modules";
  std::vector<Nanos> times;
  for (double start = 0; start < p.duration_s; start += 2) {
    double on = std::min(0.5, p.duration_s - start);
    for (Nanos t : PoissonTimes(rng, 4 * p.rate, on)) {
      times.push_back(Seconds(start) + t);
    }
  }
  auto zipf = Zipf(n, 1.0);
  Schedule(w, rng, times, [&](Rng& r) { return zipf(r); });
  return w;
}

// Modules whose start-up costs milliseconds, as a language runtime's does.
Result<Workload> HeavyInit(const WorkloadParams& p, Rng& rng) {
  auto g = LoadGuests(p, /*need_pages=*/false);
  if (!g.ok()) return g.status();
  Workload w;
  uint32_t n = p.modules > 0 ? p.modules : 4;
  for (uint32_t i = 0; i < n; ++i) {
    SynthParams sp;
    sp.variant = 1000 + i;
    sp.init_pages = 64;               // 4 MiB dirtied at start-up
    sp.init_cpu_iters = 3'000'000;    // ~3 ms of start-up work
    w.modules.push_back(Synth(*g, "runtime-" + std::to_string(i), sp));
  }
  w.description = std::to_string(n) +
                  " synth modules with ~3 ms / 4 MiB initialisation, zipf 1.0";
  auto zipf = Zipf(n, 1.0);
  Schedule(w, rng, PoissonTimes(rng, p.rate, p.duration_s),
           [&](Rng& r) { return zipf(r); });
  return w;
}

// `bytes` with a custom section `name` holding `payload` appended: the same
// code, but a module of its own to the pool (its own hash, compiled code and
// snapshot), as when tenants each deploy their own copy of a guest.
Bytes WithCustomSection(Bytes bytes, std::string_view name,
                        std::string_view payload) {
  auto leb = [](Bytes& out, uint64_t v) {
    do {
      uint8_t b = v & 0x7f;
      v >>= 7;
      out.push_back(v ? b | 0x80 : b);
    } while (v);
  };
  Bytes body;
  leb(body, name.size());
  body.insert(body.end(), name.begin(), name.end());
  body.insert(body.end(), payload.begin(), payload.end());
  bytes.push_back(0);  // custom section id
  leb(bytes, body.size());
  bytes.insert(bytes.end(), body.begin(), body.end());
  return bytes;
}

// Tenants each running their own copy of the readability guest (QuickJS +
// Mozilla Readability, ~160 ms of start-up) over the bundled pages.
Result<Workload> Readability(const WorkloadParams& p, Rng& rng) {
  auto g = LoadGuests(p, /*need_pages=*/true);
  if (!g.ok()) return g.status();
  auto readability = ReadFile(p.guest_dir / "readability.wasm");
  if (!readability.ok()) return readability.status();
  Workload w;
  uint32_t n = p.modules > 0 ? p.modules : 8;
  for (uint32_t i = 0; i < n; ++i) {
    std::string name = "readability-" + std::to_string(i);
    w.modules.push_back({name, WithCustomSection(*readability, "strata.tenant", name),
                         "extract", g->pages});
  }
  w.description = std::to_string(n) +
                  " copies of the readability guest (QuickJS, ~160 ms start-up) "
                  "over the bundled pages, zipf 1.0";
  auto zipf = Zipf(n, 1.0);
  Schedule(w, rng, PoissonTimes(rng, p.rate, p.duration_s),
           [&](Rng& r) { return zipf(r); });
  return w;
}

Result<Workload> FromTrace(const WorkloadParams& p, Rng& rng,
                           const std::filesystem::path& path) {
  auto trace = LoadTrace(path);
  if (!trace.ok()) return trace.status();
  auto g = LoadGuests(p, /*need_pages=*/false);
  if (!g.ok()) return g.status();
  Workload w;
  for (const TraceFunction& f : trace->functions) {
    std::string name = f.name.substr(0, std::min<size_t>(f.name.size(), 12));
    for (char& c : name) {
      if (!std::isalnum(static_cast<unsigned char>(c))) c = '-';
    }
    w.modules.push_back(Synth(*g, "fn" + std::to_string(w.modules.size()) + "-" + name,
                              SynthFor(f)));
  }
  w.arrivals = TraceArrivals(*trace, p.duration_s, rng);
  char span[96];
  std::snprintf(span, sizeof span, "; replayed: the first %.0f min, %zu arrivals",
                std::min(p.duration_s, trace->span_s) / 60, w.arrivals.size());
  w.description = trace->Describe() + span + " (" + kTraceMapping + ")";
  return w;
}

// Swaps the workload's synth modules for the user's, keeping its arrivals.
Status UseUserModules(const WorkloadParams& p, Workload& w) {
  std::vector<Bytes> bytes;
  for (const UserModule& u : p.user_modules) {
    auto b = ReadFile(u.path);
    if (!b.ok()) return b.status();
    bytes.push_back(std::move(*b));
  }
  size_t n = p.user_modules.size();
  for (size_t i = 0; i < w.modules.size(); ++i) {
    const UserModule& u = p.user_modules[i % n];
    WorkloadModule& m = w.modules[i];
    m.name = u.path.stem().string() +
             (w.modules.size() > n ? "-" + std::to_string(i) : "");
    m.bytes = bytes[i % n];
    m.export_name = u.export_name;
    m.inputs = {p.user_input};
  }
  for (Arrival& a : w.arrivals) a.input = 0;
  w.description += "; modules: ";
  for (size_t i = 0; i < n; ++i) {
    w.description += (i ? ", " : "") + p.user_modules[i].path.filename().string();
  }
  return OkStatus();
}

}  // namespace

Result<Workload> MakeWorkload(const std::string& spec,
                              const WorkloadParams& params) {
  Rng rng(params.seed);
  Result<Workload> w = Status(ErrorCode::kInvalidArgument,
                              "bench: unknown workload '" + spec +
                                  "' (expected one of " + kWorkloadNames + ")");
  if (spec == "hot-biased") {
    w = HotBiased(params, rng);
  } else if (spec == "uniform") {
    w = ZipfOver(params, rng, 0.0, 20, "uniform");
  } else if (spec == "cold-start") {
    w = ZipfOver(params, rng, 0.0, 200, "uniform (each module rarely seen)");
  } else if (spec.rfind("zipf:", 0) == 0) {
    char* end = nullptr;
    double s = std::strtod(spec.c_str() + 5, &end);
    if (end == spec.c_str() + 5 || *end != '\0' || !(s >= 0 && s <= 5)) {
      return Status(ErrorCode::kInvalidArgument,
                    "bench: zipf exponent in '" + spec +
                        "' must be a number in [0, 5]");
    }
    w = ZipfOver(params, rng, s, 100, "zipf " + spec.substr(5));
  } else if (spec == "burst") {
    w = Burst(params, rng);
  } else if (spec == "heavy-init") {
    w = HeavyInit(params, rng);
  } else if (spec == "readability") {
    w = Readability(params, rng);
  } else if (spec == "azure:100" || spec == "azure:500") {
    w = FromTrace(params, rng, params.traces_dir / spec.substr(6) / "invocations.csv");
  } else if (spec.rfind("trace:", 0) == 0 && spec.size() > 6) {
    w = FromTrace(params, rng, spec.substr(6));
  }
  if (!w.ok()) return w;
  if (!params.user_modules.empty()) {
    if (Status s = UseUserModules(params, *w); !s.ok()) return s;
  }
  w->name = spec;
  std::sort(w->arrivals.begin(), w->arrivals.end(),
            [](const Arrival& a, const Arrival& b) { return a.at < b.at; });
  w->length = Seconds(params.duration_s);
  return w;
}

}  // namespace strata::bench
