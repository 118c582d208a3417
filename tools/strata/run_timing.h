// strata run --repeat: the same command request run N times without a pool
// and N times through one, with what each step costs.
#ifndef STRATA_TOOLS_RUN_TIMING_H_
#define STRATA_TOOLS_RUN_TIMING_H_

#include <memory>
#include <ostream>

#include "strata/strata.h"

namespace strata::cli {

// Unpooled: link once, then per run instantiate + _start. Pooled: a Pool
// holding `module` with one hot instance kept (min_hot 1); per run acquire
// + _start, with the refill thread's replacement awaited between runs (not
// timed), as for requests that arrive slower than an instantiation.
// `module` was compiled from `bytes`. Prints the table to `report`; returns
// the first run's output.
Result<CommandOutput> RunRepeated(Engine& engine,
                                  const std::shared_ptr<const Module>& module,
                                  const Bytes& bytes,
                                  const InstanceLimits& limits,
                                  const CommandRequest& request, int repeat,
                                  std::ostream& report);

}  // namespace strata::cli

#endif  // STRATA_TOOLS_RUN_TIMING_H_
