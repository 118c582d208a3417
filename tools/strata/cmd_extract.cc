// strata extract: one HTML file through a bundled extractor guest, the C
// one (extractor.wasm) or Mozilla Readability on QuickJS (readability.wasm).
#include <iostream>

#include "cli_util.h"
#include "commands.h"

namespace strata::cli {
namespace {

struct ExtractOptions {
  std::string html;
  std::string base_url;
  std::string engine = "c";
  int64_t timeout_ms = 10000;
};

int Extract(const ExtractOptions& o) {
  auto html = ReadInput(o.html);
  if (!html.ok()) return Fail(html.status());
  auto engine = MakeEngine();
  auto module = LoadModule(
      *engine, BundledGuest(o.engine == "readability" ? "readability.wasm"
                                                      : "extractor.wasm"));
  if (!module.ok()) return Fail(module.status());
  auto prepared = engine->Prepare(*module);
  if (!prepared.ok()) return Fail(prepared.status());
  auto instance = (*prepared)->Instantiate({});
  if (!instance.ok()) return Fail(instance.status());
  // Both extractors' input: the base URL on the first line, then the HTML.
  Bytes input(o.base_url.begin(), o.base_url.end());
  input.push_back('\n');
  input.insert(input.end(), html->begin(), html->end());
  CallOptions call;
  call.timeout = std::chrono::milliseconds(o.timeout_ms);
  auto json = (*instance)->Call("extract", input, call);
  if (!json.ok()) return Fail(json.status());
  std::cout.write(reinterpret_cast<const char*>(json->data()),
                  static_cast<std::streamsize>(json->size()));
  std::cout << "\n";
  return 0;
}

}  // namespace

void AddExtractCommand(CLI::App& app, ExitCode& exit_code) {
  auto o = std::make_shared<ExtractOptions>();
  CLI::App* cmd = app.add_subcommand(
      "extract",
      "Extract an HTML page's metadata and text with a bundled extractor "
      "guest; prints JSON");
  cmd->add_option("html", o->html, "HTML file, or - for standard input")
      ->required();
  cmd->add_option("--base-url", o->base_url,
                  "URL the page was fetched from; links resolve against it");
  cmd->add_option("--engine", o->engine,
                  "c: title, description, language, text and links (the C "
                  "extractor); readability: Mozilla Readability's article "
                  "(title, byline, excerpt, site name, text) on QuickJS")
      ->check(CLI::IsMember({"c", "readability"}))
      ->capture_default_str();
  cmd->add_option("--timeout", o->timeout_ms, "Deadline in ms")
      ->check(CLI::PositiveNumber);
  cmd->callback([o, &exit_code] { exit_code = Extract(*o); });
}

}  // namespace strata::cli
