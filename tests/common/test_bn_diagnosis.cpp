// The BatchNorm diagnosis (common/bn_diagnosis.h) on scripted event streams: what it must say of
// a healthy run, of a BN run whose small per-rank batches make the normalisers noisy, and of a
// run that oscillates for another reason (too high a learning rate), where BN must not be blamed.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "common/bn_diagnosis.h"
#include "common/config.h"
#include "common/config_yaml.h"

namespace syncbn::diagnosis {
namespace {

using protocol::BnStats;
using protocol::Message;

struct Script {
  NormKind norm = NormKind::SyncBatchNorm;
  int world = 4;
  int perRank = 2;
  double lr0 = 0.002;
};

protocol::RunStarted runStarted(const Script& s) {
  Config config;
  config.data.data = "demo";
  config.train.batch = s.world * s.perRank;
  config.train.lr0 = s.lr0;
  config.distributed.device = "cpu";
  config.distributed.cpu_ranks = s.world;
  config.distributed.norm = s.norm;
  protocol::RunStarted r;
  r.run_dir = "runs/train/scripted";
  r.world_size = s.world;
  r.device = "cpu";
  r.norm = std::string(toString(s.norm));
  r.epochs = 3;
  r.iterations_per_epoch = 100;
  r.global_batch = s.world * s.perRank;
  r.per_rank_batch = s.perRank;
  r.config_yaml = toYaml(config);
  return r;
}

protocol::Step step(long long iteration, double total) {
  protocol::Step s;
  s.epoch = static_cast<int>(iteration / 100);
  s.iteration = iteration;
  s.losses = {{"box", total * 0.4}, {"cls", total * 0.35}, {"dfl", total * 0.25}};
  return s;
}

BnStats probe(long long iteration, double noise, double disagreement, int world, int perRank,
               double worstDisagreement = -1) {
  BnStats b;
  b.iteration = iteration;
  b.layers_total = 3;
  b.rank_images.assign(static_cast<std::size_t>(world), perRank);
  b.noise_median = noise;
  b.noise_max = noise * 2;
  b.disagreement_median = disagreement;
  b.disagreement_max = worstDisagreement >= 0 ? worstDisagreement : disagreement * 2;
  b.worst_layer = "model.2.cv1.bn";
  for (const char* name : {"model.0.bn", "model.1.bn", "model.2.cv1.bn"}) {
    protocol::BnLayerStats layer;
    layer.layer = name;
    layer.noise = noise;
    layer.disagreement = disagreement;
    b.layers.push_back(layer);
  }
  return b;
}

// A smoothly falling loss; `wobble` adds an alternating term of that share of the loss.
double lossAt(long long iteration, double wobble) {
  const double trend = 2.0 + 3.0 * std::exp(-static_cast<double>(iteration) / 150.0);
  return trend * (1 + (iteration % 2 ? wobble : -wobble));
}

Verdict run(const Script& s, double wobble, double noise, double disagreement,
            std::vector<double> map50 = {}) {
  RunDiagnosis diagnosis;
  diagnosis.add(runStarted(s));
  for (long long i = 0; i < 200; ++i) {
    diagnosis.add(step(i, lossAt(i, wobble)));
    if (i % 10 == 0) diagnosis.add(probe(i, noise, disagreement, s.world, s.perRank));
  }
  for (std::size_t e = 0; e < map50.size(); ++e) {
    protocol::Val val;
    val.epoch = static_cast<int>(e);
    val.map50 = map50[e];
    diagnosis.add(val);
  }
  return diagnosis.verdict();
}

const Finding* find(const Verdict& v, const std::string& rule) {
  const auto it = std::find_if(v.findings.begin(), v.findings.end(),
                               [&](const Finding& f) { return f.rule == rule; });
  return it == v.findings.end() ? nullptr : &*it;
}

bool blamesBatchNorm(const Verdict& v) {
  return std::any_of(v.findings.begin(), v.findings.end(), [](const Finding& f) {
    return f.rule.starts_with("bn-") || f.rule == "syncbn-noise";
  });
}

TEST(BnDiagnosis, AHealthySyncBnRunSaysSoWithItsNumbers) {
  const Verdict v = run({.norm = NormKind::SyncBatchNorm, .world = 4, .perRank = 4}, 0.0, 0.2,
                        0.0, {0.1, 0.3, 0.5});
  EXPECT_TRUE(v.healthy);
  EXPECT_FALSE(v.problem);
  EXPECT_TRUE(v.enoughData);
  ASSERT_FALSE(v.findings.empty());
  EXPECT_EQ(v.findings.front().rule, "healthy");
  EXPECT_NE(v.headline.find("all 16 images (SyncBN)"), std::string::npos) << v.headline;
  EXPECT_NE(v.headline.find("0.20 running-std"), std::string::npos) << v.headline;
  EXPECT_NE(v.headline.find("mAP50 0.500 after epoch 3"), std::string::npos) << v.headline;
  EXPECT_DOUBLE_EQ(v.findings.front().numbers.at("noise_median"), 0.2);
}

TEST(BnDiagnosis, BeforeAnyDataItSaysSoInsteadOfHealthy) {
  RunDiagnosis diagnosis;
  diagnosis.add(runStarted({}));
  const Verdict v = diagnosis.verdict();
  EXPECT_FALSE(v.enoughData);
  EXPECT_FALSE(v.problem);
  EXPECT_EQ(v.headline, "Not enough data yet for a verdict.");
}

TEST(BnDiagnosis, NoisyBnNormalisersAreAProblemNamingTheBatchTheLayerAndTheFix) {
  // 4 ranks x 1 image under BN: the figures the reproduction showed, far past the
  // thresholds, and a loss that does not oscillate (the harm is not in the training loss).
  const Verdict v = run({.norm = NormKind::BatchNorm, .world = 4, .perRank = 1}, 0.0, 0.9, 0.42,
                        {0.017, 0.173});
  EXPECT_TRUE(v.problem);
  EXPECT_FALSE(v.healthy);
  ASSERT_FALSE(v.findings.empty());
  const Finding& f = v.findings.front();
  EXPECT_EQ(f.rule, "bn-normaliser-noise");
  EXPECT_EQ(f.severity, Severity::Problem);
  EXPECT_EQ(v.headline, f.message);
  EXPECT_NE(f.message.find("Each of 4 ranks normalises over 1 image."), std::string::npos)
      << f.message;
  EXPECT_NE(f.message.find("0.90 running-std"), std::string::npos) << f.message;
  EXPECT_NE(f.message.find("worst: model.2.cv1.bn"), std::string::npos) << f.message;
  EXPECT_NE(f.message.find("the ranks disagree by 0.42"), std::string::npos) << f.message;
  EXPECT_NE(f.message.find("Fix: SyncBN, which normalises over all 4 images."),
            std::string::npos)
      << f.message;
  EXPECT_EQ(f.layers, std::vector<std::string>{"model.2.cv1.bn"});
  ASSERT_FALSE(f.fixes.empty());
  EXPECT_EQ(f.fixes.front(), kFixSyncBnResume);
  EXPECT_EQ(find(v, "loss-oscillation"), nullptr);
}

TEST(BnDiagnosis, RanksThatDisagreeAloneAreEnoughUnderBn) {
  const Verdict v =
      run({.norm = NormKind::BatchNorm, .world = 4, .perRank = 2}, 0.0, 0.3, 0.3, {});
  ASSERT_NE(find(v, "bn-rank-disagreement"), nullptr);
  EXPECT_TRUE(v.problem);
}

Verdict worstLayerRun(NormKind norm, double worst) {
  RunDiagnosis diagnosis;
  diagnosis.add(runStarted({.norm = norm, .world = 4, .perRank = 1}));
  for (int i = 0; i < 5; ++i) diagnosis.add(probe(i * 10, 0.1, 0.08, 4, 1, worst));
  return diagnosis.verdict();
}

TEST(BnDiagnosis, RanksFarApartInTheWorstLayerAreAProblemUnderBn) {
  // The 4 x 1 BN evidence run: quiet at the median, 0.6 apart in the worst layer.
  const Verdict v = worstLayerRun(NormKind::BatchNorm, 0.6);
  ASSERT_NE(find(v, "bn-rank-disagreement"), nullptr);
  EXPECT_TRUE(v.problem);
  EXPECT_NE(v.headline.find("normalises over 1 image. The ranks disagree by 0.08 (0.60 in the worst layer), and the statistics"), std::string::npos)
      << v.headline;
}

TEST(BnDiagnosis, RanksSomewhatApartInTheWorstLayerAreAWarningUnderBn) {
  const Verdict v = worstLayerRun(NormKind::BatchNorm, 0.3);
  const Finding* f = find(v, "bn-rank-drift");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->severity, Severity::Warning);
  EXPECT_FALSE(v.problem);
  EXPECT_EQ(f->fixes.front(), kFixSyncBnResume);
  EXPECT_TRUE(worstLayerRun(NormKind::BatchNorm, 0.2).healthy);
}

TEST(BnDiagnosis, TheSameNumbersUnderSyncBnAreNotBlamedOnRankDisagreement) {
  // Disagreement under SyncBN is 0 by construction; noise below the threshold: healthy.
  const Verdict v =
      run({.norm = NormKind::SyncBatchNorm, .world = 4, .perRank = 1}, 0.0, 0.4, 0.0, {});
  EXPECT_FALSE(blamesBatchNorm(v));
  EXPECT_FALSE(v.problem);
}

TEST(BnDiagnosis, AnOscillatingLossWithSoundStatisticsBlamesTheLearningRateNotBn) {
  // SyncBN with quiet normalisers, and a loss that alternates by 30% around its trend: the
  // oscillation index is far above 0.10, and BatchNorm has nothing to do with it.
  const Verdict v = run({.norm = NormKind::SyncBatchNorm, .world = 4, .perRank = 4, .lr0 = 0.05},
                        0.3, 0.15, 0.0, {0.2, 0.25});
  EXPECT_TRUE(v.problem);
  EXPECT_FALSE(blamesBatchNorm(v));
  const Finding* f = find(v, "loss-oscillation");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->severity, Severity::Problem);
  EXPECT_NE(f->message.find("BatchNorm is not the cause"), std::string::npos) << f->message;
  EXPECT_NE(f->message.find("lr0 0.0500"), std::string::npos) << f->message;
  EXPECT_EQ(f->fixes, std::vector<std::string>{kFixLowerLr});
  EXPECT_EQ(f->message.find("per step, each step's loss also varies"), std::string::npos)
      << "16 images per step are not few";
  // The index it reports is the oscillation of the loss it was fed: std of the residuals
  // around the trend over the trend is about the wobble's share, 0.3.
  EXPECT_GT(f->numbers.at("oscillation"), 0.2);
  EXPECT_LT(f->numbers.at("oscillation"), 0.4);
}

TEST(BnDiagnosis, AnOscillatingPlainBnRunWithQuietStatisticsIsNotBlamedOnBnEither) {
  const Verdict v = run({.norm = NormKind::BatchNorm, .world = 2, .perRank = 16, .lr0 = 0.05},
                        0.3, 0.1, 0.05, {});
  EXPECT_FALSE(blamesBatchNorm(v));
  ASSERT_NE(find(v, "loss-oscillation"), nullptr);
  EXPECT_NE(find(v, "loss-oscillation")->message.find("the ranks agree to 0.05"),
            std::string::npos);
}

TEST(BnDiagnosis, AnOscillatingLossOverFewImagesPerStepNamesTheBatchToo) {
  const Verdict v = run({.norm = NormKind::SyncBatchNorm, .world = 4, .perRank = 1}, 0.3, 0.1,
                        0.0, {});
  EXPECT_FALSE(blamesBatchNorm(v));
  const Finding* f = find(v, "loss-oscillation");
  ASSERT_NE(f, nullptr);
  EXPECT_NE(f->message.find("With only 4 images per step"), std::string::npos) << f->message;
}

TEST(BnDiagnosis, AValidationFallIsAWarning) {
  const Verdict v = run({.norm = NormKind::SyncBatchNorm, .world = 4, .perRank = 4}, 0.0, 0.2,
                        0.0, {0.30, 0.50, 0.20});
  const Finding* f = find(v, "validation-drop");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->severity, Severity::Warning);
  EXPECT_FALSE(v.problem);
  EXPECT_FALSE(v.healthy);
  EXPECT_NE(f->message.find("mAP50 fell from 0.500 to 0.200 at epoch 3"), std::string::npos)
      << f->message;
}

TEST(BnDiagnosis, OneOddProbeDecidesNothing) {
  // Four quiet probes and one wild one: the median of the last five stays quiet.
  const Script s{.norm = NormKind::BatchNorm, .world = 4, .perRank = 8};
  RunDiagnosis diagnosis;
  diagnosis.add(runStarted(s));
  for (int i = 0; i < 5; ++i) diagnosis.add(probe(i * 10, i == 2 ? 5.0 : 0.1, 0.05, 4, 8));
  EXPECT_FALSE(blamesBatchNorm(diagnosis.verdict()));
}

TEST(BnDiagnosis, ARecordWithoutVersion3FiguresIsNotJudgedByTheOldDivergence) {
  // A version-2 bn_stats has only `divergence`, which cannot tell BN from SyncBN.
  RunDiagnosis diagnosis;
  diagnosis.add(runStarted({.norm = NormKind::BatchNorm, .world = 4, .perRank = 1}));
  BnStats old;
  old.iteration = 0;
  protocol::BnLayerStats layer;
  layer.layer = "model.0.bn";
  layer.divergence = 3.0;
  old.layers = {layer};
  diagnosis.add(old);
  EXPECT_FALSE(blamesBatchNorm(diagnosis.verdict()));
}

TEST(BnDiagnosis, JsonCarriesEveryFindingWithItsNumbersAndFixes) {
  const Verdict v = run({.norm = NormKind::BatchNorm, .world = 4, .perRank = 1}, 0.0, 0.9, 0.42);
  const auto json = nlohmann::json::parse(toJson(v));
  EXPECT_EQ(json.at("problem"), true);
  EXPECT_EQ(json.at("headline"), v.headline);
  EXPECT_EQ(json.at("iteration"), 199);
  const auto& first = json.at("findings").at(0);
  EXPECT_EQ(first.at("rule"), "bn-normaliser-noise");
  EXPECT_EQ(first.at("severity"), "problem");
  EXPECT_DOUBLE_EQ(first.at("numbers").at("noise_median").get<double>(), 0.9);
  EXPECT_EQ(first.at("fixes").at(0), kFixSyncBnResume);
  // The text form leads with the headline and lists the rest once.
  const std::string text = format(v);
  EXPECT_EQ(text.rfind(v.headline, 0), 0u);
}

}  // namespace
}  // namespace syncbn::diagnosis
