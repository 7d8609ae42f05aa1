// results.csv: Ultralytics' header and number format (expected text written out by hand, as
// Python's "%.6g" prints it), round trip, resume truncation and errors naming file:line.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "train/results_csv.h"

namespace syncbn::train {
namespace {

namespace fs = std::filesystem;

// Ultralytics 8.3's header.
const std::string kHeader =
    "epoch,time,train/box_loss,train/cls_loss,train/dfl_loss,metrics/precision(B),"
    "metrics/recall(B),metrics/mAP50(B),metrics/mAP50-95(B),val/box_loss,val/cls_loss,"
    "val/dfl_loss,lr/pg0,lr/pg1,lr/pg2";
// What this engine wrote before the time column.
const std::string kHeaderWithoutTime =
    "epoch,train/box_loss,train/cls_loss,train/dfl_loss,metrics/precision(B),metrics/recall(B),"
    "metrics/mAP50(B),metrics/mAP50-95(B),val/box_loss,val/cls_loss,val/dfl_loss,lr/pg0,lr/pg1,"
    "lr/pg2";

class ResultsCsvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("syncbn_results_csv_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path file() const { return dir_ / "results.csv"; }
  std::string read() const {
    std::ifstream in(file(), std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
  }
  void write(const std::string& text) const { std::ofstream(file(), std::ios::binary) << text; }

  fs::path dir_;
};

ResultsRow rowFor(int epoch) {
  ResultsRow row;
  row.epoch = epoch;
  row.time = 10.5 * epoch;
  row.trainBox = 1.0 + 0.25 * epoch;
  row.trainCls = 2.5;
  row.trainDfl = 1.125;
  row.precision = 0.5;
  row.recall = 0.375;
  row.map50 = 0.25 * epoch / 10;
  row.map50_95 = 0.125;
  row.valBox = 1.5;
  row.valCls = 2;
  row.valDfl = 0.75;
  row.lr = {0.001, 0.002, 0.0625};
  return row;
}

TEST_F(ResultsCsvTest, HeaderAndNumbersAreUltralytics) {
  ResultsCsv csv(file());
  ResultsRow row;
  row.epoch = 3;
  row.time = 4567.891234;     // seconds
  row.trainBox = 1.23456789;  // %.6g rounds to 6 significant digits
  row.trainCls = 0.5;
  row.trainDfl = 100;
  row.precision = 0.000123456789;
  row.recall = 1e-7;  // %.6g switches to an exponent below 1e-4
  row.map50 = 1234567;
  row.map50_95 = 0;
  row.valBox = std::nan("");
  row.valCls = INFINITY;
  row.valDfl = -2.5;
  row.lr = {0.01, 9.5e-05, 0.0070297};
  csv.append(row);
  EXPECT_EQ(read(), kHeader +
                        "\n3,4567.89,1.23457,0.5,100,0.000123457,1e-07,1.23457e+06,0,nan,inf,-2.5,"
                        "0.01,9.5e-05,0.0070297\n");
  EXPECT_EQ(std::string(kResultsCsvHeader), kHeader);
  EXPECT_EQ(std::string(kResultsCsvHeaderWithoutTime), kHeaderWithoutTime);
  EXPECT_EQ(csv.rows().at(0).time, 4567.89);
  // rows() holds what the file holds.
  EXPECT_EQ(csv.rows().at(0).trainBox, 1.23457);
  EXPECT_EQ(csv.rows().at(0).map50, 1.23457e+06);
  EXPECT_TRUE(std::isnan(csv.rows().at(0).valBox));
}

TEST_F(ResultsCsvTest, RoundTrip) {
  ResultsCsv csv(file());
  for (int epoch = 1; epoch <= 3; ++epoch)
    csv.append(rowFor(epoch));
  ASSERT_EQ(csv.rows().size(), 3u);
  for (int epoch = 1; epoch <= 3; ++epoch)
    EXPECT_EQ(csv.rows()[static_cast<std::size_t>(epoch - 1)], rowFor(epoch));  // exact in %.6g

  ResultsCsv again(file());
  again.keepFirstEpochs(100);
  EXPECT_EQ(again.rows(), csv.rows());
  const std::string text = read();
  EXPECT_EQ(text.substr(0, text.find('\n')), kHeader);
  EXPECT_NE(text.find("\n2,21,1.5,2.5,1.125,0.5,0.375,0.05,0.125,1.5,2,0.75,0.001,0.002,0.0625\n"),
            std::string::npos)
      << text;
}

TEST_F(ResultsCsvTest, ResumeKeepsTheFirstEpochsAndContinuesAfterThem) {
  {
    ResultsCsv csv(file());
    for (int epoch = 1; epoch <= 5; ++epoch)
      csv.append(rowFor(epoch));
  }
  ResultsCsv resumed(file());
  resumed.keepFirstEpochs(3);
  ASSERT_EQ(resumed.rows().size(), 3u);
  EXPECT_EQ(resumed.rows().back(), rowFor(3));
  // The dropped epochs are gone from the file at once, before any new row.
  ResultsCsv reader(file());
  reader.keepFirstEpochs(100);
  EXPECT_EQ(reader.rows(), resumed.rows());

  ResultsRow fourth = rowFor(4);
  fourth.trainBox = 7.25;
  resumed.append(fourth);
  reader.keepFirstEpochs(100);
  ASSERT_EQ(reader.rows().size(), 4u);
  EXPECT_EQ(reader.rows()[3].trainBox, 7.25);
  EXPECT_THROW(resumed.append(rowFor(4)), std::invalid_argument);  // epochs must increase
  EXPECT_THROW(resumed.append(rowFor(0)), std::invalid_argument);

  resumed.keepFirstEpochs(0);
  EXPECT_TRUE(resumed.rows().empty());
  EXPECT_EQ(read(), kHeader + "\n");
}

TEST_F(ResultsCsvTest, NoFileMeansNoRowsAndAFreshRunReplacesAnOldFile) {
  ResultsCsv csv(file());
  csv.keepFirstEpochs(10);
  EXPECT_TRUE(csv.rows().empty());
  EXPECT_FALSE(fs::exists(file()));

  write(kHeader + "\n1,1,1,1,1,1,1,1,1,1,1,1,1,1,1\n2,1,1,1,1,1,1,1,1,1,1,1,1,1,1\n");
  ResultsCsv fresh(file());  // no keepFirstEpochs: a new run
  fresh.append(rowFor(1));
  EXPECT_EQ(read(), kHeader + "\n" +
                        "1,10.5,1.25,2.5,1.125,0.5,0.375,0.025,0.125,1.5,2,0.75,0.001,0.002,"
                        "0.0625\n");
}

TEST_F(ResultsCsvTest, AcceptsWindowsLineEndingsAndNoFinalNewline) {
  write(kHeader + "\r\n1,1,1,1,1,1,1,1,1,1,1,1,1,1,1\r\n2,3,2,1,1,1,1,1,1,1,1,1,1,1,0.5");
  ResultsCsv csv(file());
  csv.keepFirstEpochs(10);
  ASSERT_EQ(csv.rows().size(), 2u);
  EXPECT_EQ(csv.rows()[1].time, 3);
  EXPECT_EQ(csv.rows()[1].trainBox, 2);
  EXPECT_EQ(csv.rows()[1].lr[2], 0.5);
}

TEST_F(ResultsCsvTest, ResumeReadsAFileWithoutTheTimeColumnAndRewritesItWithTime) {
  write(kHeaderWithoutTime +
        "\n1,1.25,2.5,1.125,0.5,0.375,0.025,0.125,1.5,2,0.75,0.001,0.002,0.0625"
        "\n2,1.5,2.5,1.125,0.5,0.375,0.05,0.125,1.5,2,0.75,0.001,0.002,0.0625"
        "\n3,1.75,2.5,1.125,0.5,0.375,0.075,0.125,1.5,2,0.75,0.001,0.002,0.0625\n");
  ResultsCsv csv(file());
  csv.keepFirstEpochs(2);
  ResultsRow first = rowFor(1), second = rowFor(2);
  first.time = second.time = 0;  // unknown
  EXPECT_EQ(csv.rows(), (std::vector<ResultsRow>{first, second}));
  EXPECT_EQ(read(), kHeader +
                        "\n1,0,1.25,2.5,1.125,0.5,0.375,0.025,0.125,1.5,2,0.75,0.001,0.002,0.0625"
                        "\n2,0,1.5,2.5,1.125,0.5,0.375,0.05,0.125,1.5,2,0.75,0.001,0.002,0.0625\n");
  csv.append(rowFor(3));
  ResultsCsv reader(file());
  reader.keepFirstEpochs(100);
  EXPECT_EQ(reader.rows(), (std::vector<ResultsRow>{first, second, rowFor(3)}));

  // Nothing dropped: rewritten all the same, so that new rows match the header.
  write(kHeaderWithoutTime + "\n1,1,1,1,1,1,1,1,1,1,1,1,1,1\n");
  ResultsCsv all(file());
  all.keepFirstEpochs(10);
  EXPECT_EQ(read(), kHeader + "\n1,0,1,1,1,1,1,1,1,1,1,1,1,1,1\n");
}

// The message of the error keepFirstEpochs throws for `text`; the file is left as it was.
std::string errorFor(const fs::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
  ResultsCsv csv(path);
  try {
    csv.keepFirstEpochs(1);  // would drop rows and rewrite the file, were it valid
  } catch (const std::runtime_error& e) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream after;
    after << in.rdbuf();
    EXPECT_EQ(after.str(), text);
    return e.what();
  }
  ADD_FAILURE() << "no error for:\n" << text;
  return {};
}

TEST_F(ResultsCsvTest, MalformedFilesNameFileAndLine) {
  const std::string where = file().string() + ":";
  const std::string good = "1,1,1,1,1,1,1,1,1,1,1,1,1,1,1\n";

  std::string message = errorFor(file(), "epoch,train/box_loss\n" + good);
  EXPECT_NE(message.find(where + "1:"), std::string::npos) << message;
  EXPECT_NE(message.find("header"), std::string::npos) << message;

  // Old Ultralytics pads its header with spaces: not this format.
  message = errorFor(file(), "                  epoch," + kHeader.substr(6) + "\n" + good);
  EXPECT_NE(message.find(where + "1:"), std::string::npos) << message;

  message = errorFor(file(), "");
  EXPECT_NE(message.find(where + "1:"), std::string::npos) << message;

  message = errorFor(file(), kHeader + "\n" + good + "2,1,1,1,1,1,1,1,1,1,1,1,1\n");
  EXPECT_NE(message.find(where + "3:"), std::string::npos) << message;
  EXPECT_NE(message.find("found 13"), std::string::npos) << message;

  message = errorFor(file(), kHeader + "\n" + "1,1,1,1,1,1,1,1,x,1,1,1,1,1,1\n" + good);
  EXPECT_NE(message.find(where + "2:"), std::string::npos) << message;
  EXPECT_NE(message.find("metrics/mAP50-95(B) 'x'"), std::string::npos) << message;

  message = errorFor(file(), kHeader + "\n" + good + "2,1,,1,1,1,1,1,1,1,1,1,1,1,1\n");
  EXPECT_NE(message.find(where + "3:"), std::string::npos) << message;

  message = errorFor(file(), kHeader + "\n" + "1.5,1,1,1,1,1,1,1,1,1,1,1,1,1,1\n");
  EXPECT_NE(message.find(where + "2:"), std::string::npos) << message;
  EXPECT_NE(message.find("epoch '1.5'"), std::string::npos) << message;

  message = errorFor(file(), kHeader + "\n" + "2,1,1,1,1,1,1,1,1,1,1,1,1,1,1\n" + good);
  EXPECT_NE(message.find(where + "3:"), std::string::npos) << message;
  EXPECT_NE(message.find("epoch 1 after epoch 2"), std::string::npos) << message;

  message = errorFor(file(), kHeader + "\n" + good + "\n");  // a blank line is not a row
  EXPECT_NE(message.find(where + "3:"), std::string::npos) << message;

  // A file without the time column has 14 values a line, named by its own header.
  message = errorFor(file(), kHeaderWithoutTime + "\n" + good);
  EXPECT_NE(message.find(where + "2:"), std::string::npos) << message;
  EXPECT_NE(message.find("expected 14"), std::string::npos) << message;
  message = errorFor(file(), kHeaderWithoutTime + "\n" + "1,1,1,1,1,1,1,x,1,1,1,1,1,1\n");
  EXPECT_NE(message.find("metrics/mAP50-95(B) 'x'"), std::string::npos) << message;
}

}  // namespace
}  // namespace syncbn::train
