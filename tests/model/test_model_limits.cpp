// A model YAML is checked before anything is allocated: every limit refuses with the file, the
// line and the field, and the size estimated from the layer shapes alone equals the size of the
// model the builder makes (the built model is the oracle).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>

#include "model/detection_model.h"
#include "model/model_definition.h"
#include "model/model_summary.h"

namespace syncbn::model {
namespace {

// The built-in definition with one line replaced.
std::string builtinWith(const std::string& from, const std::string& to) {
  std::string text(builtinYolov8Yaml());
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  text.replace(at, from.size(), to);
  return text;
}

std::string refusal(const std::string& yaml, std::optional<int64_t> nc = std::nullopt) {
  try {
    parseModelDefinition(yaml, "bad.yaml", "bad", "", nc);
    return "accepted";
  } catch (const ModelDefinitionError& e) {
    return e.what();
  }
}

TEST(ModelLimits, EachLimitRefusesWithTheFileLineAndField) {
  EXPECT_EQ(refusal(builtinWith("n: [0.33, 0.25, 1024]", "n: [0.33, 100000, 1024]")),
            "bad.yaml:9:13: scales.n[1]: the width gain must be a number above 0 and at most 4, "
            "got '100000'");
  EXPECT_EQ(refusal(builtinWith("n: [0.33, 0.25, 1024]", "n: [.nan, 0.25, 1024]")),
            "bad.yaml:9:7: scales.n[0]: the depth gain must be a number above 0 and at most 4, "
            "got '.nan'");
  EXPECT_EQ(refusal(builtinWith("n: [0.33, 0.25, 1024]", "n: [0.33, .inf, 1024]")),
            "bad.yaml:9:13: scales.n[1]: the width gain must be a number above 0 and at most 4, "
            "got '.inf'");
  EXPECT_EQ(refusal(builtinWith("n: [0.33, 0.25, 1024]", "n: [0.33, 0.25, 99999999]")),
            "bad.yaml:9:19: scales.n[2]: max_channels must be 1 to 8192, got 99999999");
  EXPECT_EQ(refusal(builtinWith("[-1, 3, C2f, [128, True]]", "[-1, 3000000, C2f, [128, True]]")),
            "bad.yaml:19:10: backbone[2].repeats: must be 1 to 64, got 3000000");
  EXPECT_EQ(refusal(builtinWith("[-1, 1, Conv, [64, 3, 2]]", "[-1, 1, Conv, [64, 99999, 2]]")),
            "bad.yaml:17:24: backbone[0].args[1]: the kernel must be odd, 1 to 15 (padding is "
            "kernel/2), got 99999");
  EXPECT_EQ(refusal(builtinWith("[-1, 1, Conv, [64, 3, 2]]", "[-1, 1, Conv, [64, 3, 64]]")),
            "bad.yaml:17:27: backbone[0].args[2]: the stride must be 1 to 16, got 64");
  EXPECT_EQ(refusal(builtinWith("[-1, 1, Conv, [64, 3, 2]]", "[-1, 1, Conv, [900000, 3, 2]]")),
            "bad.yaml:17:20: backbone[0].args[0]: the channel count must be 1 to 8192, got 900000");
  EXPECT_EQ(refusal(builtinWith("nc: 80", "nc: 1000000000")),
            "bad.yaml:7:5: nc: the class count must be 1 to 10000, got 1000000000");
  EXPECT_EQ(refusal(builtinWith("n: [0.33", "[n]: [0.33")),
            "bad.yaml:9:3: scales: expected a scale name such as n or x");
  const std::string deep = refusal(std::string(20000, '['));
  EXPECT_EQ(deep.rfind("bad.yaml:", 0), 0u) << "deep nesting is this file's error, not a crash";
  EXPECT_NE(deep.find("invalid YAML"), std::string::npos) << deep;
  EXPECT_EQ(refusal(std::string(builtinYolov8Yaml()), 20000),
            "bad.yaml:7:1: nc: the class count must be 1 to 10000, got 20000");
}

TEST(ModelLimits, ScaledValuesAreCheckedAfterScaling) {
  const auto model = [](const std::string& gains, const std::string& layer) {
    return "nc: 2\nscales:\n  a: " + gains + "\nbackbone:\n  - " + layer +
           "\n  - [-1, 1, Conv, [64, 3, 2]]\nhead:\n  - [[1], 1, Detect, [nc]]\n";
  };
  EXPECT_EQ(refusal(model("[1, 2, 8192]", "[-1, 1, Conv, [4096, 3, 2]]")), "accepted")
      << "4096 x width 2 = 8192 is the limit itself";
  EXPECT_EQ(refusal(model("[1, 4, 8192]", "[-1, 1, Conv, [4096, 3, 2]]")),
            "bad.yaml:5:20: backbone[0].args[0]: 4096 channels scaled by width 4 make 16384, "
            "more than 8192");
  EXPECT_EQ(refusal(model("[4, 1, 8192]", "[-1, 60, C2f, [64, True]]")),
            "bad.yaml:5:10: backbone[0].repeats: 60 repeats scaled by depth 4 make 240, more than "
            "64");
}

struct Built {
  ModelDefinition definition;
  ModelSummary summary;
};

Built build(const std::string& yaml, const std::string& scale, int64_t imgsz) {
  ModelDefinition definition = parseModelDefinition(yaml, "test.yaml", "test", scale);
  const DetectionModel model(definition, NormChoice{NormKind::BatchNorm, nullptr});
  return {definition, summarize(*model, imgsz)};
}

TEST(ModelFootprint, EqualsTheBuiltModelsParametersAndConvolutionOutputs) {
  for (const std::string scale : {"n", "s", "m"}) {
    for (const int64_t imgsz : {320, 640}) {
      const Built built = build(std::string(builtinYolov8Yaml()), scale, imgsz);
      const ModelFootprint estimate = estimateFootprint(built.definition, imgsz);
      EXPECT_EQ(estimate.parameters, built.summary.parameters) << scale << " " << imgsz;
      EXPECT_EQ(estimate.convOutputElements, built.summary.convOutputElements)
          << scale << " " << imgsz;
    }
  }
  // A repeated Conv (strided twice), repeated Bottleneck and SPPF chains, a 7x7 kernel, few
  // classes.
  const std::string custom = R"(nc: 3
backbone:
  - [-1, 1, Conv, [32, 3, 2]]
  - [-1, 2, Conv, [32, 3, 2]]
  - [-1, 1, Conv, [64, 7, 1]]
  - [-1, 3, Bottleneck, [64]]
  - [-1, 2, SPPF, [64, 3]]
  - [-1, 1, Conv, [128, 3, 2]]
head:
  - [-1, 1, nn.Upsample, [None, 2, "nearest"]]
  - [[-1, 4], 1, Concat, [1]]
  - [-1, 2, C2f, [96, True]]
  - [[8, 5], 1, Detect, [nc]]
)";
  for (const int64_t imgsz : {96, 160}) {
    const Built built = build(custom, "", imgsz);
    const ModelFootprint estimate = estimateFootprint(built.definition, imgsz);
    EXPECT_EQ(estimate.parameters, built.summary.parameters) << imgsz;
    EXPECT_EQ(estimate.convOutputElements, built.summary.convOutputElements) << imgsz;
  }
}

}  // namespace
}  // namespace syncbn::model
