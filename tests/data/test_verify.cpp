// Verification: every kind of bad file is reported with its reason (and line) and skipped while
// the good images remain; the label cache is used, invalidated per file, and survives garbage.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "data/verify.h"
#include "temp_dir.h"

namespace syncbn::data {
namespace {

namespace fs = std::filesystem;
using testing::readFile;
using testing::TempDir;
using testing::writeFile;

std::string jpegBytes(int width, int height) {
  cv::Mat image(height, width, CV_8UC3);
  cv::randu(image, 0, 255);
  std::vector<std::uint8_t> bytes;
  EXPECT_TRUE(cv::imencode(".jpg", image, bytes));
  return std::string(bytes.begin(), bytes.end());
}

TEST(ParseLabels, ReadsRowsSkipsBlankLinesAndRemovesDuplicates) {
  const ParsedLabels parsed =
      parseLabels("0 0.5 0.5 0.2 0.3\n\n  \n2 0.1 0.2 0.05 0.1\r\n0 0.5 0.5 0.2 0.3\n", 3);
  ASSERT_TRUE(parsed.ok()) << parsed.error;
  const std::vector<LabelRow> expected{{0, 0.5f, 0.5f, 0.2f, 0.3f}, {2, 0.1f, 0.2f, 0.05f, 0.1f}};
  EXPECT_EQ(parsed.rows, expected);
  EXPECT_EQ(parsed.duplicatesRemoved, 1u);
  EXPECT_TRUE(parseLabels("", 3).ok());
  EXPECT_TRUE(parseLabels("1 1.00001 0 1 -0.00001\n", 3).ok()) << "within tolerance";
}

TEST(ParseLabels, ReportsTheFirstProblemWithItsLine) {
  const auto problem = [](const std::string& text) {
    const ParsedLabels parsed = parseLabels(text, 3);
    EXPECT_TRUE(parsed.rows.empty());
    return std::to_string(parsed.errorLine) + ": " + parsed.error;
  };
  EXPECT_EQ(problem("0 0.5 0.5 0.2 0.2\n1 0.5 0.5 0.2\n"),
            "2: expected 5 columns (class x_center y_center width height), got 4");
  EXPECT_EQ(problem("0 0.5 abc 0.2 0.2\n"), "1: y_center: 'abc' is not a number");
  EXPECT_EQ(problem("0 0.5 nan 0.2 0.2\n"), "1: y_center: 'nan' is not a number");
  EXPECT_EQ(problem("\n7 0.5 0.5 0.2 0.2\n"), "2: class 7 is not in names (3 classes: 0-2)");
  EXPECT_EQ(problem("1.5 0.5 0.5 0.2 0.2\n"), "1: class 1.5 is not in names (3 classes: 0-2)");
  EXPECT_EQ(problem("-1 0.5 0.5 0.2 0.2\n"), "1: class -1 is not in names (3 classes: 0-2)");
  EXPECT_EQ(problem("0 0.5 0.5 1.3 0.2\n"),
            "1: width 1.3 is outside [0, 1]: coordinates must be normalised");
  EXPECT_EQ(problem("0 -0.1 0.5 0.3 0.2\n"),
            "1: x_center -0.1 is outside [0, 1]: coordinates must be normalised");
  EXPECT_EQ(problem("0 0.5 0.5 0.2 0.2 0.9 0.9\n"),
            "1: expected 5 columns (class x_center y_center width height), got 7");
}

// A split with one file of each kind of problem next to good images.
class PlantedDataset : public ::testing::Test {
 protected:
  void SetUp() override {
    good("good1", "0 0.5 0.5 0.2 0.2\n1 0.25 0.25 0.1 0.1\n");
    good("good2", "2 0.5 0.5 0.9 0.9\n");
    writeFile(dir / "images/train/background.jpg", jpegBytes(40, 30));  // no label file
    // Dataset-style name collisions are fine: labels follow images.
    writeFile(dir / "images/train/corrupt.jpg", "\xFF\xD8" + std::string(500, 'x') + "\xFF\xD9");
    const std::string whole = jpegBytes(64, 64);
    writeFile(dir / "images/train/truncated.jpg", whole.substr(0, whole.size() / 2));
    cv::imwrite((dir / "images/train/tiny.png").string(), cv::Mat(5, 5, CV_8UC3, cv::Scalar(1)));
    good("columns", "0 0.5 0.5 0.2 0.2\n0 0.5 0.5 0.2\n");
    good("notanumber", "0 0.5 0.5 abc 0.2\n");
    good("class7", "0 0.5 0.5 0.2 0.2\n1 0.5 0.5 0.2 0.2\n7 0.5 0.5 0.2 0.2\n");
    good("coordinate", "0 1.3 0.5 0.2 0.2\n");
    good("duplicate", "1 0.5 0.5 0.2 0.2\n1 0.5 0.5 0.2 0.2\n0 0.1 0.1 0.1 0.1\n");
    writeFile(dir / "data.yaml", "train: images/train\nval: images/train\nnames: [a, b, c]\n");
  }

  void good(const std::string& name, const std::string& labels) {
    writeFile(dir / ("images/train/" + name + ".jpg"), jpegBytes(48, 32));
    writeFile(dir / ("labels/train/" + name + ".txt"), labels);
  }

  SplitReport verify(const VerifyOptions& options = {.workers = 3, .useCache = true}) {
    const DatasetDescription dataset = loadDataYaml(dir / "data.yaml");
    return verifyImages("train", listImages(dataset, *dataset.split("train")), 3, options);
  }

  static const Problem* problemFor(const SplitReport& report, const fs::path& file) {
    const auto it = std::find_if(report.problems.begin(), report.problems.end(),
                                 [&](const Problem& p) { return p.file == file; });
    return it == report.problems.end() ? nullptr : &*it;
  }

  TempDir dir;
};

TEST_F(PlantedDataset, EveryBadFileIsSkippedWithItsReasonAndTheGoodOnesRemain) {
  const SplitReport report = verify();
  const auto expectProblem = [&](const std::string& file, int line, const std::string& reason) {
    const Problem* p = problemFor(report, dir / file);
    ASSERT_NE(p, nullptr) << file;
    EXPECT_TRUE(p->skipped) << file;
    EXPECT_EQ(p->line, line) << file;
    EXPECT_NE(p->reason.find(reason), std::string::npos) << file << ": " << p->reason;
  };
  expectProblem("images/train/corrupt.jpg", 0, "cannot decode image");
  expectProblem("images/train/truncated.jpg", 0, "truncated JPEG");
  expectProblem("images/train/tiny.png", 0, "image is 5x5 px: smaller than 10 px on a side");
  expectProblem("labels/train/columns.txt", 2, "expected 5 columns");
  expectProblem("labels/train/notanumber.txt", 1, "width: 'abc' is not a number");
  expectProblem("labels/train/class7.txt", 3, "class 7 is not in names (3 classes: 0-2)");
  expectProblem("labels/train/coordinate.txt", 1, "x_center 1.3 is outside [0, 1]");
  EXPECT_EQ(report.skipped, 7u);

  std::vector<std::string> usable;
  for (const auto& s : report.samples)
    usable.push_back(s.image.filename().string());
  EXPECT_EQ(usable, (std::vector<std::string>{"background.jpg", "duplicate.jpg", "good1.jpg",
                                              "good2.jpg"}));
  EXPECT_EQ(report.backgrounds, 1u);
  EXPECT_EQ(report.samples[0].width, 40);
  EXPECT_EQ(report.samples[0].height, 30);
  EXPECT_EQ(report.samples[0].label, dir / "labels/train/background.txt");

  // The duplicate is a warning: removed, counted, the image kept.
  const Problem* duplicate = problemFor(report, dir / "labels/train/duplicate.txt");
  ASSERT_NE(duplicate, nullptr);
  EXPECT_FALSE(duplicate->skipped);
  EXPECT_EQ(duplicate->reason, "1 duplicate label removed");
  EXPECT_EQ(report.duplicatesRemoved, 1u);
  EXPECT_EQ(report.samples[1].rows.size(), 2u);
  EXPECT_EQ(report.instances, 5u);
  EXPECT_EQ(report.classInstances, (std::vector<std::size_t>{2, 2, 1}));
  EXPECT_EQ(report.classImages, (std::vector<std::size_t>{2, 2, 1}));
}

TEST_F(PlantedDataset, SummaryMessageCapsTheProblemList) {
  const DatasetReport report = verifyDataset(dir / "data.yaml", {.workers = 2, .useCache = false});
  ASSERT_EQ(report.splits.size(), 2u);
  const protocol::DatasetSummary summary = summarize(report, report.splits[0], 3);
  EXPECT_EQ(summary.split, "train");
  EXPECT_EQ(summary.images, 4);
  EXPECT_EQ(summary.skipped, 7);
  EXPECT_EQ(summary.problems.size(), 3u);
  EXPECT_EQ(summary.problems_total, 8);
  ASSERT_EQ(summary.classes.size(), 3u);
  EXPECT_EQ(summary.classes[2].name, "c");
  EXPECT_EQ(summary.classes[0].instances, 2);
  const protocol::DecodeResult decoded = protocol::decode(protocol::encode(summary));
  ASSERT_TRUE(decoded.ok()) << decoded.error().reason;
  EXPECT_EQ(std::get<protocol::DatasetSummary>(decoded.value()), summary);
}

TEST_F(PlantedDataset, SecondRunUsesTheCacheAndAChangedLabelIsVerifiedAgain) {
  const SplitReport first = verify();
  EXPECT_EQ(first.checked, 11u);
  EXPECT_EQ(first.fromCache, 0u);
  EXPECT_EQ(first.cacheFile, dir / "labels/train.syncbn-cache.json");
  EXPECT_TRUE(fs::exists(first.cacheFile)) << first.cacheNote;

  const SplitReport second = verify();
  EXPECT_EQ(second.checked, 0u);
  EXPECT_EQ(second.fromCache, 11u);
  EXPECT_EQ(second.samples, first.samples);
  EXPECT_EQ(second.problems, first.problems);

  // Same size, new contents, later modification time: only that entry is verified again.
  const fs::path label = dir / "labels/train/good2.txt";
  const auto before = fs::last_write_time(label);
  writeFile(label, "1 0.5 0.5 0.9 0.9\n");
  fs::last_write_time(label, before + std::chrono::seconds(5));
  const SplitReport third = verify();
  EXPECT_EQ(third.checked, 1u);
  EXPECT_EQ(third.fromCache, 10u);
  const auto good2 = std::find_if(third.samples.begin(), third.samples.end(),
                                  [](const Sample& s) { return s.image.stem() == "good2"; });
  ASSERT_NE(good2, third.samples.end());
  EXPECT_EQ(good2->rows, (std::vector<LabelRow>{{1, 0.5f, 0.5f, 0.9f, 0.9f}}));

  // Fixing a bad label file brings its image back.
  writeFile(dir / "labels/train/class7.txt", "2 0.5 0.5 0.2 0.2\n");
  const SplitReport fourth = verify();
  EXPECT_EQ(fourth.checked, 1u);
  EXPECT_EQ(fourth.samples.size(), 5u);
  EXPECT_EQ(fourth.skipped, 6u);
}

TEST_F(PlantedDataset, GarbageOrForeignCacheIsIgnoredAndRebuilt) {
  const SplitReport first = verify();
  for (const std::string& garbage :
       {std::string("\x93NUMPY garbage{"), std::string("{\"version\": 1, \"classes\": 3}"),
        std::string("{\"version\":1,\"classes\":3,\"images\":{\"x\":5}}"), std::string("[]")}) {
    SCOPED_TRACE(garbage);
    writeFile(first.cacheFile, garbage);
    const SplitReport rebuilt = verify();
    EXPECT_EQ(rebuilt.fromCache, 0u);
    EXPECT_EQ(rebuilt.samples, first.samples);
    EXPECT_EQ(verify().fromCache, 11u) << "the rebuilt cache is used next time";
  }
  // A cache for another number of classes is not trusted: class ids were checked against it.
  const DatasetDescription dataset = loadDataYaml(dir / "data.yaml");
  const SplitReport moreClasses =
      verifyImages("train", listImages(dataset, *dataset.split("train")), 8);
  EXPECT_EQ(moreClasses.fromCache, 0u);
  EXPECT_EQ(moreClasses.skipped, 6u) << "class 7 is valid with 8 classes";
}

TEST_F(PlantedDataset, WithoutCacheNothingIsReadOrWritten) {
  const SplitReport report = verify({.workers = 1, .useCache = false});
  EXPECT_EQ(report.checked, 11u);
  EXPECT_FALSE(fs::exists(report.cacheFile));
}

TEST_F(PlantedDataset, AnUnwritableCacheIsANoteNotAFailure) {
  fs::create_directories(dir / "labels/train.syncbn-cache.json");  // a folder in the way
  const SplitReport report = verify();
  EXPECT_EQ(report.samples.size(), 4u);
  EXPECT_NE(report.cacheNote.find("cache not saved"), std::string::npos);
}

TEST_F(PlantedDataset, ProblemsNameTheImageTheyAreAbout) {
  const SplitReport report = verify();
  const Problem* label = problemFor(report, dir / "labels/train/class7.txt");
  ASSERT_NE(label, nullptr);
  EXPECT_EQ(label->image, dir / "images/train/class7.jpg");
  const Problem* image = problemFor(report, dir / "images/train/corrupt.jpg");
  ASSERT_NE(image, nullptr);
  EXPECT_EQ(image->image, image->file);
}

TEST_F(PlantedDataset, ProgressCountsEveryImageOnceAndEndsAtTheTotal) {
  std::vector<std::size_t> seen;
  std::size_t total = 0;
  const SplitReport report =
      verify({.workers = 3,
              .useCache = false,
              .progress = [&](const std::string& split, std::size_t done, std::size_t all) {
                EXPECT_EQ(split, "train");
                seen.push_back(done);
                total = all;
              }});
  const std::size_t images = report.samples.size() + report.skipped;
  EXPECT_EQ(total, images);
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back(), images);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));  // calls are serialised, in order
}

TEST_F(PlantedDataset, ASampleVerifiesThatManyImagesAndLeavesTheCacheAsItWas) {
  const DatasetReport full = verifyDataset(dir / "data.yaml", {.workers = 2, .useCache = true});
  const std::string cacheBefore = readFile(full.splits[0].cacheFile);
  const DatasetReport sampled =
      verifyDataset(dir / "data.yaml", {.workers = 2, .useCache = true, .sample = 4});
  const SplitReport& split = sampled.splits[0];
  EXPECT_EQ(split.listed, full.splits[0].listed);
  EXPECT_EQ(split.samples.size() + split.skipped, 4u);
  EXPECT_EQ(split.fromCache, 4u);  // every sampled image was in the full run's cache
  EXPECT_EQ(readFile(split.cacheFile), cacheBefore);
  EXPECT_NE(split.cacheNote.find("sample"), std::string::npos);
  // The same seed draws the same images; the sample keeps the listing order.
  const DatasetReport again =
      verifyDataset(dir / "data.yaml", {.workers = 1, .useCache = false, .sample = 4});
  EXPECT_EQ(again.splits[0].samples, split.samples);
  EXPECT_TRUE(std::is_sorted(split.samples.begin(), split.samples.end(),
                             [](const Sample& a, const Sample& b) { return a.image < b.image; }));
}

TEST(VerifyDataset, ASplitWithNoUsableImageIsAnErrorNamingTheFileAndSplit) {
  TempDir dir;
  writeFile(dir / "images/train/ok.jpg", jpegBytes(20, 20));
  writeFile(dir / "images/val/broken.jpg", "not an image");
  writeFile(dir / "data.yaml", "names: [a]\ntrain: images/train\nval: images/val\n");
  const DatasetReport report = verifyDataset(dir / "data.yaml", {.workers = 1, .useCache = false});
  ASSERT_EQ(report.splits.size(), 2u);
  EXPECT_EQ(report.splits[1].skipped, 1u);
  try {
    requireUsableImages(report);
    FAIL() << "no error";
  } catch (const DatasetError& e) {
    EXPECT_EQ(std::string(e.what()),
              (dir / "data.yaml").string() + ":3: val: no usable image: all 1 images were skipped");
    EXPECT_EQ(e.key(), "val");
  }
}

}  // namespace
}  // namespace syncbn::data
