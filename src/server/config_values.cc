// Configuration values: parsing them from text (environment, --set:
// integers, byte sizes, floats, bools, TOML arrays) and from TOML nodes,
// and rendering them for messages.
#include "server/config_values.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace strata::server::config {

const char* TypeName(Type type) {
  switch (type) {
    case Type::kString:
      return "string";
    case Type::kPath:
      return "path";
    case Type::kInteger:
      return "integer";
    case Type::kBytes:
      return "bytes";
    case Type::kMillis:
      return "duration_ms";
    case Type::kSeconds:
      return "duration_s";
    case Type::kFloat:
      return "float";
    case Type::kBool:
      return "bool";
    case Type::kStrings:
      return "string array";
    case Type::kBoolOrString:
      return "bool or string";
  }
  return "?";
}

const char* Expected(Type type) {
  switch (type) {
    case Type::kString:
      return "a string";
    case Type::kPath:
      return "a string (a path)";
    case Type::kInteger:
      return "an integer";
    case Type::kBytes:
      return "a byte size: an integer, or a string of digits and a unit B, "
             "K/KiB, M/MiB or G/GiB such as \"64MiB\"";
    case Type::kMillis:
      return "an integer number of milliseconds";
    case Type::kSeconds:
      return "an integer number of seconds";
    case Type::kFloat:
      return "a number";
    case Type::kBool:
      return "a boolean";
    case Type::kStrings:
      return "an array of strings";
    case Type::kBoolOrString:
      return "a boolean or a string (an init function's name)";
  }
  return "?";
}

Status Reason(std::string why) {
  return Status(ErrorCode::kInvalidArgument, std::move(why));
}

std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// ---- Values from text (environment, --set) -------------------------------

namespace {

Result<int64_t> ParseInteger(std::string_view text) {
  int64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || end != text.data() + text.size() ||
      ec == std::errc::invalid_argument) {
    return Reason("expected an integer");
  }
  if (ec == std::errc::result_out_of_range) {
    return Reason("out of range of a 64-bit integer");
  }
  return n;
}

Result<uint64_t> ParseBytes(std::string_view text) {
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') {
    ++digits;
  }
  if (digits == 0) {
    return Reason(std::string("expected ") + Expected(Type::kBytes));
  }
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + digits, n);
  if (ec == std::errc::result_out_of_range) {
    return Reason("too large: past 2^64 bytes");
  }
  std::string_view unit = text.substr(digits);
  if (unit.starts_with(' ') && unit.size() > 1) unit.remove_prefix(1);
  uint64_t scale = 0;
  if (unit.empty() || unit == "B") {
    scale = 1;
  } else if (unit == "K" || unit == "KiB") {
    scale = uint64_t{1} << 10;
  } else if (unit == "M" || unit == "MiB") {
    scale = uint64_t{1} << 20;
  } else if (unit == "G" || unit == "GiB") {
    scale = uint64_t{1} << 30;
  } else {
    return Reason("unknown unit '" + std::string(unit) +
                  "'; expected B, K/KiB, M/MiB or G/GiB (binary multiples)");
  }
  if (n > std::numeric_limits<uint64_t>::max() / scale) {
    return Reason("too large: past 2^64 bytes");
  }
  return n * scale;
}

Result<double> ParseFloat(std::string_view text) {
  double x = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), x);
  if (text.empty() || end != text.data() + text.size() || ec != std::errc()) {
    return Reason("expected a number");
  }
  return x;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::optional<bool> ParseBool(std::string_view text) {
  if (EqualsIgnoreCase(text, "true") || text == "1") return true;
  if (EqualsIgnoreCase(text, "false") || text == "0") return false;
  return std::nullopt;
}

}  // namespace

Result<Value> FromText(std::string_view text, Type type, bool array_syntax) {
  switch (type) {
    case Type::kString:
    case Type::kPath:
      return Value(std::string(text));
    case Type::kInteger:
    case Type::kMillis:
    case Type::kSeconds: {
      auto n = ParseInteger(text);
      if (!n.ok()) return n.status();
      return Value(*n);
    }
    case Type::kBytes: {
      auto n = ParseBytes(text);
      if (!n.ok()) return n.status();
      return Value(*n);
    }
    case Type::kFloat: {
      auto x = ParseFloat(text);
      if (!x.ok()) return x.status();
      return Value(*x);
    }
    case Type::kBool: {
      auto b = ParseBool(text);
      if (!b) return Reason("expected true, false, 1 or 0");
      return Value(*b);
    }
    case Type::kBoolOrString: {
      if (text == "true") return Value(true);
      if (text == "false") return Value(false);
      return Value(std::string(text));
    }
    case Type::kStrings: {
      if (!array_syntax) {
        return Reason("an array cannot be set from the environment");
      }
      const char* kHow =
          "expected a TOML array of strings, e.g. [\"-v\", \"x\"]";
      if (!text.starts_with('[')) return Reason(kHow);
      std::string doc = "v = " + std::string(text);
#if TOML_EXCEPTIONS
      toml::table root;
      try {
        root = toml::parse(doc);
      } catch (const toml::parse_error&) {
        return Reason(kHow);
      }
#else
      auto parsed = toml::parse(doc);
      if (!parsed) return Reason(kHow);
      toml::table root = std::move(parsed).table();
#endif
      // One key: anything else means the text closed the array early.
      const toml::node* v = root.get("v");
      if (root.size() != 1 || v == nullptr) return Reason(kHow);
      return FromToml(*v, Type::kStrings);
    }
  }
  return Reason("unsupported type");
}

// ---- Values from TOML -------------------------------------------------------

const char* NodeTypeName(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::table:
      return "a table";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

namespace {

std::string RenderFull(const toml::node& node) {
  if (node.is_table()) return "{...}";
  if (const auto* s = node.as_string()) return Quote(s->get());
  if (const auto* array = node.as_array()) {
    std::string out = "[";
    for (size_t i = 0; i < array->size(); ++i) {
      out += (i == 0 ? "" : ", ") + RenderFull(*array->get(i));
    }
    return out + "]";
  }
  std::ostringstream os;
  node.visit([&os](const auto& n) { os << n; });
  return os.str();
}

Status WrongType(const toml::node& node, Type type) {
  return Reason(std::string("expected ") + Expected(type) + ", got " +
                NodeTypeName(node));
}

}  // namespace

std::string Render(const toml::node& node) {
  std::string text = RenderFull(node);
  if (text.size() > 80) text = text.substr(0, 77) + "...";
  return text;
}

Result<Value> FromToml(const toml::node& node, Type type) {
  switch (type) {
    case Type::kString:
    case Type::kPath:
      if (const auto* s = node.as_string()) return Value(s->get());
      break;
    case Type::kInteger:
    case Type::kMillis:
    case Type::kSeconds:
      if (const auto* n = node.as_integer()) return Value(n->get());
      break;
    case Type::kBytes:
      if (const auto* n = node.as_integer()) {
        if (n->get() < 0) return Reason("must not be negative");
        return Value(static_cast<uint64_t>(n->get()));
      }
      if (const auto* s = node.as_string()) {
        auto bytes = ParseBytes(s->get());
        if (!bytes.ok()) return bytes.status();
        return Value(*bytes);
      }
      break;
    case Type::kFloat:
      if (const auto* x = node.as_floating_point()) return Value(x->get());
      // `sample = 1` means 1.0; TOML would otherwise demand "1.0".
      if (const auto* n = node.as_integer()) {
        return Value(static_cast<double>(n->get()));
      }
      break;
    case Type::kBool:
      if (const auto* b = node.as_boolean()) return Value(b->get());
      break;
    case Type::kBoolOrString:
      if (const auto* b = node.as_boolean()) return Value(b->get());
      if (const auto* s = node.as_string()) return Value(s->get());
      break;
    case Type::kStrings:
      if (const auto* array = node.as_array()) {
        std::vector<std::string> items;
        for (size_t i = 0; i < array->size(); ++i) {
          const auto* s = array->get(i)->as_string();
          if (s == nullptr) {
            return Reason("element " + std::to_string(i) +
                          ": expected a string, got " +
                          NodeTypeName(*array->get(i)));
          }
          items.push_back(s->get());
        }
        return Value(std::move(items));
      }
      break;
  }
  return WrongType(node, type);
}

std::string Where(const std::string& source_name,
                  const toml::source_region& region) {
  return (source_name.empty() ? std::string("<toml>") : source_name) + ":" +
         std::to_string(region.begin.line) + ":" +
         std::to_string(region.begin.column);
}

}  // namespace strata::server::config
