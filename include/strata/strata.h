// Umbrella header: everything a host embedding strata needs.
#ifndef STRATA_STRATA_H_
#define STRATA_STRATA_H_

#include "strata/engine.h"
#include "strata/instance.h"
#include "strata/module.h"
#include "strata/module_cache.h"
#include "strata/policy.h"
#include "strata/pool.h"
#include "strata/status.h"
#include "strata/synth.h"
#include "strata/wasi.h"

#endif  // STRATA_STRATA_H_
