// Advice: settings that are valid but invite known failure modes of BatchNorm in data-parallel
// training. Each rule has a stable id (Diagnostic::rule) and names the field to change.
#pragma once

#include "common/config.h"
#include "common/diagnostics.h"
#include "common/topology.h"

namespace syncbn {

// Per-rank batches at or below this make plain BN's statistics noise (issue: loss oscillates,
// ranks drift apart).
inline constexpr int kNoisyBnBatch = 4;
// Below about 8 images per statistic BN accuracy degrades measurably (Wu & He, Group
// Normalization, 2018, fig. 1).
inline constexpr int kSmallBnBatch = 8;

Diagnostics advise(const Config& config, const HostFacts& host = {});

}  // namespace syncbn
