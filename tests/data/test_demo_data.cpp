// The demo dataset: deterministic, labels that are the tight boxes of what is drawn, and a
// dataset that passes its own verification.
#include <gtest/gtest.h>

#include <cmath>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "data/demo_data.h"
#include "data/verify.h"
#include "temp_dir.h"

namespace syncbn::data {
namespace {

namespace fs = std::filesystem;
using testing::readFile;
using testing::TempDir;

std::map<std::string, std::string> filesUnder(const fs::path& dir) {
  std::map<std::string, std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir))
    if (entry.is_regular_file())
      files[fs::relative(entry.path(), dir).generic_string()] = readFile(entry.path());
  return files;
}

// Checks one rendered image against its object map, with loops of its own.
void expectTruthfulBoxes(const DemoImage& image) {
  const int n = image.size;
  for (std::size_t k = 0; k < image.objects.size(); ++k) {
    SCOPED_TRACE("object " + std::to_string(k));
    const DemoObject& o = image.objects[k];
    int x0 = n, y0 = n, x1 = -1, y1 = -1;
    std::size_t pixels = 0;
    for (int y = 0; y < n; ++y)
      for (int x = 0; x < n; ++x)
        if (image.objectMap[static_cast<std::size_t>(y * n + x)] == k + 1) {
          x0 = std::min(x0, x);
          y0 = std::min(y0, y);
          x1 = std::max(x1, x + 1);
          y1 = std::max(y1, y + 1);
          ++pixels;
        }
    ASSERT_GT(pixels, 0u);
    // The box is exactly the extent of the visible shape: it covers all of it and is tight.
    EXPECT_EQ(o.x0, x0);
    EXPECT_EQ(o.y0, y0);
    EXPECT_EQ(o.x1, x1);
    EXPECT_EQ(o.y1, y1);
    EXPECT_EQ(o.visiblePixels, pixels);
    EXPECT_GE(static_cast<double>(pixels), 0.3 * (x1 - x0) * (y1 - y0)) << "heavily occluded";
    EXPECT_LE(std::max(x1 - x0, y1 - y0), 0.6 * n + 2);
    EXPECT_GE(std::max(x1 - x0, y1 - y0), 0.025 * n);
    EXPECT_GE(o.cls, 0);
    EXPECT_LT(o.cls, 3);
  }
}

TEST(DemoImage, BoxesAreTheTightBoxesOfTheVisibleShapes) {
  std::array<int, 3> perClass{};
  std::size_t objects = 0;
  for (std::uint64_t seed = 0; seed < 40; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const DemoImage image = renderDemoImage(128, seed);
    ASSERT_EQ(image.bgr.size(), 128u * 128u * 3u);
    ASSERT_EQ(image.objectMap.size(), 128u * 128u);
    expectTruthfulBoxes(image);
    objects += image.objects.size();
    for (const auto& o : image.objects)
      ++perClass[static_cast<std::size_t>(o.cls)];
  }
  EXPECT_GT(objects, 80u);
  for (int count : perClass)
    EXPECT_GT(count, 15);
}

TEST(DemoImage, LabelRowsAreNormalisedBoxes) {
  const DemoImage image = renderDemoImage(200, 7);
  ASSERT_FALSE(image.objects.empty());
  const ParsedLabels parsed = parseLabels(demoLabelText(image), 3);
  ASSERT_TRUE(parsed.ok()) << parsed.error;
  ASSERT_EQ(parsed.rows.size(), image.objects.size());
  for (std::size_t k = 0; k < image.objects.size(); ++k) {
    const DemoObject& o = image.objects[k];
    const LabelRow& r = parsed.rows[k];
    EXPECT_EQ(r.cls, o.cls);
    EXPECT_NEAR(r.cx, (o.x0 + o.x1) / 400.0, 1e-6);
    EXPECT_NEAR(r.cy, (o.y0 + o.y1) / 400.0, 1e-6);
    EXPECT_NEAR(r.w, (o.x1 - o.x0) / 200.0, 1e-6);
    EXPECT_NEAR(r.h, (o.y1 - o.y0) / 200.0, 1e-6);
  }
}

TEST(DemoData, SameSeedGivesIdenticalFilesAndAnotherSeedDiffers) {
  TempDir dir;
  const DemoOptions options{.train = 6, .val = 3, .imgsz = 96, .seed = 11, .workers = 2};
  makeDemoData(dir / "a", options);
  makeDemoData(dir / "b", {.train = 6, .val = 3, .imgsz = 96, .seed = 11, .workers = 1});
  DemoOptions other = options;
  other.seed = 12;
  makeDemoData(dir / "c", other);
  const auto a = filesUnder(dir / "a");
  EXPECT_EQ(a, filesUnder(dir / "b"));
  const auto c = filesUnder(dir / "c");
  ASSERT_TRUE(a.contains("images/train/train_000000.jpg"));
  EXPECT_NE(a.at("images/train/train_000000.jpg"), c.at("images/train/train_000000.jpg"));
  EXPECT_NE(a, c);
}

TEST(DemoData, WrittenImagesShowTheirLabelledObjects) {
  TempDir dir;
  const DemoOptions options{.train = 8, .val = 2, .imgsz = 128, .seed = 3};
  makeDemoData(dir.path(), options);
  int checkedObjects = 0;
  for (int i = 0; i < options.train; ++i) {
    SCOPED_TRACE("image " + std::to_string(i));
    char name[32];
    std::snprintf(name, sizeof name, "train_%06d", i);
    const DemoImage rendered = renderDemoImage(128, demoImageSeed(options.seed, "train", i));
    const fs::path label = dir / ("labels/train/" + std::string(name) + ".txt");
    if (rendered.objects.empty()) {
      EXPECT_FALSE(fs::exists(label)) << "a background has no label file";
    } else {
      EXPECT_EQ(readFile(label), demoLabelText(rendered));
    }
    // The JPEG is the rendered image (up to compression), and the inside of each object (away
    // from its edges, where JPEG's chroma subsampling blurs colours) has its colour.
    const cv::Mat3b decoded =
        cv::imread((dir / ("images/train/" + std::string(name) + ".jpg")).string());
    ASSERT_EQ(decoded.rows, 128);
    const cv::Mat3b reference(
        128, 128, reinterpret_cast<cv::Vec3b*>(const_cast<std::uint8_t*>(rendered.bgr.data())));
    EXPECT_LT(cv::norm(decoded, reference, cv::NORM_L1) / (128.0 * 128 * 3), 8.0);
    for (std::size_t k = 0; k < rendered.objects.size(); ++k) {
      cv::Mat1b mask(128, 128);
      for (int p = 0; p < 128 * 128; ++p)
        mask(p / 128, p % 128) = rendered.objectMap[static_cast<std::size_t>(p)] == k + 1 ? 255 : 0;
      cv::erode(mask, mask, cv::Mat(), cv::Point(-1, -1), 2);
      if (cv::countNonZero(mask) < 30) continue;
      const cv::Scalar inFile = cv::mean(decoded, mask);
      const cv::Scalar drawn = cv::mean(reference, mask);  // the fill colour plus noise
      for (int c = 0; c < 3; ++c) {
        EXPECT_NEAR(inFile[c], drawn[c], 12.0);
        EXPECT_NEAR(drawn[c], rendered.objects[k].bgr[static_cast<std::size_t>(c)], 12.0);
      }
      ++checkedObjects;
    }
  }
  EXPECT_GT(checkedObjects, 8);
}

TEST(DemoData, PassesVerificationWithNothingSkipped) {
  TempDir dir;
  const fs::path yaml = makeDemoData(dir / "demo", {.train = 20, .val = 5, .imgsz = 64, .seed = 0});
  EXPECT_EQ(yaml, dir / "demo/data.yaml");
  const DatasetReport report = verifyDataset(yaml);
  EXPECT_EQ(report.dataset.names, (std::vector<std::string>{"circle", "rectangle", "triangle"}));
  ASSERT_EQ(report.splits.size(), 2u);
  EXPECT_EQ(report.splits[0].samples.size(), 20u);
  EXPECT_EQ(report.splits[1].samples.size(), 5u);
  for (const auto& split : report.splits) {
    EXPECT_EQ(split.skipped, 0u);
    EXPECT_TRUE(split.problems.empty());
    EXPECT_GT(split.instances, split.samples.size());
    for (const auto& s : split.samples)
      EXPECT_EQ(s.width, 64);
  }
}

TEST(DemoData, ReplacesAnEarlierDemoButRefusesAForeignFolder) {
  TempDir dir;
  makeDemoData(dir / "demo", {.train = 5, .val = 2, .imgsz = 48});
  makeDemoData(dir / "demo", {.train = 2, .val = 1, .imgsz = 48});
  std::size_t images = 0;
  for (const auto& entry : fs::recursive_directory_iterator(dir / "demo/images"))
    images += entry.is_regular_file() ? 1 : 0;
  EXPECT_EQ(images, 3u) << "no image of the earlier, larger dataset is left";

  testing::writeFile(dir / "mine/keep.txt", "user data");
  EXPECT_THROW(makeDemoData(dir / "mine", {}), std::runtime_error);
  EXPECT_EQ(readFile(dir / "mine/keep.txt"), "user data");
  EXPECT_THROW(makeDemoData(dir / "x", {.train = 0}), std::invalid_argument);
}

}  // namespace
}  // namespace syncbn::data

namespace syncbn::data {
namespace {

// `data: demo` is generated once into the cache, then reused as it is.
TEST(BuiltInDemoData, GeneratedOnceThenReused) {
  const testing::TempDir cache;
  const DemoOptions options{.train = 4, .val = 2, .imgsz = 64, .seed = 3};
  const auto yaml = builtInDemoData(options, cache.path());
  ASSERT_TRUE(std::filesystem::exists(yaml));
  EXPECT_EQ(yaml.parent_path().parent_path(), cache.path());
  const auto firstWrite = std::filesystem::last_write_time(yaml);
  const auto report = verifyDataset(yaml);
  EXPECT_EQ(report.splits.at(0).samples.size() + report.splits.at(0).skipped, 4u);

  EXPECT_EQ(builtInDemoData(options, cache.path()), yaml);
  EXPECT_EQ(std::filesystem::last_write_time(yaml), firstWrite);  // not regenerated

  // Other options are another dataset; no scratch folder is left behind.
  const auto other = builtInDemoData({.train = 2, .val = 1, .imgsz = 64, .seed = 4}, cache.path());
  EXPECT_NE(other, yaml);
  int folders = 0;
  for (const auto& entry : std::filesystem::directory_iterator(cache.path())) {
    EXPECT_EQ(entry.path().filename().string().find(".partial"), std::string::npos);
    ++folders;
  }
  EXPECT_EQ(folders, 2);
}

// A folder without data.yaml (a user's half-deleted copy) is not taken for a dataset: it is
// generated again.
TEST(BuiltInDemoData, DamagedFolderIsReplaced) {
  const testing::TempDir cache;
  const DemoOptions options{.train = 2, .val = 1, .imgsz = 64, .seed = 5};
  const auto yaml = builtInDemoData(options, cache.path());
  std::filesystem::remove(yaml);
  std::filesystem::remove_all(yaml.parent_path() / "labels");
  EXPECT_EQ(builtInDemoData(options, cache.path()), yaml);
  EXPECT_TRUE(std::filesystem::exists(yaml));
  EXPECT_EQ(verifyDataset(yaml).splits.at(0).samples.size(), 2u);
}

}  // namespace
}  // namespace syncbn::data
