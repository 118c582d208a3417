// What the server knows of each module beyond the pool: how it is called
// (reactor exports or a command's _start), its options, where it came from,
// and the policy's latest decisions about it (from the pool's events).
//
// Thread contract: thread-safe; OnEvent runs on whichever pool thread made
// the decision.
#ifndef STRATA_SERVER_REGISTRY_H_
#define STRATA_SERVER_REGISTRY_H_

#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "internal/mutex.h"
#include "strata/module.h"
#include "strata/pool.h"

namespace strata::server {

struct ServedModuleRecord {
  std::string name;
  CallingConvention convention = CallingConvention::kUnknown;
  std::vector<std::string> exports;  // what /call/{export} accepts
  ModuleOptions options;
  std::string origin;  // the file it was loaded from, or "upload"
  uint64_t bytes = 0;  // of the .wasm
};

struct Decision {
  std::string at;  // UTC time
  std::string kind;  // promoted, demoted, evicted
  std::string detail;
};

class Registry final : public EventListener {
 public:
  static constexpr size_t kDecisionsKept = 8;

  std::shared_ptr<const ServedModuleRecord> Find(const std::string& name) const;
  // False when the name is taken.
  bool Insert(std::shared_ptr<const ServedModuleRecord> record);
  // False when there was none.
  bool Erase(const std::string& name);
  std::vector<std::shared_ptr<const ServedModuleRecord>> All() const;
  // Newest first.
  std::vector<Decision> Decisions(const std::string& name) const;

  void OnEvent(const Event& event) override;

 private:
  mutable internal::Mutex mu_;
  std::map<std::string, std::shared_ptr<const ServedModuleRecord>> modules_
      GUARDED_BY(mu_);
  std::map<std::string, std::deque<Decision>> decisions_ GUARDED_BY(mu_);
};

// Module names appear in URLs (/v1/modules/{name}): 1-128 characters of
// A-Z a-z 0-9 . _ -
bool ValidModuleName(std::string_view name);
inline constexpr char kModuleNameRule[] =
    "must be 1 to 128 characters of A-Z a-z 0-9 . _ -";

// The module's callable names: reactor entry points, or "_start".
std::vector<std::string> CallableExports(const Module& module);

// "2026-12-06T20:31:07.123Z"
std::string UtcTimestamp();

}  // namespace strata::server

#endif  // STRATA_SERVER_REGISTRY_H_
