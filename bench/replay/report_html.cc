// ToHtml: one self-contained HTML page (inline CSS, inline SVG, no script)
// drawn from the JSON that ToJson writes, one section per report plus
// hit-rate-vs-budget charts for workloads measured at several budgets.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "replay/report.h"

namespace strata::bench {
namespace {

using nlohmann::json;
using Points = std::vector<std::pair<double, double>>;
constexpr double kMiB = 1048576.0;

// Tolerant field access: missing, null, NaN or mistyped fields read as 0/"".
double Num(const json& j, const char* key) {
  if (!j.is_object()) return 0;
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return 0;
  double v = it->get<double>();
  return std::isfinite(v) ? v : 0;
}
std::string Str(const json& j, const char* key) {
  if (!j.is_object()) return "";
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}
const json& Sub(const json& j, const char* key) {
  static const json kEmpty = json::object();
  if (!j.is_object()) return kEmpty;
  auto it = j.find(key);
  return it == j.end() ? kEmpty : *it;
}
const json& Arr(const json& j, const char* key) {
  static const json kEmpty = json::array();
  const json& a = Sub(j, key);
  return a.is_array() ? a : kEmpty;
}

std::string Esc(std::string_view s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      case '\'': o += "&#39;"; break;
      default: o += c;
    }
  }
  return o;
}

std::string Fmt(double v, int digits) {
  if (!std::isfinite(v) || std::fabs(v) < 0.5 * std::pow(10, -digits)) v = 0;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

// Okabe-Ito colours, fixed per known policy so every chart agrees.
std::string Colour(const std::string& policy) {
  static const std::map<std::string, std::string> kFixed = {
      {"none", "#000000"},    {"instantiate", "#E69F00"}, {"fifo", "#56B4E9"},
      {"riptide", "#009E73"}, {"strata", "#D55E00"}};
  static const char* kOther[] = {"#0072B2", "#CC79A7", "#999999"};
  if (auto it = kFixed.find(policy); it != kFixed.end()) return it->second;
  unsigned h = 0;
  for (unsigned char c : policy) h = h * 31 + c;
  return kOther[h % 3];
}

double NiceStep(double span) {
  if (!(span > 0) || !std::isfinite(span)) return 1;
  double raw = span / 5, mag = std::pow(10, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0}) {
    if (m * mag >= raw) return m * mag;
  }
  return 10 * mag;
}

std::string TickLabel(double v, double step) {
  int digits = step >= 1 ? 0 : std::min(6, int(std::ceil(-std::log10(step))));
  return Fmt(v, digits);
}

// A power of ten in microseconds as a readable duration.
std::string DurationLabel(double us) {
  if (us >= 1e6) return Fmt(us / 1e6, 0) + "s";
  if (us >= 1e3) return Fmt(us / 1e3, 0) + "ms";
  if (us >= 1) return Fmt(us, 0) + "µs";
  return Fmt(us * 1e3, 0) + "ns";
}

// Keeps long series drawable: per bucket of `stride` points, the lowest and
// highest point (so peaks survive), in x order.
Points Thin(const Points& p, size_t max_points = 800) {
  if (p.size() <= max_points) return p;
  size_t stride = (p.size() + max_points / 2 - 1) / (max_points / 2);
  Points out;
  for (size_t i = 0; i < p.size(); i += stride) {
    size_t end = std::min(p.size(), i + stride), lo = i, hi = i;
    for (size_t k = i; k < end; ++k) {
      if (p[k].second < p[lo].second) lo = k;
      if (p[k].second > p[hi].second) hi = k;
    }
    out.push_back(p[std::min(lo, hi)]);
    if (lo != hi) out.push_back(p[std::max(lo, hi)]);
  }
  if (out.back() != p.back()) out.push_back(p.back());
  return out;
}

// How one line is drawn and named in the legend.
struct Style {
  std::string name, colour, dash;
};

// One chart: set the domain first, then add lines; Render() draws grid,
// axes, the lines and a legend to the right of the plot.
struct SvgChart {
  static constexpr double kW = 540, kH = 280, kL = 58, kR = 132, kT = 30,
                          kB = 44;
  std::string title, x_label, y_label;
  double x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  bool log_x = false, y_percent = false;
  std::vector<Style> legend;
  std::ostringstream body;

  static double Unit(double f) {
    return std::isfinite(f) ? std::clamp(f, 0.0, 1.0) : 0;
  }
  double X(double v) const {
    double a = x0, b = x1;
    if (log_x) {
      v = std::log10(std::max(v, x0));
      a = std::log10(x0);
      b = std::log10(x1);
    }
    return kL + Unit(b > a ? (v - a) / (b - a) : 0.5) * (kW - kL - kR);
  }
  double Y(double v) const {
    return kH - kB - Unit(y1 > y0 ? (v - y0) / (y1 - y0) : 0.5) * (kH - kT - kB);
  }
  // Rounds y1 up to a tick so the top gridline closes the plot.
  void NiceY() {
    if (!(y1 > y0)) y1 = y0 + 1;
    double step = NiceStep(y1 - y0);
    y1 = y0 + std::ceil((y1 - y0) / step - 1e-9) * step;
  }
  void Line(const Points& pts, const std::string& colour,
            const std::string& dash = "", bool markers = false, double width = 1.8) {
    if (pts.empty()) return;
    body << "<polyline fill=\"none\" stroke=\"" << colour << "\" stroke-width=\""
         << width << "\" stroke-linejoin=\"round\"";
    if (!dash.empty()) body << " stroke-dasharray=\"" << dash << "\"";
    body << " points=\"";
    for (const auto& [x, y] : pts) body << Fmt(X(x), 1) << ',' << Fmt(Y(y), 1) << ' ';
    body << "\"/>\n";
    if (!markers && pts.size() > 1) return;
    for (const auto& [x, y] : pts) {
      body << "<circle cx=\"" << Fmt(X(x), 1) << "\" cy=\"" << Fmt(Y(y), 1)
           << "\" r=\"3\" fill=\"" << colour << "\"/>\n";
    }
  }
  // "<line .../>" with coordinates rounded to 0.1px and `extra` attributes.
  static std::string SvgLine(double ax, double ay, double bx, double by,
                             const std::string& extra) {
    return "<line x1=\"" + Fmt(ax, 1) + "\" y1=\"" + Fmt(ay, 1) + "\" x2=\"" +
           Fmt(bx, 1) + "\" y2=\"" + Fmt(by, 1) + "\" " + extra + "/>";
  }
  static std::string SvgText(double x, double y, const char* anchor,
                             const std::string& text, const std::string& extra = "") {
    return "<text x=\"" + Fmt(x, 1) + "\" y=\"" + Fmt(y, 1) + "\" text-anchor=\"" +
           anchor + "\" " + extra + ">" + Esc(text) + "</text>\n";
  }
  void HLine(double y, const std::string& colour, const std::string& label) {
    std::string c = "stroke=\"" + colour + "\"";
    body << SvgLine(kL, Y(y), kW - kR, Y(y), c + " stroke-dasharray=\"6 4\"")
         << SvgText(kW - kR - 3, Y(y) - 3, "end", label,
                    "class=\"h\" fill=\"" + colour + "\"");
  }
  // Tick positions at a round step covering [lo, hi] (at most 40).
  static std::vector<double> Ticks(double lo, double hi, double step) {
    std::vector<double> v;
    for (double t = std::ceil(lo / step - 1e-9) * step;
         t <= hi + step * 1e-6 && v.size() < 40; t += step) {
      v.push_back(t);
    }
    return v;
  }
  std::string Render() const {
    std::ostringstream o;
    double px0 = kL, px1 = kW - kR, py0 = kT, py1 = kH - kB;
    o << "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " << kW << ' '
      << kH << "\" width=\"" << kW << "\" height=\"" << kH << "\" role=\"img\">\n<title>"
      << Esc(title) << "</title>\n" << SvgText(kL, 18, "start", title, "class=\"t\"");
    auto xtick = [&](double v, const std::string& label) {
      o << SvgLine(X(v), py0, X(v), py1 + 4, "class=\"g\"")
        << SvgText(X(v), py1 + 16, "middle", label);
    };
    if (log_x) {
      double decades = std::log10(x1) - std::log10(x0);
      for (double k : Ticks(std::log10(x0), std::log10(x1), decades > 7 ? 2 : 1)) {
        xtick(std::pow(10, k), DurationLabel(std::pow(10, k)));
      }
    } else {
      double step = NiceStep(x1 - x0);
      for (double v : Ticks(x0, x1, step)) xtick(v, TickLabel(v, step));
    }
    double step = NiceStep(y1 - y0);
    for (double v : Ticks(y0, y1, step)) {
      o << SvgLine(px0 - 4, Y(v), px1, Y(v), "class=\"g\"")
        << SvgText(px0 - 7, Y(v) + 4, "end",
                   y_percent ? Fmt(v * 100, 0) + "%" : TickLabel(v, step));
    }
    o << "<rect x=\"" << px0 << "\" y=\"" << py0 << "\" width=\"" << px1 - px0
      << "\" height=\"" << py1 - py0 << "\" class=\"f\"/>\n"
      << SvgText((px0 + px1) / 2, kH - 8, "middle", x_label)
      << SvgText(0, 0, "middle", y_label,
                 "transform=\"translate(14," + Fmt((py0 + py1) / 2, 1) +
                     ") rotate(-90)\"")
      << body.str();
    double ly = py0 + 8;
    for (const Style& e : legend) {
      std::string style = "stroke=\"" + e.colour + "\" stroke-width=\"2.5\"";
      if (!e.dash.empty()) style += " stroke-dasharray=\"" + e.dash + "\"";
      o << SvgLine(px1 + 10, ly - 4, px1 + 30, ly - 4, style)
        << SvgText(px1 + 35, ly, "start", e.name);
      ly += 16;
    }
    o << "</svg>\n";
    return o.str();
  }
};

// A run's label and line style; repeated policies (several budgets in one
// report) keep their colour but get the budget in the name and a dash.
std::vector<Style> Styles(const json& runs) {
  static const char* kDashes[] = {"", "7 3", "2 2", "9 3 2 3"};
  std::map<std::string, int> count, seen;
  for (const json& r : runs) ++count[Str(r, "policy")];
  std::vector<Style> out;
  for (const json& r : runs) {
    std::string p = Str(r, "policy");
    Style s{p.empty() ? "?" : p, Colour(p), kDashes[seen[p]++ % 4]};
    if (count[p] > 1) s.name += " @" + Fmt(Num(r, "budget_bytes") / kMiB, 0) + "M";
    out.push_back(s);
  }
  return out;
}

std::string CdfChart(const json& runs, const std::vector<Style>& styles) {
  SvgChart c;
  c.title = "End-to-end latency CDF";
  c.x_label = "end-to-end latency (log scale)";
  c.y_label = "fraction of requests";
  c.log_x = true;
  std::vector<Points> lines;
  double lo = std::numeric_limits<double>::infinity(), hi = 0;
  for (const json& r : runs) {
    Points pts;
    for (const json& p : Arr(r, "end_to_end_cdf")) {
      if (!p.is_array() || p.size() < 2 || !p[0].is_number() || !p[1].is_number()) {
        continue;
      }
      double us = p[0].get<double>() / 1e3, f = p[1].get<double>();
      if (!std::isfinite(us) || !std::isfinite(f)) continue;
      if (pts.empty()) pts.emplace_back(us, 0.0);
      pts.emplace_back(us, f);
      if (us > 0) lo = std::min(lo, us), hi = std::max(hi, us);
    }
    lines.push_back(std::move(pts));
  }
  if (!(hi > 0)) lo = 1, hi = 1000;
  c.x0 = std::pow(10, std::floor(std::log10(lo)));
  c.x1 = std::max(std::pow(10, std::ceil(std::log10(hi))), c.x0 * 10);
  c.HLine(0.99, "#888888", "p99");
  for (size_t i = 0; i < lines.size(); ++i) {
    c.Line(lines[i], styles[i].colour, styles[i].dash);
    c.legend.push_back(styles[i]);
  }
  return c.Render();
}

// Held bytes (solid) and idle bytes (dotted) over trace time, budgets dashed;
// or, with `hit_rate`, the cumulative hot hit rate over trace time.
std::string TimelineChart(const json& runs, const std::vector<Style>& styles,
                          bool hit_rate) {
  SvgChart c;
  c.title = hit_rate ? "Hot hit rate over time (cumulative)" : "Memory held over time";
  c.x_label = "trace time (s)";
  c.y_percent = hit_rate;
  // Memory in the largest unit the peak reaches, so axis labels stay short.
  double peak = 0;
  for (const json& r : runs) {
    peak = std::max(peak, Num(r, "budget_bytes"));
    for (const json& p : Arr(r, "timeline")) peak = std::max(peak, Num(p, "held_bytes"));
  }
  double unit = peak >= kMiB ? kMiB : peak >= 1024 ? 1024 : 1;
  std::string unit_name = unit == kMiB ? "MiB" : unit == 1024 ? "KiB" : "bytes";
  c.y_label = hit_rate ? "served hot / requests" : unit_name;
  std::vector<Points> main, idle;
  std::set<double> budgets;
  double t_max = 0, y_max = 0;
  for (const json& r : runs) {
    Points m, d;
    for (const json& p : Arr(r, "timeline")) {
      double t = Num(p, "t_s"), req = Num(p, "requests");
      if (hit_rate) {
        if (req > 0) m.emplace_back(t, Num(p, "served_hot") / req);
      } else {
        m.emplace_back(t, Num(p, "held_bytes") / unit);
        d.emplace_back(t, Num(p, "idle_bytes") / unit);
        y_max = std::max(y_max, m.back().second);
      }
      t_max = std::max(t_max, t);
    }
    if (!hit_rate && Num(r, "budget_bytes") > 0) {
      budgets.insert(Num(r, "budget_bytes") / unit);
      y_max = std::max(y_max, Num(r, "budget_bytes") / unit);
    }
    main.push_back(Thin(m));
    idle.push_back(Thin(d));
  }
  c.x1 = t_max > 0 ? t_max : 1;
  c.y1 = hit_rate ? 1 : (y_max > 0 ? y_max * 1.05 : 1);
  c.NiceY();
  for (double b : budgets) c.HLine(b, "#555555", "budget " + Fmt(b, 0) + " " + unit_name);
  for (size_t i = 0; i < main.size(); ++i) {
    if (!hit_rate) c.Line(idle[i], styles[i].colour, "1 3", false, 1);
    c.Line(main[i], styles[i].colour, styles[i].dash);
    c.legend.push_back(styles[i]);
  }
  if (!hit_rate) {
    c.legend.push_back({"held", "#555555", ""});
    c.legend.push_back({"idle", "#555555", "1 3"});
    c.legend.push_back({"budget", "#555555", "6 4"});
  }
  return c.Render();
}

// The report's name, with its budget when all its runs share one (reports
// of one workload often differ only in budget).
std::string Title(const json& rep, size_t index) {
  std::string name = Str(rep, "workload");
  if (name.empty()) name = "report " + std::to_string(index + 1);
  std::set<double> budgets;
  for (const json& r : Arr(rep, "runs")) budgets.insert(Num(r, "budget_bytes"));
  if (budgets.size() == 1 && *budgets.begin() > 0) {
    name += " · budget " + Fmt(*budgets.begin() / kMiB, 0) + " MiB";
  }
  return name;
}

void Report(std::ostringstream& o, const json& rep, int index) {
  const json& runs = Arr(rep, "runs");
  std::vector<Style> styles = Styles(runs);
  std::string command = Str(rep, "command");
  o << "<section id=\"r" << index << "\"><h2>" << Esc(Title(rep, index))
    << "</h2>\n<p>" << Esc(Str(rep, "description")) << "</p>\n<p class=\"m\">mode <b>"
    << Esc(Str(rep, "mode")) << "</b> · seed " << Fmt(Num(rep, "seed"), 0) << " · "
    << Fmt(Num(rep, "modules"), 0) << " modules · " << Fmt(Num(rep, "arrivals"), 0)
    << " arrivals · " << Fmt(Num(rep, "threads"), 0) << " threads · working set "
    << Fmt(Num(rep, "working_set_bytes") / kMiB, 1) << " MiB</p>\n";
  if (!command.empty()) o << "<pre><code>" << Esc(command) << "</code></pre>\n";
  o << "<table><tr><th>policy</th>"
    << "<th>budget MiB</th><th>hot</th><th>cold start</th><th>e2e p50 µs</th>"
    << "<th>p95 µs</th><th>p99 µs</th><th>p99.9 µs</th><th>mean held MiB</th>"
    << "<th>peak held MiB</th><th>failures</th></tr>\n";
  for (size_t i = 0; i < runs.size(); ++i) {
    const json& r = runs[i];
    const json &e = Sub(r, "end_to_end"), &m = Sub(r, "memory");
    o << "<tr><td><span class=\"k\" style=\"background:" << styles[i].colour
      << "\"></span>" << Esc(styles[i].name) << "</td><td>"
      << Fmt(Num(r, "budget_bytes") / kMiB, 1) << "</td><td>"
      << Fmt(100 * Num(Sub(r, "hit_rate"), "hot"), 1) << "%</td><td>"
      << Fmt(100 * Num(r, "cold_start_ratio"), 1) << "%</td>";
    for (const char* q : {"p50_ns", "p95_ns", "p99_ns", "p999_ns"}) {
      o << "<td>" << Fmt(Num(e, q) / 1e3, 1) << "</td>";
    }
    o << "<td>" << Fmt(Num(m, "mean_held_bytes") / kMiB, 1) << "</td><td>"
      << Fmt(Num(m, "peak_held_bytes") / kMiB, 1) << "</td><td>"
      << Fmt(Num(r, "failures"), 0) << "</td></tr>\n";
  }
  o << "</table>\n";
  for (size_t i = 0; i < runs.size(); ++i) {
    if (Num(runs[i], "failures") > 0) {
      o << "<p class=\"e\">" << Esc(styles[i].name) << ": first failure: "
        << Esc(Str(runs[i], "first_failure")) << "</p>\n";
    }
  }
  if (runs.empty()) {
    o << "<p>No runs.</p></section>\n";
    return;
  }
  o << "<div class=\"c\">" << CdfChart(runs, styles)
    << TimelineChart(runs, styles, false) << TimelineChart(runs, styles, true)
    << "</div></section>\n";
}

// For each workload seen at two or more budgets: hot hit rate and cold-start
// ratio against budget, one line per policy.
void BudgetSweeps(std::ostringstream& o, const json& reports) {
  std::vector<std::string> order;
  std::map<std::string, std::vector<const json*>> by_workload;
  for (const json& rep : reports) {
    std::string w = Str(rep, "workload");
    if (!by_workload.count(w)) order.push_back(w);
    auto& runs = by_workload[w];
    for (const json& r : Arr(rep, "runs")) runs.push_back(&r);
  }
  for (const std::string& w : order) {
    std::set<double> budgets;
    std::vector<std::string> policies;
    std::map<std::string, Points> hot, cold;
    for (const json* r : by_workload[w]) {
      std::string p = Str(*r, "policy");
      double b = Num(*r, "budget_bytes") / kMiB;
      budgets.insert(b);
      if (!hot.count(p)) policies.push_back(p);
      hot[p].emplace_back(b, Num(Sub(*r, "hit_rate"), "hot"));
      cold[p].emplace_back(b, Num(*r, "cold_start_ratio"));
    }
    if (budgets.size() < 2) continue;
    o << "<section><h2>" << Esc(w) << ": hit rate vs budget</h2><div class=\"c\">";
    for (bool is_hot : {true, false}) {
      SvgChart c;
      c.title = is_hot ? "Hot hit rate vs budget" : "Cold-start ratio vs budget";
      c.x_label = "memory budget (MiB)";
      c.y_label = is_hot ? "served hot" : "not served hot";
      c.y_percent = true;
      c.x1 = *budgets.rbegin() > 0 ? *budgets.rbegin() * 1.05 : 1;
      for (const std::string& p : policies) {
        Points pts = is_hot ? hot[p] : cold[p];
        std::sort(pts.begin(), pts.end());
        c.Line(pts, Colour(p), "", true);
        c.legend.push_back({p, Colour(p), ""});
      }
      o << c.Render();
    }
    o << "</div></section>\n";
  }
}

constexpr const char* kStyle = R"(
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;
max-width:1680px;padding:0 16px;color:#222}
h1{font-size:22px}h2{font-size:18px;margin:28px 0 4px;border-top:1px solid #ddd;
padding-top:16px}p{margin:4px 0}.m{color:#555}.e{color:#b00}
pre{background:#f5f5f5;padding:8px;white-space:pre-wrap;word-break:break-all}
table{border-collapse:collapse;margin:8px 0}
th,td{padding:3px 8px;border-bottom:1px solid #ddd;text-align:right}
th:first-child,td:first-child{text-align:left}th{background:#f0f0f0}
.k{display:inline-block;width:10px;height:10px;margin-right:6px}
.c{display:flex;flex-wrap:wrap;gap:8px}svg{max-width:100%;height:auto}
svg text{font-size:11px;fill:#333}svg .t{font-size:13px;font-weight:600}
svg .g{stroke:#e4e4e4}svg .f{fill:none;stroke:#999}
svg .h{paint-order:stroke;stroke:#fff;stroke-width:3px}
)";

}  // namespace

std::string ToHtml(const std::string& text) {
  json parsed = json::parse(text, nullptr, /*allow_exceptions=*/false);
  std::ostringstream o;
  o << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
    << "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
    << "<title>strata bench report</title><style>" << kStyle
    << "</style></head><body>\n<h1>strata bench report</h1>\n";
  if (parsed.is_discarded()) {
    o << "<p class=\"e\">The report JSON could not be parsed.</p>\n";
  }
  json reports = json::array();  // a lone report object is accepted too
  if (parsed.is_object()) reports.push_back(parsed);
  if (parsed.is_array()) {
    for (const json& r : parsed) {
      if (r.is_object()) reports.push_back(r);
    }
  }
  if (reports.empty()) o << "<p>No reports.</p>\n";
  o << "<ul>";
  for (size_t i = 0; i < reports.size(); ++i) {
    std::string desc = Str(reports[i], "description");
    o << "<li><a href=\"#r" << i << "\">" << Esc(Title(reports[i], i)) << "</a>"
      << (desc.empty() ? "" : " — " + Esc(desc)) << "</li>";
  }
  o << "</ul>\n";
  BudgetSweeps(o, reports);
  for (size_t i = 0; i < reports.size(); ++i) Report(o, reports[i], int(i));
  o << "</body></html>\n";
  return o.str();
}

}  // namespace strata::bench
