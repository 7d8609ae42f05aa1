// The engine session running the real syncbn-engine: 2 CPU ranks with SyncBN on a tiny generated
// dataset (16 training images of 64x64), to completion, and stopped then resumed into the same
// store. The numbers expected follow from the configuration: 16 images at a global batch of 8 are
// 2 iterations an epoch, at a batch of 4 they are 4.
#include <gtest/gtest.h>

#include <QFileInfo>
#include <QProcess>
#include <QTest>
#include <memory>

#include "common/diagnostics.h"
#include "session_harness.h"

namespace studio::testing {
namespace {

constexpr int kTrainImages = 16;
constexpr int kRanks = 2;
constexpr int kRunTimeoutMs = 240000;

// The dataset, made once per process: `syncbn-engine make-demo-data DIR --train 16 --val 8`.
QString demoDataYaml() {
  static const auto dir = std::make_unique<ScratchDir>();
  static const QString yaml = [] {
    QProcess make;
    make.start(QStringLiteral(SYNCBN_ENGINE_PATH),
               {QStringLiteral("make-demo-data"), dir->filePath(QStringLiteral("demo")),
                QStringLiteral("--train"), QString::number(kTrainImages), QStringLiteral("--val"),
                QStringLiteral("8"), QStringLiteral("--imgsz"), QStringLiteral("64"),
                QStringLiteral("--seed"), QStringLiteral("1")});
    if (!make.waitForFinished(120000) || make.exitStatus() != QProcess::NormalExit ||
        make.exitCode() != 0) {
      ADD_FAILURE() << "make-demo-data failed: " << make.readAllStandardError().toStdString();
      return QString();
    }
    return dir->filePath(QStringLiteral("demo/data.yaml"));
  }();
  return yaml;
}

class RealEngineTest : public ::testing::Test {
 protected:
  RealEngineTest()
      : work_(scratch_.makeDir(QStringLiteral("work"))),
        project_(scratch_.filePath(QStringLiteral("runs"))) {
    session_.setEngineProgram(QStringLiteral(SYNCBN_ENGINE_PATH));
    session_.setWorkingDirectory(work_);
    session_.setPrivateDirectory(scratch_.filePath(QStringLiteral("private")));
  }
  ~RealEngineTest() override {
    if (session_.isActive()) {
      session_.kill();
      if (!QTest::qWaitFor([this] { return !session_.isActive(); }, 10000))
        ADD_FAILURE() << "the engine outlived its test";
    }
  }

  // 1 epoch, 2 CPU ranks with SyncBN, 64x64 images, one loader worker; project/name.
  void configure(int batch, const QString& name) {
    syncbn::Config config;
    config.data.data = demoDataYaml().toStdString();
    config.data.imgsz = 64;
    config.train.epochs = 1;
    config.train.batch = batch;
    config.train.workers = 1;
    config.train.amp = false;
    config.distributed.device = "cpu";
    config.distributed.cpu_ranks = kRanks;
    config.distributed.norm = syncbn::NormKind::SyncBatchNorm;
    config.output.project = project_.toStdString();
    config.output.name = name.toStdString();
    document_.setConfig(config);
    ASSERT_EQ(syncbn::countSeverity(document_.diagnostics(), syncbn::Severity::Error), 0u);
  }

  bool waitForEnd() {
    return QTest::qWaitFor([this] { return !session_.isActive(); }, kRunTimeoutMs);
  }

  // The iterations of the loss series, which must be 0, 1, ..., n - 1 once each.
  static std::vector<double> firstIterations(long long n) {
    std::vector<double> out;
    for (long long i = 0; i < n; ++i)
      out.push_back(static_cast<double>(i));
    return out;
  }

  ScratchDir scratch_;
  QString work_, project_;
  ConfigDocument document_;
  RunStore store_;
  EngineSession session_;
};

TEST_F(RealEngineTest, ATrainingRunLandsInTheStoreStepByStep) {
  ASSERT_FALSE(demoDataYaml().isEmpty());
  configure(8, QStringLiteral("complete"));
  QString error;
  ASSERT_TRUE(session_.start(document_, &store_, &error)) << error.toStdString();
  ASSERT_TRUE(waitForEnd()) << dump(*store_.log());

  ASSERT_EQ(store_.state(), RunState::Completed) << store_.failureMessage().toStdString() << "\n"
                                                 << dump(*store_.log());
  const QString runDir = QDir(project_).filePath(QStringLiteral("complete"));
  EXPECT_EQ(store_.runDirectory(), runDir);
  ASSERT_TRUE(store_.hasRunInfo());
  EXPECT_EQ(store_.runInfo().world_size, kRanks);
  EXPECT_EQ(store_.runInfo().epochs, 1);
  EXPECT_EQ(store_.runInfo().iterations_per_epoch, kTrainImages / 8);
  EXPECT_EQ(store_.runInfo().per_rank_batch, 8 / kRanks);
  const long long iterations =
      static_cast<long long>(store_.runInfo().iterations_per_epoch) * store_.runInfo().epochs;
  EXPECT_EQ(store_.stepsReceived(), iterations);
  EXPECT_EQ(keys(store_.loss(LossTerm::Total)), firstIterations(iterations));
  for (int rank = 0; rank < kRanks; ++rank)
    EXPECT_EQ(keys(store_.rankLoss(rank, LossTerm::Box)), firstIterations(iterations)) << rank;
  for (const SeriesPoint& p : points(store_.loss(LossTerm::Total)))
    EXPECT_GT(p.value, 0) << "iteration " << p.key;
  ASSERT_EQ(store_.validation().size(), 1u);
  EXPECT_EQ(store_.validation()[0].epoch, 0);
  EXPECT_EQ(store_.datasets().size(), 2u);  // train and val
  ASSERT_TRUE(store_.finished());
  EXPECT_EQ(store_.finished()->status, "completed");
  EXPECT_EQ(store_.finished()->epochs_completed, 1);
  EXPECT_EQ(store_.badLines(), 0) << dump(*store_.log());
  EXPECT_TRUE(QFileInfo(QDir(runDir).filePath(QStringLiteral("weights/last.pt"))).isFile());
  EXPECT_FALSE(linesContaining(*store_.log(), QString(), 0).empty())
      << "rank 0's console output belongs in the log\n"
      << dump(*store_.log());
  // The complete record, also when the studio started the run.
  EXPECT_TRUE(QFileInfo(QDir(runDir).filePath(QStringLiteral("events.jsonl"))).isFile());
}

TEST_F(RealEngineTest, AStoppedRunResumesToTheEndInTheSameStore) {
  ASSERT_FALSE(demoDataYaml().isEmpty());
  constexpr int kIterations = kTrainImages / 4;  // batch 4, 1 epoch
  configure(4, QStringLiteral("resumed"));
  QString error;
  ASSERT_TRUE(session_.start(document_, &store_, &error)) << error.toStdString();
  ASSERT_TRUE(QTest::qWaitFor([this] { return store_.stepsReceived() > 0 || !session_.isActive(); },
                              kRunTimeoutMs));
  ASSERT_EQ(store_.stepsReceived(), 1) << dump(*store_.log());
  session_.requestStop();
  ASSERT_TRUE(waitForEnd()) << dump(*store_.log());

  ASSERT_EQ(store_.state(), RunState::Stopped) << store_.failureMessage().toStdString() << "\n"
                                               << dump(*store_.log());
  const QString runDir = QDir(project_).filePath(QStringLiteral("resumed"));
  EXPECT_TRUE(QFileInfo(QDir(runDir).filePath(QStringLiteral("weights/last.pt"))).isFile());
  const long long stoppedAt = store_.progress().iteration;
  ASSERT_LT(stoppedAt, kIterations - 1) << "it ran to the end before the stop took effect";
  ASSERT_FALSE(store_.checkpoints().empty());
  EXPECT_EQ(store_.checkpoints().back().iteration, stoppedAt + 1);

  ASSERT_TRUE(session_.resume(runDir, &store_, &error)) << error.toStdString();
  ASSERT_TRUE(waitForEnd()) << dump(*store_.log());
  ASSERT_EQ(store_.state(), RunState::Completed) << store_.failureMessage().toStdString() << "\n"
                                                 << dump(*store_.log());
  EXPECT_EQ(store_.runInfo().iterations_per_epoch, kIterations);
  EXPECT_EQ(store_.progress().iteration, kIterations - 1);
  EXPECT_EQ(keys(store_.loss(LossTerm::Total)), firstIterations(kIterations));
  EXPECT_EQ(store_.stepsReceived(), kIterations);  // nothing was repeated
  ASSERT_EQ(store_.validation().size(), 1u);
  ASSERT_TRUE(store_.finished());
  EXPECT_EQ(store_.finished()->status, "completed");
}

}  // namespace
}  // namespace studio::testing
