// The templates the engine's advice and diagnosis are written in: placeholders, counts with their
// noun, nested clauses, another language's catalogue, and the fallbacks.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "common/advice.h"
#include "common/engine_text.h"

namespace syncbn {
namespace {

TEST(EngineText, FillsValuesCountsAndClausesIntoTheEnglishTemplate) {
  Text text("diagnosis.bn-problem", {{"world", "4"}, {"per_rank", "1"}});
  text.parts.push_back(clause(
      "evidence", Text("diagnosis.evidence.noise",
                       {{"noise", "0.90"}, {"noise_max", "1.40"}, {"layer", "model.2.bn"}})));
  text.parts.push_back(clause("fix", Text("diagnosis.fix.syncbn", {{"total", "4"}})));
  EXPECT_EQ(render(text),
            "Each of 4 ranks normalises over 1 image. The statistics training normalises with are "
            "0.90 running-std away from the ones inference uses (median over layers; worst: "
            "model.2.bn, 1.40). Fix: SyncBN, which normalises over all 4 images.");
}

TEST(EngineText, AnAbsentClauseLeavesNothing) {
  EXPECT_EQ(render(Text("diagnosis.healthy", {},
                        {clause("batch", Text("diagnosis.batch.one-rank", {{"images", "2"}}))})),
            "Healthy: BatchNorm normalises over 2 images.");
}

TEST(EngineText, AnotherLanguagesCatalogueIsUsedAndEnglishFillsItsGaps) {
  const Catalogue pirate = [](std::string_view id) -> std::string {
    if (id == "diagnosis.validation-drop") return "Arr, mAP50 sank from {before} to {after}!";
    return {};
  };
  EXPECT_EQ(
      render(Text("diagnosis.validation-drop", {{"before", "0.5"}, {"after", "0.1"}}), pirate),
      "Arr, mAP50 sank from 0.5 to 0.1!");
  EXPECT_EQ(render(Text("diagnosis.not-enough-data"), pirate),
            "Not enough data yet for a verdict.");
}

TEST(EngineText, AnUnknownTemplateSaysItsIdAndAnUnclosedBraceIsKept) {
  EXPECT_EQ(render(Text("no.such.template")), "no.such.template");
  const Catalogue broken = [](std::string_view) -> std::string { return "value {open"; };
  EXPECT_EQ(render(Text("diagnosis.not-enough-data"), broken), "value {open");
  EXPECT_EQ(render(Text()), "");
}

TEST(EngineText, EveryIdIsUniqueAndHasAnEnglishTemplate) {
  std::set<std::string_view> seen;
  for (const std::string_view id : templateIds()) {
    EXPECT_TRUE(seen.insert(id).second) << id;
    EXPECT_FALSE(englishTemplate(id).empty()) << id;
  }
  EXPECT_TRUE(englishTemplate("no.such.template").empty());
}

// The advice keeps its words: each rule's message is its template, rendered.
TEST(EngineText, EveryAdviceMessageIsItsTemplateRendered) {
  Config config;
  config.distributed.device = "cpu";
  config.distributed.cpu_ranks = 4;
  config.train.batch = 8;
  config.distributed.nnodes = 2;
  config.distributed.backend = Backend::Nccl;
  const Diagnostics advice = advise(config);
  ASSERT_FALSE(advice.empty());
  for (const Diagnostic& d : advice) {
    EXPECT_EQ(d.text.id, "advice." + d.rule);
    EXPECT_EQ(d.message, render(d.text));
    EXPECT_EQ(d.message.find('{'), std::string::npos) << d.message;
  }
}

}  // namespace
}  // namespace syncbn
