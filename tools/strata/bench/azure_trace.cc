#include "bench/azure_trace.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

namespace strata::bench {
namespace {

using Row = std::vector<std::string>;

Row SplitCsv(const std::string& line) {
  Row out;
  std::stringstream in(line);
  for (std::string cell; std::getline(in, cell, ',');) out.push_back(cell);
  return out;
}

// The rows of `path` after its header, and the header's column indices.
Result<std::vector<Row>> ReadCsv(const std::filesystem::path& path,
                                 std::map<std::string, size_t>* columns) {
  std::ifstream in(path);
  if (!in) {
    return Status(ErrorCode::kNotFound,
                  "bench: cannot read trace file '" + path.string() + "'");
  }
  std::string line;
  std::getline(in, line);
  Row header = SplitCsv(line);
  for (size_t i = 0; i < header.size(); ++i) (*columns)[header[i]] = i;
  std::vector<Row> rows;
  while (std::getline(in, line)) {
    if (!line.empty()) rows.push_back(SplitCsv(line));
  }
  return rows;
}

Result<double> Cell(const Row& row, const std::map<std::string, size_t>& cols,
                    const std::string& name, const std::filesystem::path& file) {
  auto it = cols.find(name);
  if (it == cols.end() || it->second >= row.size()) {
    return Status(ErrorCode::kInvalidArgument,
                  "bench: '" + file.string() + "' has no column " + name);
  }
  return std::strtod(row[it->second].c_str(), nullptr);
}

}  // namespace

Result<AzureTrace> LoadAzureTrace(const std::filesystem::path& dir) {
  std::map<std::string, size_t> inv_cols, dur_cols, mem_cols;
  auto invocations = ReadCsv(dir / "invocations.csv", &inv_cols);
  if (!invocations.ok()) return invocations.status();
  auto durations = ReadCsv(dir / "durations.csv", &dur_cols);
  if (!durations.ok()) return durations.status();
  auto memory = ReadCsv(dir / "memory.csv", &mem_cols);
  if (!memory.ok()) return memory.status();

  std::map<std::string, const Row*> by_hash_dur, by_hash_mem;
  for (const Row& r : *durations) by_hash_dur[r.at(dur_cols["HashFunction"])] = &r;
  for (const Row& r : *memory) by_hash_mem[r.at(mem_cols["HashFunction"])] = &r;

  AzureTrace trace;
  size_t first_minute = inv_cols["Trigger"] + 1;
  for (const Row& r : *invocations) {
    AzureFunction f;
    f.hash = r.at(inv_cols["HashFunction"]);
    auto dur = by_hash_dur.find(f.hash);
    auto mem = by_hash_mem.find(f.hash);
    if (dur == by_hash_dur.end() || mem == by_hash_mem.end()) {
      return Status(ErrorCode::kInvalidArgument,
                    "bench: function " + f.hash + " of '" + dir.string() +
                        "' lacks a durations or memory row");
    }
    auto avg = Cell(*dur->second, dur_cols, "Average", dir / "durations.csv");
    auto max = Cell(*dur->second, dur_cols, "Maximum", dir / "durations.csv");
    auto mb = Cell(*mem->second, mem_cols, "AverageAllocatedMb", dir / "memory.csv");
    if (!avg.ok()) return avg.status();
    if (!max.ok()) return max.status();
    if (!mb.ok()) return mb.status();
    f.average_ms = *avg;
    f.maximum_ms = *max;
    f.memory_mb = *mb;
    for (size_t i = first_minute; i < r.size(); ++i) {
      f.per_minute.push_back(static_cast<uint32_t>(std::strtoul(r[i].c_str(), nullptr, 10)));
    }
    trace.minutes = std::max<uint32_t>(trace.minutes, f.per_minute.size());
    trace.functions.push_back(std::move(f));
  }
  if (trace.functions.empty()) {
    return Status(ErrorCode::kInvalidArgument,
                  "bench: no functions in '" + (dir / "invocations.csv").string() + "'");
  }
  return trace;
}

SynthParams SynthFor(const AzureFunction& f) {
  auto clamp = [](double v, double lo, double hi) {
    return std::clamp(v, lo, hi);
  };
  SynthParams p;
  // One synth iteration costs about a nanosecond; 1 trace ms -> 1 us of
  // call work. Start-up is scaled down four times further (and capped) so
  // a replay of the trace's cold starts fits in minutes.
  p.call_iters = static_cast<uint32_t>(clamp(f.average_ms * 1000, 1000, 2e6));
  p.init_cpu_iters = static_cast<uint64_t>(
      clamp((f.maximum_ms - f.average_ms) * 250, 0, 5e6));
  // MB/256 of memory = MB/16 pages of 64 KiB.
  p.init_pages = static_cast<uint32_t>(clamp(std::round(f.memory_mb / 16), 1, 64));
  return p;
}

std::vector<Arrival> AzureArrivals(const AzureTrace& trace, double duration_s,
                                   std::mt19937_64& rng) {
  std::vector<Arrival> out;
  std::uniform_real_distribution<double> within(0, 60);
  auto minutes = static_cast<uint32_t>(std::ceil(duration_s / 60));
  for (uint32_t fn = 0; fn < trace.functions.size(); ++fn) {
    const auto& counts = trace.functions[fn].per_minute;
    for (uint32_t m = 0; m < std::min<size_t>(minutes, counts.size()); ++m) {
      for (uint32_t k = 0; k < counts[m]; ++k) {
        double t = m * 60 + within(rng);
        if (t >= duration_s) continue;
        out.push_back({std::chrono::duration_cast<std::chrono::nanoseconds>(
                           std::chrono::duration<double>(t)),
                       fn, 0});
      }
    }
  }
  return out;
}

}  // namespace strata::bench
