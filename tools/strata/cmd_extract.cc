// strata extract: the bundled extractor guest over one HTML file.
#include <iostream>

#include "cli_util.h"
#include "commands.h"

namespace strata::cli {
namespace {

struct ExtractOptions {
  std::string html;
  std::string base_url;
  int64_t timeout_ms = 10000;
};

int Extract(const ExtractOptions& o) {
  auto html = ReadInput(o.html);
  if (!html.ok()) return Fail(html.status());
  auto engine = MakeEngine();
  auto module = LoadModule(*engine, BundledGuest("extractor.wasm"));
  if (!module.ok()) return Fail(module.status());
  auto prepared = engine->Prepare(*module);
  if (!prepared.ok()) return Fail(prepared.status());
  auto instance = (*prepared)->Instantiate({});
  if (!instance.ok()) return Fail(instance.status());
  // The extractor's input: the base URL on the first line, then the HTML.
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
      "Extract title, description, language, text and links from an HTML "
      "file with the bundled extractor guest; prints JSON");
  cmd->add_option("html", o->html, "HTML file, or - for standard input")
      ->required();
  cmd->add_option("--base-url", o->base_url,
                  "URL the page was fetched from; links resolve against it");
  cmd->add_option("--timeout", o->timeout_ms, "Deadline in ms")
      ->check(CLI::PositiveNumber);
  cmd->callback([o, &exit_code] { exit_code = Extract(*o); });
}

}  // namespace strata::cli
