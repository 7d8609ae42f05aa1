// A detector small enough for multi-rank tests: one Conv, one C2f, Detect with two classes.
#pragma once

#include "model/model_definition.h"

namespace syncbn::train::testing {

inline model::ModelDefinition tinyDetectorDefinition() {
  return model::parseModelDefinition(
      "nc: 2\n"
      "backbone:\n"
      "  - [-1, 1, Conv, [8, 3, 2]]\n"
      "  - [-1, 1, C2f, [8, True]]\n"
      "head:\n"
      "  - [[1], 1, Detect, [nc]]\n",
      "tiny.yaml", "tiny");
}

}  // namespace syncbn::train::testing
