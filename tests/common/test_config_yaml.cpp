// Configuration YAML round trip, key=value overrides, and every load-time error kind.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "common/config_schema.h"
#include "common/config_yaml.h"

namespace syncbn {
namespace {

const Diagnostic* findDiagnostic(const Diagnostics& all, const std::string& field) {
  for (const auto& d : all)
    if (d.field == field) return &d;
  return nullptr;
}

// A config with every field set to a non-default value drawn from its type.
Config randomConfig(std::mt19937& rng) {
  Config config;
  for (const auto& spec : configFields()) {
    FieldValue value;
    switch (spec.type) {
      case FieldType::Int: {
        const double hi = std::min(spec.max, 1e6);
        value = static_cast<long long>(std::uniform_int_distribution<long long>(
            static_cast<long long>(spec.min), static_cast<long long>(hi))(rng));
        break;
      }
      case FieldType::Float:
        // Awkward binary fractions exercise shortest round-trip formatting.
        value = std::uniform_real_distribution<double>(spec.min, std::min(spec.max, 1e3))(rng);
        break;
      case FieldType::Bool:
        value = std::bernoulli_distribution(0.5)(rng);
        break;
      case FieldType::String:
        value = std::string("path with spaces/é #not-a-comment: x");
        break;
      case FieldType::Choice:
        value = std::string(spec.choices[rng() % spec.choices.size()]);
        break;
    }
    spec.set(config, value);
  }
  return config;
}

// yaml-cpp reports nesting past its depth guard as "bad file"; the user hears what it is.
TEST(ConfigYaml, NestingTooDeepIsNamedAsSuchWithTheFile) {
  const LoadedConfig loaded =
      parseConfigYaml(std::string(600, '[') + std::string(600, ']'), "deep.yaml");
  ASSERT_EQ(loaded.diagnostics.size(), 1u);
  EXPECT_EQ(loaded.diagnostics[0].source, "deep.yaml");
  EXPECT_EQ(loaded.diagnostics[0].message,
            "YAML syntax: nested 500 levels deep: too deep to read (yaml-cpp's limit)");
}

TEST(ConfigYaml, DefaultsRoundTrip) {
  const LoadedConfig loaded = parseConfigYaml(toYaml(Config{}), "defaults.yaml");
  EXPECT_TRUE(loaded.diagnostics.empty()) << format(loaded.diagnostics.front());
  EXPECT_EQ(loaded.config, Config{});
}

TEST(ConfigYaml, RandomConfigsRoundTripExactly) {
  std::mt19937 rng(7);
  for (int i = 0; i < 50; ++i) {
    const Config original = randomConfig(rng);
    const LoadedConfig loaded = parseConfigYaml(toYaml(original), "random.yaml");
    ASSERT_TRUE(loaded.diagnostics.empty()) << format(loaded.diagnostics.front());
    ASSERT_EQ(loaded.config, original) << toYaml(original);
  }
}

TEST(ConfigYaml, UltralyticsDefaults) {
  const Config c;
  EXPECT_EQ(c.train.epochs, 100);
  EXPECT_EQ(c.train.batch, 16);
  EXPECT_DOUBLE_EQ(c.train.lr0, 0.01);
  EXPECT_DOUBLE_EQ(c.train.momentum, 0.937);
  EXPECT_DOUBLE_EQ(c.train.weight_decay, 0.0005);
  EXPECT_DOUBLE_EQ(c.train.warmup_epochs, 3.0);
  EXPECT_EQ(c.train.nbs, 64);
  EXPECT_EQ(c.train.close_mosaic, 10);
  EXPECT_DOUBLE_EQ(c.train.hsv_s, 0.7);
  EXPECT_DOUBLE_EQ(c.train.fliplr, 0.5);
  EXPECT_EQ(c.data.imgsz, 640);
}

TEST(ConfigYaml, SectionedAndFlatKeysBothLoad) {
  const LoadedConfig loaded = parseConfigYaml(
      "train:\n  epochs: 7\n  optimizer: adamw\nbatch: 4\ndistributed: {norm: syncbn, device: "
      "cpu}\n",
      "mixed.yaml");
  ASSERT_TRUE(loaded.diagnostics.empty()) << format(loaded.diagnostics.front());
  EXPECT_EQ(loaded.config.train.epochs, 7);
  EXPECT_EQ(loaded.config.train.optimizer, "AdamW");  // canonical spelling
  EXPECT_EQ(loaded.config.train.batch, 4);
  EXPECT_EQ(loaded.config.distributed.norm, NormKind::SyncBatchNorm);
  EXPECT_EQ(loaded.locations.at("train.batch").line, 4);
}

TEST(ConfigYaml, EveryProblemReportedAtOnceWithLines) {
  const std::string text =
      "train:\n"
      "  epochs: ten\n"   // line 2: wrong type
      "  batchsize: 8\n"  // line 3: unknown key, suggestion
      "  amp: maybe\n"    // line 4: not a bool
      "  lr0: [1, 2]\n"   // line 5: not a scalar
      "distributed:\n"
      "  norm: layernorm\n"  // line 7: not a choice
      "  cpu_ranks: 1.5\n"   // line 8: not an integer
      "epochs: 3\n"          // line 9: duplicate of train.epochs
      "optimiser: SGD\n";    // line 10: unknown top-level key
  const LoadedConfig loaded = parseConfigYaml(text, "bad.yaml");
  ASSERT_EQ(loaded.diagnostics.size(), 8u);
  const auto expect = [&](const std::string& field, int line, const std::string& fragment) {
    const Diagnostic* d = findDiagnostic(loaded.diagnostics, field);
    ASSERT_NE(d, nullptr) << field;
    EXPECT_EQ(d->line, line) << field;
    EXPECT_EQ(d->source, "bad.yaml");
    EXPECT_NE(d->message.find(fragment), std::string::npos) << field << ": " << d->message;
    EXPECT_EQ(d->severity, Severity::Error);
  };
  expect("train.epochs", 2, "expected an integer, got 'ten'");
  expect("train.batchsize", 3, "did you mean train.batch");
  expect("train.amp", 4, "expected true or false");
  expect("train.lr0", 5, "expected a single value");
  expect("distributed.norm", 7, "expected one of bn, syncbn, groupnorm, frozen");
  expect("distributed.cpu_ranks", 8, "expected an integer");
  expect("optimiser", 10, "did you mean train.optimizer");
  // The duplicate is reported on the second occurrence, pointing at the first.
  bool duplicate = false;
  for (const auto& d : loaded.diagnostics)
    duplicate |= d.line == 9 && d.message.find("set twice (first on line 2)") != std::string::npos;
  EXPECT_TRUE(duplicate);
}

TEST(ConfigYaml, SyntaxErrorHasLine) {
  const LoadedConfig loaded =
      parseConfigYaml("train:\n  epochs: 5\n  batch: [1, 2\n", "syntax.yaml");
  ASSERT_EQ(loaded.diagnostics.size(), 1u);
  EXPECT_GT(loaded.diagnostics[0].line, 0);
  EXPECT_NE(loaded.diagnostics[0].message.find("YAML syntax"), std::string::npos);
}

TEST(ConfigYaml, NonMappingRootsAreErrorsNotCrashes) {
  for (const std::string text : {"- 1\n- 2\n", "just a string\n", "train: 5\n", "train: [1]\n"}) {
    const LoadedConfig loaded = parseConfigYaml(text, "odd.yaml");
    EXPECT_EQ(loaded.diagnostics.size(), 1u) << text;
  }
  EXPECT_TRUE(parseConfigYaml("", "empty.yaml").diagnostics.empty());
}

TEST(ConfigYaml, RandomBytesNeverThrow) {
  std::mt19937 rng(3);
  for (int i = 0; i < 300; ++i) {
    std::string text(rng() % 200, '\0');
    for (auto& ch : text)
      ch = static_cast<char>(rng() % 256);
    EXPECT_NO_THROW(parseConfigYaml(text, "random.yaml"));
  }
}

TEST(ConfigYaml, MissingFileIsADiagnostic) {
  const LoadedConfig loaded = loadConfigFile("/nonexistent/dir/config.yaml");
  ASSERT_EQ(loaded.diagnostics.size(), 1u);
  EXPECT_EQ(loaded.diagnostics[0].source, "/nonexistent/dir/config.yaml");
  EXPECT_NE(loaded.diagnostics[0].message.find("not found"), std::string::npos);
  EXPECT_EQ(loadConfigFile(std::filesystem::temp_directory_path()).diagnostics.size(), 1u);
}

TEST(ConfigYaml, SaveIsAtomicAndLoadsBack) {
  const auto dir = std::filesystem::temp_directory_path() / "syncbn_test_save";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  Config config;
  config.train.epochs = 42;
  config.distributed.device = "0,1";
  saveConfigFile(config, dir / "c.yaml");
  EXPECT_EQ(loadConfigFile(dir / "c.yaml").config, config);
  // Only the target is left: no temporary files.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), {}), 1);
  // A failed save throws and leaves the previous file intact.
  EXPECT_THROW(saveConfigFile(Config{}, dir / "missing-subdir" / "c.yaml"), std::runtime_error);
  EXPECT_EQ(loadConfigFile(dir / "c.yaml").config, config);
  std::filesystem::remove_all(dir);
}

TEST(ConfigOverrides, BareAndDottedKeysApplyInOrder) {
  LoadedConfig loaded;
  applyOverrides(loaded, {"epochs=50", "batch=2", "distributed.norm=groupnorm", "epochs=60",
                          "amp=False", "lr0=1e-3", "device="});
  ASSERT_TRUE(loaded.diagnostics.empty()) << format(loaded.diagnostics.front());
  EXPECT_EQ(loaded.config.train.epochs, 60);
  EXPECT_EQ(loaded.config.train.batch, 2);
  EXPECT_EQ(loaded.config.distributed.norm, NormKind::GroupNorm);
  EXPECT_FALSE(loaded.config.train.amp);
  EXPECT_DOUBLE_EQ(loaded.config.train.lr0, 1e-3);
  EXPECT_EQ(loaded.locations.at("train.epochs").source, "command line");
}

TEST(ConfigOverrides, EveryBadOverrideReported) {
  LoadedConfig loaded;
  applyOverrides(loaded, {"epochz=5", "batch", "=3", "batch=two", "imgsz=99999999999"});
  ASSERT_EQ(loaded.diagnostics.size(), 5u);
  EXPECT_NE(loaded.diagnostics[0].message.find("did you mean train.epochs"), std::string::npos);
  EXPECT_NE(loaded.diagnostics[1].message.find("expected key=value"), std::string::npos);
  EXPECT_NE(loaded.diagnostics[2].message.find("expected key=value"), std::string::npos);
  EXPECT_EQ(loaded.diagnostics[3].field, "train.batch");
  EXPECT_NE(loaded.diagnostics[4].message.find("too large"), std::string::npos);
  EXPECT_EQ(loaded.config, Config{});  // nothing half-applied
}

TEST(ConfigSchema, BareKeysAreUnique) {
  for (const auto& a : configFields()) {
    for (const auto& b : configFields()) {
      if (&a == &b) continue;
      EXPECT_NE(a.key, b.key) << a.path() << " vs " << b.path();
    }
  }
}

TEST(ConfigSchema, DefaultsAreWithinRanges) {
  for (const auto& spec : configFields())
    EXPECT_EQ(checkFieldRange(spec, spec.get(Config{})), "") << spec.path();
}

}  // namespace
}  // namespace syncbn
