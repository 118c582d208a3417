#include "internal/background_thread.h"

#if defined(__linux__)
#include <pthread.h>
#include <sched.h>
#endif

namespace strata::internal {

void MarkBackgroundThread() {
#if defined(__linux__)
  sched_param param{};  // SCHED_BATCH takes priority 0
  // Lowering one's own policy needs no privilege; a refusal (a seccomp
  // filter, say) leaves the thread as it was, which is still correct.
  (void)pthread_setschedparam(pthread_self(), SCHED_BATCH, &param);
#endif
}

}  // namespace strata::internal
