// The one table of `strata serve`'s configuration keys: each key's section,
// name, type, help and setter, which alone checks and stores a value, and
// the "unknown key" / "unknown section" errors with their did-you-mean
// hints. Internal to config*.cc.
#ifndef STRATA_SERVER_CONFIG_KEYS_H_
#define STRATA_SERVER_CONFIG_KEYS_H_

#include <filesystem>
#include <functional>
#include <string_view>
#include <vector>

#include "server/config_values.h"
#include "strata/server.h"
#include "strata/status.h"

namespace strata::server::config {

// Where a setter writes: the configuration, the module of a
// modules.NAME key, and the directory relative paths resolve against.
struct Target {
  ServerConfig& config;
  ServedModule* module;
  const std::filesystem::path& base_dir;
};

// Checks and stores one value. A non-OK Status carries only the reason
// ("must be at least 1"); the caller adds the key, the value and the source.
using Setter = std::function<Status(const Value&, Target&)>;

struct Key {
  const char* section;  // "modules.NAME" for a module's keys
  const char* name;
  Type type;
  const char* help;
  Setter set;           // null for extract.ENGINE, which has its own code
  bool secret = false;  // its value never appears in a message
};

inline constexpr const char* kModuleSection = "modules.NAME";
inline constexpr const char* kExtractSection = "extract";
// The sections whose keys STRATA_<SECTION>_<KEY> variables may set.
inline constexpr const char* kPlainSections[] = {"server", "access_log",
                                                 "engine", "pool"};

// Every key, in the order `strata serve --help-config` lists them.
const std::vector<Key>& Keys();

// The key `name` of `section` ("modules.NAME" for a module's keys), or null.
const Key* FindKey(std::string_view section, std::string_view name);

// `section` as written ("modules.a"), `table_section` as in Keys()
// ("modules.NAME").
Status UnknownKey(std::string_view section, std::string_view name,
                  std::string_view where, std::string_view table_section = {});

Status UnknownSection(std::string_view section, std::string_view where);

}  // namespace strata::server::config

#endif  // STRATA_SERVER_CONFIG_KEYS_H_
