#include "server/registry.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>

namespace strata::server {

std::shared_ptr<const ServedModuleRecord> Registry::Find(
    const std::string& name) const {
  internal::MutexLock lock(mu_);
  auto it = modules_.find(name);
  return it == modules_.end() ? nullptr : it->second;
}

bool Registry::Insert(std::shared_ptr<const ServedModuleRecord> record) {
  internal::MutexLock lock(mu_);
  std::string name = record->name;
  decisions_.erase(name);
  return modules_.emplace(std::move(name), std::move(record)).second;
}

bool Registry::Erase(const std::string& name) {
  internal::MutexLock lock(mu_);
  decisions_.erase(name);
  return modules_.erase(name) > 0;
}

std::vector<std::shared_ptr<const ServedModuleRecord>> Registry::All() const {
  internal::MutexLock lock(mu_);
  std::vector<std::shared_ptr<const ServedModuleRecord>> all;
  for (const auto& [name, record] : modules_) all.push_back(record);
  return all;
}

std::vector<Decision> Registry::Decisions(const std::string& name) const {
  internal::MutexLock lock(mu_);
  auto it = decisions_.find(name);
  if (it == decisions_.end()) return {};
  return {it->second.begin(), it->second.end()};
}

void Registry::OnEvent(const Event& event) {
  if (event.kind != EventKind::kPromoted && event.kind != EventKind::kDemoted &&
      event.kind != EventKind::kEvicted) {
    return;
  }
  Decision d{UtcTimestamp(), EventKindName(event.kind), event.detail};
  internal::MutexLock lock(mu_);
  if (!modules_.contains(event.module)) return;
  auto& kept = decisions_[event.module];
  kept.push_front(std::move(d));
  if (kept.size() > kDecisionsKept) kept.pop_back();
}

bool ValidModuleName(std::string_view name) {
  return !name.empty() && name.size() <= 128 &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
         });
}

std::vector<std::string> CallableExports(const Module& module) {
  std::vector<std::string> names;
  switch (module.convention()) {
    case CallingConvention::kCommand:
      return {"_start"};
    case CallingConvention::kComponentCommand:
      return {"run"};
    case CallingConvention::kHttpProxy:
      return {};  // served under /v1/http/{name}/
    default:
      break;
  }
  for (const ExportInfo& e : module.info().exports) {
    if (e.is_reactor_entry || e.type.starts_with("func(")) {
      names.push_back(e.name);
    }
  }
  return names;
}

std::string UtcTimestamp() {
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char date[32];
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                now.time_since_epoch()).count() % 1000;
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03lldZ", date,
                static_cast<long long>(ms));
  return out;
}

}  // namespace strata::server
