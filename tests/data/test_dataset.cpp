// data.yaml loading, image listing and the image -> label path rule, as Ultralytics defines them.
#include <gtest/gtest.h>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "data/dataset.h"
#include "temp_dir.h"

namespace syncbn::data {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;
using testing::writeFile;

void writeImage(const fs::path& path) {
  fs::create_directories(path.parent_path());
  ASSERT_TRUE(cv::imwrite(path.string(), cv::Mat(16, 16, CV_8UC3, cv::Scalar(10, 20, 30))));
}

// The message of the DatasetError that `load` throws, or "" when it throws none.
template <class Load>
std::string errorOf(Load load) {
  try {
    load();
  } catch (const DatasetError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no DatasetError";
  return "";
}

TEST(LabelPath, ReplacesTheLastImagesFolderAndTheSuffix) {
  EXPECT_EQ(labelPathFor("/d/images/train/x.jpg"), fs::path("/d/labels/train/x.txt"));
  EXPECT_EQ(labelPathFor("/a/images/b/images/x.jpg"), fs::path("/a/images/b/labels/x.txt"));
  EXPECT_EQ(labelPathFor("/d/images/x.tar.JPEG"), fs::path("/d/labels/x.tar.txt"));
  // No images folder: the label lies beside the image. "myimages" is not an images folder.
  EXPECT_EQ(labelPathFor("/d/myimages/x.png"), fs::path("/d/myimages/x.txt"));
}

TEST(ImageFormats, AreUltralyticsSuffixesInAnyCase) {
  for (const char* name : {"a.bmp", "a.dng", "a.jpeg", "a.JPG", "a.mpo", "a.png", "a.tif", "a.TIFF",
                           "a.webp", "a.pfm"})
    EXPECT_TRUE(isImageFile(name)) << name;
  for (const char* name : {"a.gif", "a.txt", "a.jpg.bak", "jpg", "a."})
    EXPECT_FALSE(isImageFile(name)) << name;
}

class DataYaml : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* image : {"images/train/a.jpg", "images/train/sub/b.png", "images/train/c.JPG",
                              "images/val/v.jpg", "extra/e.jpg", "images/train/.hidden/h.jpg"})
      writeImage(dir / image);
    writeFile(dir / "images/train/notes.txt", "not an image\n");
  }

  std::vector<fs::path> trainImages(const std::string& yaml) {
    writeFile(dir / "data.yaml", yaml);
    const DatasetDescription dataset = loadDataYaml(dir / "data.yaml");
    return listImages(dataset, *dataset.split("train"));
  }

  TempDir dir;
};

TEST_F(DataYaml, TrainAsAFolderIsSearchedRecursivelySkippingHiddenAndNonImages) {
  const auto images = trainImages("train: images/train\nval: images/val\nnames: [a, b]\n");
  const std::vector<fs::path> expected{dir / "images/train/a.jpg", dir / "images/train/c.JPG",
                                       dir / "images/train/sub/b.png"};
  EXPECT_EQ(images, expected);
}

TEST_F(DataYaml, TrainAsATxtListResolvesDotSlashAgainstTheListAndOthersAgainstTheRoot) {
  writeFile(dir / "lists/train.txt", "./../images/train/a.jpg\n\n  images/val/v.jpg  \r\n" +
                                         (dir / "extra/e.jpg").string() +
                                         "\nimages/train/notes.txt\n");
  const auto images = trainImages("train: lists/train.txt\nval: images/val\nnames: [a]\n");
  const std::vector<fs::path> expected{dir / "extra/e.jpg", dir / "images/train/a.jpg",
                                       dir / "images/val/v.jpg"};
  EXPECT_EQ(images, expected);
}

TEST_F(DataYaml, TrainAsAYamlListCombinesFoldersAndLists) {
  writeFile(dir / "more.txt", "./extra/e.jpg\n");
  const auto images =
      trainImages("train:\n  - images/train\n  - more.txt\nval: images/val\nnames: [a]\n");
  const std::vector<fs::path> expected{dir / "extra/e.jpg", dir / "images/train/a.jpg",
                                       dir / "images/train/c.JPG", dir / "images/train/sub/b.png"};
  EXPECT_EQ(images, expected);
}

TEST_F(DataYaml, NamesAsAListOrAMapAndOptionalMatchingNc) {
  writeFile(dir / "a.yaml", "train: images/train\nval: images/val\nnames: [cat, dog]\nnc: 2\n");
  EXPECT_EQ(loadDataYaml(dir / "a.yaml").names, (std::vector<std::string>{"cat", "dog"}));
  writeFile(dir / "b.yaml", "train: images/train\nval: images/val\nnames:\n  1: dog\n  0: cat\n");
  EXPECT_EQ(loadDataYaml(dir / "b.yaml").names, (std::vector<std::string>{"cat", "dog"}));
  writeFile(dir / "c.yaml", "train: images/train\nval: images/val\nnc: 2\n");
  EXPECT_EQ(loadDataYaml(dir / "c.yaml").names, (std::vector<std::string>{"class_0", "class_1"}));
}

TEST_F(DataYaml, RootIsTheYamlFolderOrPathResolvedAgainstIt) {
  writeFile(dir / "cfg/data.yaml", "path: ..\ntrain: images/train\nval: images/val\nnames: [a]\n");
  const DatasetDescription dataset = loadDataYaml(dir / "cfg/data.yaml");
  EXPECT_EQ(dataset.root, dir.path().lexically_normal());
  EXPECT_EQ(dataset.split("val")->sources, std::vector<fs::path>{dir / "images/val"});
  EXPECT_EQ(dataset.split("test"), nullptr);
  // Without `path` the root is the data.yaml's folder; `validation` is Ultralytics' alias of val.
  writeFile(dir / "data.yaml", "train: images/train\nvalidation: images/val\nnames: [a]\n");
  EXPECT_EQ(loadDataYaml(dir / "data.yaml").split("val")->sources,
            std::vector<fs::path>{dir / "images/val"});
}

TEST_F(DataYaml, MissingKeysAndPathsNameTheFileLineAndKey) {
  const fs::path file = dir / "data.yaml";
  const auto load = [&](const std::string& yaml) {
    writeFile(file, yaml);
    return errorOf([&] { loadDataYaml(file); });
  };
  EXPECT_EQ(load("val: images/val\nnames: [a]\n"),
            file.string() + ": train: missing key (train images are required)");
  EXPECT_EQ(load("train: images/train\nnames: [a]\n"),
            file.string() + ": val: missing key (val images are required)");
  EXPECT_EQ(load("train: images/train\nval: images/val\n"),
            file.string() + ": names: missing key (a list of class names is required)");
  EXPECT_EQ(load("names: [a]\nval: images/val\ntrain: x/images\n"),
            file.string() + ":3: train: path 'x/images' does not exist (resolved to " +
                (dir / "x/images").string() + ")");
  EXPECT_EQ(load("names: [a]\nval: images/val\ntrain:\n  - images/train\n  - gone.txt\n"),
            file.string() + ":5: train: path 'gone.txt' does not exist (resolved to " +
                (dir / "gone.txt").string() + ")");
  EXPECT_EQ(load("train: images/train\nval: images/val\nnames: [a, b]\nnc: 3\n"),
            file.string() + ":4: nc: nc: 3 does not match the 2 names");
  EXPECT_EQ(load("train: images/train\nval: images/val\nnames: {0: a, 2: b}\n"),
            file.string() + ":3: names: 2 classes need ids 0-1, but id 2 is given");
  EXPECT_EQ(load("train: images/train\nval: images/val\nnames: [a\n"),
            load("train: images/train\nval: images/val\nnames: [a\n"));  // stable, and:
  EXPECT_TRUE(load("train: images/train\nval: images/val\nnames: [a\n").find("invalid YAML") !=
              std::string::npos);
  EXPECT_EQ(errorOf([&] { loadDataYaml(dir / "absent.yaml"); }),
            (dir / "absent.yaml").string() + ": file does not exist");
}

TEST_F(DataYaml, ASplitWithoutImagesIsAnError) {
  fs::create_directories(dir / "empty/images");
  writeFile(dir / "data.yaml", "train: empty/images\nval: images/val\nnames: [a]\n");
  const DatasetDescription dataset = loadDataYaml(dir / "data.yaml");
  EXPECT_EQ(errorOf([&] { listImages(dataset, *dataset.split("train")); }),
            (dir / "data.yaml").string() + ":1: train: no images found in '" +
                (dir / "empty/images").string() + "'");
}

}  // namespace
}  // namespace syncbn::data
