// The studio's data.yaml writer (core/common) against the engine's loader (core/data): what the
// New Dataset form writes is what training reads.
#include <gtest/gtest.h>

#include <stdexcept>

#include "common/data_yaml_writer.h"
#include "data/dataset.h"
#include "temp_dir.h"

namespace syncbn::data {
namespace {

using testing::readFile;
using testing::TempDir;
using testing::writeFile;

class DataYamlWriter : public ::testing::Test {
 protected:
  void SetUp() override {
    writeFile(dir / "shots/line 1/a.jpg", "x");  // content is not looked at by the loader
    writeFile(dir / "shots/line 1/sub/b.png", "x");
    writeFile(dir / "shots/held out/c.jpg", "x");
  }
  NewDataset form() const {
    return {.train = dir / "shots/line 1",
            .val = dir / "shots/held out",
            .test = {},
            .names = {"scratch", "dent", "yes", "1: odd", "#hash", "naïve"}};
  }
  TempDir dir;
};

TEST_F(DataYamlWriter, RoundTripsThroughTheEnginesLoader) {
  const auto yaml = dir / "project/data.yaml";
  writeDataYaml(form(), yaml);
  const DatasetDescription loaded = loadDataYaml(yaml);
  EXPECT_EQ(loaded.root, (dir / "shots").lexically_normal());
  EXPECT_EQ(loaded.names, form().names);  // YAML's yes, "1: ", "#" and UTF-8 survive quoting
  ASSERT_EQ(loaded.splits.size(), 2u);
  EXPECT_EQ(listImages(loaded, *loaded.split("train")).size(), 2u);
  EXPECT_EQ(listImages(loaded, *loaded.split("val")),
            std::vector<std::filesystem::path>{dir / "shots/held out/c.jpg"});
}

TEST_F(DataYamlWriter, AnOptionalTestSplitAndASharedFolderAreWritten) {
  NewDataset dataset = form();
  dataset.val = dataset.train;
  dataset.test = dir / "shots/held out";
  const auto yaml = dir / "data.yaml";
  writeDataYaml(dataset, yaml);
  const DatasetDescription loaded = loadDataYaml(yaml);
  ASSERT_EQ(loaded.splits.size(), 3u);
  EXPECT_EQ(listImages(loaded, *loaded.split("val")), listImages(loaded, *loaded.split("train")));
  EXPECT_EQ(listImages(loaded, *loaded.split("test")).size(), 1u);
}

TEST_F(DataYamlWriter, BadFormsAreRefusedWithTheReasonAndNothingIsWritten) {
  const auto yaml = dir / "data.yaml";
  writeFile(yaml, "kept: true\n");
  NewDataset missing = form();
  missing.val = dir / "nowhere";
  EXPECT_EQ(
      checkNewDataset(missing),
      std::vector<std::string>{"the val folder " + (dir / "nowhere").string() + " does not exist"});
  NewDataset repeated = form();
  repeated.names = {"a", "b", "a", " "};
  EXPECT_EQ(checkNewDataset(repeated), (std::vector<std::string>{"class 2 repeats the name 'a'",
                                                                 "class 3 has an empty name"}));
  NewDataset none = form();
  none.names.clear();
  none.train.clear();
  EXPECT_EQ(checkNewDataset(none), (std::vector<std::string>{"choose the train images' folder",
                                                             "type at least one class name"}));
  EXPECT_THROW(writeDataYaml(repeated, yaml), std::invalid_argument);
  EXPECT_EQ(readFile(yaml), "kept: true\n");
}

TEST_F(DataYamlWriter, AnUnwritablePlaceIsAnErrorNamingTheFile) {
  writeFile(dir / "file", "x");
  try {
    writeDataYaml(form(), dir / "file/data.yaml");
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find((dir / "file/data.yaml").string()), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace syncbn::data
