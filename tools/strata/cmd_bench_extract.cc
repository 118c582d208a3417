// strata bench extract: where a request's time goes, page by page, for the
// two bundled extractors. Each request is served from the warm tier (a new
// instance from the pre-linked module), so it splits into start-up (the
// acquire: instantiate, plus initialise without a snapshot) and the page's
// own work (the call). Rows: the C extractor; Readability instantiated and
// initialised per request; Readability from its snapshot. Where a page has
// expected-metadata.json (Readability's own reading of it), each
// extractor's title is compared with its title, exactly after trimming.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <optional>
#include <nlohmann/json.hpp>

#include "bench_command.h"
#include "cli_util.h"

namespace strata::cli {
namespace {

using SteadyClock = std::chrono::steady_clock;

struct ExtractBenchOptions {
  std::string pages_dir;
  int repeats = 3;
  std::string out_dir = "bench-results";
};

struct Subject {
  const char* name;
  const char* file;
  bool snapshot;
};

constexpr Subject kSubjects[] = {
    {"c", "extractor.wasm", false},
    {"readability", "readability.wasm", false},
    {"readability+snap", "readability.wasm", true},
};

struct Split {
  double startup_ms = 0, work_ms = 0;  // medians over the repeats
  std::string title;                   // from the last call's JSON
};

std::string Trim(std::string s) {
  s.erase(0, s.find_first_not_of(" \t\r\n"));
  s.erase(s.find_last_not_of(" \t\r\n") + 1);
  return s;
}

// The page's reference title, if it has one.
std::optional<std::string> ExpectedTitle(const std::filesystem::path& dir) {
  auto text = ReadFile(dir / "expected-metadata.json");
  if (!text.ok()) return std::nullopt;
  auto expected = nlohmann::json::parse(text->begin(), text->end(), nullptr, false);
  if (!expected.is_object() || !expected["title"].is_string()) return std::nullopt;
  return Trim(expected["title"].get<std::string>());
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

double Ms(SteadyClock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

// `repeats` requests for `page`, each from the warm tier.
Result<Split> Measure(Pool& pool, const std::string& module, const Bytes& page,
                      int repeats) {
  std::vector<double> startup, work;
  std::string title;
  for (int i = 0; i < repeats; ++i) {
    if (Status s = pool.MoveTo(module, Tier::kWarm); !s.ok()) return s;
    auto start = SteadyClock::now();
    auto lease = pool.Acquire(module, std::chrono::seconds(30));
    auto acquired = SteadyClock::now();
    if (!lease.ok()) return lease.status();
    if (lease->served_from() != ServedFrom::kWarm) {
      return Status(ErrorCode::kInternal, "bench: '" + module + "' was served from " +
                                              ServedFromName(lease->served_from()));
    }
    auto out = lease->Call("extract", page);
    if (!out.ok()) return out.status();
    auto json = nlohmann::json::parse(out->begin(), out->end(), nullptr, false);
    title = json.is_object() && json["title"].is_string() ? Trim(json["title"]) : "";
    startup.push_back(Ms(acquired - start));
    work.push_back(Ms(SteadyClock::now() - acquired));
  }
  return Split{Median(startup), Median(work), title};
}

int ExtractBench(const ExtractBenchOptions& o) {
  auto engine = MakeEngine();
  PoolOptions pool_options;
  pool_options.background = false;  // tiers move only when told to
  auto pool = Pool::Create(engine.get(), pool_options);
  if (!pool.ok()) return Fail(pool.status());
  for (const Subject& s : kSubjects) {
    auto bytes = ReadFile(BundledGuest(s.file));
    if (!bytes.ok()) return Fail(bytes.status());
    ModuleOptions options;
    options.call_timeout = std::chrono::seconds(60);
    if (s.snapshot) options.snapshot = "";
    std::fprintf(stderr, "  registering %s...\n", s.name);
    if (Status added = (*pool)->AddModule(s.name, *bytes, options); !added.ok()) {
      return Fail(added);
    }
  }
  std::vector<std::filesystem::path> pages;
  for (const auto& entry : std::filesystem::directory_iterator(o.pages_dir)) {
    if (std::filesystem::exists(entry.path() / "source.html")) pages.push_back(entry.path());
  }
  std::sort(pages.begin(), pages.end());
  if (pages.empty()) {
    return Fail(Status(ErrorCode::kNotFound,
                       "no NAME/source.html pages under '" + o.pages_dir + "'"));
  }

  nlohmann::json report = nlohmann::json::array();
  std::ofstream csv;
  std::filesystem::create_directories(o.out_dir);
  auto base = std::filesystem::path(o.out_dir) / "extract";
  csv.open(base.string() + ".csv");
  csv << "page,kib,extractor,startup_ms,work_ms,title_matches\n";
  std::printf("%-32s %6s | %-20s | %-20s | %-20s\n", "page", "KiB", "c",
              "readability", "readability+snap");
  std::printf("%-32s %6s | %9s %10s | %9s %10s | %9s %10s\n", "", "",
              "start ms", "work ms", "start ms", "work ms", "start ms", "work ms");
  Split total[std::size(kSubjects)];
  int titled = 0, matches[std::size(kSubjects)] = {};
  for (const auto& dir : pages) {
    auto html = ReadFile(dir / "source.html");
    if (!html.ok()) return Fail(html.status());
    std::string url = "https://example.com/" + dir.filename().string() + "/\n";
    Bytes input(url.begin(), url.end());
    input.insert(input.end(), html->begin(), html->end());
    std::string name = dir.filename().string();
    double kib = html->size() / 1024.0;
    auto expected = ExpectedTitle(dir);
    titled += expected.has_value();
    std::printf("%-32s %6.0f", name.c_str(), kib);
    nlohmann::json row = {{"page", name}, {"kib", kib}};
    for (size_t i = 0; i < std::size(kSubjects); ++i) {
      auto split = Measure(**pool, kSubjects[i].name, input, o.repeats);
      if (!split.ok()) return Fail(split.status());
      std::printf(" | %9.3f %10.2f", split->startup_ms, split->work_ms);
      total[i].startup_ms += split->startup_ms / pages.size();
      total[i].work_ms += split->work_ms / pages.size();
      bool match = expected && split->title == *expected;
      matches[i] += match;
      row[kSubjects[i].name] = {{"startup_ms", split->startup_ms},
                                {"work_ms", split->work_ms},
                                {"title", split->title},
                                {"title_matches", match}};
      csv << name << "," << kib << "," << kSubjects[i].name << ","
          << split->startup_ms << "," << split->work_ms << "," << match << "\n";
    }
    std::printf("\n");
    std::fflush(stdout);
    report.push_back(std::move(row));
  }
  std::printf("%-32s %6s", "mean", "");
  for (const Split& t : total) std::printf(" | %9.3f %10.2f", t.startup_ms, t.work_ms);
  std::printf("\n%-39s", "titles as expected");
  for (int m : matches) std::printf(" | %20s", (std::to_string(m) + "/" + std::to_string(titled)).c_str());
  std::printf("\n\nstart: the warm acquire (a new instance; without a snapshot "
              "it runs start-up); work: the call. Medians of %d requests per "
              "page.\n", o.repeats);
  std::ofstream(base.string() + ".json") << report.dump(1) << "\n";
  std::printf("wrote %s.json %s.csv\n", base.string().c_str(), base.string().c_str());
  return 0;
}

}  // namespace

void AddBenchExtractCommand(CLI::App& bench, ExitCode& exit_code) {
  auto o = std::make_shared<ExtractBenchOptions>();
  CLI::App* cmd = bench.add_subcommand(
      "extract",
      "Split each bundled page's request into start-up and page work, for the "
      "C extractor and for Readability with and without a snapshot");
  cmd->add_option("--pages", o->pages_dir,
                  "Directory of NAME/source.html pages (default: bundled)");
  cmd->add_option("--repeats", o->repeats, "Requests per page and extractor")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  cmd->add_option("--out", o->out_dir, "Directory for extract.json and extract.csv")
      ->capture_default_str();
  cmd->callback([o, &exit_code] {
    if (o->pages_dir.empty()) o->pages_dir = BundledGuest("web-pages").string();
    exit_code = ExtractBench(*o);
  });
}

}  // namespace strata::cli
