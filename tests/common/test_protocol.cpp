// The progress protocol: every message survives a round trip, hand-written lines decode to the
// structs they describe, and whatever a broken or hostile peer sends yields an error, not a crash.
#include <gtest/gtest.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>

#include "common/protocol.h"

namespace syncbn::protocol {
namespace {

// A version-1 bn_stats: one layer with the fields version 1 had, the rest at their defaults.
BnStats bnStatsOfOneLayer(long long iteration, std::string layer, double divergence,
                          std::vector<double> rankMean, std::vector<double> rankVar) {
  BnLayerStats stats;
  stats.layer = std::move(layer);
  stats.divergence = divergence;
  stats.rank_mean = std::move(rankMean);
  stats.rank_var = std::move(rankVar);
  BnStats message;
  message.iteration = iteration;
  message.layers = {std::move(stats)};
  return message;
}

using Json = nlohmann::ordered_json;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// One realistic message of every type; docs/protocol.md shows exactly their encodings.
std::vector<Message> sampleMessages() {
  return {
      Hello{.protocol = 3, .engine_version = "0.1.0", .token = "9f2c4e1a7b3d5f60a8c2e4b6d1f3a5c7"},
      RunStarted{.run_dir = "runs/train/demo",
                 .start_time = 1764579600.25,
                 .world_size = 2,
                 .device = "cpu",
                 .norm = "syncbn",
                 .epochs = 30,
                 .iterations_per_epoch = 8,
                 .global_batch = 16,
                 .per_rank_batch = 8,
                 .config_yaml = "data:\n  data: demo\n  imgsz: 320\ntrain:\n  epochs: 30\n  "
                                "batch: 16\ndistributed:\n  cpu_ranks: 2\n  norm: syncbn\n"},
      Step{.epoch = 3,
           .iteration = 27,
           .time = 97.42,
           .losses = {{"box", 1.2843}, {"cls", 2.0521}, {"dfl", 1.1377}},
           .rank_losses = {{{"box", 1.301}, {"cls", 2.1}, {"dfl", 1.15}},
                           {{"box", 1.2676}, {"cls", 2.0042}, {"dfl", 1.1254}}},
           .lr = 0.00912,
           .images_per_second = 41.6,
           .ranks = {{.rank = 0, .data_ms = 12.5, .compute_ms = 341.2, .comm_ms = 18.4},
                     {.rank = 1, .data_ms = 14.1, .compute_ms = 338.9, .comm_ms = 20.7}}},
      BnStats{.iteration = 27,
              .layers = {{.layer = "model.0.bn",
                          .divergence = 0.083,
                          .rank_mean = {0.112, 0.097},
                          .rank_var = {0.871, 0.903},
                          .disagreement = 0.0714,
                          .noise = 0.186,
                          .rank_noise = {0.179, 0.193},
                          .rank_running_mean = {0.104, 0.104},
                          .rank_running_var = {0.912, 0.912}},
                         {.layer = "model.2.cv1.bn",
                          .divergence = 0.021,
                          .rank_mean = {-0.034, -0.031},
                          .rank_var = {1.204, 1.188},
                          .disagreement = 0.0183,
                          .noise = 0.0952,
                          .rank_noise = {0.0981, 0.0923},
                          .rank_running_mean = {-0.029, -0.029},
                          .rank_running_var = {1.151, 1.151}}},
              .rank_images = {8, 8},
              .layers_total = 57,
              .disagreement_max = 0.0714,
              .disagreement_median = 0.0296,
              .noise_max = 0.203,
              .noise_median = 0.121,
              .worst_layer = "model.22.cv3.0.0.bn"},
      Val{.epoch = 3,
          .time = 101.7,
          .precision = 0.612,
          .recall = 0.547,
          .map50 = 0.583,
          .map50_95 = 0.341,
          .fitness = 0.3652,
          .classes = {{.name = "circle",
                       .images = 64,
                       .instances = 131,
                       .precision = 0.701,
                       .recall = 0.62,
                       .map50 = 0.668,
                       .map50_95 = 0.402},
                      {.name = "square",
                       .images = 64,
                       .instances = 118,
                       .precision = 0.523,
                       .recall = 0.474,
                       .map50 = 0.498,
                       .map50_95 = 0.28}},
          .box_loss = 1.3125,
          .cls_loss = 1.875,
          .dfl_loss = 1.1406},
      Checkpoint{
          .path = "runs/train/demo/weights/best.pt", .kind = "best", .epoch = 3, .iteration = 32},
      Log{.level = "warning",
          .rank = 1,
          .text = "Größe der Stapel pro Rang ist klein (8 Bilder) – SyncBN empfohlen ✓"},
      RankExit{
          .rank = 1, .exit_code = -9, .signal = 9, .reason = "killed by SIGKILL (out of memory?)"},
      Finished{.status = "completed",
               .epochs_completed = 30,
               .best_fitness = 0.4811,
               .map50 = 0.702,
               .map50_95 = 0.455,
               .best_checkpoint = "runs/train/demo/weights/best.pt",
               .error = ""},
      DatasetSummary{.data = "datasets/shapes/data.yaml",
                     .split = "train",
                     .images = 510,
                     .backgrounds = 12,
                     .skipped = 2,
                     .duplicates_removed = 1,
                     .instances = 1742,
                     .classes = {{.name = "circle", .images = 402, .instances = 590},
                                 {.name = "rectangle", .images = 398, .instances = 577},
                                 {.name = "triangle", .images = 405, .instances = 575}},
                     .problems = {{.file = "datasets/shapes/images/train/0007.jpg",
                                   .line = 0,
                                   .level = "error",
                                   .reason = "cannot decode image"},
                                  {.file = "datasets/shapes/labels/train/0042.txt",
                                   .line = 3,
                                   .level = "error",
                                   .reason = "class 7 is not in names (3 classes: 0-2)"},
                                  {.file = "datasets/shapes/labels/train/0100.txt",
                                   .line = 0,
                                   .level = "warning",
                                   .reason = "1 duplicate label removed"}},
                     .problems_total = 3},
      Stop{},
      CheckpointNow{},
  };
}

// Boundary values: empty vectors and strings, extreme integers, awkward doubles.
std::vector<Message> edgeMessages() {
  return {
      Hello{.protocol = INT_MAX, .engine_version = "", .token = ""},
      RunStarted{.run_dir = "C:\\runs\\\"quoted\"\t{}",
                 .world_size = 1,
                 .device = "cuda",
                 .norm = "",
                 .epochs = 1,
                 .iterations_per_epoch = 1,
                 .global_batch = 1,
                 .per_rank_batch = 1,
                 .config_yaml = ""},
      Step{.epoch = 0,
           .iteration = LLONG_MAX,
           .losses = {},
           .rank_losses = {},
           .lr = 1e-300,
           .images_per_second = 5e-324,
           .ranks = {}},
      Step{.losses = {{"", 0.1}},
           .rank_losses = {{}, {{"box", 1e300}}},
           .ranks = {{.rank = INT_MAX}}},
      BnStats{},
      bnStatsOfOneLayer(0, "", 0.1, {}, {}),
      BnStats{.iteration = LLONG_MAX,
              .layers = {{.layer = "model.0.bn",
                          .rank_mean = {0, 0, 0},
                          .rank_var = {1, 1, 1},
                          .disagreement = 0.0,
                          .noise = 1e-300,
                          .rank_noise = {0, 1e300, 5e-324},
                          .rank_running_mean = {-0.0, 0, 0},
                          .rank_running_var = {1, 1, 1}}},
              .rank_images = {0, INT_MAX, 1},
              .layers_total = INT_MAX,
              .worst_layer = ""},
      Val{.classes = {}},
      Checkpoint{.path = "", .kind = "interval", .epoch = 0, .iteration = 0},
      Log{.level = "debug", .rank = -1, .text = "line one\nline two\r\n\ttab \"quote\" \\ \x01"},
      Log{.level = "error", .rank = 0, .text = "日本語 😀 \u00e9"},
      RankExit{.rank = 0, .exit_code = INT_MIN, .signal = 0, .reason = ""},
      Finished{
          .status = "failed", .best_checkpoint = "", .error = "NCCL error: unhandled system error"},
      Finished{.status = "stopped", .best_fitness = -1.0 / 3.0, .best_checkpoint = "", .error = ""},
      DatasetSummary{.data = "", .split = "test", .classes = {}, .problems = {}},
      DatasetSummary{
          .data = "",
          .split = "val",
          .images = INT_MAX,
          .classes = {{.name = "", .images = 0, .instances = INT_MAX}},
          .problems =
              {{.file = "a b/\"q\".txt", .line = INT_MAX, .level = "warning", .reason = ""}},
          .problems_total = 100000},
  };
}

std::string withoutNewline(std::string line) {
  if (line.ends_with('\n')) line.pop_back();
  return line;
}

Message decodeOk(std::string_view line) {
  DecodeResult result = decode(line);
  EXPECT_TRUE(result.ok()) << line << "\n-> " << result.error().reason;
  return result.ok() ? std::move(result).value() : Message{};
}

std::string errorOf(std::string_view line) {
  const DecodeResult result = decode(line);
  EXPECT_FALSE(result.ok()) << "decoded without error: " << line;
  return result.ok() ? std::string() : result.error().reason;
}

// encode(message), then `edit` applied to its JSON object.
template <class Edit>
std::string editedLine(const Message& message, Edit edit) {
  Json object = Json::parse(encode(message));
  edit(object);
  return object.dump();
}

std::string withValue(const Message& message, const std::string& pointer, const Json& value) {
  return editedLine(message, [&](Json& object) { object[Json::json_pointer(pointer)] = value; });
}

std::string withoutField(const Message& message, const std::string& pointer) {
  const Json::json_pointer path(pointer);
  return editedLine(message,
                    [&](Json& object) { object[path.parent_pointer()].erase(path.back()); });
}

template <class M>
M sampleOf() {
  for (const auto& message : sampleMessages())
    if (const M* found = std::get_if<M>(&message)) return *found;
  throw std::logic_error("no sample");
}

std::string readDocs() {
  // Sources are compiled by absolute path, so the docs lie two folders above this file.
  const auto path = std::filesystem::path(SYNCBN_SOURCE_DIR) / "docs/protocol.md";
  std::ifstream file(path);
  EXPECT_TRUE(file) << "cannot read " << path;
  std::stringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

// ---- Encoding and round trips ----

TEST(Protocol, SamplesCoverEveryMessageType) {
  std::set<std::size_t> types;
  for (const auto& message : sampleMessages())
    types.insert(message.index());
  EXPECT_EQ(types.size(), std::variant_size_v<Message>);
}

TEST(Protocol, TypeNamesAreTheWireNames) {
  std::vector<std::string_view> names;
  for (const auto& message : sampleMessages())
    names.push_back(typeName(message));
  const std::vector<std::string_view> expected{"hello",    "run_started", "step", "bn_stats",
                                               "val",      "checkpoint",  "log",  "rank_exit",
                                               "finished", "dataset",     "stop", "checkpoint_now"};
  EXPECT_EQ(names, expected);
}

TEST(Protocol, EncodeWritesOneLineStartingWithVersionAndType) {
  for (const auto& message : sampleMessages()) {
    const std::string line = encode(message);
    SCOPED_TRACE(line);
    EXPECT_TRUE(line.ends_with('\n'));
    EXPECT_EQ(line.find('\n'), line.size() - 1);
    const std::string prefix = "{\"v\":3,\"type\":\"" + std::string(typeName(message)) + "\"";
    EXPECT_TRUE(line.starts_with(prefix));
  }
}

TEST(Protocol, EverySampleRoundTrips) {
  for (const auto& message : sampleMessages()) {
    SCOPED_TRACE(typeName(message));
    EXPECT_EQ(decodeOk(encode(message)), message);
  }
}

TEST(Protocol, EdgeValuesRoundTrip) {
  for (const auto& message : edgeMessages()) {
    SCOPED_TRACE(encode(message));
    EXPECT_EQ(decodeOk(encode(message)), message);
  }
}

TEST(Protocol, NegativeZeroKeepsItsSign) {
  Step step;
  step.lr = -0.0;
  const auto decoded = std::get<Step>(decodeOk(encode(step)));
  EXPECT_TRUE(std::signbit(decoded.lr));
}

TEST(Protocol, NonFiniteDoublesTravelAsNullAndComeBackAsNaN) {
  Step step = sampleOf<Step>();
  step.losses["box"] = kNaN;
  step.losses["cls"] = kInf;
  step.rank_losses[1]["dfl"] = -kInf;
  step.lr = kNaN;
  const std::string line = encode(step);
  EXPECT_NE(line.find("\"box\":null"), std::string::npos) << line;
  EXPECT_NE(line.find("\"lr\":null"), std::string::npos) << line;

  Step decoded = std::get<Step>(decodeOk(line));
  EXPECT_TRUE(std::isnan(decoded.losses["box"]));
  EXPECT_TRUE(std::isnan(decoded.losses["cls"]));
  EXPECT_TRUE(std::isnan(decoded.rank_losses[1]["dfl"]));
  EXPECT_TRUE(std::isnan(decoded.lr));
  // Apart from the non-finite values, the message is unchanged.
  for (Step* s : {&step, &decoded}) {
    s->losses["box"] = s->losses["cls"] = s->rank_losses[1]["dfl"] = s->lr = 0;
  }
  EXPECT_EQ(decoded, step);
}

TEST(Protocol, NullMeansNaNInEveryDoubleField) {
  const std::string line = editedLine(sampleOf<Val>(), [](Json& object) {
    object["fitness"] = nullptr;
    object["classes"][1]["map50_95"] = nullptr;
  });
  const auto decoded = std::get<Val>(decodeOk(line));
  EXPECT_TRUE(std::isnan(decoded.fitness));
  EXPECT_TRUE(std::isnan(decoded.classes[1].map50_95));
  EXPECT_EQ(decoded.classes[0], sampleOf<Val>().classes[0]);
}

TEST(Protocol, InvalidUtf8IsReplacedInsteadOfFailing) {
  const Log log{.level = "error", .rank = 1, .text = "stderr: \xff\xfe tail"};
  const auto decoded = std::get<Log>(decodeOk(encode(log)));
  EXPECT_EQ(decoded.text, "stderr: \xEF\xBF\xBD\xEF\xBF\xBD tail");
}

// ---- Hand-written lines: an oracle independent of the encoder ----

TEST(Protocol, HandWrittenStepDecodes) {
  // Fields in another order, integers where doubles are expected, and a field from the future.
  const auto decoded = std::get<Step>(decodeOk(
      R"({"iteration":120,"type":"step","epoch":2,"losses":{"box":1.25,"cls":0.5,"dfl":1},)"
      R"("rank_losses":[{"box":1.5},{"box":1}],"lr":0.01,"images_per_second":250,)"
      R"("ranks":[{"comm_ms":4.25,"rank":0,"data_ms":1.5,"compute_ms":80,"gpu_util":97}],)"
      R"("grad_norm":[1,2,3],"v":1})"));
  const Step expected{.epoch = 2,
                      .iteration = 120,
                      .losses = {{"box", 1.25}, {"cls", 0.5}, {"dfl", 1.0}},
                      .rank_losses = {{{"box", 1.5}}, {{"box", 1.0}}},
                      .lr = 0.01,
                      .images_per_second = 250,
                      .ranks = {{.rank = 0, .data_ms = 1.5, .compute_ms = 80, .comm_ms = 4.25}}};
  EXPECT_EQ(decoded, expected);
}

TEST(Protocol, HandWrittenHelloAndCommandsDecode) {
  EXPECT_EQ(
      decodeOk(R"({"v":1,"type":"hello","protocol":1,"engine_version":"0.2.0","token":"abc"})"),
      Message(Hello{.protocol = 1, .engine_version = "0.2.0", .token = "abc"}));
  EXPECT_EQ(decodeOk(R"({"v":1,"type":"stop"})"), Message(Stop{}));
  EXPECT_EQ(decodeOk(" { \"type\" : \"checkpoint_now\" , \"v\" : 1 } \r\n"),
            Message(CheckpointNow{}));
}

TEST(Protocol, HandWrittenEscapesDecodeToUtf8) {
  const auto decoded = std::get<Log>(decodeOk(
      R"({"v":1,"type":"log","level":"info","rank":-1,"text":"caf\u00e9 \ud83d\ude00\nnext"})"));
  EXPECT_EQ(decoded, (Log{.level = "info", .rank = -1, .text = "café 😀\nnext"}));
}

TEST(Protocol, HandWrittenValAndFinishedDecode) {
  const auto val = std::get<Val>(decodeOk(
      R"({"v":1,"type":"val","epoch":9,"precision":0.5,"recall":0.25,"map50":0.375,)"
      R"("map50_95":0.125,"fitness":0.15,"classes":[{"name":"person","images":12,)"
      R"("instances":40,"precision":0.5,"recall":0.25,"map50":0.375,"map50_95":0.125}]})"));
  EXPECT_EQ(val, (Val{.epoch = 9,
                      .precision = 0.5,
                      .recall = 0.25,
                      .map50 = 0.375,
                      .map50_95 = 0.125,
                      .fitness = 0.15,
                      .classes = {{.name = "person",
                                   .images = 12,
                                   .instances = 40,
                                   .precision = 0.5,
                                   .recall = 0.25,
                                   .map50 = 0.375,
                                   .map50_95 = 0.125}}}));

  const auto finished = std::get<Finished>(decodeOk(
      R"({"v":1,"type":"finished","status":"failed","epochs_completed":0,"best_fitness":null,)"
      R"("map50":0,"map50_95":0,"best_checkpoint":"","error":"rank 1 exited with code 1"})"));
  EXPECT_EQ(finished.status, "failed");
  EXPECT_TRUE(std::isnan(finished.best_fitness));
  EXPECT_EQ(finished.error, "rank 1 exited with code 1");
}

TEST(Protocol, HandWrittenBnStatsCheckpointAndRankExitDecode) {
  EXPECT_EQ(decodeOk(R"({"v":1,"type":"bn_stats","iteration":7,"layers":[{"layer":"model.0.bn",)"
                     R"("divergence":0.5,"rank_mean":[1,2],"rank_var":[3,4.5]}]})"),
            Message(bnStatsOfOneLayer(7, "model.0.bn", 0.5, {1, 2}, {3, 4.5})));
  EXPECT_EQ(decodeOk(R"({"v":1,"type":"checkpoint","path":"w/last.pt","kind":"last",)"
                     R"("epoch":4,"iteration":40})"),
            Message(Checkpoint{.path = "w/last.pt", .kind = "last", .epoch = 4, .iteration = 40}));
  EXPECT_EQ(
      decodeOk(R"({"v":1,"type":"rank_exit","rank":3,"exit_code":1,"signal":0,"reason":"oom"})"),
      Message(RankExit{.rank = 3, .exit_code = 1, .signal = 0, .reason = "oom"}));
}

TEST(Protocol, HandWrittenVersionThreeBnStatsAndValDecode) {
  const auto bn = std::get<BnStats>(decodeOk(
      R"({"type":"bn_stats","v":3,"worst_layer":"model.2.cv1.bn","noise_median":0.25,)"
      R"("noise_max":0.5,"disagreement_median":0,"disagreement_max":0,"layers_total":2,)"
      R"("rank_images":[4,0],"iteration":3,"layers":[{"rank_running_var":[1,1],"layer":)"
      R"("model.2.cv1.bn","divergence":0.5,"rank_mean":[1,0],"rank_var":[2,0],)"
      R"("disagreement":0,"noise":0.5,"rank_noise":[0.5,0],"rank_running_mean":[0.5,0.5]}]})"));
  const BnStats expected{.iteration = 3,
                         .layers = {{.layer = "model.2.cv1.bn",
                                     .divergence = 0.5,
                                     .rank_mean = {1, 0},
                                     .rank_var = {2, 0},
                                     .disagreement = 0,
                                     .noise = 0.5,
                                     .rank_noise = {0.5, 0},
                                     .rank_running_mean = {0.5, 0.5},
                                     .rank_running_var = {1, 1}}},
                         .rank_images = {4, 0},
                         .layers_total = 2,
                         .disagreement_max = 0,
                         .disagreement_median = 0,
                         .noise_max = 0.5,
                         .noise_median = 0.25,
                         .worst_layer = "model.2.cv1.bn"};
  EXPECT_EQ(bn, expected);
  const auto val = std::get<Val>(decodeOk(
      R"({"v":3,"type":"val","epoch":0,"time":2,"precision":0,"recall":0,"map50":0,)"
      R"("map50_95":0,"fitness":0,"classes":[],"dfl_loss":1.5,"cls_loss":2,"box_loss":null})"));
  EXPECT_TRUE(std::isnan(val.box_loss));
  EXPECT_EQ(val.cls_loss, 2);
  EXPECT_EQ(val.dfl_loss, 1.5);
}

TEST(Protocol, HandWrittenDatasetSummaryDecodes) {
  const auto decoded = std::get<DatasetSummary>(decodeOk(
      R"({"v":1,"type":"dataset","split":"val","data":"d.yaml","images":3,"backgrounds":1,)"
      R"("skipped":1,"duplicates_removed":0,"instances":4,"classes":[{"name":"cat","images":2,)"
      R"("instances":4}],"problems":[{"file":"labels/x.txt","line":2,"level":"error",)"
      R"("reason":"expected 5 columns, got 4"}],"problems_total":7})"));
  const DatasetSummary expected{.data = "d.yaml",
                                .split = "val",
                                .images = 3,
                                .backgrounds = 1,
                                .skipped = 1,
                                .duplicates_removed = 0,
                                .instances = 4,
                                .classes = {{.name = "cat", .images = 2, .instances = 4}},
                                .problems = {{.file = "labels/x.txt",
                                              .line = 2,
                                              .level = "error",
                                              .reason = "expected 5 columns, got 4"}},
                                .problems_total = 7};
  EXPECT_EQ(decoded, expected);
}

// ---- Versions ----

// The fields each version added, by message type.
const std::vector<std::string> kVersion2Fields{"time", "start_time"};
const std::map<std::string, std::vector<std::string>> kVersion3Fields{
    {"bn_stats",
     {"rank_images", "layers_total", "disagreement_max", "disagreement_median", "noise_max",
      "noise_median", "worst_layer"}},
    {"val", {"box_loss", "cls_loss", "dfl_loss"}}};
const std::vector<std::string> kVersion3LayerFields{"disagreement", "noise", "rank_noise",
                                                    "rank_running_mean", "rank_running_var"};

// `message` as a peer of an older `version` sends it: "v" set, without the fields later versions
// added.
std::string asVersion(int version, const Message& message) {
  return editedLine(message, [&](Json& object) {
    object["v"] = version;
    if (version < 3) {
      const auto added = kVersion3Fields.find(std::string(typeName(message)));
      if (added != kVersion3Fields.end())
        for (const auto& field : added->second)
          object.erase(field);
      if (object.contains("layers"))
        for (auto& layer : object["layers"])
          for (const auto& field : kVersion3LayerFields)
            layer.erase(field);
    }
    if (version < 2)
      for (const auto& field : kVersion2Fields)
        object.erase(field);
  });
}

// What the decoder makes of an older version's line: the later fields at their defaults.
Message withoutFieldsAfter(int version, Message message) {
  if (auto* bn = std::get_if<BnStats>(&message); bn && version < 3) {
    bn->rank_images.clear();
    bn->layers_total = 0;
    bn->disagreement_max = bn->disagreement_median = bn->noise_max = bn->noise_median = 0;
    bn->worst_layer.clear();
    for (auto& layer : bn->layers) {
      layer.disagreement = layer.noise = 0;
      layer.rank_noise.clear();
      layer.rank_running_mean.clear();
      layer.rank_running_var.clear();
    }
  }
  if (auto* val = std::get_if<Val>(&message); val && version < 3)
    val->box_loss = val->cls_loss = val->dfl_loss = 0;
  if (version < 2) {
    if (auto* step = std::get_if<Step>(&message)) step->time = 0;
    if (auto* val = std::get_if<Val>(&message)) val->time = 0;
    if (auto* started = std::get_if<RunStarted>(&message)) started->start_time = 0;
  }
  return message;
}

TEST(Protocol, EncodesTheNewestVersionAndHelloAnnouncesIt) {
  EXPECT_EQ(kProtocolVersion, 3);
  EXPECT_EQ(kOldestProtocolVersion, 1);
  EXPECT_EQ(Hello{}.protocol, kProtocolVersion);
  EXPECT_TRUE(encode(Stop{}).starts_with(R"({"v":3,)"));
}

TEST(Protocol, OlderVersionsLinesDecodeWithTheLaterFieldsAtZero) {
  for (const int version : {1, 2}) {
    for (const auto& message : sampleMessages()) {
      SCOPED_TRACE("version " + std::to_string(version) + " " + std::string(typeName(message)));
      EXPECT_EQ(decodeOk(asVersion(version, message)), withoutFieldsAfter(version, message));
    }
  }
  // A field of a later version in an older line is an unknown field, and ignored.
  EXPECT_EQ(decodeOk(withValue(sampleOf<Step>(), "/v", 1)),
            withoutFieldsAfter(1, sampleOf<Step>()));
  EXPECT_EQ(decodeOk(withValue(sampleOf<BnStats>(), "/v", 2)),
            withoutFieldsAfter(2, sampleOf<BnStats>()));
  EXPECT_EQ(decodeOk(withValue(sampleOf<Val>(), "/v", 2)), withoutFieldsAfter(2, sampleOf<Val>()));
  EXPECT_EQ(
      std::get<Step>(
          decodeOk(R"({"v":1,"type":"step","epoch":0,"iteration":5,"losses":{},"rank_losses":[],)"
                   R"("lr":0.01,"images_per_second":20,"ranks":[]})"))
          .time,
      0);
}

TEST(Protocol, VersionTwoAndThreeLinesRequireTheirFields) {
  EXPECT_EQ(errorOf(withoutField(sampleOf<Step>(), "/time")), "step.time: missing field");
  EXPECT_EQ(errorOf(withoutField(sampleOf<Val>(), "/time")), "val.time: missing field");
  EXPECT_EQ(errorOf(withoutField(sampleOf<RunStarted>(), "/start_time")),
            "run_started.start_time: missing field");
  EXPECT_EQ(errorOf(withValue(sampleOf<Step>(), "/time", "97")),
            "step.time: expected number or null, got string");
  EXPECT_EQ(errorOf(withoutField(sampleOf<Val>(), "/box_loss")), "val.box_loss: missing field");
  EXPECT_EQ(errorOf(withoutField(sampleOf<BnStats>(), "/worst_layer")),
            "bn_stats.worst_layer: missing field");
  EXPECT_EQ(errorOf(withoutField(sampleOf<BnStats>(), "/layers/1/rank_noise")),
            "bn_stats.layers[1].rank_noise: missing field");
  EXPECT_EQ(errorOf(withValue(sampleOf<BnStats>(), "/layers/0/noise", "0.2")),
            "bn_stats.layers[0].noise: expected number or null, got string");
  EXPECT_EQ(errorOf(withValue(sampleOf<BnStats>(), "/rank_images/1", -1)),
            "bn_stats.rank_images[1]: must be >= 0, got -1");
  EXPECT_EQ(errorOf(withValue(sampleOf<BnStats>(), "/layers_total", -57)),
            "bn_stats.layers_total: must be >= 0, got -57");
  EXPECT_EQ(errorOf(withValue(sampleOf<BnStats>(), "/rank_images/0", 8.5)),
            "bn_stats.rank_images[0]: expected integer, got floating-point number");
  const std::string version2Line =
      R"({"v":2,"type":"val","epoch":1,"time":3.5,"precision":0.5,"recall":0.25,"map50":0.375,)"
      R"("map50_95":0.125,"fitness":0.15,"classes":[]})";
  // A version-2 line needs no version-3 field; the same line as version 3 lacks them.
  EXPECT_EQ(std::get<Val>(decodeOk(version2Line)).box_loss, 0);
  EXPECT_EQ(errorOf("{\"v\":3" + version2Line.substr(6)), "val.box_loss: missing field");
}

TEST(Protocol, RefusesVersionsItDoesNotKnowNamingTheOnesItDoes) {
  EXPECT_EQ(errorOf(withValue(sampleOf<Step>(), "/v", 4)),
            "unsupported protocol version 4 (this build supports versions 1 to 3)");
  EXPECT_EQ(errorOf(withValue(sampleOf<Hello>(), "/v", 4)),
            "unsupported protocol version 4 (this build supports versions 1 to 3)");
}

// ---- Malformed input ----

TEST(Protocol, ReportsWhatIsWrongWithTheEnvelope) {
  EXPECT_EQ(errorOf(""), "empty line");
  EXPECT_EQ(errorOf("\r\n"), "empty line");
  EXPECT_EQ(errorOf("[1,2]"), "expected a JSON object, got array");
  EXPECT_EQ(errorOf(R"("stop")"), "expected a JSON object, got string");
  EXPECT_EQ(errorOf("null"), "expected a JSON object, got null");
  EXPECT_EQ(errorOf(R"({"type":"stop"})"), "v: missing field");
  EXPECT_EQ(errorOf(R"({"v":"1","type":"stop"})"), "v: expected integer, got string");
  EXPECT_EQ(errorOf(R"({"v":1.0,"type":"stop"})"),
            "v: expected integer, got floating-point number");
  EXPECT_EQ(errorOf(R"({"v":4,"type":"stop"})"),
            "unsupported protocol version 4 (this build supports versions 1 to 3)");
  EXPECT_EQ(errorOf(R"({"v":0,"type":"stop"})"),
            "unsupported protocol version 0 (this build supports versions 1 to 3)");
  EXPECT_EQ(errorOf(R"({"v":1})"), "type: missing field");
  EXPECT_EQ(errorOf(R"({"v":1,"type":7})"), "type: expected string, got integer");
  EXPECT_EQ(errorOf(R"({"v":1,"type":"launch"})"), "unknown message type \"launch\"");
  EXPECT_EQ(errorOf(R"({"v":1,"type":"Stop"})"), "unknown message type \"Stop\"");
}

TEST(Protocol, ReportsInvalidJson) {
  EXPECT_TRUE(errorOf("hello").starts_with("not valid JSON: ")) << errorOf("hello");
  EXPECT_TRUE(errorOf(R"({"v":1,})").starts_with("not valid JSON: "));
  EXPECT_TRUE(errorOf(R"({"v":1,"type":"stop"} {"v":1,"type":"stop"})").starts_with("not valid"));
  EXPECT_TRUE(errorOf(R"({"v":1,"type":"stop")").starts_with("truncated JSON: "));
}

TEST(Protocol, ErrorReasonsStayShortAndPrintableWhateverTheInput) {
  const std::string longText(kMaxLineBytes - 100, 'x');
  const std::vector<std::string> hostile{
      R"({"v":1,"type":")" + longText,                                         // unterminated
      R"({"v":1,"type":")" + longText + "\"}",                                 // unknown type
      withValue(sampleOf<Step>(), "/losses/" + longText, "high"),              // long map key
      withValue(sampleOf<Log>(), "/level", "\u00e9" + std::string(100, 'e')),  // long enum value
      "{\"v\":1,\"type\":\"\xff\xfe\"}",                                       // invalid UTF-8
  };
  for (const auto& line : hostile) {
    const std::string reason = errorOf(line);
    SCOPED_TRACE(reason);
    EXPECT_LT(reason.size(), 300u);
    EXPECT_NE(Json(reason).dump(), "") << "valid UTF-8: dump() would throw otherwise";
  }
  EXPECT_EQ(errorOf(hostile[1]), "unknown message type \"" + std::string(60, 'x') + "...\"");
}

TEST(Protocol, ReportsWrongFieldTypesWithTheirPath) {
  const Step step = sampleOf<Step>();
  EXPECT_EQ(errorOf(withValue(step, "/iteration", "120")),
            "step.iteration: expected integer, got string");
  EXPECT_EQ(errorOf(withValue(step, "/epoch", 2.5)),
            "step.epoch: expected integer, got floating-point number");
  EXPECT_EQ(errorOf(withValue(step, "/losses/box", "high")),
            "step.losses.box: expected number or null, got string");
  EXPECT_EQ(errorOf(withValue(step, "/losses", Json::array())),
            "step.losses: expected object, got array");
  EXPECT_EQ(errorOf(withValue(step, "/rank_losses/1", Json::array())),
            "step.rank_losses[1]: expected object, got array");
  EXPECT_EQ(errorOf(withValue(step, "/ranks/1/comm_ms", true)),
            "step.ranks[1].comm_ms: expected number or null, got boolean");
  EXPECT_EQ(errorOf(withValue(step, "/ranks", Json::object())),
            "step.ranks: expected array, got object");
  EXPECT_EQ(errorOf(withValue(sampleOf<Log>(), "/text", 5)),
            "log.text: expected string, got integer");
  EXPECT_EQ(errorOf(withValue(sampleOf<BnStats>(), "/layers/0/rank_var/1", Json::object())),
            "bn_stats.layers[0].rank_var[1]: expected number or null, got object");
}

TEST(Protocol, EveryTopLevelFieldIsRequiredAndTyped) {
  for (const auto& message : sampleMessages()) {
    const std::string type(typeName(message));
    const Json object = Json::parse(encode(message));
    for (const auto& [key, value] : object.items()) {
      if (key == "v" || key == "type") continue;
      SCOPED_TRACE(type + "." + key);
      EXPECT_EQ(errorOf(withoutField(message, "/" + key)), type + "." + key + ": missing field");
      const Json wrong = value.is_string() ? Json(5) : Json("5");
      const std::string expectedStart = type + "." + key + ": expected ";
      EXPECT_TRUE(errorOf(withValue(message, "/" + key, wrong)).starts_with(expectedStart));
    }
  }
}

TEST(Protocol, ReportsMissingNestedFieldsWithTheirPath) {
  EXPECT_EQ(errorOf(withoutField(sampleOf<Step>(), "/ranks/1/comm_ms")),
            "step.ranks[1].comm_ms: missing field");
  EXPECT_EQ(errorOf(withoutField(sampleOf<Val>(), "/classes/0/name")),
            "val.classes[0].name: missing field");
  EXPECT_EQ(errorOf(withoutField(sampleOf<BnStats>(), "/layers/1/rank_var")),
            "bn_stats.layers[1].rank_var: missing field");
  EXPECT_EQ(errorOf(withoutField(sampleOf<DatasetSummary>(), "/problems/2/reason")),
            "dataset.problems[2].reason: missing field");
  EXPECT_EQ(errorOf(withValue(sampleOf<DatasetSummary>(), "/classes/0/name", 1)),
            "dataset.classes[0].name: expected string, got integer");
}

TEST(Protocol, RejectsImpossibleCountsAndValues) {
  EXPECT_EQ(errorOf(withValue(sampleOf<RunStarted>(), "/world_size", 0)),
            "run_started.world_size: must be >= 1, got 0");
  EXPECT_EQ(errorOf(withValue(sampleOf<RunStarted>(), "/per_rank_batch", -8)),
            "run_started.per_rank_batch: must be >= 1, got -8");
  EXPECT_EQ(errorOf(withValue(sampleOf<Step>(), "/iteration", -1)),
            "step.iteration: must be >= 0, got -1");
  EXPECT_EQ(errorOf(withValue(sampleOf<Val>(), "/classes/1/images", -3)),
            "val.classes[1].images: must be >= 0, got -3");
  EXPECT_EQ(errorOf(withValue(sampleOf<Log>(), "/rank", -2)), "log.rank: must be >= -1, got -2");
  EXPECT_EQ(errorOf(withValue(sampleOf<RunStarted>(), "/device", "tpu")),
            R"(run_started.device: expected one of "cpu", "cuda", got "tpu")");
  EXPECT_EQ(errorOf(withValue(sampleOf<Checkpoint>(), "/kind", "latest")),
            R"(checkpoint.kind: expected one of "last", "best", "interval", got "latest")");
  EXPECT_EQ(errorOf(withValue(sampleOf<Finished>(), "/status", "done")),
            R"(finished.status: expected one of "completed", "stopped", "failed", got "done")");
  EXPECT_EQ(errorOf(withValue(sampleOf<Log>(), "/level", "fatal")),
            R"(log.level: expected one of "debug", "info", "warning", "error", got "fatal")");
  EXPECT_EQ(errorOf(withValue(sampleOf<DatasetSummary>(), "/split", "training")),
            R"(dataset.split: expected one of "train", "val", "test", got "training")");
  EXPECT_EQ(errorOf(withValue(sampleOf<DatasetSummary>(), "/skipped", -1)),
            "dataset.skipped: must be >= 0, got -1");
  EXPECT_EQ(errorOf(withValue(sampleOf<DatasetSummary>(), "/problems/1/line", -3)),
            "dataset.problems[1].line: must be >= 0, got -3");
  EXPECT_EQ(errorOf(withValue(sampleOf<DatasetSummary>(), "/problems/0/level", "fatal")),
            R"(dataset.problems[0].level: expected one of "error", "warning", got "fatal")");
  EXPECT_EQ(errorOf(withValue(sampleOf<DatasetSummary>(), "/classes/2/instances", -5)),
            "dataset.classes[2].instances: must be >= 0, got -5");
}

TEST(Protocol, RejectsIntegersOutOfRange) {
  EXPECT_EQ(errorOf(withValue(sampleOf<Step>(), "/epoch", 3000000000LL)),
            "step.epoch: integer 3000000000 out of range");
  EXPECT_EQ(errorOf(withValue(sampleOf<Step>(), "/iteration", ULLONG_MAX)),
            "step.iteration: integer out of range");
  EXPECT_EQ(errorOf(withValue(sampleOf<RankExit>(), "/exit_code", -3000000000LL)),
            "rank_exit.exit_code: integer -3000000000 out of range");
}

TEST(Protocol, UnknownFieldsAreIgnored) {
  EXPECT_EQ(decodeOk(R"({"v":1,"type":"stop","reason":{"by":"user","at":[1,2]}})"),
            Message(Stop{}));
  const std::string line = withValue(sampleOf<Step>(), "/ranks/0/gpu_memory_mb", 4096);
  EXPECT_EQ(decodeOk(line), Message(sampleOf<Step>()));
}

TEST(Protocol, EveryTruncatedLineIsAnError) {
  for (const auto& message : sampleMessages()) {
    const std::string json = withoutNewline(encode(message));
    for (std::size_t length = 1; length < json.size(); ++length) {
      const std::string reason = errorOf(std::string_view(json).substr(0, length));
      ASSERT_TRUE(reason.starts_with("truncated JSON: "))
          << json.substr(0, length) << ": " << reason;
    }
  }
}

TEST(Protocol, RandomBytesAreRejected) {
  std::mt19937 random(20240611);
  std::uniform_int_distribution<int> anyByte(0, 255);
  const std::string jsonish = R"({}[]":,.-+0123456789eEtrufalsn \vtype)";
  std::uniform_int_distribution<std::size_t> jsonishChar(0, jsonish.size() - 1);
  std::uniform_int_distribution<std::size_t> length(0, 300);
  for (int i = 0; i < 20000; ++i) {
    std::string line(length(random), '\0');
    for (char& c : line)
      c = i % 2 ? static_cast<char>(anyByte(random)) : jsonish[jsonishChar(random)];
    const DecodeResult result = decode(line);
    ASSERT_FALSE(result.ok()) << line;
    ASSERT_FALSE(result.error().reason.empty());
  }
}

TEST(Protocol, MutatedLinesNeverCrashAndWhatDecodesReencodes) {
  std::mt19937 random(7);
  const auto samples = sampleMessages();
  std::uniform_int_distribution<std::size_t> pick(0, samples.size() - 1);
  std::uniform_int_distribution<int> anyByte(0, 255);
  int decoded = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string line = encode(samples[pick(random)]);
    for (int edits = 1 + i % 4; edits > 0; --edits) {
      const std::size_t at = std::uniform_int_distribution<std::size_t>(0, line.size() - 1)(random);
      line[at] = static_cast<char>(anyByte(random));
    }
    const DecodeResult result = decode(line);
    if (!result.ok()) {
      ASSERT_FALSE(result.error().reason.empty());
      continue;
    }
    ++decoded;
    const std::string again = encode(result.value());
    ASSERT_TRUE(decode(again).ok()) << again;
  }
  EXPECT_GT(decoded, 0);  // some edits (a digit, a string byte) leave a valid message
}

TEST(Protocol, DeeplyNestedJsonDoesNotOverflowTheStack) {
  const std::string nested = std::string(200000, '[') + std::string(200000, ']');
  EXPECT_EQ(errorOf(nested), "expected a JSON object, got array");
  EXPECT_EQ(decodeOk(R"({"v":1,"type":"stop","x":)" + nested + "}"), Message(Stop{}));
  EXPECT_TRUE(errorOf(std::string(200000, '[')).starts_with("truncated JSON: "));
}

TEST(Protocol, LinesUpToTheLimitDecodeAndLongerOnesAreRejected) {
  const auto paddedStop = [](std::size_t size) {
    const std::string head = R"({"v":1,"type":"stop")";
    return head + std::string(size - head.size() - 1, ' ') + "}";
  };
  EXPECT_EQ(decodeOk(paddedStop(kMaxLineBytes)), Message(Stop{}));
  EXPECT_EQ(decodeOk(paddedStop(kMaxLineBytes) + "\r\n"), Message(Stop{}));
  EXPECT_EQ(errorOf(paddedStop(kMaxLineBytes + 1)),
            "line of 1048577 bytes exceeds the limit of 1048576 bytes");
}

// ---- LineSplitter ----

std::string encodedStream(const std::vector<Message>& messages) {
  std::string stream;
  for (const auto& message : messages)
    stream += encode(message);
  return stream;
}

// Feeds `stream` in chunks of `chunkSize()` bytes; returns every result in order.
template <class ChunkSize>
std::vector<DecodeResult> readInChunks(LineSplitter& splitter, std::string_view stream,
                                       ChunkSize chunkSize) {
  std::vector<DecodeResult> results;
  while (!stream.empty()) {
    const std::size_t size = std::min(stream.size(), chunkSize());
    for (auto& result : splitter.feedAndDecode(stream.substr(0, size)))
      results.push_back(std::move(result));
    stream.remove_prefix(size);
    EXPECT_LE(splitter.pendingBytes(), kMaxLineBytes + 1);
  }
  return results;
}

std::vector<Message> messagesOf(const std::vector<DecodeResult>& results) {
  std::vector<Message> messages;
  for (const auto& result : results) {
    EXPECT_TRUE(result.ok()) << result.error().reason;
    if (result.ok()) messages.push_back(result.value());
  }
  return messages;
}

TEST(LineSplitter, ReassemblesLinesSplitAcrossChunks) {
  const std::vector<Message> samples = sampleMessages();
  const std::string stream = encodedStream(samples);
  for (const std::size_t chunk : {std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{17},
                                  std::size_t{4096}, stream.size()}) {
    SCOPED_TRACE(chunk);
    LineSplitter splitter;
    EXPECT_EQ(messagesOf(readInChunks(splitter, stream, [&] { return chunk; })), samples);
    EXPECT_EQ(splitter.pendingBytes(), 0u);
  }
  std::mt19937 random(3);
  std::uniform_int_distribution<std::size_t> size(1, 300);
  LineSplitter splitter;
  EXPECT_EQ(messagesOf(readInChunks(splitter, stream, [&] { return size(random); })), samples);
}

TEST(LineSplitter, ToleratesCrlfAndSkipsBlankLines) {
  std::string stream = "\n\r\n";
  for (const auto& message : sampleMessages())
    stream += withoutNewline(encode(message)) + "\r\n\n";
  LineSplitter splitter;
  splitter.feed(stream);
  const auto lines = splitter.take();
  ASSERT_EQ(lines.size(), sampleMessages().size());
  for (const auto& line : lines) {
    ASSERT_TRUE(line.ok());
    EXPECT_FALSE(line.value().ends_with('\r'));
  }
  EXPECT_TRUE(splitter.take().empty());
  EXPECT_EQ(messagesOf(LineSplitter().feedAndDecode(stream)), sampleMessages());
}

TEST(LineSplitter, KeepsAnUnfinishedLineUntilItsNewline) {
  const std::string line = encode(sampleOf<Checkpoint>());
  LineSplitter splitter;
  EXPECT_TRUE(splitter.feedAndDecode(line.substr(0, 10)).empty());
  EXPECT_EQ(splitter.pendingBytes(), 10u);
  const auto results = splitter.feedAndDecode(line.substr(10));
  EXPECT_EQ(messagesOf(results), std::vector<Message>{sampleOf<Checkpoint>()});
  EXPECT_EQ(splitter.pendingBytes(), 0u);
}

TEST(LineSplitter, DropsAnOversizedLineOnceAndGoesOn) {
  const Log huge{.level = "info", .rank = 0, .text = std::string(2 << 20, 'x')};
  const std::string stream = encode(huge) + encode(Stop{}) + encode(CheckpointNow{});
  std::mt19937 random(11);
  std::uniform_int_distribution<std::size_t> size(1, 100000);
  for (int run = 0; run < 5; ++run) {
    LineSplitter splitter;
    const auto results = readInChunks(splitter, stream, [&] { return size(random); });
    ASSERT_EQ(results.size(), 3u);
    ASSERT_FALSE(results[0].ok());
    EXPECT_EQ(results[0].error().reason, "oversized line dropped: longer than 1048576 bytes");
    ASSERT_TRUE(results[1].ok()) << results[1].error().reason;
    EXPECT_EQ(results[1].value(), Message(Stop{}));
    ASSERT_TRUE(results[2].ok());
    EXPECT_EQ(results[2].value(), Message(CheckpointNow{}));
  }
}

TEST(LineSplitter, ReportsEachLineJustPastTheLimitOnce) {
  for (const std::size_t excess : {1, 2, 100}) {
    SCOPED_TRACE(excess);
    const std::string stream = std::string(kMaxLineBytes + excess, 'x') + "\n" + encode(Stop{});
    LineSplitter splitter;
    const auto results = splitter.feedAndDecode(stream);
    ASSERT_EQ(results.size(), 2u);
    EXPECT_FALSE(results[0].ok());
    EXPECT_EQ(messagesOf({results[1]}), std::vector<Message>{Stop{}});
  }
}

// ---- docs/protocol.md ----

TEST(ProtocolDocs, ShowTheExactEncodingOfEverySample) {
  const std::string docs = readDocs();
  for (const auto& message : sampleMessages()) {
    const std::string line = withoutNewline(encode(message));
    EXPECT_NE(docs.find("\n" + line + "\n"), std::string::npos)
        << "docs/protocol.md lacks this example line:\n"
        << line;
  }
}

TEST(ProtocolDocs, EveryExampleLineDecodesAndReencodesUnchanged) {
  std::istringstream docs(readDocs());
  int examples = 0;
  for (std::string line; std::getline(docs, line);) {
    if (!line.starts_with("{\"v\":")) continue;
    ++examples;
    EXPECT_EQ(encode(decodeOk(line)), line + "\n");
  }
  EXPECT_GT(examples, static_cast<int>(std::variant_size_v<Message>));
}

}  // namespace
}  // namespace syncbn::protocol
