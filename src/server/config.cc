// Configuration of `strata serve`. One table of keys (Keys() below) serves
// all three sources (the TOML file, STRATA_<SECTION>_<KEY> environment
// variables and --set overrides): each source only turns its text or TOML
// node into a Value of the key's type, and the key's setter alone checks
// and stores it, so a key behaves the same wherever it is set.
//
// The values and their conversions are in config_values.cc, the table of
// keys in config_keys.cc; this file applies the sources in order and checks
// what no single key can.
#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "server/config_keys.h"
#include "server/config_values.h"
#include "server/registry.h"
#include "strata/server.h"

namespace strata::server::config {

namespace fs = std::filesystem;

namespace {

// `where` without `value`, for sources such as "--set server.admin_token=..."
// that would otherwise carry it: the "=VALUE" at its end becomes "=...";
// with `everywhere` (a secret), any other occurrence becomes "***" too.
std::string Redact(std::string where, std::string_view value,
                   bool everywhere = false) {
  if (value.empty()) return where;
  std::string suffix = "=" + std::string(value);
  if (where.size() >= suffix.size() &&
      where.compare(where.size() - suffix.size(), suffix.size(), suffix) == 0) {
    where.replace(where.size() - value.size(), value.size(), "...");
  }
  if (!everywhere) return where;
  for (size_t at = where.find(value); at != std::string::npos;
       at = where.find(value, at + 3)) {
    where.replace(at, value.size(), "***");
  }
  return where;
}

std::string Shown(const Key& key, std::string_view shown, size_t length) {
  if (!key.secret) return std::string(shown);
  return "<hidden, " + std::to_string(length) + " characters>";
}

// "server.queue_limit = 0 (strata.toml:3:15): must be at least 1".
Status ValueError(std::string_view full_name, std::string_view shown,
                  std::string_view where, std::string_view reason) {
  return Status(ErrorCode::kInvalidArgument,
                std::string(full_name) + " = " + std::string(shown) + " (" +
                    std::string(where) + "): " + std::string(reason));
}

// ---- Applying ------------------------------------------------------------

// Where each module was first named, for the "no path" error at the end.
using Origins = std::map<std::string, std::string>;

Status CheckModuleName(std::string_view name, std::string_view where) {
  if (server::ValidModuleName(name)) return OkStatus();
  return Status(ErrorCode::kInvalidArgument,
                "module name " + Quote(name) + " (" + std::string(where) +
                    "): " + server::kModuleNameRule);
}

ServedModule* FindModule(ServerConfig& config, std::string_view name) {
  for (auto& m : config.modules) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

// Runs `key`'s setter on the converted value (or takes the conversion's
// error) and words a failure with the key, the value as `shown` and
// `where`; `raw_length` is what a secret's message shows instead.
Status Assign(const Key& key, const std::string& full_name,
              const Result<Value>& value, std::string_view shown,
              size_t raw_length, const std::string& where, Target target) {
  Status status = value.ok() ? key.set(value.value(), target) : value.status();
  if (status.ok()) return status;
  return ValueError(full_name, Shown(key, shown, raw_length), where,
                    status.message());
}

// Sets one modules.NAME key, creating the module if needed, so that a
// failed assignment leaves `config` as it was.
Status AssignModuleKey(ServerConfig& config, const std::string& name,
                       const Key& key, const Result<Value>& value,
                       std::string_view shown, size_t raw_length,
                       const std::string& where, const fs::path& base_dir,
                       Origins* origins) {
  ServedModule* existing = FindModule(config, name);
  ServedModule module;
  if (existing != nullptr) {
    module = *existing;
  } else {
    module.name = name;
  }
  Status s = Assign(key, "modules." + name + "." + key.name, value, shown,
                    raw_length, where, Target{config, &module, base_dir});
  if (!s.ok()) return s;
  if (existing != nullptr) {
    *existing = std::move(module);
  } else {
    config.modules.push_back(std::move(module));
    if (origins != nullptr) origins->emplace(name, where);
  }
  return OkStatus();
}

// extract.ENGINE = MODULE; an empty module removes the engine's entry.
Status AssignExtract(ServerConfig& config, std::string_view engine,
                     std::string_view module, const std::string& where) {
  std::string full_name = "extract." + std::string(engine);
  if (engine.empty()) {
    return ValueError(full_name, Quote(module), where,
                      "the engine name is empty");
  }
  auto& entries = config.extract_modules;
  auto it = std::find_if(entries.begin(), entries.end(),
                         [&](const auto& e) { return e.first == engine; });
  if (module.empty()) {
    if (it != entries.end()) entries.erase(it);
    return OkStatus();
  }
  if (!server::ValidModuleName(module)) {
    return ValueError(full_name, Quote(module), where,
                      std::string("a module name ") + server::kModuleNameRule);
  }
  if (it != entries.end()) {
    it->second = module;
  } else {
    entries.emplace_back(std::string(engine), std::string(module));
  }
  return OkStatus();
}

Status ApplyTomlSection(ServerConfig& config, std::string_view section,
                        const toml::table& table,
                        const std::string& source_name,
                        const fs::path& base_dir) {
  for (const auto& [k, node] : table) {
    const Key* key = FindKey(section, k.str());
    if (key == nullptr) {
      return UnknownKey(section, k.str(), Where(source_name, k.source()));
    }
    const auto* s = node.as_string();
    Status status = Assign(
        *key, std::string(section) + "." + key->name, FromToml(node, key->type),
        Render(node), s != nullptr ? s->get().size() : 0,
        Where(source_name, node.source()), Target{config, nullptr, base_dir});
    if (!status.ok()) return status;
  }
  return OkStatus();
}

Status ApplyTomlModules(ServerConfig& config, const toml::table& modules,
                        const std::string& source_name,
                        const fs::path& base_dir, Origins* origins) {
  for (const auto& [name_key, node] : modules) {
    const std::string name(name_key.str());
    const std::string where = Where(source_name, name_key.source());
    if (Status s = CheckModuleName(name, where); !s.ok()) {
      return s;
    }
    const auto* table = node.as_table();
    if (table == nullptr) {
      return Status(ErrorCode::kInvalidArgument,
                    "modules." + name + " (" + where +
                        "): expected a table ([modules." + name + "]), got " +
                        NodeTypeName(node));
    }
    // Registered even when empty, so that a table without keys reports its
    // missing path rather than vanishing.
    if (FindModule(config, name) == nullptr) {
      config.modules.push_back(ServedModule{name, {}, {}});
      if (origins != nullptr) origins->emplace(name, where);
    }
    for (const auto& [k, value] : *table) {
      const Key* key = FindKey(kModuleSection, k.str());
      if (key == nullptr) {
        return UnknownKey("modules." + name, k.str(),
                          Where(source_name, k.source()), kModuleSection);
      }
      const auto* s = value.as_string();
      Status status = AssignModuleKey(
          config, name, *key, FromToml(value, key->type), Render(value),
          s != nullptr ? s->get().size() : 0,
          Where(source_name, value.source()), base_dir, origins);
      if (!status.ok()) return status;
    }
  }
  return OkStatus();
}

Status ApplyToml(ServerConfig& config, std::string_view text,
                 const std::string& source_name, const fs::path& base_dir,
                 Origins* origins) {
  toml::table root;
#if TOML_EXCEPTIONS
  try {
    root = toml::parse(text, source_name);
  } catch (const toml::parse_error& error) {
    return Status(ErrorCode::kInvalidArgument,
                  "invalid TOML (" + Where(source_name, error.source()) +
                      "): " + std::string(error.description()));
  }
#else
  auto parsed = toml::parse(text, source_name);
  if (!parsed) {
    return Status(ErrorCode::kInvalidArgument,
                  "invalid TOML (" +
                      Where(source_name, parsed.error().source()) +
                      "): " + std::string(parsed.error().description()));
  }
  root = std::move(parsed).table();
#endif
  for (const auto& [k, node] : root) {
    const std::string section(k.str());
    const std::string where = Where(source_name, k.source());
    bool plain = std::find(std::begin(kPlainSections), std::end(kPlainSections),
                           section) != std::end(kPlainSections);
    if (!plain && section != kExtractSection && section != "modules") {
      return UnknownSection(section, where);
    }
    const auto* table = node.as_table();
    if (table == nullptr) {
      return Status(ErrorCode::kInvalidArgument,
                    "section '" + section + "' (" + where +
                        "): expected a table ([" + section + "]), got " +
                        NodeTypeName(node));
    }
    Status status;
    if (plain) {
      status = ApplyTomlSection(config, section, *table, source_name, base_dir);
    } else if (section == "modules") {
      status = ApplyTomlModules(config, *table, source_name, base_dir, origins);
    } else {
      for (const auto& [engine, value] : *table) {
        const auto* module = value.as_string();
        const std::string value_where = Where(source_name, value.source());
        if (module == nullptr) {
          status = ValueError("extract." + std::string(engine.str()),
                              Render(value), value_where,
                              std::string("expected a string (a module "
                                          "name), got ") +
                                  NodeTypeName(value));
        } else {
          status =
              AssignExtract(config, engine.str(), module->get(), value_where);
        }
        if (!status.ok()) break;
      }
    }
    if (!status.ok()) return status;
  }
  return OkStatus();
}

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

Status ApplyEnvironment(ServerConfig& config,
                        const std::vector<std::string>& environment,
                        const fs::path& cwd) {
  constexpr std::string_view kPrefix = "STRATA_";
  for (const std::string& entry : environment) {
    size_t eq = entry.find('=');
    if (eq == std::string::npos) continue;  // not an assignment
    std::string_view name = std::string_view(entry).substr(0, eq);
    std::string_view text = std::string_view(entry).substr(eq + 1);
    if (!name.starts_with(kPrefix)) continue;
    std::string_view rest = name.substr(kPrefix.size());
    for (const char* section : kPlainSections) {
      const std::string section_prefix = Upper(section) + "_";
      if (!rest.starts_with(section_prefix)) continue;
      std::string_view key_upper = rest.substr(section_prefix.size());
      const Key* key = nullptr;
      for (const Key& k : Keys()) {
        if (k.section == std::string_view(section) &&
            Upper(k.name) == key_upper) {
          key = &k;
          break;
        }
      }
      const std::string where = "environment variable " + std::string(name);
      if (key == nullptr) return UnknownKey(section, Lower(key_upper), where);
      Status status = Assign(*key, std::string(section) + "." + key->name,
                             FromText(text, key->type, false), Quote(text),
                             text.size(), where, Target{config, nullptr, cwd});
      if (!status.ok()) return status;
      break;
    }
  }
  return OkStatus();
}

Status ApplyOverride(ServerConfig& config, std::string_view assignment,
                     const std::string& where, const fs::path& cwd,
                     Origins* origins) {
  size_t eq = assignment.find('=');
  std::string_view path = assignment.substr(0, eq);
  size_t dot = path.find('.');
  if (eq == std::string_view::npos || dot == std::string_view::npos ||
      dot == 0 || dot + 1 == path.size()) {
    return Status(ErrorCode::kInvalidArgument,
                  "override " + Quote(assignment) + " (" + where +
                      "): expected SECTION.KEY=VALUE, e.g. "
                      "server.listen=0.0.0.0:8080");
  }
  std::string_view text = assignment.substr(eq + 1);
  std::string_view section = path.substr(0, dot);
  std::string_view name = path.substr(dot + 1);
  if (section == kExtractSection) {
    return AssignExtract(config, name, text, where);
  }
  if (section == "modules") {
    // The key is after the last dot: module names may hold dots.
    size_t last = name.rfind('.');
    if (last == std::string_view::npos || last == 0 ||
        last + 1 == name.size()) {
      return Status(ErrorCode::kInvalidArgument,
                    "override " + Quote(assignment) + " (" + where +
                        "): expected modules.NAME.KEY=VALUE");
    }
    const std::string module(name.substr(0, last));
    std::string_view key_name = name.substr(last + 1);
    if (Status s = CheckModuleName(module, where); !s.ok()) {
      return s;
    }
    const Key* key = FindKey(kModuleSection, key_name);
    if (key == nullptr) {
      return UnknownKey("modules." + module, key_name, Redact(where, text),
                        kModuleSection);
    }
    return AssignModuleKey(config, module, *key,
                           FromText(text, key->type, true), Quote(text),
                           text.size(), where, cwd, origins);
  }
  bool plain = std::find(std::begin(kPlainSections), std::end(kPlainSections),
                         section) != std::end(kPlainSections);
  if (!plain) return UnknownSection(section, Redact(where, text));
  const Key* key = FindKey(section, name);
  if (key == nullptr) return UnknownKey(section, name, Redact(where, text));
  return Assign(*key, std::string(path), FromText(text, key->type, true),
                Quote(text), text.size(),
                key->secret ? Redact(where, text, true) : where,
                Target{config, nullptr, cwd});
}

// What no single assignment can check: every module got a path.
Status Validate(const ServerConfig& config, const Origins& origins) {
  for (const auto& module : config.modules) {
    if (!module.path.empty()) continue;
    auto origin = origins.find(module.name);
    std::string where = origin != origins.end() ? origin->second : "";
    return Status(ErrorCode::kInvalidArgument,
                  "module '" + module.name + "'" +
                      (where.empty() ? "" : " (" + where + ")") +
                      " has no path; set modules." + module.name + ".path");
  }
  return OkStatus();
}

fs::path CurrentDir() {
  std::error_code ec;
  fs::path cwd = fs::current_path(ec);
  return ec ? fs::path() : cwd;  // empty: relative paths stay relative
}

Result<std::string> ReadConfigFile(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    if (ec) {
      return Status(ErrorCode::kIo, "configuration file '" + path.string() +
                                        "': " + ec.message());
    }
    return Status(ErrorCode::kNotFound,
                  "configuration file '" + path.string() + "' not found");
  }
  if (fs::is_directory(path, ec)) {
    return Status(ErrorCode::kIo,
                  "configuration file '" + path.string() + "' is a directory");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status(ErrorCode::kIo, "cannot read configuration file '" +
                                      path.string() +
                                      "': " + std::strerror(errno));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    return Status(ErrorCode::kIo,
                  "error reading configuration file '" + path.string() + "'");
  }
  return text.str();
}

}  // namespace
}  // namespace strata::server::config

namespace strata {

using server::config::ApplyEnvironment;
using server::config::ApplyOverride;
using server::config::ApplyToml;
using server::config::CurrentDir;
using server::config::Origins;
using server::config::ReadConfigFile;
using server::config::Validate;

Result<ServerConfig> LoadServerConfig(
    const std::filesystem::path& toml_path,
    const std::vector<std::string>& overrides,
    const std::vector<std::string>& environment) {
  ServerConfig config;
  Origins origins;
  const std::filesystem::path cwd = CurrentDir();
  if (!toml_path.empty()) {
    auto text = ReadConfigFile(toml_path);
    if (!text.ok()) return text.status();
    const std::filesystem::path base_dir =
        (toml_path.is_absolute() || cwd.empty() ? toml_path : cwd / toml_path)
            .lexically_normal()
            .parent_path();
    if (Status s =
            ApplyToml(config, *text, toml_path.string(), base_dir, &origins);
        !s.ok()) {
      return s;
    }
  }
  if (Status s = ApplyEnvironment(config, environment, cwd); !s.ok()) {
    return s;
  }
  for (const std::string& assignment : overrides) {
    if (Status s = ApplyOverride(config, assignment, "--set " + assignment, cwd,
                                 &origins);
        !s.ok()) {
      return s;
    }
  }
  if (Status s = Validate(config, origins); !s.ok()) return s;
  return config;
}

Result<ServerConfig> ParseServerConfig(std::string_view toml,
                                       const std::string& source_name,
                                       const std::filesystem::path& base_dir) {
  ServerConfig config;
  Origins origins;
  if (Status s = ApplyToml(config, toml, source_name, base_dir, &origins);
      !s.ok()) {
    return s;
  }
  if (Status s = Validate(config, origins); !s.ok()) return s;
  return config;
}

Status ApplyConfigOverride(ServerConfig& config, std::string_view assignment,
                           const std::string& source_name) {
  const std::string where =
      source_name.empty() ? "--set " + std::string(assignment) : source_name;
  return ApplyOverride(config, assignment, where, CurrentDir(), nullptr);
}

}  // namespace strata
