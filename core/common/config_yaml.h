// Reading and writing configurations: YAML files (yaml-cpp) and `key=value` overrides as on
// Ultralytics' command line (`epochs=50 batch=2`). Problems are collected, never thrown, so the
// user sees every one of them at once.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/config.h"
#include "common/diagnostics.h"

namespace syncbn {

struct SourceLocation {
  std::string source;  // file name, or "command line"
  int line = 0;        // 1-based; 0 when not from a file
};

struct LoadedConfig {
  Config config;            // defaults wherever a value was absent or unusable
  Diagnostics diagnostics;  // syntax errors, unknown keys, wrong types
  std::map<std::string, SourceLocation> locations;  // field path -> where its value came from
};

// Accepts sectioned files (`train: {epochs: 50}`) and flat Ultralytics-style keys (`epochs: 50`).
LoadedConfig parseConfigYaml(std::string_view text, std::string_view sourceName);

// Reads and parses a file; an unreadable file is a diagnostic, not an exception.
LoadedConfig loadConfigFile(const std::filesystem::path& path);

// Applies `key=value` or `section.key=value` arguments in order; later ones win.
void applyOverrides(LoadedConfig& loaded, const std::vector<std::string>& arguments);

// Every field, in schema order, each with its help text as a comment.
std::string toYaml(const Config& config);

// Atomic (see atomic_file.h). Throws std::runtime_error when the file cannot be written.
void saveConfigFile(const Config& config, const std::filesystem::path& path);

// Fills source and line of diagnostics that name a field but no source, from `locations`.
void attachLocations(Diagnostics& diagnostics,
                     const std::map<std::string, SourceLocation>& locations);

}  // namespace syncbn
