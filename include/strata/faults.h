// Fault injection at the host's fault points, so tests can prove that the
// pool survives what the real world does to it (a compile that fails, pool
// slots that run out, a cache file that cannot be read or written) without
// waiting for it to happen. The engine asks the injector before each point;
// with none set (the default) nothing is asked.
//
// Thread contract: Check() is called from any thread; implementations are
// thread-safe.
//
// Example:
//   class FailCompiles : public strata::FaultInjector {
//     strata::Status Check(strata::FaultPoint point, std::string_view) override {
//       return point == strata::FaultPoint::kCompile
//                  ? strata::Status(strata::ErrorCode::kCompile, "injected")
//                  : strata::OkStatus();
//     }
//   };
//   options.faults = std::make_shared<FailCompiles>();
#ifndef STRATA_FAULTS_H_
#define STRATA_FAULTS_H_

#include <string_view>

#include "strata/status.h"

namespace strata {

enum class FaultPoint {
  kCompile,      // Engine::Compile
  kDeserialize,  // Engine::Deserialize (the cold-disk tier's load)
  kInstantiate,  // PreparedModule::Instantiate (e.g. pool slots exhausted)
  kCacheRead,    // ModuleCache::Load reading its file
  kCacheWrite,   // ModuleCache::Store writing its file (e.g. disk full)
};
const char* FaultPointName(FaultPoint point);

class FaultInjector {
 public:
  virtual ~FaultInjector() = default;
  // The error to fail `point` with for `module`, or OkStatus() to let it run.
  virtual Status Check(FaultPoint point, std::string_view module) = 0;
};

}  // namespace strata

#endif  // STRATA_FAULTS_H_
