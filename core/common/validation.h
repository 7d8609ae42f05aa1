// Validation: every value out of range and every inconsistency between fields, all at once.
#pragma once

#include "common/config.h"
#include "common/diagnostics.h"
#include "common/topology.h"

namespace syncbn {

// Errors only; see advice.h for warnings about settings that work but invite trouble.
Diagnostics validate(const Config& config, const HostFacts& host = {});

}  // namespace syncbn
