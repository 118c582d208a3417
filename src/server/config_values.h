// The values of `strata serve`'s configuration keys: their types, the Value
// each type converts to, and the conversions from text (environment
// variables, --set overrides) and from TOML nodes, with the quoting and
// rendering that messages show them in. Internal to config*.cc.
#ifndef STRATA_SERVER_CONFIG_VALUES_H_
#define STRATA_SERVER_CONFIG_VALUES_H_

#include <toml++/toml.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "strata/status.h"

namespace strata::server::config {

// How a key is written. Each type converts to one Value alternative:
// integers and durations to int64_t, bytes to uint64_t, floats to double,
// bools to bool, strings and paths to std::string, arrays to
// std::vector<std::string>; kBoolOrString to bool or std::string.
enum class Type {
  kString,
  kPath,
  kInteger,
  kBytes,
  kMillis,
  kSeconds,
  kFloat,
  kBool,
  kStrings,
  kBoolOrString,
};

using Value = std::variant<int64_t, uint64_t, double, bool, std::string,
                           std::vector<std::string>>;

const char* TypeName(Type type);

// What a value of `type` must look like, for "expected ..." messages.
const char* Expected(Type type);

// An invalid-argument Status carrying only the reason ("must be at least 1").
Status Reason(std::string why);

// `s` double-quoted, with quotes, backslashes and control bytes escaped.
std::string Quote(std::string_view s);

// ---- Values from text (environment, --set) -------------------------------

// `array_syntax`: whether a TOML array literal may give an array (--set);
// the environment has no way to write one.
Result<Value> FromText(std::string_view text, Type type, bool array_syntax);

// ---- Values from TOML -------------------------------------------------------

// "a string", "an integer", ...: what `node` is, for "got ..." messages.
const char* NodeTypeName(const toml::node& node);

// The node as written in TOML (strings double-quoted as the other sources
// show them), shortened to fit a message.
std::string Render(const toml::node& node);

Result<Value> FromToml(const toml::node& node, Type type);

// "strata.toml:3:14": where `region` begins in `source_name`.
std::string Where(const std::string& source_name,
                  const toml::source_region& region);

}  // namespace strata::server::config

#endif  // STRATA_SERVER_CONFIG_VALUES_H_
