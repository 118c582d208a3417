// WASI preview 1's poll_oneoff, held to the call's deadline.
//
// wasmtime's poll_oneoff waits in the host, where no epoch check runs: a
// guest that sleeps an hour would hold its thread for the hour whatever its
// deadline. strata shadows it with its own, which works out when the set of
// subscriptions can first return. If that is past the call's deadline, the
// call ends at once with kDeadlineExceeded; otherwise wasmtime's own
// poll_oneoff answers it, so its results are wasmtime's to the byte.
#ifndef STRATA_ENGINE_WASI_POLL_H_
#define STRATA_ENGINE_WASI_POLL_H_

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <wasmtime.hh>

#include "strata/status.h"

namespace strata {

struct InstanceState;

// How long a poll_oneoff over `subscriptions` (the guest's bytes for
// `count` of them) waits before it can return, or nullopt when it returns
// at once: it names a file descriptor (every one a strata guest can poll is
// a pipe, a captured stream or a file, all always ready), a clock that is
// neither realtime nor monotonic (an error), or none. `monotonic_origin` is
// when the guest's monotonic clock read zero; `now` and `wall_now` are the
// host's monotonic and realtime clocks.
std::optional<std::chrono::nanoseconds> PollWait(
    std::span<const uint8_t> subscriptions, uint32_t count,
    std::chrono::steady_clock::time_point monotonic_origin,
    std::chrono::steady_clock::time_point now,
    std::chrono::system_clock::time_point wall_now);

class WasiPoll {
 public:
  // Defines strata's poll_oneoff in `linker`, over the WASI preview 1 it
  // already holds.
  static Result<std::unique_ptr<WasiPoll>> Install(wasmtime::Engine& engine,
                                                   wasmtime::Linker& linker);

 private:
  explicit WasiPoll(wasmtime::Engine& engine);

  wasmtime::Result<int32_t, wasmtime::Trap> Poll(wasmtime::Caller caller,
                                                 int32_t subscriptions,
                                                 int32_t events, int32_t count,
                                                 int32_t written);
  // wasmtime's poll_oneoff, reached through a shim instance in the
  // caller's store that re-exports the guest's memory (wasmtime's WASI
  // finds memory through its caller's exports); kept in `state`, if any.
  wasmtime::Result<wasmtime::Func> Original(wasmtime::Caller& caller,
                                            const wasmtime::Memory& memory,
                                            InstanceState* state);

  wasmtime::Engine& engine_;
  wasmtime::Linker wasi_only_;  // wasmtime's WASI, unshadowed
  std::once_flag shim_once_;
  std::optional<wasmtime::Module> shim_;  // compiled on first use
};

}  // namespace strata

#endif  // STRATA_ENGINE_WASI_POLL_H_
