// The engine's OpenMP wait policy (dist/openmp_wait.h): passive waiting when the cores are
// shared, set by executing the program anew (same pid and arguments); the user's own policy, and
// a choice already made by a launcher, left alone.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "dist/openmp_wait.h"

namespace syncbn::dist {
namespace {

std::vector<std::string> linesOf(const std::string& command) {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(command.c_str(), "r"), ::pclose);
  EXPECT_NE(pipe, nullptr) << command;
  std::vector<std::string> lines;
  std::array<char, 512> buffer{};
  while (pipe && std::fgets(buffer.data(), buffer.size(), pipe.get()))
    lines.emplace_back(buffer.data(), std::string(buffer.data()).find('\n'));
  return lines;
}

std::string field(const std::string& line, const std::string& name) {
  std::istringstream words(line);
  for (std::string word; words >> word;)
    if (word.rfind(name + "=", 0) == 0) return word.substr(name.size() + 1);
  return {};
}

const std::string kClean =
    "env -u OMP_WAIT_POLICY -u SYNCBN_OPENMP_WAIT -u SYNCBN_CPU_OTHERS_BUSY ";

TEST(OpenMpWait, WithTheStudioItRestartsTheSameProcessWaitingPassively) {
  const auto lines = linesOf(kClean + OPENMP_WAIT_PROBE " studio 'two words'");
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(field(lines[0], "policy"), "unset");
  EXPECT_EQ(lines[1].rfind("start ", 0), 0u) << "the program ran again from main: " << lines[1];
  EXPECT_EQ(field(lines[1], "policy"), "PASSIVE");
  EXPECT_EQ(field(lines[1], "choice"), "passive");
  EXPECT_EQ(lines[2].rfind("running ", 0), 0u);
  EXPECT_EQ(field(lines[2], "policy"), "PASSIVE");
  // The same process (exec, not a child) with the same arguments.
  EXPECT_EQ(field(lines[0], "pid"), field(lines[1], "pid"));
  EXPECT_EQ(field(lines[1], "pid"), field(lines[2], "pid"));
  EXPECT_NE(lines[2].find("args=studio,two words"), std::string::npos) << lines[2];
}

TEST(OpenMpWait, TheUsersOwnPolicyAndAChoiceMadeBeforeAreKept) {
  for (const std::string preset :
       {"OMP_WAIT_POLICY=ACTIVE", "OMP_WAIT_POLICY=PASSIVE", "SYNCBN_OPENMP_WAIT=default"}) {
    const auto lines = linesOf(kClean + preset + " " OPENMP_WAIT_PROBE " studio");
    ASSERT_EQ(lines.size(), 2u) << preset << ": started once, not again";
    EXPECT_EQ(field(lines[0], "policy"), field(lines[1], "policy")) << preset;
  }
}

TEST(OpenMpWait, PassiveWhenTheStudioOrOtherProgramsShareTheCores) {
  EXPECT_FALSE(shouldWaitPassively(false, 0.0));
  EXPECT_FALSE(shouldWaitPassively(false, 0.3));
  EXPECT_TRUE(shouldWaitPassively(false, 0.6));
  EXPECT_TRUE(shouldWaitPassively(true, 0.0));
}

// Restores an environment variable when the test ends.
class SavedVariable {
 public:
  explicit SavedVariable(const char* name) : name_(name) {
    if (const char* value = std::getenv(name)) saved_ = value;
  }
  ~SavedVariable() {
    if (saved_)
      ::setenv(name_, saved_->c_str(), 1);
    else
      ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> saved_;
};

TEST(OpenMpWait, TheStartSampleIsTakenOnceAndInheritedButNotByTorchrunsRanks) {
  const SavedVariable busy(kOthersBusyVariable), localWorld("LOCAL_WORLD_SIZE");
  ::unsetenv(kOthersBusyVariable);
  ::unsetenv("LOCAL_WORLD_SIZE");
  const double sampled = othersBusyCoresAtStart();
  EXPECT_GE(sampled, 0.0);
  const char* recorded = std::getenv(kOthersBusyVariable);
  ASSERT_NE(recorded, nullptr) << "recorded for the ranks and the re-executed program";
  EXPECT_NEAR(std::stod(recorded), sampled, 0.005);

  ::setenv(kOthersBusyVariable, "1.25", 1);  // as a launcher hands it down
  EXPECT_EQ(othersBusyCoresAtStart(), 1.25);
  ::setenv(kOthersBusyVariable, "lots", 1);  // unreadable: sampled again, and replaced
  EXPECT_GE(othersBusyCoresAtStart(), 0.0);
  EXPECT_NE(std::string(std::getenv(kOthersBusyVariable)), "lots");

  ::unsetenv(kOthersBusyVariable);
  ::setenv("LOCAL_WORLD_SIZE", "2", 1);  // a torchrun rank: its siblings are starting too
  EXPECT_EQ(othersBusyCoresAtStart(), 0.0);
  EXPECT_EQ(std::getenv(kOthersBusyVariable), nullptr) << "nothing sampled, nothing recorded";
}

// The oracle is a busy loop of the test's own: the sample must see at least most of a core.
TEST(OpenMpWait, TheSampleSeesABusyNeighbour) {
  const pid_t busy = ::fork();
  ASSERT_GE(busy, 0);
  if (busy == 0) {
    volatile unsigned long spins = 0;  // volatile: a loop with no effect would be undefined
    for (;;)
      spins = spins + 1;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const double cores = busyCoresNow(300);
  ::kill(busy, SIGKILL);
  ::waitpid(busy, nullptr, 0);
  EXPECT_GE(cores, 0.8);
  EXPECT_LE(cores, static_cast<double>(::sysconf(_SC_NPROCESSORS_ONLN)) + 0.01);
}

}  // namespace
}  // namespace syncbn::dist
