// `syncbn-engine diagnose RUN_DIR [--json]`: the BatchNorm diagnosis (common/bn_diagnosis.h) of
// a run from its events.jsonl, finished or still being written: the long-term health check for
// servers and CI.
#pragma once

#include <string>

#include "engine/commands.h"

namespace syncbn::engine {

// Exit 0 when the run is healthy or has only warnings, 1 when a problem is found, 2 when the
// record cannot be read (no events.jsonl, not a file). Lines that do not decode are reported on
// the error stream with their line number and skipped.
int diagnoseRun(const CommandContext& ctx, const std::string& runDirectory, bool json);

}  // namespace syncbn::engine
