#include "engine/self_launch.h"

#include <cstdlib>
#include <filesystem>
#include <iostream>

namespace syncbn::engine {

bool isRankProcess(bool workerFlag) {
  return workerFlag || std::getenv("RANK") != nullptr;
}

int launchThisCommandLine(int argc, char** argv, dist::LaunchOptions options) {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  options.command.assign(argv, argv + argc);
  if (!ec) options.command[0] = self.string();
  return dist::launch(options, std::cout).exitCode;
}

}  // namespace syncbn::engine
