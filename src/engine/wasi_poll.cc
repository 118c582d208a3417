#include "engine/wasi_poll.h"

#include <algorithm>
#include <any>
#include <cstring>
#include <limits>

#include "engine/module_impl.h"

namespace strata {
namespace {

// wasi_snapshot_preview1's layout of a subscription (witx `subscription`).
constexpr size_t kSubscriptionBytes = 48;
constexpr size_t kTagOffset = 8;
constexpr size_t kClockIdOffset = 16;
constexpr size_t kTimeoutOffset = 24;
constexpr size_t kFlagsOffset = 40;
constexpr uint8_t kTagClock = 0;
constexpr uint32_t kClockRealtime = 0;
constexpr uint32_t kClockMonotonic = 1;
constexpr uint16_t kAbsoluteTime = 1;  // subclockflags.subscription_clock_abstime

// Re-exports the guest's memory beside wasmtime's poll_oneoff, so that the
// latter, called through `poll`, finds the memory among its caller's exports.
constexpr std::string_view kShimWat = R"((module
  (import "guest" "memory" (memory 0))
  (import "wasi_snapshot_preview1" "poll_oneoff"
    (func $poll (param i32 i32 i32 i32) (result i32)))
  (export "memory" (memory 0))
  (func (export "poll") (param i32 i32 i32 i32) (result i32)
    (call $poll (local.get 0) (local.get 1) (local.get 2) (local.get 3)))))";

template <typename T>
T Read(std::span<const uint8_t> bytes, size_t offset) {
  T value;
  std::memcpy(&value, bytes.data() + offset, sizeof value);  // little-endian
  return value;
}

// Nanoseconds from `from` until `to`, or 0 if `to` is not later.
uint64_t NanosUntil(uint64_t to, uint64_t from) { return to > from ? to - from : 0; }

uint64_t NanosSinceEpoch(auto since) {
  return static_cast<uint64_t>(std::max<int64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(since).count(), 0));
}

InstanceState* StateOf(wasmtime::Store::Context cx) {
  void* data = wasmtime_context_get_data(cx.capi());
  if (data == nullptr) return nullptr;
  auto* state = std::any_cast<InstanceState*>(static_cast<std::any*>(data));
  return state != nullptr ? *state : nullptr;
}

}  // namespace

std::optional<std::chrono::nanoseconds> PollWait(
    std::span<const uint8_t> subscriptions, uint32_t count,
    std::chrono::steady_clock::time_point monotonic_origin,
    std::chrono::steady_clock::time_point now,
    std::chrono::system_clock::time_point wall_now) {
  if (count == 0 || subscriptions.size() / kSubscriptionBytes < count) {
    return std::nullopt;
  }
  const uint64_t monotonic_now = NanosSinceEpoch(now - monotonic_origin);
  const uint64_t realtime_now = NanosSinceEpoch(wall_now.time_since_epoch());
  uint64_t earliest = std::numeric_limits<uint64_t>::max();
  for (uint32_t i = 0; i < count; ++i) {
    auto sub = subscriptions.subspan(i * kSubscriptionBytes, kSubscriptionBytes);
    if (Read<uint8_t>(sub, kTagOffset) != kTagClock) return std::nullopt;
    uint32_t id = Read<uint32_t>(sub, kClockIdOffset);
    uint64_t timeout = Read<uint64_t>(sub, kTimeoutOffset);
    bool absolute = (Read<uint16_t>(sub, kFlagsOffset) & kAbsoluteTime) != 0;
    uint64_t wait;
    if (id == kClockMonotonic) {
      wait = absolute ? NanosUntil(timeout, monotonic_now) : timeout;
    } else if (id == kClockRealtime) {
      wait = absolute ? NanosUntil(timeout, realtime_now) : timeout;
    } else {
      return std::nullopt;
    }
    earliest = std::min(earliest, wait);
  }
  // Beyond what nanoseconds hold (292 years) a wait is as good as forever.
  constexpr auto kForever = std::chrono::nanoseconds::max();
  return earliest >= static_cast<uint64_t>(kForever.count())
             ? kForever
             : std::chrono::nanoseconds(earliest);
}

Result<std::unique_ptr<WasiPoll>> WasiPoll::Install(wasmtime::Engine& engine,
                                                     wasmtime::Linker& linker) {
  std::unique_ptr<WasiPoll> poll(new WasiPoll(engine));
  if (auto wasi = poll->wasi_only_.define_wasi(); !wasi) {
    return Status(ErrorCode::kInternal,
                  "engine: cannot define WASI: " + wasi.err().message());
  }
  linker.allow_shadowing(true);
  auto defined = linker.func_wrap(
      "wasi_snapshot_preview1", "poll_oneoff",
      [self = poll.get()](wasmtime::Caller caller, int32_t subscriptions,
                          int32_t events, int32_t count, int32_t written) {
        return self->Poll(caller, subscriptions, events, count, written);
      });
  linker.allow_shadowing(false);
  if (!defined) {
    return Status(ErrorCode::kInternal, "engine: cannot define poll_oneoff: " +
                                            defined.err().message());
  }
  return poll;
}

WasiPoll::WasiPoll(wasmtime::Engine& engine)
    : engine_(engine), wasi_only_(engine) {}

wasmtime::Result<int32_t, wasmtime::Trap> WasiPoll::Poll(
    wasmtime::Caller caller, int32_t subscriptions, int32_t events,
    int32_t count, int32_t written) {
  auto exported = caller.get_export("memory");
  if (!exported || !std::holds_alternative<wasmtime::Memory>(*exported)) {
    return wasmtime::Trap("poll_oneoff: the module exports no memory");
  }
  const auto& memory = std::get<wasmtime::Memory>(*exported);
  InstanceState* state = StateOf(caller.context());
  if (state != nullptr) {
    auto bytes = memory.data(caller.context());
    auto offset = static_cast<uint32_t>(subscriptions);
    auto from = std::span<const uint8_t>(bytes).subspan(
        std::min<size_t>(offset, bytes.size()));
    auto now = std::chrono::steady_clock::now();
    auto wait = PollWait(from, static_cast<uint32_t>(count),
                         state->wasi_clock_origin, now,
                         std::chrono::system_clock::now());
    if (wait && *wait > state->deadline - now) {
      state->refused_wait = *wait;
      return wasmtime::Trap("poll_oneoff would wait past the call's deadline");
    }
  }
  auto original = Original(caller, memory, state);
  if (!original) return wasmtime::Trap(original.err().message());
  auto result = original.ok().call(
      caller.context(), {wasmtime::Val(subscriptions), wasmtime::Val(events),
                         wasmtime::Val(count), wasmtime::Val(written)});
  if (!result) {
    wasmtime::TrapError failure = result.err();
    if (auto* trap = std::get_if<wasmtime::Trap>(&failure.data)) {
      return std::move(*trap);
    }
    return wasmtime::Trap(std::get<wasmtime::Error>(failure.data).message());
  }
  return result.ok().at(0).i32();
}

wasmtime::Result<wasmtime::Func> WasiPoll::Original(
    wasmtime::Caller& caller, const wasmtime::Memory& memory,
    InstanceState* state) {
  if (state != nullptr && state->wasi_poll) return *state->wasi_poll;
  std::call_once(shim_once_, [this] {
    if (auto compiled = wasmtime::Module::compile(engine_, kShimWat)) {
      shim_ = std::move(compiled.ok());
    }
  });
  if (!shim_) return wasmtime::Error("poll_oneoff: the shim did not compile");
  auto original = wasi_only_.get(caller.context(), "wasi_snapshot_preview1",
                                 "poll_oneoff");
  if (!original) return wasmtime::Error("poll_oneoff: WASI is not defined");
  auto shim = wasmtime::Instance::create(caller.context(), *shim_,
                                         {memory, *original});
  if (!shim) {
    return wasmtime::Error("poll_oneoff: cannot link the guest's memory: " +
                           shim.err().message());
  }
  auto poll = shim.ok().get(caller.context(), "poll");
  auto func = std::get<wasmtime::Func>(*poll);
  if (state != nullptr) state->wasi_poll = func;
  return func;
}

}  // namespace strata
