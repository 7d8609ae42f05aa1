// EventFileReader following an events.jsonl that another process appends to (the fake engine, as
// a run started from a terminal writes it), and reading records with bad, oversized and
// unfinished lines.
#include <gtest/gtest.h>

#include <QFile>
#include <QProcess>
#include <QSignalSpy>
#include <QTest>

#include "common/protocol.h"
#include "session_harness.h"
#include "stores/event_file_reader.h"

namespace studio::testing {
namespace {

namespace protocol = syncbn::protocol;

constexpr int kWorld = 2;

void append(const QString& path, const std::string& bytes) {
  QFile file(path);
  ASSERT_TRUE(file.open(QIODevice::WriteOnly | QIODevice::Append)) << path.toStdString();
  ASSERT_EQ(file.write(bytes.data(), static_cast<qint64>(bytes.size())),
            static_cast<qint64>(bytes.size()));
}

// The protocol's encoding of scriptedStep(i): what the engine would write.
std::string stepLine(long long i, int perEpoch) {
  const ScriptedStep s = scriptedStep(i, perEpoch, kWorld);
  protocol::Step step;
  step.epoch = s.epoch;
  step.iteration = s.iteration;
  step.time = s.time;
  step.losses = {{"box", s.box}, {"cls", s.cls}, {"dfl", s.dfl}};
  for (std::size_t r = 0; r < kWorld; ++r) {
    step.rank_losses.push_back(
        {{"box", s.rankBox[r]}, {"cls", s.rankCls[r]}, {"dfl", s.rankDfl[r]}});
    step.ranks.push_back({static_cast<int>(r), s.dataMs[r], s.computeMs[r], s.commMs[r]});
  }
  step.lr = s.lr;
  step.images_per_second = s.imagesPerSecond;
  return protocol::encode(step);
}

std::string runStartedLine(int epochs, int perEpoch) {
  protocol::RunStarted started;
  started.run_dir = "runs/file";
  started.start_time = 1764579600;
  started.world_size = kWorld;
  started.device = "cpu";
  started.norm = "syncbn";
  started.epochs = epochs;
  started.iterations_per_epoch = perEpoch;
  return protocol::encode(started);
}

void expectLosses(const RunStore& store, long long first, long long last, int perEpoch) {
  std::vector<SeriesPoint> expected;
  for (long long i = first; i <= last; ++i)
    expected.push_back({static_cast<double>(i), scriptedStep(i, perEpoch, kWorld).box});
  EXPECT_EQ(points(store.loss(LossTerm::Box)), expected);
  std::vector<SeriesPoint> compute;
  for (long long i = first; i <= last; ++i)
    compute.push_back({static_cast<double>(i), scriptedStep(i, perEpoch, kWorld).computeMs[1]});
  EXPECT_EQ(points(store.rankTime(1, RankTime::Compute)), compute);
}

TEST(EventFileReader, FollowsTheFileAnotherProcessAppendsTo) {
  constexpr int kSteps = 6;
  ScratchDir scratch;
  const QString work = scratch.makeDir(QStringLiteral("work"));
  std::string script =
      "events runs/followed/events.jsonl\n"
      "run_started dir=runs/followed epochs=1 iterations=6 world=2\n";
  for (long long i = 0; i < kSteps; ++i)
    script += "sleep 150\n" + stepCommand(scriptedStep(i, kSteps, kWorld));
  script += "val epoch=0 map50=0.625\nfinished status=completed\n";
  writeText(scratch.filePath(QStringLiteral("script.txt")), QString::fromStdString(script));

  QProcess engine;
  engine.setProgram(QStringLiteral(SYNCBN_FAKE_ENGINE_PATH));
  engine.setArguments({QStringLiteral("train"), QStringLiteral("config.yaml")});  // no socket
  engine.setWorkingDirectory(work);
  auto environment = QProcessEnvironment::systemEnvironment();
  environment.insert(QStringLiteral("FAKE_ENGINE_SCRIPT"),
                     scratch.filePath(QStringLiteral("script.txt")));
  engine.setProcessEnvironment(environment);
  engine.start();
  ASSERT_TRUE(engine.waitForStarted(2000));
  const QString events = QDir(work).filePath(QStringLiteral("runs/followed/events.jsonl"));
  ASSERT_TRUE(QTest::qWaitFor([&] { return QFile::exists(events); }, 3000));

  RunStore store;
  EventFileReader reader(events, &store);
  QSignalSpy caughtUp(&reader, &EventFileReader::caughtUp);
  QSignalSpy stepsAdded(&store, &RunStore::stepsAdded);
  ASSERT_TRUE(reader.start(true)) << reader.error().toStdString();
  ASSERT_TRUE(caughtUp.wait(2000));
  EXPECT_LT(store.stepsReceived(), kSteps) << "the fake should still be writing";
  EXPECT_TRUE(reader.isFollowing());
  ASSERT_TRUE(QTest::qWaitFor([&] { return store.finished().has_value(); }, 5000))
      << "steps so far: " << store.stepsReceived();
  EXPECT_GE(stepsAdded.size(), 2) << "the steps must arrive as they are written, not at the end";
  EXPECT_FALSE(reader.isFollowing()) << "following ends with the record's finished";
  EXPECT_EQ(store.state(), RunState::Completed);
  EXPECT_EQ(store.stepsReceived(), kSteps);
  expectLosses(store, 0, kSteps - 1, kSteps);
  ASSERT_EQ(store.validation().size(), 1u);
  EXPECT_EQ(store.validation()[0].map50, 0.625);
  EXPECT_EQ(store.badLines(), 0);
  ASSERT_TRUE(engine.state() == QProcess::NotRunning || engine.waitForFinished(3000));
  EXPECT_EQ(engine.exitCode(), 0) << engine.readAllStandardError().toStdString();
}

TEST(EventFileReader, HoldsALineStillBeingWrittenUntilItIsComplete) {
  ScratchDir scratch;
  const QString events = scratch.filePath(QStringLiteral("events.jsonl"));
  append(events, runStartedLine(1, 4) + stepLine(0, 4));
  RunStore store;
  EventFileReader reader(events, &store);
  QSignalSpy caughtUp(&reader, &EventFileReader::caughtUp);
  ASSERT_TRUE(reader.start(true));
  ASSERT_TRUE(caughtUp.wait(2000));
  EXPECT_EQ(store.stepsReceived(), 1);
  EXPECT_EQ(store.state(), RunState::Running);

  const std::string line = stepLine(1, 4);
  append(events, line.substr(0, line.size() / 2));
  QTest::qWait(EventFileReader::kPollMs + 200);  // at least one poll sees the half line
  EXPECT_EQ(store.stepsReceived(), 1);
  EXPECT_EQ(store.badLines(), 0);
  append(events, line.substr(line.size() / 2));
  ASSERT_TRUE(QTest::qWaitFor([&] { return store.stepsReceived() == 2; }, 3000));
  EXPECT_EQ(store.badLines(), 0);
  expectLosses(store, 0, 1, 4);

  EXPECT_TRUE(reader.isFollowing());
  append(events, protocol::encode(protocol::Finished{"stopped", 0, 0, 0, 0, "", ""}));
  ASSERT_TRUE(QTest::qWaitFor([&] { return store.finished().has_value(); }, 3000));
  EXPECT_FALSE(reader.isFollowing());
  EXPECT_EQ(store.state(), RunState::Stopped);
}

TEST(EventFileReader, CountsBadOversizedAndUnfinishedLinesWithTheirLineNumbers) {
  ScratchDir scratch;
  const QString events = scratch.filePath(QStringLiteral("events.jsonl"));
  append(events, runStartedLine(1, 4) + stepLine(0, 4) + "this is not JSON\n" +
                     std::string(protocol::kMaxLineBytes + 1000, 'x') + "\n" + stepLine(1, 4) +
                     "\n" +  // a blank line is no problem
                     stepLine(2, 4).substr(0, 40));
  RunStore store;
  EventFileReader reader(events, &store);
  ASSERT_TRUE(reader.start(false));
  ASSERT_TRUE(QTest::qWaitFor([&] { return isFinal(store.state()); }, 3000));
  EXPECT_EQ(store.state(), RunState::Incomplete);  // no `finished`
  EXPECT_EQ(store.badLines(), 3) << dump(*store.log());
  expectLosses(store, 0, 1, 4);
  for (const char* where : {"events.jsonl:3:", "events.jsonl:4:", "events.jsonl:7:"})
    EXPECT_EQ(linesContaining(*store.log(), QString::fromLatin1(where)).size(), 1u)
        << where << "\n"
        << dump(*store.log());
}

TEST(EventFileReader, StopsFollowingAFileThatBecomesShorter) {
  ScratchDir scratch;
  const QString events = scratch.filePath(QStringLiteral("events.jsonl"));
  append(events, runStartedLine(1, 4) + stepLine(0, 4) + stepLine(1, 4));
  RunStore store;
  EventFileReader reader(events, &store);
  QSignalSpy failed(&reader, &EventFileReader::failed);
  ASSERT_TRUE(reader.start(true));
  ASSERT_TRUE(QTest::qWaitFor([&] { return store.stepsReceived() == 2; }, 2000));
  ASSERT_TRUE(QFile::resize(events, 10));
  ASSERT_TRUE(failed.wait(2000));
  EXPECT_TRUE(failed[0][0].toString().contains(QStringLiteral("events.jsonl")));
  EXPECT_FALSE(reader.isFollowing());
  expectLosses(store, 0, 1, 4);  // what was read stays
}

TEST(EventFileReader, AMissingFileIsAnErrorNamingIt) {
  ScratchDir scratch;
  RunStore store;
  EventFileReader reader(scratch.filePath(QStringLiteral("no-such.jsonl")), &store);
  EXPECT_FALSE(reader.start(true));
  EXPECT_TRUE(reader.error().contains(QStringLiteral("no-such.jsonl")))
      << reader.error().toStdString();
  EXPECT_EQ(store.state(), RunState::Empty);
}

}  // namespace
}  // namespace studio::testing
