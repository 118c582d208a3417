// Errors as values: every expected failure of strata (a trap, a missing
// import, an exhausted pool, a deadline) is a Status with a code and a
// message that names the module, the limit and the value that broke it.
//
// Example:
//   strata::Result<strata::Bytes> out = instance.Call("extract", input);
//   if (!out.ok()) std::cerr << out.status() << "\n";
#ifndef STRATA_STATUS_H_
#define STRATA_STATUS_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace strata {

using Bytes = std::vector<uint8_t>;

enum class ErrorCode {
  kOk = 0,
  kInvalidArgument,   // bad input from the caller (unknown export, bad flag)
  kNotFound,          // no such module or file
  kIo,                // a file could not be read or written
  kCompile,           // the bytes are not a valid module
  kLink,              // an import the host does not provide
  kInstantiate,       // instantiation failed (resources, start function)
  kTrap,              // the guest trapped
  kDeadlineExceeded,  // a call or an acquire ran out of time
  kMemoryLimit,       // a guest or the pool hit a memory limit
  kGuestExit,         // a command module exited with a non-zero code
  kOutputTooLarge,    // the guest produced more output than allowed
  kPoolExhausted,     // no instance could be had within the deadline
  kShutdown,          // the pool is shutting down
  kInternal,          // a bug in strata or the engine
};

// Returns a stable lower-case name for `code`, e.g. "deadline_exceeded".
const char* ErrorCodeName(ErrorCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(ErrorCode code, std::string message)
      : code_(code), message_(std::move(message)) {}

  bool ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "trap: module 'x': ..." for logs and the CLI.
  std::string ToString() const;

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
};

inline Status OkStatus() { return Status(); }
std::ostream& operator<<(std::ostream& os, const Status& status);

// Either a value or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::move(value)) {}  // NOLINT: implicit by design
  // An error. An OK status holds neither a value nor an error, so it
  // becomes kInternal (as abseil's StatusOr does) rather than a Result that
  // is neither.
  Result(Status status)  // NOLINT
      : data_(status.ok() ? Status(ErrorCode::kInternal,
                                   "Result constructed from an OK status")
                          : std::move(status)) {}

  bool ok() const { return std::holds_alternative<T>(data_); }
  // The error; OkStatus() when a value is held.
  Status status() const {
    return ok() ? OkStatus() : std::get<Status>(data_);
  }
  T& value() & { return std::get<T>(data_); }
  const T& value() const& { return std::get<T>(data_); }
  T&& value() && { return std::get<T>(std::move(data_)); }
  T& operator*() & { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> data_;
};

}  // namespace strata

#endif  // STRATA_STATUS_H_
