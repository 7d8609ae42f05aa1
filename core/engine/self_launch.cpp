#include "engine/self_launch.h"

#include <cstdlib>
#include <filesystem>
#include <iostream>

namespace syncbn::engine {

bool isRankProcess(bool workerFlag) {
  return workerFlag || std::getenv("RANK") != nullptr;
}

std::vector<std::string> thisCommandLine(int argc, char** argv) {
  std::vector<std::string> command(argv, argv + argc);
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) command[0] = self.string();
  return command;
}

int launchThisCommandLine(int argc, char** argv, dist::LaunchOptions options) {
  options.command = thisCommandLine(argc, argv);
  return dist::launch(options, std::cout).exitCode;
}

}  // namespace syncbn::engine
