#include "strata/status.h"

namespace strata {

const char* ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk: return "ok";
    case ErrorCode::kInvalidArgument: return "invalid_argument";
    case ErrorCode::kNotFound: return "not_found";
    case ErrorCode::kIo: return "io";
    case ErrorCode::kCompile: return "compile";
    case ErrorCode::kLink: return "link";
    case ErrorCode::kInstantiate: return "instantiate";
    case ErrorCode::kTrap: return "trap";
    case ErrorCode::kDeadlineExceeded: return "deadline_exceeded";
    case ErrorCode::kMemoryLimit: return "memory_limit";
    case ErrorCode::kGuestExit: return "guest_exit";
    case ErrorCode::kOutputTooLarge: return "output_too_large";
    case ErrorCode::kPoolExhausted: return "pool_exhausted";
    case ErrorCode::kShutdown: return "shutdown";
    case ErrorCode::kInternal: return "internal";
  }
  return "unknown";
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  return std::string(ErrorCodeName(code_)) + ": " + message_;
}

std::ostream& operator<<(std::ostream& os, const Status& status) {
  return os << status.ToString();
}

}  // namespace strata
