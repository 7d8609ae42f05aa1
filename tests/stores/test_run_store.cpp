// RunStore fed with protocol messages as the engine sends them, and the run directory readers
// (events.jsonl replayed, results.csv, the Runs list's summary), checked against what was sent.
#include <gtest/gtest.h>

#include <QDir>
#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <cmath>

#include "common/protocol.h"
#include "stores/event_file_reader.h"
#include "stores/log_model.h"
#include "stores/run_history.h"
#include "stores/run_record.h"
#include "stores/run_store.h"

namespace studio {
namespace {

namespace protocol = syncbn::protocol;

protocol::RunStarted runStarted(int world, int epochs, int perEpoch,
                                const std::string& dir = "runs/train/t") {
  protocol::RunStarted m;
  m.run_dir = dir;
  m.world_size = world;
  m.device = "cpu";
  m.norm = "syncbn";
  m.epochs = epochs;
  m.iterations_per_epoch = perEpoch;
  m.per_rank_batch = 4;
  m.global_batch = 4 * world;
  m.start_time = 1.7e9;
  return m;
}

// Rank r's loss terms at iteration i are (i + r, 2i + r, 3i + r) / 100; the average is what the
// engine would send.
protocol::Step step(long long i, int world, int perEpoch, double time = 0) {
  protocol::Step m;
  m.iteration = i;
  m.epoch = static_cast<int>(i / perEpoch);
  double box = 0, cls = 0, dfl = 0;
  for (int r = 0; r < world; ++r) {
    const double rb = (i + r) / 100.0, rc = (2 * i + r) / 100.0, rd = (3 * i + r) / 100.0;
    m.rank_losses.push_back({{"box", rb}, {"cls", rc}, {"dfl", rd}});
    box += rb / world;
    cls += rc / world;
    dfl += rd / world;
    m.ranks.push_back({r, 10.0 + r, 100.0 + 10 * r, 5.0});
  }
  m.losses = {{"box", box}, {"cls", cls}, {"dfl", dfl}};
  m.lr = 0.01 / (1 + i);
  m.images_per_second = 40;
  m.time = time;
  return m;
}

protocol::Val val(int epoch, double map50_95, double fitness) {
  protocol::Val m;
  m.epoch = epoch;
  m.map50 = map50_95 + 0.2;
  m.map50_95 = map50_95;
  m.fitness = fitness;
  m.classes = {{"circle", 10, 12, 0.5, 0.4, 0.6, map50_95}};
  return m;
}

TEST(RunStore, HoldsEveryStepPerRankAndTheTimingSummary) {
  RunStore store;
  QSignalSpy steps(&store, &RunStore::stepsAdded);
  std::vector<protocol::Message> messages{runStarted(2, 3, 10)};
  for (int i = 0; i < 30; ++i)
    messages.emplace_back(step(i, 2, 10, 1.0 + i * 0.5));
  store.ingest(messages);
  EXPECT_EQ(steps.count(), 1);  // one signal for the batch
  EXPECT_EQ(store.state(), RunState::Running);
  EXPECT_EQ(store.stepsReceived(), 30);
  EXPECT_EQ(store.loss(LossTerm::Total).count(), 30);
  for (const SeriesPoint& p : store.loss(LossTerm::Total).fullResolution()) {
    const double i = p.key;
    // Average over ranks 0 and 1 of (i + r + 2i + r + 3i + r) / 100.
    EXPECT_NEAR(p.value, (6 * i + 1.5) / 100.0, 1e-12);
  }
  EXPECT_NEAR(store.rankLoss(1, LossTerm::Dfl).last()->value, (3 * 29 + 1) / 100.0, 1e-12);
  EXPECT_NEAR(store.learningRate().last()->value, 0.01 / 30, 1e-15);
  ASSERT_EQ(store.rankTimings().size(), 2u);
  EXPECT_DOUBLE_EQ(store.rankTimings()[1].meanMs[1], 110.0);
  EXPECT_DOUBLE_EQ(store.rankTimings()[1].latestMs[0], 11.0);
  EXPECT_NEAR(*store.timeAt(10.5), 1.0 + 10.5 * 0.5, 1e-12);

  const RunProgress p = store.progress();
  EXPECT_EQ(p.epoch, 2);
  EXPECT_EQ(p.iteration, 29);
  EXPECT_EQ(p.stepInEpoch, 10);
  ASSERT_TRUE(p.etaSeconds);
  EXPECT_NEAR(*p.etaSeconds, 0.0, 1e-9);  // the last iteration is in
}

TEST(RunStore, EtaFollowsTheRecentPace) {
  RunStore store;
  store.ingest(runStarted(1, 2, 50));
  for (int i = 0; i < 20; ++i)
    store.ingest(step(i, 1, 50, 100.0 + 2.0 * i));  // 2 s per iteration
  ASSERT_TRUE(store.progress().etaSeconds);
  EXPECT_NEAR(*store.progress().etaSeconds, (100 - 20) * 2.0, 1e-9);
}

TEST(RunStore, AResumedRunReplacesTheIterationsItRepeats) {
  RunStore store;
  store.ingest(runStarted(1, 1, 100));
  for (int i = 0; i < 50; ++i)
    store.ingest(step(i, 1, 100, 1 + i));
  // Killed at 50, resumed from the checkpoint at 40: iterations 40.. come again, later in time.
  store.ingest(runStarted(1, 1, 100));
  for (int i = 40; i < 60; ++i) {
    protocol::Step again = step(i, 1, 100, 1000 + i);
    again.losses["box"] += 1;
    store.ingest(again);
  }
  const SeriesBuffer& box = store.loss(LossTerm::Box);
  EXPECT_EQ(box.count(), 60);
  EXPECT_NEAR(box.fullResolution()[45].value, 45 / 100.0 + 1, 1e-12);
  EXPECT_NEAR(box.fullResolution()[39].value, 39 / 100.0, 1e-12);
  EXPECT_EQ(store.wallTime().fullResolution()[39].value, 40);
  EXPECT_EQ(store.wallTime().fullResolution()[40].value, 1040);
}

TEST(RunStore, ValidationBestEpochAndClasses) {
  RunStore store;
  store.ingest(runStarted(1, 3, 5));
  store.ingest(val(0, 0.1, 0.12));
  store.ingest(val(1, 0.3, 0.33));
  store.ingest(val(2, 0.25, 0.28));
  ASSERT_EQ(store.validation().size(), 3u);
  EXPECT_EQ(*store.bestValidationIndex(), 1);
  EXPECT_DOUBLE_EQ(*store.bestMap50_95(), 0.3);
  ASSERT_EQ(store.latestClasses().size(), 1u);
  EXPECT_DOUBLE_EQ(store.latestClasses()[0].map50_95, 0.25);
  // A resumed run validating epoch 1 again replaces it and what followed.
  store.ingest(val(1, 0.31, 0.34));
  ASSERT_EQ(store.validation().size(), 2u);
  EXPECT_DOUBLE_EQ(store.validation().back().map50_95, 0.31);
}

TEST(RunStore, ARankDeathNamesTheRankAndKeepsTheData) {
  RunStore store;
  store.ingest(runStarted(2, 1, 10));
  store.ingest(step(0, 2, 10));
  store.ingest(protocol::RankExit{1, -9, 9, "killed by SIGKILL"});
  protocol::Finished finished;
  finished.status = "failed";
  finished.error = "rank 1 killed by SIGKILL";
  store.ingest(finished);
  EXPECT_EQ(store.state(), RunState::Failed);
  EXPECT_TRUE(store.failureMessage().contains(QStringLiteral("Rank 1")));
  EXPECT_TRUE(store.failureMessage().contains(QStringLiteral("SIGKILL")));
  EXPECT_EQ(store.loss(LossTerm::Box).count(), 1);
}

TEST(RunStore, LogEventsAreKeptUnlessTheConsoleCarriesThem) {
  RunStore replayed;
  replayed.ingest(protocol::Log{"warning", 1, "slow data"});
  ASSERT_EQ(replayed.log()->rowCount(), 1);
  EXPECT_EQ(replayed.log()->line(0).source, 1);
  EXPECT_EQ(replayed.log()->line(0).level, LogLevel::Warning);
  RunStore live;
  live.setConsoleAttached(true);
  live.ingest(protocol::Log{"warning", 1, "slow data"});
  EXPECT_EQ(live.log()->rowCount(), 0);
}

TEST(RunStore, MemoryStaysBoundedOnAMillionSteps) {
  RunStore store;
  store.ingest(runStarted(4, 100, 10000));
  for (int i = 0; i < 1000000; ++i)
    store.ingest(step(i, 4, 10000, i * 0.1));
  EXPECT_EQ(store.loss(LossTerm::Total).count(), 1000000);
  EXPECT_LT(store.memoryBytes(), std::size_t{64} << 20);
}

TEST(LogModel, ParsesRankPrefixesAndLevelsAndStaysWithinCapacity) {
  const LogLine rank = parseConsoleLine(QStringLiteral("[rank 3] warning: slow"), 0);
  EXPECT_EQ(rank.source, 3);
  EXPECT_EQ(rank.level, LogLevel::Warning);
  EXPECT_EQ(rank.text, QStringLiteral("warning: slow"));
  const LogLine launcher = parseConsoleLine(QStringLiteral("[launcher] rank 1 exited"), 0);
  EXPECT_EQ(launcher.source, LogLine::kLauncher);
  EXPECT_EQ(launcher.level, LogLevel::Info);
  EXPECT_EQ(parseConsoleLine(QStringLiteral("configs/x.yaml:3: error: bad"), 0).level,
            LogLevel::Error);

  LogModel model(nullptr, 100);
  QList<LogLine> lines;
  for (int i = 0; i < 250; ++i)
    lines << LogLine{0, 0, LogLevel::Info, QString::number(i)};
  model.append(lines);
  EXPECT_LE(model.rowCount(), 100);
  EXPECT_EQ(model.line(model.rowCount() - 1).text, QStringLiteral("249"));
  EXPECT_EQ(model.droppedLines() + model.rowCount(), 250);
}

// ---- run directories ----

QByteArray lines(const std::vector<protocol::Message>& messages) {
  QByteArray bytes;
  for (const auto& m : messages)
    bytes += QByteArray::fromStdString(protocol::encode(m));
  return bytes;
}

void writeFile(const QString& path, const QByteArray& bytes) {
  QDir().mkpath(QFileInfo(path).absolutePath());
  QFile file(path);
  ASSERT_TRUE(file.open(QIODevice::WriteOnly));
  file.write(bytes);
}

TEST(EventFileReader, ReplaysARecordAndCountsWhatItCannotUse) {
  QTemporaryDir dir;
  const QString path = dir.filePath(QStringLiteral("events.jsonl"));
  QByteArray bytes = lines({runStarted(1, 1, 4), step(0, 1, 4, 1), step(1, 1, 4, 2)});
  bytes +=
      "{\"v\":1,\"type\":\"step\",\"epoch\":0,\"iteration\":2,\"losses\":{},\"rank_losses\":[],"
      "\"lr\":0.1,\"images_per_second\":1,\"ranks\":[]}\n";  // version 1: no time
  bytes += "not json\n";
  bytes += QByteArray(int(protocol::kMaxLineBytes) + 10, 'x') + "\n";
  bytes += lines({step(3, 1, 4, 4)});
  bytes += "{\"v\":2,\"type\":\"val\"";  // cut off
  writeFile(path, bytes);

  RunStore store;
  EventFileReader reader(path, &store);
  ASSERT_TRUE(reader.start(/*follow=*/false));
  QSignalSpy caught(&reader, &EventFileReader::caughtUp);
  ASSERT_TRUE(caught.wait(5000));
  EXPECT_EQ(store.stepsReceived(), 4);
  EXPECT_EQ(store.badLines(), 3);  // malformed, oversized, truncated
  EXPECT_EQ(store.state(), RunState::Incomplete);
  bool namedLine = false;
  for (int row = 0; row < store.log()->rowCount(); ++row)
    namedLine |= store.log()->line(row).text.contains(QStringLiteral("events.jsonl:5:"));
  EXPECT_TRUE(namedLine) << "the malformed line is reported with its number";
}

TEST(EventFileReader, FollowsARecordThatGrows) {
  QTemporaryDir dir;
  const QString path = dir.filePath(QStringLiteral("events.jsonl"));
  writeFile(path, lines({runStarted(1, 1, 3), step(0, 1, 3, 1)}));
  RunStore store;
  EventFileReader reader(path, &store);
  ASSERT_TRUE(reader.start(/*follow=*/true));
  ASSERT_TRUE(QTest::qWaitFor([&] { return store.stepsReceived() == 1; }, 5000));
  QFile file(path);
  ASSERT_TRUE(file.open(QIODevice::Append));
  const QByteArray more = lines({step(1, 1, 3, 2)});
  file.write(more.left(20));  // half a line: held until the rest comes
  file.flush();
  QTest::qWait(EventFileReader::kPollMs * 2);
  EXPECT_EQ(store.stepsReceived(), 1);
  file.write(more.mid(20));
  protocol::Finished finished;
  finished.status = "completed";
  file.write(lines({finished}));
  file.close();
  ASSERT_TRUE(QTest::qWaitFor([&] { return store.state() == RunState::Completed; }, 5000));
  EXPECT_EQ(store.stepsReceived(), 2);
  EXPECT_EQ(store.badLines(), 0);
  EXPECT_FALSE(reader.isFollowing());
}

TEST(RunRecord, ReadsResultsCsvWithAndWithoutTheTimeColumn) {
  QTemporaryDir dir;
  const QString withTime = dir.filePath(QStringLiteral("a.csv"));
  writeFile(withTime,
            "epoch,time,train/box_loss,train/cls_loss,train/dfl_loss,metrics/precision(B),"
            "metrics/recall(B),metrics/mAP50(B),metrics/mAP50-95(B),val/box_loss,val/cls_loss,"
            "val/dfl_loss,lr/pg0,lr/pg1,lr/pg2\n"
            "1,12.5,3.1,3.2,3.3,0.1,0.2,0.3,0.15,1,1,1,0.001,0.001,0.001\n"
            "2,25,2.1,2.2,2.3,0.4,0.5,0.6,0.35,1,1,1,0.002,0.002,0.002\n");
  QString error;
  const auto rows = RunRecord::readResultsCsv(withTime, &error);
  ASSERT_TRUE(rows) << error.toStdString();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[1].epoch, 2);
  EXPECT_DOUBLE_EQ((*rows)[1].time, 25);
  EXPECT_DOUBLE_EQ((*rows)[1].map50_95, 0.35);
  EXPECT_DOUBLE_EQ((*rows)[0].trainDfl, 3.3);

  const QString bad = dir.filePath(QStringLiteral("b.csv"));
  writeFile(bad, "epoch,train/box_loss\n1,2\nx,3\n");
  EXPECT_FALSE(RunRecord::readResultsCsv(bad, &error));
  EXPECT_TRUE(error.contains(QStringLiteral("b.csv:3"))) << error.toStdString();
}

TEST(RunHistory, ListsRunsWithTheirStatusNewestFirst) {
  QTemporaryDir project;
  protocol::Finished done;
  done.status = "completed";
  protocol::RunStarted older = runStarted(2, 3, 5, "a");
  older.start_time = 1.6e9;
  writeFile(project.filePath(QStringLiteral("old/events.jsonl")),
            lines({older, step(0, 2, 5), val(0, 0.2, 0.25), done}));
  protocol::RunStarted newer = runStarted(4, 10, 5, "b");
  newer.norm = "bn";
  writeFile(project.filePath(QStringLiteral("new/events.jsonl")), lines({newer, step(0, 4, 5)}));
  writeFile(project.filePath(QStringLiteral("new/weights/last.pt")), "x");
  writeFile(project.filePath(QStringLiteral("new/args.yaml")), "train:\n  epochs: 10\n");
  QDir().mkpath(project.filePath(QStringLiteral("not-a-run")));

  RunHistory history;
  history.setProjectDirectory(project.path());
  ASSERT_EQ(history.rowCount(), 2);
  const RunSummary& first = history.run(0);
  EXPECT_EQ(first.name, QStringLiteral("new"));
  EXPECT_EQ(first.norm, QStringLiteral("bn"));
  EXPECT_EQ(first.worldSize, 4);
  EXPECT_EQ(first.status, QStringLiteral("running"));  // just written, no finish record
  EXPECT_TRUE(first.resumable);
  const RunSummary& second = history.run(1);
  EXPECT_EQ(second.status, QStringLiteral("completed"));
  EXPECT_EQ(second.epochsDone, 1);
  EXPECT_EQ(second.epochs, 3);
  EXPECT_FALSE(second.resumable);
}

}  // namespace
}  // namespace studio
