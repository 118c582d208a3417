#include "replay/trace.h"

#include <algorithm>
#include <charconv>
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
  for (std::string cell; std::getline(in, cell, ',');) {
    if (!cell.empty() && cell.back() == '\r') cell.pop_back();
    out.push_back(std::move(cell));
  }
  if (!line.empty() && line.back() == ',') out.emplace_back();
  return out;
}

// A CSV file read whole: its header's columns by name, and its rows with
// their line numbers, for errors that point at the line and the column.
struct Csv {
  std::filesystem::path path;
  Row header;
  std::map<std::string, size_t> columns;
  std::vector<std::pair<size_t, Row>> rows;  // (line number, cells)

  Status Error(size_t line, size_t column, const std::string& why) const {
    std::string where = path.string() + ":" + std::to_string(line);
    if (column < header.size()) {
      where += ": column " + std::to_string(column + 1) + " (" + header[column] + ")";
    }
    return Status(ErrorCode::kInvalidArgument, "bench: " + where + ": " + why);
  }
  Result<size_t> Column(const std::string& name) const {
    auto it = columns.find(name);
    if (it == columns.end()) return Error(1, header.size(), "no column '" + name + "'");
    return it->second;
  }
};

Result<Csv> ReadCsv(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) {
    return Status(ErrorCode::kNotFound,
                  "bench: cannot read trace file '" + path.string() + "'");
  }
  Csv csv;
  csv.path = path;
  std::string line;
  if (!std::getline(in, line)) {
    return Status(ErrorCode::kInvalidArgument,
                  "bench: " + path.string() + ":1: empty file, expected a header");
  }
  csv.header = SplitCsv(line);
  for (size_t i = 0; i < csv.header.size(); ++i) csv.columns[csv.header[i]] = i;
  for (size_t n = 2; std::getline(in, line); ++n) {
    if (line.empty() || line == "\r") continue;
    Row row = SplitCsv(line);
    if (row.size() != csv.header.size()) {
      return csv.Error(n, row.size() < csv.header.size() ? row.size() : csv.header.size(),
                       std::to_string(row.size()) + " cells, the header has " +
                           std::to_string(csv.header.size()));
    }
    csv.rows.push_back({n, std::move(row)});
  }
  return csv;
}

template <typename T>
Result<T> Number(const Csv& csv, size_t line, size_t column, const std::string& text) {
  T value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return csv.Error(line, column, "'" + text + "' is not a number");
  }
  if constexpr (std::is_floating_point_v<T>) {
    if (!std::isfinite(value) || value < 0) {
      return csv.Error(line, column, "'" + text + "' is not a non-negative number");
    }
  }
  return value;
}

// The first of `candidates` that exists, or an empty path.
std::filesystem::path FirstExisting(const std::vector<std::filesystem::path>& candidates) {
  for (const auto& p : candidates) {
    std::error_code ec;
    if (std::filesystem::is_regular_file(p, ec)) return p;
  }
  return {};
}

std::filesystem::path Beside(const std::filesystem::path& path, const std::string& kind,
                             const std::string& original) {
  std::string name = path.filename().string();
  std::vector<std::filesystem::path> candidates;
  // The dataset's own names: invocations_per_function_md.anon.d01.csv and
  // function_durations_percentiles / app_memory_percentiles.anon.d01.csv.
  if (auto at = name.find("invocations_per_function_md"); at != std::string::npos) {
    std::string other = name;
    other.replace(at, std::string("invocations_per_function_md").size(), original);
    candidates.push_back(path.parent_path() / other);
  }
  if (auto at = name.find("invocations"); at != std::string::npos) {
    std::string other = name;
    other.replace(at, std::string("invocations").size(), kind);
    candidates.push_back(path.parent_path() / other);
  }
  candidates.push_back(path.parent_path() / (kind + ".csv"));
  return FirstExisting(candidates);
}

// Joins a durations or memory CSV onto the functions by HashFunction (or,
// for per-application memory, HashApp).
Status JoinBeside(const std::filesystem::path& file, const Csv& invocations,
                  std::vector<TraceFunction>& functions, bool durations) {
  auto csv = ReadCsv(file);
  if (!csv.ok()) return csv.status();
  bool by_function = csv->columns.count("HashFunction") > 0;
  std::string key = by_function ? "HashFunction" : "HashApp";
  auto key_col = csv->Column(key);
  if (!key_col.ok()) return key_col.status();
  auto inv_key = invocations.Column(key);
  if (!inv_key.ok()) return inv_key.status();
  std::map<std::string, std::pair<size_t, const Row*>> rows;
  for (const auto& [line, row] : csv->rows) rows[row[*key_col]] = {line, &row};
  for (size_t i = 0; i < functions.size(); ++i) {
    auto it = rows.find(invocations.rows[i].second[*inv_key]);
    if (it == rows.end()) continue;  // keeps the defaults
    auto [line, row] = it->second;
    TraceFunction& f = functions[i];
    if (durations) {
      auto avg_col = csv->Column("Average");
      auto max_col = csv->Column("Maximum");
      if (!avg_col.ok()) return avg_col.status();
      if (!max_col.ok()) return max_col.status();
      auto avg = Number<double>(*csv, line, *avg_col, (*row)[*avg_col]);
      auto max = Number<double>(*csv, line, *max_col, (*row)[*max_col]);
      if (!avg.ok()) return avg.status();
      if (!max.ok()) return max.status();
      f.average_ms = *avg;
      f.maximum_ms = std::max(*max, *avg);
      f.has_durations = true;
    } else {
      auto mb_col = csv->Column("AverageAllocatedMb");
      if (!mb_col.ok()) return mb_col.status();
      auto mb = Number<double>(*csv, line, *mb_col, (*row)[*mb_col]);
      if (!mb.ok()) return mb.status();
      f.memory_mb = *mb;
      f.has_memory = true;
    }
  }
  return OkStatus();
}

Result<Trace> LoadPerMinute(const std::filesystem::path& path, const Csv& csv) {
  Trace trace;
  trace.path = path;
  trace.format = "azure-2019-per-minute";
  constexpr size_t kFirstMinute = 4;
  for (size_t c = kFirstMinute; c < csv.header.size(); ++c) {
    auto minute = Number<uint32_t>(csv, 1, c, csv.header[c]);
    if (!minute.ok()) return minute.status();
  }
  for (const auto& [line, row] : csv.rows) {
    TraceFunction f;
    f.name = row[2];
    for (size_t c = kFirstMinute; c < row.size(); ++c) {
      auto n = Number<uint32_t>(csv, line, c, row[c]);
      if (!n.ok()) return n.status();
      f.per_minute.push_back(*n);
      trace.invocations += *n;
    }
    trace.functions.push_back(std::move(f));
  }
  trace.span_s = 60.0 * (csv.header.size() - kFirstMinute);
  for (bool durations : {true, false}) {
    auto file = durations ? Beside(path, "durations", "function_durations_percentiles")
                          : Beside(path, "memory", "app_memory_percentiles");
    if (file.empty()) continue;
    if (Status s = JoinBeside(file, csv, trace.functions, durations); !s.ok()) return s;
  }
  return trace;
}

Result<Trace> LoadPerInvocation(const std::filesystem::path& path, const Csv& csv) {
  Trace trace;
  trace.path = path;
  trace.format = "azure-2021-per-invocation";
  std::map<std::string, size_t> index;
  double first = 0;
  for (const auto& [line, row] : csv.rows) {
    auto end = Number<double>(csv, line, 2, row[2]);
    if (!end.ok()) return end.status();
    auto duration = Number<double>(csv, line, 3, row[3]);
    if (!duration.ok()) return duration.status();
    std::string name = row[0] + "/" + row[1];
    auto [it, added] = index.try_emplace(name, trace.functions.size());
    if (added) {
      trace.functions.push_back({});
      trace.functions.back().name = name;
      trace.functions.back().average_ms = 0;
      trace.functions.back().maximum_ms = 0;
      trace.functions.back().has_durations = true;
    }
    TraceFunction& f = trace.functions[it->second];
    double ms = *duration * 1000;
    f.average_ms += ms;  // a sum until the end
    f.maximum_ms = std::max(f.maximum_ms, ms);
    double start = *end - *duration;
    f.starts_s.push_back(start);
    first = trace.invocations == 0 ? start : std::min(first, start);
    ++trace.invocations;
  }
  for (TraceFunction& f : trace.functions) {
    f.average_ms /= static_cast<double>(f.starts_s.size());
    for (double& s : f.starts_s) {
      s -= first;
      trace.span_s = std::max(trace.span_s, s);
    }
    std::sort(f.starts_s.begin(), f.starts_s.end());
  }
  return trace;
}

}  // namespace

std::string Trace::Describe() const {
  size_t durations = 0, memory = 0;
  for (const auto& f : functions) {
    durations += f.has_durations;
    memory += f.has_memory;
  }
  char text[400];
  std::snprintf(text, sizeof text,
                "%s trace '%s': %zu functions over %.0f min, %llu invocations "
                "(durations for %zu, memory for %zu)",
                format.c_str(), path.filename().string().c_str(), functions.size(),
                span_s / 60, static_cast<unsigned long long>(invocations),
                durations, memory);
  return text;
}

Result<Trace> LoadTrace(const std::filesystem::path& path) {
  auto csv = ReadCsv(path);
  if (!csv.ok()) return csv.status();
  const Row& h = csv->header;
  Result<Trace> trace = Status(ErrorCode::kInvalidArgument, "");
  if (h.size() > 4 && h[0] == "HashOwner" && h[1] == "HashApp" &&
      h[2] == "HashFunction" && h[3] == "Trigger") {
    trace = LoadPerMinute(path, *csv);
  } else if (h == Row{"app", "func", "end_timestamp", "duration"}) {
    trace = LoadPerInvocation(path, *csv);
  } else {
    return csv->Error(1, 0,
                      "not a known trace header: expected HashOwner,HashApp,"
                      "HashFunction,Trigger,<minutes...> (Azure 2019) or "
                      "app,func,end_timestamp,duration (Azure 2021)");
  }
  if (trace.ok() && trace->functions.empty()) {
    return Status(ErrorCode::kInvalidArgument,
                  "bench: " + path.string() + ": no functions in the trace");
  }
  return trace;
}

SynthParams SynthFor(const TraceFunction& f) {
  SynthParams p;
  // One synth iteration costs about a nanosecond. Call work and start-up
  // are scaled alike, 1 trace ms -> 0.25 us (clamped), so their ratio is
  // the trace's and a replay of 30 trace minutes of every policy fits in
  // minutes.
  p.call_iters = static_cast<uint32_t>(std::clamp(f.average_ms * 250, 1000.0, 2e6));
  p.init_cpu_iters = static_cast<uint64_t>(
      std::clamp((f.maximum_ms - f.average_ms) * 250, 0.0, 5e6));
  // MB/256 of memory = MB/16 pages of 64 KiB.
  p.init_pages = static_cast<uint32_t>(std::clamp(std::round(f.memory_mb / 16), 1.0, 64.0));
  return p;
}

std::vector<Arrival> TraceArrivals(const Trace& trace, double duration_s,
                                   std::mt19937_64& rng) {
  std::vector<Arrival> out;
  std::uniform_real_distribution<double> within(0, 60);
  auto at = [](double s) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::chrono::duration<double>(s));
  };
  for (uint32_t fn = 0; fn < trace.functions.size(); ++fn) {
    const TraceFunction& f = trace.functions[fn];
    for (uint32_t m = 0; m < f.per_minute.size() && m * 60.0 < duration_s; ++m) {
      for (uint32_t k = 0; k < f.per_minute[m]; ++k) {
        double t = m * 60 + within(rng);
        if (t < duration_s) out.push_back({at(t), fn, 0});
      }
    }
    for (double s : f.starts_s) {
      if (s < duration_s) out.push_back({at(s), fn, 0});
    }
  }
  return out;
}

}  // namespace strata::bench
