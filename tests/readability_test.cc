// The readability guest (QuickJS-NG running Mozilla Readability over
// linkedom) on the real engine: its titles against the reference metadata
// of tests/data/web-pages, a snapshot that serves the same article, and
// hostile nesting that ends in a clear error while the pool keeps serving.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "strata/pool.h"
#include "strata/snapshot.h"
#include "test_support.h"

namespace strata {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::DataPath;
using testing::GuestPath;
using testing::NewInstance;
using testing::TestEngine;
using testing::ToBytes;
using testing::ToString;

constexpr char kPageUrl[] = "https://example.com/articles/page.html";

std::string Trim(std::string s) {
  s.erase(0, s.find_first_not_of(" \t\r\n"));
  s.erase(s.find_last_not_of(" \t\r\n") + 1);
  return s;
}

std::string ReadText(const std::filesystem::path& path) {
  auto bytes = ReadFile(path);
  EXPECT_TRUE(bytes.ok()) << path << ": " << bytes.status();
  return bytes.ok() ? ToString(*bytes) : std::string();
}

Bytes Input(std::string_view html) {
  return ToBytes(std::string(kPageUrl) + "\n" + std::string(html));
}

std::vector<std::filesystem::path> Pages() {
  std::vector<std::filesystem::path> dirs;
  for (const auto& entry :
       std::filesystem::directory_iterator(DataPath("web-pages"))) {
    if (entry.is_directory()) dirs.push_back(entry.path());
  }
  std::sort(dirs.begin(), dirs.end());
  return dirs;
}

// `depth` nested <div>s around one paragraph.
std::string NestedPage(int depth) {
  std::string html = "<html><head><title>Deep</title></head><body>";
  for (int i = 0; i < depth; ++i) html += "<div>";
  html += "<p>The bottom of a very deep page.</p>";
  for (int i = 0; i < depth; ++i) html += "</div>";
  return html + "</body></html>";
}

// Readability's own output is the reference (expected-metadata.json was
// made by it), so its titles must match on at least 90% of the pages; the C
// extractor's rate, measured the same way, is printed beside it.
TEST(ReadabilityTest, TitlesMatchTheReferenceOnNinetyPercentOfThePages) {
  auto readability = NewInstance("readability.wasm");
  auto c_extractor = NewInstance("extractor.wasm");
  ASSERT_NE(readability, nullptr);
  ASSERT_NE(c_extractor, nullptr);
  CallOptions options;
  options.timeout = 60s;
  auto pages = Pages();
  ASSERT_GE(pages.size(), 10u);
  size_t js_matches = 0, c_matches = 0;
  for (const auto& dir : pages) {
    SCOPED_TRACE(dir.filename().string());
    json expected = json::parse(ReadText(dir / "expected-metadata.json"));
    std::string want = Trim(expected.value("title", std::string()));
    Bytes input = Input(ReadText(dir / "source.html"));

    auto out = readability->Call("extract", input, options);
    ASSERT_TRUE(out.ok()) << out.status();
    json article = json::parse(ToString(*out), nullptr, false);
    ASSERT_TRUE(article.is_object()) << ToString(*out);
    ASSERT_FALSE(article.contains("error")) << article["error"];
    EXPECT_TRUE(article["text"].is_string());
    EXPECT_GT(article.value("length", 0), 0);
    std::string got = article["title"].is_string() ? article["title"] : "";
    if (Trim(got) == want) {
      ++js_matches;
    } else {
      std::cout << "  readability miss " << dir.filename() << ": \"" << got
                << "\" want \"" << want << "\"\n";
    }

    auto c_out = c_extractor->Call("extract", input, options);
    ASSERT_TRUE(c_out.ok()) << c_out.status();
    json c_json = json::parse(ToString(*c_out), nullptr, false);
    if (c_json.is_object() && c_json["title"].is_string() &&
        Trim(c_json["title"]) == want) {
      ++c_matches;
    }
  }
  std::cout << "[ readability ] exact title matches: readability "
            << js_matches << "/" << pages.size() << ", C extractor "
            << c_matches << "/" << pages.size() << "\n";
  RecordProperty("readability_title_matches", static_cast<int>(js_matches));
  RecordProperty("c_extractor_title_matches", static_cast<int>(c_matches));
  EXPECT_GE(js_matches * 10, pages.size() * 9);
}

// A snapshot holds the runtime with the script evaluated: its instances run
// no start-up and serve exactly what a freshly started instance serves.
TEST(ReadabilityTest, SnapshotServesTheSameArticle) {
  Bytes bytes = ReadFile(GuestPath("readability.wasm")).value();
  auto image = TakeSnapshot(TestEngine(), "readability", bytes, {});
  ASSERT_TRUE(image.ok()) << image.status();
  EXPECT_EQ(image->init_func, kSnapshotInitExport);
  auto module = TestEngine().Compile("readability", image->wasm);
  ASSERT_TRUE(module.ok()) << module.status();
  auto prepared = TestEngine().Prepare(*module);
  ASSERT_TRUE(prepared.ok()) << prepared.status();
  auto snapshotted = (*prepared)->Instantiate({});
  ASSERT_TRUE(snapshotted.ok()) << snapshotted.status();
  auto started = NewInstance("readability.wasm");
  ASSERT_NE(started, nullptr);

  Bytes input = Input(ReadText(DataPath("web-pages/heise/source.html")));
  auto a = (*snapshotted)->Call("extract", input, {});
  auto b = started->Call("extract", input, {});
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(ToString(*a), ToString(*b));
  EXPECT_EQ(json::parse(ToString(*a))["title"],
            "1Password für Mac generiert Einmal-Passwörter");
}

// Readability's work grows faster than linearly with nesting, and the
// interpreter recurses with it: a hostile page either exhausts the guest's
// native stack (a clear trap) or runs into its deadline. Either way the
// request fails with a clear error, the instance is discarded, and the next
// request is served.
TEST(ReadabilityTest, DeepNestingIsAClearErrorAndThePoolKeepsServing) {
  PoolOptions pool_options;
  pool_options.background = false;
  auto pool = Pool::Create(&TestEngine(), pool_options);
  ASSERT_TRUE(pool.ok()) << pool.status();
  ModuleOptions module;
  module.call_timeout = 3s;
  ASSERT_TRUE((*pool)
                  ->AddModuleFile("readability", GuestPath("readability.wasm"),
                                  module)
                  .ok());
  for (int depth : {3000, 50000}) {
    SCOPED_TRACE("depth " + std::to_string(depth));
    auto lease = (*pool)->Acquire("readability", 10s);
    ASSERT_TRUE(lease.ok()) << lease.status();
    auto out = lease->Call("extract", Input(NestedPage(depth)));
    ASSERT_FALSE(out.ok()) << ToString(*out);
    const Status& error = out.status();
    if (error.code() == ErrorCode::kTrap) {
      EXPECT_NE(error.message().find("call stack exhausted"), std::string::npos)
          << error;
    } else {
      EXPECT_EQ(error.code(), ErrorCode::kDeadlineExceeded) << error;
    }
    EXPECT_NE(error.message().find("module 'readability'"), std::string::npos);
  }
  auto lease = (*pool)->Acquire("readability", 10s);
  ASSERT_TRUE(lease.ok()) << lease.status();
  auto out = lease->Call("extract", Input(NestedPage(10)));
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(json::parse(ToString(*out))["title"], "Deep");
}

}  // namespace
}  // namespace strata
