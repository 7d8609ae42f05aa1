// Runs tests/train/tensorboard/read_tfevents.py, the independent reader of TensorBoard event
// files (its own CRC-32C, python3-protobuf with the published .proto definitions), on `file`.
// Needs SYNCBN_SOURCE_DIR. Returns its JSON (file_version, records, scalars as [tag, step,
// value, wall_time]), or null after a test failure that shows what it printed.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

namespace syncbn::test_support {

inline nlohmann::json readTensorBoardEvents(const std::filesystem::path& file) {
  const std::string dir = std::string(SYNCBN_SOURCE_DIR) + "/tests/train/tensorboard";
  const std::string command =
      "/usr/bin/python3 " + dir + "/read_tfevents.py " + dir + " '" + file.string() + "' 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) {
    ADD_FAILURE() << "cannot run " << command;
    return {};
  }
  std::string output;
  std::array<char, 4096> buffer{};
  for (std::size_t n; (n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0;)
    output.append(buffer.data(), n);
  const int status = ::pclose(pipe);
  EXPECT_EQ(status, 0) << "python3-protobuf and protobuf-compiler (scripts/install-deps.sh): "
                       << output;
  return status == 0 ? nlohmann::json::parse(output) : nlohmann::json{};
}

}  // namespace syncbn::test_support
