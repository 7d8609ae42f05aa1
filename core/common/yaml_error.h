// What a yaml-cpp exception says, in the user's words: its message, except for nesting too deep,
// which yaml-cpp reports as "bad file" (its DepthGuard reuses that text).
// Header-only, for the .cpp files that already use yaml-cpp (the headers of this library do not).
#pragma once

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/exceptions.h>

#include <string>

namespace syncbn {

inline std::string yamlErrorText(const YAML::Exception& error) {
  if (const auto* deep = dynamic_cast<const YAML::DeepRecursion*>(&error))
    return "nested " + std::to_string(deep->depth()) +
           " levels deep: too deep to read (yaml-cpp's limit)";
  return error.msg;
}

}  // namespace syncbn
