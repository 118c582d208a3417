// The forms a `strata bench` report takes: JSON (everything, including
// latency CDFs and memory timelines), CSV (one row per run), a readable
// table, and a self-contained HTML page of SVG charts.
#ifndef STRATA_BENCH_REPLAY_REPORT_H_
#define STRATA_BENCH_REPLAY_REPORT_H_

#include <filesystem>
#include <string>
#include <vector>

#include "replay/replay.h"

namespace strata::bench {

// What the runs have in common, recorded with them.
struct ReportHeader {
  std::string workload, description, mode, command;
  uint64_t seed = 0, modules = 0, arrivals = 0;
  uint64_t working_set_bytes = 0;  // measured: one instance + code per module
  int threads = 0;
  double speedup = 1;              // trace seconds per replayed second
  uint64_t hot_p50_ns = 0;         // the cold-start cost's reference
};

std::string ToJson(const ReportHeader& header, const std::vector<RunResult>& runs);
std::string ToCsv(const std::vector<RunResult>& runs);
std::string ToTable(const ReportHeader& header, const std::vector<RunResult>& runs);
// `json` is the output of ToJson for one or more reports (an array).
std::string ToHtml(const std::string& json);

// Writes <dir>/<stem>.json, .csv and .txt; returns the paths written.
Result<std::vector<std::filesystem::path>> WriteReport(
    const std::filesystem::path& dir, const std::string& stem,
    const ReportHeader& header, const std::vector<RunResult>& runs);

}  // namespace strata::bench

#endif  // STRATA_BENCH_REPLAY_REPORT_H_
