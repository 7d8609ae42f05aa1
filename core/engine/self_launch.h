// Multi-rank commands run the same command line in every rank: the first invocation becomes the
// launcher of this node's ranks, each of which sees RANK (etc.) in its environment and does the
// work. Under torchrun or srun the environment is already set and no launcher is started.
#pragma once

#include <string>
#include <vector>

#include "dist/launcher.h"

namespace syncbn::engine {

// True when this process is a rank: RANK is set (this launcher, torchrun), or `--worker` was
// given (srun, which sets SLURM_PROCID instead).
bool isRankProcess(bool workerFlag);

// argv with argv[0] replaced by this executable's absolute path (so ranks start the same binary
// whatever the working directory or PATH).
std::vector<std::string> thisCommandLine(int argc, char** argv);

// Starts options.nprocPerNode copies of this program with the same arguments and supervises them;
// returns the exit code for the launcher process.
int launchThisCommandLine(int argc, char** argv, dist::LaunchOptions options);

}  // namespace syncbn::engine
