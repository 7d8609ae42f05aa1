// Reading user-named files: special files are refused at once (a FIFO would block the open,
// /dev/zero never ends), sizes are bounded before reading; and the temporary files an
// interrupted atomic write leaves are found and removed.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>

#include "common/atomic_file.h"
#include "common/config_yaml.h"
#include "common/regular_file.h"

namespace syncbn {
namespace {

namespace fs = std::filesystem;

class RegularFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = fs::temp_directory_path() /
          ("syncbn_regular_file_" + std::to_string(::getpid()) + "_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  void TearDown() override { fs::remove_all(dir); }

  static std::string refusal(const fs::path& path, std::uint64_t limit = 1 << 20) {
    std::string error;
    if (tryReadRegularFile(path, limit, error)) return "read";
    return error;
  }

  fs::path dir;
};

TEST_F(RegularFile, ReadsARegularFileWhole) {
  std::ofstream(dir / "a.txt") << "hello\nworld";
  EXPECT_EQ(readRegularFile(dir / "a.txt", 100), "hello\nworld");
  EXPECT_FALSE(nonRegularKind(dir / "a.txt"));
  EXPECT_FALSE(nonRegularKind(dir / "missing")) << "the open reports a missing file";
}

TEST_F(RegularFile, SpecialFilesAreRefusedWithTheirKindWithoutBlocking) {
  ASSERT_EQ(::mkfifo((dir / "fifo").c_str(), 0644), 0);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(refusal(dir / "fifo"), "is a FIFO (named pipe), not a regular file");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5))
      << "a FIFO without a writer must not block the open";
  EXPECT_EQ(refusal("/dev/zero"), "is a character device, not a regular file");
  EXPECT_EQ(refusal(dir), "is a folder, not a regular file");
  EXPECT_EQ(refusal(dir / "missing"), "does not exist");
  fs::create_symlink("/dev/null", dir / "link.txt");
  EXPECT_EQ(refusal(dir / "link.txt"), "is a character device, not a regular file")
      << "links are followed to what they name";
  EXPECT_EQ(nonRegularKind(dir / "fifo"), "a FIFO (named pipe)");
  EXPECT_EQ(nonRegularKind(dir), "a folder");
}

// The configuration loader reads through the same check.
TEST_F(RegularFile, AConfigThatIsAFifoOrTooLargeIsADiagnosticOfTheFile) {
  ASSERT_EQ(::mkfifo((dir / "fifo.yaml").c_str(), 0644), 0);
  const LoadedConfig fifo = loadConfigFile(dir / "fifo.yaml");
  ASSERT_EQ(fifo.diagnostics.size(), 1u);
  EXPECT_EQ(fifo.diagnostics[0].message, "is a FIFO (named pipe), not a regular file");
  EXPECT_EQ(fifo.diagnostics[0].source, (dir / "fifo.yaml").string());
  std::ofstream(dir / "big.yaml") << std::string(5 << 20, '#');
  const LoadedConfig big = loadConfigFile(dir / "big.yaml");
  ASSERT_EQ(big.diagnostics.size(), 1u);
  EXPECT_EQ(big.diagnostics[0].message, "is 5.0 MiB, more than the 4.0 MiB allowed");
}

TEST_F(RegularFile, AFileOverTheLimitIsRefusedBeforeItIsRead) {
  std::ofstream(dir / "big") << std::string(2048, 'x');
  EXPECT_EQ(refusal(dir / "big", 1024), "is 2.0 KiB, more than the 1.0 KiB allowed");
  EXPECT_EQ(refusal(dir / "big", 2048), "read");
}

TEST_F(RegularFile, StaleTemporariesOfInterruptedWritesAreRemovedAndNothingElse) {
  writeFileAtomically(dir / "last.pt", "done");
  std::ofstream(dir / ".last.pt.tmp.Ab3xYz") << "half";
  std::ofstream(dir / ".best.pt.tmp.000000") << "half";
  std::ofstream(dir / ".hidden") << "keep";
  std::ofstream(dir / "notes.tmp.Ab3xYz") << "keep: not hidden, so not ours";
  std::ofstream(dir / ".x.tmp.short") << "keep: five characters after .tmp.";
  fs::create_directory(dir / ".dir.tmp.Ab3xYz");  // not a regular file: left alone
  auto removed = removeStaleTemporaries(dir);
  std::sort(removed.begin(), removed.end());
  EXPECT_EQ(removed,
            (std::vector<fs::path>{dir / ".best.pt.tmp.000000", dir / ".last.pt.tmp.Ab3xYz"}));
  EXPECT_TRUE(fs::exists(dir / "last.pt"));
  EXPECT_TRUE(fs::exists(dir / ".hidden"));
  EXPECT_TRUE(fs::exists(dir / "notes.tmp.Ab3xYz"));
  EXPECT_TRUE(fs::exists(dir / ".x.tmp.short"));
  EXPECT_TRUE(fs::exists(dir / ".dir.tmp.Ab3xYz"));
  EXPECT_TRUE(removeStaleTemporaries(dir / "missing").empty());
}

}  // namespace
}  // namespace syncbn
