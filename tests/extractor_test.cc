// The bundled extractor guest on the real engine: the hand-written edge
// cases of tests/data/html (exact outputs from its README), huge and hostile
// inputs, and the real pages of tests/data/web-pages on one reused instance.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "strata/instance.h"
#include "test_support.h"

namespace strata {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::DataPath;
using testing::NewInstance;
using testing::ToBytes;
using testing::ToString;

constexpr char kBaseUrl[] = "https://example.com/dir/page.html";

// The reactor input: base URL, a newline, then the HTML.
Bytes ExtractorInput(const std::string& base_url, std::string_view html) {
  std::string input = base_url + "\n";
  input.append(html);
  return ToBytes(input);
}

std::string ReadText(const std::filesystem::path& path) {
  auto bytes = ReadFile(path);
  EXPECT_TRUE(bytes.ok()) << path << ": " << bytes.status();
  return bytes.ok() ? ToString(*bytes) : std::string();
}

// Runs `extract` and parses its output; fails the test if either fails.
json Extract(Instance& instance, std::string_view html,
             const CallOptions& options = {},
             const std::string& base_url = kBaseUrl) {
  auto out = instance.Call("extract", ExtractorInput(base_url, html), options);
  EXPECT_TRUE(out.ok()) << out.status();
  if (!out.ok()) return json();
  json parsed = json::parse(ToString(*out), nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(parsed.is_discarded())
      << "not valid JSON: " << ToString(*out).substr(0, 200);
  return parsed;
}

json ExtractFile(Instance& instance, const std::string& rel) {
  return Extract(instance, ReadText(DataPath(rel)));
}

std::vector<std::string> Links(const json& out) {
  return out.at("links").get<std::vector<std::string>>();
}

// Whitespace runs collapsed to one space, no leading or trailing space.
std::string Collapse(std::string_view s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
        c == '\v') {
      space = !out.empty();
    } else {
      if (space) out.push_back(' ');
      space = false;
      out.push_back(c);
    }
  }
  return out;
}

TEST(ExtractorTest, WellFormedPageGivesAllFields) {
  auto instance = NewInstance("extractor.wasm");
  ASSERT_NE(instance, nullptr);
  auto raw = instance->Call(
      "extract",
      ExtractorInput(kBaseUrl, ReadText(DataPath("html/well-formed.html"))),
      {});
  ASSERT_TRUE(raw.ok()) << raw.status();
  auto ordered = nlohmann::ordered_json::parse(ToString(*raw), nullptr, false);
  ASSERT_FALSE(ordered.is_discarded()) << ToString(*raw);
  std::vector<std::string> keys;
  for (const auto& item : ordered.items()) keys.push_back(item.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"title", "description",
                                            "canonical", "lang", "text",
                                            "links", "word_count"}));

  json out = json::parse(ToString(*raw));
  EXPECT_EQ(out["title"], "Strata & the Web — A Guide");  // not og:title
  EXPECT_EQ(out["description"], "How strata extracts \"metadata\" from HTML.");
  EXPECT_EQ(out["canonical"], "https://example.com/docs/guide/index.html");
  EXPECT_EQ(out["lang"], "en");
  EXPECT_EQ(out["text"],
            "Hello world Café <menu> © 2024 — it’s fine… Intro CDN Chapter 1 "
            "About Next page Chapter 1 again Dots Top Mail Script Last line");
  EXPECT_EQ(Links(out), (std::vector<std::string>{
                            "https://example.com/docs/intro.html",
                            "https://cdn.example.org/lib/",
                            "https://example.com/docs/guide/chapter-1.html",
                            "https://example.com/about?lang=en&ref=nav",
                            "https://example.com/docs/guide/?page=2",
                            "https://example.com/x/z",
                        }));
  EXPECT_EQ(out["word_count"], 25);
  // Script, style, comment, noscript and template content stay out.
  const std::string text = out["text"];
  EXPECT_EQ(text.find("<p>"), std::string::npos);
  EXPECT_EQ(text.find("</div>"), std::string::npos);
  EXPECT_EQ(text.find('{'), std::string::npos);
}

TEST(ExtractorTest, BrokenPageIsExtractedAsBrowsersWould) {
  auto instance = NewInstance("extractor.wasm");
  ASSERT_NE(instance, nullptr);
  json out = ExtractFile(*instance, "html/broken.html");
  ASSERT_TRUE(out.is_object());
  EXPECT_EQ(out["title"], "Broken page");
  EXPECT_EQ(out["description"], "Unquoted");
  EXPECT_EQ(out["canonical"], "https://example.com/canonical/");
  EXPECT_EQ(out["lang"], "de-DE");
  EXPECT_EQ(out["text"],
            "First paragraph bold both a < b and c <3 and AT&T up rel spaced "
            "duplicate attribute slash one two tail text");
  EXPECT_EQ(Links(out), (std::vector<std::string>{
                            "https://example.com/up.html",
                            "https://example.com/dir/rel/path?x=1&y=2",
                            "https://example.com/dir/spaced.html",
                            "https://example.com/dir/first.html",
                            "https://example.com/slash/",
                        }));
  EXPECT_EQ(out["word_count"], 22);
  EXPECT_FALSE(instance->poisoned());
}

TEST(ExtractorTest, EmptyPageGivesEmptyFields) {
  auto instance = NewInstance("extractor.wasm");
  ASSERT_NE(instance, nullptr);
  json out = ExtractFile(*instance, "html/empty.html");
  ASSERT_TRUE(out.is_object());
  EXPECT_EQ(out["title"], "");
  EXPECT_EQ(out["description"], "");
  EXPECT_EQ(out["canonical"], "");
  EXPECT_EQ(out["lang"], "");
  EXPECT_EQ(out["text"], "");
  EXPECT_TRUE(out["links"].is_array());
  EXPECT_TRUE(out["links"].empty());
  EXPECT_EQ(out["word_count"], 0);
}

TEST(ExtractorTest, Latin1BytesBecomeReplacementCharacters) {
  auto instance = NewInstance("extractor.wasm");
  ASSERT_NE(instance, nullptr);
  // Parsing (in Extract) already proves the output is valid UTF-8 JSON.
  json out = ExtractFile(*instance, "html/latin1.html");
  ASSERT_TRUE(out.is_object());
  EXPECT_EQ(out["title"], "Caf\uFFFD cr\uFFFDme");
  EXPECT_EQ(out["description"], "");
  EXPECT_EQ(out["canonical"], "");
  EXPECT_EQ(out["lang"], "fr");
  EXPECT_EQ(out["text"], "D\uFFFDj\uFFFD vu \uFFFD 2024 menu");
  EXPECT_EQ(Links(out), (std::vector<std::string>{
                            "https://example.com/dir/menu-%E9t%E9.html"}));
  EXPECT_EQ(out["word_count"], 5);
}

TEST(ExtractorTest, HugePageIsExtractedWithinTheDeadline) {
  // ~20 MB of paragraphs, each of 9 words and a link to one of kTargets
  // pages, so the links repeat and must come back deduplicated.
  constexpr size_t kTargetBytes = 20u << 20;
  constexpr size_t kTargets = 500;
  std::string html =
      "<!DOCTYPE html><html lang=\"en\"><head><title>Huge page</title>"
      "</head><body>\n";
  size_t paragraphs = 0;
  while (html.size() < kTargetBytes) {
    size_t target = paragraphs % kTargets;
    html += "<p>Paragraph " + std::to_string(paragraphs) +
            " has some words and <a href=\"/page/" + std::to_string(target) +
            ".html\">link " + std::to_string(target) + "</a> text.</p>\n";
    paragraphs++;
  }
  html += "</body></html>\n";
  ASSERT_GE(html.size(), kTargetBytes);

  auto instance = NewInstance("extractor.wasm");
  ASSERT_NE(instance, nullptr);
  CallOptions options;
  options.timeout = 30s;
  json out = Extract(*instance, html, options);
  ASSERT_TRUE(out.is_object());
  EXPECT_EQ(out["title"], "Huge page");
  EXPECT_EQ(out["lang"], "en");
  // "Paragraph N has some words and link T text." per paragraph.
  EXPECT_EQ(out["word_count"], 9 * paragraphs);
  std::vector<std::string> expected_links;
  for (size_t i = 0; i < kTargets; i++) {
    expected_links.push_back("https://example.com/page/" + std::to_string(i) +
                             ".html");
  }
  EXPECT_EQ(Links(out), expected_links);
  EXPECT_FALSE(instance->poisoned());
}

TEST(ExtractorTest, HostileInputStillGivesValidJson) {
  auto instance = NewInstance("extractor.wasm");
  ASSERT_NE(instance, nullptr);
  CallOptions options;
  options.timeout = 30s;
  std::string html(5u << 20, '<');
  html += "<p>visible</p><!-- never closed <a href=\"/hidden\">x</a>";
  json out = Extract(*instance, html, options);
  ASSERT_TRUE(out.is_object());
  EXPECT_TRUE(out["links"].is_array());
  EXPECT_TRUE(out["word_count"].is_number_unsigned());

  // Only an unterminated comment: it swallows everything.
  json comment = Extract(*instance, "<!-- <title>t</title><a href=x>y</a>",
                         options);
  ASSERT_TRUE(comment.is_object());
  EXPECT_EQ(comment["title"], "");
  EXPECT_TRUE(comment["links"].empty());
  EXPECT_EQ(comment["word_count"], 0);
  EXPECT_FALSE(instance->poisoned());
}

struct PageResult {
  std::string name;
  json out;
};

TEST(ExtractorTest, RealPagesOnOneReusedInstance) {
  std::vector<std::filesystem::path> dirs;
  for (const auto& entry :
       std::filesystem::directory_iterator(DataPath("web-pages"))) {
    if (entry.is_directory()) dirs.push_back(entry.path());
  }
  std::sort(dirs.begin(), dirs.end());
  ASSERT_EQ(dirs.size(), 12u);

  auto instance = NewInstance("extractor.wasm");
  ASSERT_NE(instance, nullptr);
  CallOptions options;
  options.timeout = 30s;

  uint64_t memory_after_first_pass = 0;
  for (int pass = 0; pass < 2; pass++) {
    size_t title_matches = 0, lang_checked = 0;
    std::vector<std::string> mismatched;
    for (const auto& dir : dirs) {
      const std::string name = dir.filename().string();
      SCOPED_TRACE(name + " (pass " + std::to_string(pass + 1) + ")");
      json expected = json::parse(ReadText(dir / "expected-metadata.json"),
                                  nullptr, false);
      ASSERT_FALSE(expected.is_discarded());
      json out = Extract(*instance, ReadText(dir / "source.html"), options,
                         "https://example.com/" + name + "/index.html");
      ASSERT_TRUE(out.is_object());
      ASSERT_TRUE(out["title"].is_string());
      ASSERT_TRUE(out["lang"].is_string());
      ASSERT_TRUE(out["links"].is_array());
      if (expected.contains("lang") && expected["lang"].is_string()) {
        EXPECT_EQ(out["lang"], expected["lang"]);
        lang_checked++;
      }
      if (Collapse(out["title"].get<std::string>()) ==
          Collapse(expected.value("title", std::string()))) {
        title_matches++;
      } else {
        mismatched.push_back(name + ": got \"" + out["title"].get<std::string>() +
                             "\" want \"" + expected.value("title", "") + "\"");
      }
    }
    ASSERT_FALSE(instance->poisoned());
    if (pass == 0) {
      memory_after_first_pass = instance->memory_bytes();
      std::cout << "[ extractor ] exact title matches: " << title_matches
                << "/" << dirs.size() << ", lang checked: " << lang_checked
                << "/" << dirs.size() << "\n";
      for (const auto& m : mismatched) std::cout << "  " << m << "\n";
      RecordProperty("title_exact_matches", static_cast<int>(title_matches));
      RecordProperty("lang_checked", static_cast<int>(lang_checked));
    }
    // Measured when written: 8 of the 12 titles match exactly (the other
    // four keep the site name or a longer headline that Readability drops).
    EXPECT_GE(title_matches, 8u);
  }
  // strata_free releases every input and output: a second pass over the
  // same pages does not grow linear memory.
  std::cout << "[ extractor ] linear memory after pass 1: "
            << memory_after_first_pass
            << " bytes, after pass 2: " << instance->memory_bytes()
            << " bytes (initial " << instance->initial_memory_bytes() << ")\n";
  EXPECT_LE(instance->memory_bytes(), memory_after_first_pass);
  EXPECT_EQ(instance->calls(), 2 * dirs.size());
}

}  // namespace
}  // namespace strata
