// Hostile files where a dataset expects images, labels and lists: FIFOs, devices, folders,
// symbolic-link loops and decompression bombs are refused or reported at once, naming the file,
// and never block, loop or exhaust memory.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "data/image_header.h"
#include "data/verify.h"
#include "temp_dir.h"

namespace syncbn::data {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;
using testing::writeFile;

std::string encoded(const std::string& extension, int width, int height, int type = CV_8UC3) {
  cv::Mat image(height, width, type);
  cv::randu(image, 0, 255);
  std::vector<std::uint8_t> bytes;
  EXPECT_TRUE(cv::imencode(extension, image, bytes)) << extension;
  return std::string(bytes.begin(), bytes.end());
}

// The OpenCV encoder is the oracle: the size it wrote is the size the header must state.
TEST(ImageHeader, ReadsTheSizeEveryEncoderWrote) {
  for (const std::string extension : {".png", ".jpg", ".bmp", ".webp", ".tiff", ".ppm", ".pgm"}) {
    const int type = extension == ".pgm" ? CV_8UC1 : CV_8UC3;
    const auto size = readImageSize(encoded(extension, 37, 23, type));
    ASSERT_TRUE(size.has_value()) << extension;
    EXPECT_EQ(*size, (ImageSize{37, 23})) << extension;
  }
  cv::Mat pfm(5, 7, CV_32FC3, cv::Scalar(0.5));
  std::vector<std::uint8_t> bytes;
  ASSERT_TRUE(cv::imencode(".pfm", pfm, bytes));
  EXPECT_EQ(readImageSize(std::string(bytes.begin(), bytes.end())), (ImageSize{7, 5}));
}

TEST(ImageHeader, DamagedOrForeignBytesStateNoSize) {
  EXPECT_FALSE(readImageSize(""));
  EXPECT_FALSE(readImageSize("not an image at all"));
  const std::string png = encoded(".png", 10, 10);
  EXPECT_FALSE(readImageSize(png.substr(0, 20))) << "cut inside IHDR";
  EXPECT_FALSE(readImageSize("\xFF\xD8\xFF\xE0\x00"));
  std::string loop = "\xFF\xD8\xFF\xE0";
  loop += std::string("\x00\x00", 2);  // a segment length below 2 would never advance
  EXPECT_FALSE(readImageSize(loop));
}

// A PNG whose header says 30000 x 30000 (900 Mpixel, 2.7 GB decoded) in a few hundred bytes.
std::string bombPng() {
  std::string png = encoded(".png", 16, 16);
  const auto put32 = [&](std::size_t at, std::uint32_t v) {
    for (int i = 0; i < 4; ++i)
      png[at + static_cast<std::size_t>(i)] = static_cast<char>((v >> (24 - 8 * i)) & 0xFF);
  };
  put32(16, 30000);
  put32(20, 30000);
  return png;
}

class HostileDataset : public ::testing::Test {
 protected:
  void SetUp() override {
    writeFile(dir / "images/train/good.jpg", encoded(".jpg", 48, 32));
    writeFile(dir / "labels/train/good.txt", "0 0.5 0.5 0.2 0.2\n");
    writeFile(dir / "data.yaml", "train: images/train\nval: images/train\nnames: [a]\n");
  }

  SplitReport verify(VerifyOptions options = {}) {
    options.useCache = false;
    const DatasetDescription dataset = loadDataYaml(dir / "data.yaml");
    return verifyImages("train", listImages(dataset, *dataset.split("train")), 1, options);
  }

  static std::string reasonFor(const SplitReport& report, const fs::path& file) {
    for (const Problem& p : report.problems)
      if (p.file == file) return (p.skipped ? "skipped: " : "warning: ") + p.reason;
    return "no problem reported for " + file.string();
  }

  TempDir dir;
};

TEST_F(HostileDataset, SpecialFilesInPlaceOfImagesAndLabelsAreSkippedAtOnceWithTheirKind) {
  ASSERT_EQ(::mkfifo((dir / "images/train/fifo.jpg").c_str(), 0644), 0);
  fs::create_symlink("/dev/zero", dir / "images/train/zero.jpg");
  fs::create_directories(dir / "images/train/folder.jpg/inner");  // a folder with an image name
  writeFile(dir / "images/train/labelled_by_folder.jpg", encoded(".jpg", 48, 32));
  fs::create_directories(dir / "labels/train/labelled_by_folder.txt");

  const SplitReport report = verify();
  EXPECT_EQ(report.samples.size(), 1u) << "only good.jpg";
  EXPECT_EQ(reasonFor(report, dir / "images/train/fifo.jpg"),
            "skipped: cannot read image: is a FIFO (named pipe), not a regular file");
  EXPECT_EQ(reasonFor(report, dir / "images/train/zero.jpg"),
            "skipped: cannot read image: is a character device, not a regular file");
  EXPECT_EQ(reasonFor(report, dir / "labels/train/labelled_by_folder.txt"),
            "skipped: label path is a folder, not a label file");
}

TEST_F(HostileDataset, AnImageListThatIsAFifoOrADeviceIsRefusedNamingIt) {
  ASSERT_EQ(::mkfifo((dir / "fifo.txt").c_str(), 0644), 0);
  fs::create_symlink("/dev/zero", dir / "zero.txt");
  for (const std::string list : {"fifo.txt", "zero.txt"}) {
    writeFile(dir / "data.yaml", "train: " + list + "\nval: images/train\nnames: [a]\n");
    const DatasetDescription dataset = loadDataYaml(dir / "data.yaml");
    try {
      listImages(dataset, *dataset.split("train"));
      ADD_FAILURE() << list << " was read";
    } catch (const DatasetError& e) {
      const std::string kind = list == "fifo.txt" ? "a FIFO (named pipe)" : "a character device";
      EXPECT_EQ(std::string(e.what()),
                (dir / "data.yaml").string() + ":1: train: cannot read image list '" +
                    (dir / list).string() + "': is " + kind + ", not a regular file");
    }
  }
}

TEST_F(HostileDataset, ADataYamlThatIsAFifoOrAFolderIsRefusedWithItsKind) {
  ASSERT_EQ(::mkfifo((dir / "fifo.yaml").c_str(), 0644), 0);
  fs::create_directories(dir / "folder.yaml");
  for (const auto& [file, kind] : {std::pair{dir / "fifo.yaml", "a FIFO (named pipe)"},
                                   std::pair{dir / "folder.yaml", "a folder"}}) {
    try {
      loadDataYaml(file);
      ADD_FAILURE() << file << " was read";
    } catch (const DatasetError& e) {
      EXPECT_EQ(std::string(e.what()), file.string() + ": is " + kind + ", not a regular file");
    }
  }
}

TEST_F(HostileDataset, AFolderListedInATxtListIsSkippedByNameNotFatal) {
  fs::create_directories(dir / "images/train/sub.jpg");
  writeFile(dir / "list.txt", "./images/train/good.jpg\n./images/train/sub.jpg\n");
  writeFile(dir / "data.yaml", "train: list.txt\nval: list.txt\nnames: [a]\n");
  const SplitReport report = verify();
  EXPECT_EQ(report.samples.size(), 1u);
  EXPECT_EQ(reasonFor(report, dir / "images/train/sub.jpg"),
            "skipped: cannot read image: is a folder, not a regular file");
}

TEST_F(HostileDataset, SymlinkLoopsAndSecondLinksAreSearchedOnceAndReported) {
  fs::create_directories(dir / "images/train/sub");
  writeFile(dir / "images/train/sub/second.jpg", encoded(".jpg", 48, 32));
  fs::create_directory_symlink("..", dir / "images/train/sub/up");         // a loop
  fs::create_directory_symlink("sub", dir / "images/train/again");         // a second way in
  fs::create_directory_symlink("nowhere", dir / "images/train/dangling");  // resolves to nothing

  const DatasetDescription dataset = loadDataYaml(dir / "data.yaml");
  std::vector<ListingNote> notes;
  const std::vector<fs::path> images = listImages(dataset, *dataset.split("train"), &notes);
  // Which of `again` and `sub` is searched depends on the folder's order; the real files do not.
  std::vector<fs::path> real;
  for (const fs::path& image : images)
    real.push_back(fs::canonical(image));
  std::sort(real.begin(), real.end());
  EXPECT_EQ(real, (std::vector<fs::path>{fs::canonical(dir / "images/train/good.jpg"),
                                         fs::canonical(dir / "images/train/sub/second.jpg")}));
  EXPECT_EQ(notes.size(), 2u) << "the loop and the second way in; a dangling link is no folder";
  for (const ListingNote& note : notes)
    EXPECT_NE(note.reason.find("a folder already searched: not followed again"), std::string::npos)
        << note.reason;

  // verifyDataset reports them as warnings of the split.
  const DatasetReport report = verifyDataset(dir / "data.yaml", {.useCache = false});
  EXPECT_EQ(report.splits[0].samples.size(), 2u);
  EXPECT_EQ(std::count_if(report.splits[0].problems.begin(), report.splits[0].problems.end(),
                          [](const Problem& p) { return !p.skipped; }),
            2);
}

TEST_F(HostileDataset, ADecompressionBombIsRefusedFromItsHeaderAndTheLimitIsConfigurable) {
  writeFile(dir / "images/train/bomb.png", bombPng());
  writeFile(dir / "images/train/big.png", encoded(".png", 60, 50));  // 3000 pixels

  const SplitReport defaults = verify();
  EXPECT_EQ(reasonFor(defaults, dir / "images/train/bomb.png"),
            "skipped: image is 30000x30000 px (900.0 Mpixel), more than twice "
            "data.max_image_pixels (2 x 89.5 Mpixel): refused without decoding, a possible "
            "decompression bomb");
  EXPECT_EQ(defaults.samples.size(), 2u);

  // Warn above the limit, refuse above twice it (Pillow's rule), with the limit lowered.
  VerifyOptions low;
  low.maxImagePixels = 2000;  // good.jpg: 1536 px; big.png: 3000 px, above 2000 but under 4000
  SplitReport lowered = verify(low);
  EXPECT_EQ(lowered.samples.size(), 2u);
  EXPECT_EQ(reasonFor(lowered, dir / "images/train/big.png"),
            "warning: image is 60x50 px (3000 pixels), above data.max_image_pixels (2000 pixels): "
            "every load decodes 8.8 KiB; twice the limit is refused");
  low.maxImagePixels = 1400;
  lowered = verify(low);
  EXPECT_EQ(lowered.samples.size(), 1u) << "big.png is above 2 x 1400, good.jpg only above 1400";
  EXPECT_EQ(reasonFor(lowered, dir / "images/train/big.png").rfind("skipped: image is 60x50", 0),
            0u);
  EXPECT_EQ(reasonFor(lowered, dir / "images/train/good.jpg").rfind("warning: image is 48x32", 0),
            0u);

  VerifyOptions off;
  off.maxImagePixels = 0;
  const SplitReport unlimited = verify(off);
  EXPECT_NE(reasonFor(unlimited, dir / "images/train/bomb.png").find("cannot decode image"),
            std::string::npos)
      << "without a limit the decoder has its say: "
      << reasonFor(unlimited, dir / "images/train/bomb.png");
}

TEST_F(HostileDataset, ALoweredLimitAppliesToImagesTheCacheHoldsAsGood) {
  writeFile(dir / "images/train/big.png", encoded(".png", 60, 50));
  VerifyOptions cached;
  cached.useCache = true;
  const DatasetDescription dataset = loadDataYaml(dir / "data.yaml");
  const auto images = listImages(dataset, *dataset.split("train"));
  ASSERT_EQ(verifyImages("train", images, 1, cached).samples.size(), 2u);
  cached.maxImagePixels = 1000;
  const SplitReport again = verifyImages("train", images, 1, cached);
  EXPECT_EQ(again.fromCache, 2u);
  EXPECT_EQ(again.samples.size(), 1u) << "big.png (3000 px) is now above 2 x 1000";
  EXPECT_EQ(reasonFor(again, dir / "images/train/big.png").rfind("skipped: image is 60x50", 0), 0u);
}

TEST_F(HostileDataset, AStopRequestEndsVerificationEarlyAndWritesNoCache) {
  for (int i = 0; i < 20; ++i)
    writeFile(dir / ("images/train/more" + std::to_string(i) + ".jpg"), encoded(".jpg", 48, 32));
  VerifyOptions options;
  options.workers = 1;
  int asked = 0;
  options.stopRequested = [&asked] { return ++asked > 3; };
  const DatasetReport report = verifyDataset(dir / "data.yaml", options);
  EXPECT_TRUE(report.stopped());
  ASSERT_EQ(report.splits.size(), 1u) << "the val split is not started";
  EXPECT_FALSE(fs::exists(report.splits[0].cacheFile));
}

}  // namespace
}  // namespace syncbn::data
