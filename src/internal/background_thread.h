// Background threads (refills, loads, maintenance, drops) do work that
// requests wake them for. On Linux a freshly woken thread usually preempts
// the one that woke it, so a request that queued a refill waited for that
// refill's instantiation on its own core before its acquire returned (a
// fresh-mode hot acquire under load: a mean of ~60 us instead of ~14;
// docs/BENCHMARKS.md, "What changed in strata").
#ifndef STRATA_INTERNAL_BACKGROUND_THREAD_H_
#define STRATA_INTERNAL_BACKGROUND_THREAD_H_

namespace strata::internal {

// Marks the calling thread as background work: SCHED_BATCH on Linux, which
// keeps its nice level and CPU share (no starvation, so no priority
// inversion on the locks it takes) but never preempts a thread on wake-up.
// A no-op elsewhere, and where the scheduler refuses.
void MarkBackgroundThread();

}  // namespace strata::internal

#endif  // STRATA_INTERNAL_BACKGROUND_THREAD_H_
