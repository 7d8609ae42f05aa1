// EngineSession + ProgressServer + RunStore driven by the scripted fake engine: what a run sends
// must land in the store unchanged, commands must reach the engine, and every way a run can go
// wrong (a bad peer, bad lines, a crash, a failed rank, a missing program, a stop that hangs) must
// end in a clear state and message, keeping what was received.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <QFile>
#include <QFileInfo>
#include <QSignalSpy>
#include <QTest>

#include "common/diagnostics.h"
#include "session_harness.h"

namespace studio::testing {
namespace {

constexpr int kWorld = 2;

// connect, hello and run_started for a run of `epochs` x `perEpoch` iterations of 2 ranks.
std::string preamble(int epochs, int perEpoch, const std::string& dir = "runs/fake") {
  return "connect\nhello\nrun_started dir=" + dir + " epochs=" + std::to_string(epochs) +
         " iterations=" + std::to_string(perEpoch) + " world=" + std::to_string(kWorld) +
         " global_batch=16 per_rank_batch=8 start_time=1764579600.25\n";
}

// Every series of every step in [first, last] holds exactly scriptedStep's numbers.
void expectSteps(const RunStore& store, long long first, long long last, int perEpoch) {
  std::vector<double> expectedKeys;
  for (long long i = first; i <= last; ++i)
    expectedKeys.push_back(static_cast<double>(i));
  for (const LossTerm term : kLossTerms)
    ASSERT_EQ(keys(store.loss(term)), expectedKeys) << lossTermName(term).toStdString();
  for (long long i = first; i <= last; ++i) {
    SCOPED_TRACE("iteration " + std::to_string(i));
    const ScriptedStep s = scriptedStep(i, perEpoch, kWorld);
    const auto at = [&](const SeriesBuffer& series) {
      return points(series).at(static_cast<std::size_t>(i - first)).value;
    };
    EXPECT_EQ(at(store.loss(LossTerm::Box)), s.box);
    EXPECT_EQ(at(store.loss(LossTerm::Cls)), s.cls);
    EXPECT_EQ(at(store.loss(LossTerm::Dfl)), s.dfl);
    EXPECT_DOUBLE_EQ(at(store.loss(LossTerm::Total)), s.box + s.cls + s.dfl);
    EXPECT_EQ(at(store.learningRate()), s.lr);
    EXPECT_EQ(at(store.imagesPerSecond()), s.imagesPerSecond);
    EXPECT_EQ(at(store.wallTime()), s.time);
    for (int r = 0; r < kWorld; ++r) {
      const auto ru = static_cast<std::size_t>(r);
      EXPECT_EQ(at(store.rankLoss(r, LossTerm::Box)), s.rankBox[ru]) << "rank " << r;
      EXPECT_EQ(at(store.rankLoss(r, LossTerm::Cls)), s.rankCls[ru]) << "rank " << r;
      EXPECT_EQ(at(store.rankLoss(r, LossTerm::Dfl)), s.rankDfl[ru]) << "rank " << r;
      EXPECT_EQ(at(store.rankTime(r, RankTime::Data)), s.dataMs[ru]) << "rank " << r;
      EXPECT_EQ(at(store.rankTime(r, RankTime::Compute)), s.computeMs[ru]) << "rank " << r;
      EXPECT_EQ(at(store.rankTime(r, RankTime::Comm)), s.commMs[ru]) << "rank " << r;
    }
  }
}

using EngineSessionTest = FakeEngineTest;

TEST_F(EngineSessionTest, AFullScriptedRunLandsInTheStore) {
  constexpr int kEpochs = 2, kPerEpoch = 3;
  QSignalSpy connected(&session_, &EngineSession::connectedChanged);
  QSignalSpy states(&session_, &EngineSession::stateChanged);
  ASSERT_TRUE(start("out \"[rank 0] preparing the run\"\n" + preamble(kEpochs, kPerEpoch) +
                    "dataset split=train images=16 instances=40\n"
                    "dataset split=val images=8 instances=20\n" +
                    stepCommands(0, 2, kPerEpoch, kWorld) +
                    "bn_stats iteration=2 layer=model.0.bn divergence=0.125 mean=0.5,0.25 "
                    "var=1,1.5 layer=model.2.cv1.bn divergence=0.0625 mean=-0.5,-0.75 var=2,2.5\n"
                    "val epoch=0 time=2.25 precision=0.5 recall=0.25 map50=0.375 map50_95=0.125 "
                    "fitness=0.15625 class=circle:8:11:0.5:0.25:0.375:0.125 "
                    "class=square:6:9:0.75:0.5:0.625:0.25\n"
                    "checkpoint kind=last epoch=0 iteration=3\n"
                    "checkpoint kind=best epoch=0 iteration=3\n" +
                    stepCommands(3, 5, kPerEpoch, kWorld) +
                    "val epoch=1 time=4.5 precision=0.25 recall=0.125 map50=0.25 map50_95=0.0625 "
                    "fitness=0.078125 class=circle:8:11:0.25:0.125:0.25:0.0625 "
                    "class=square:6:9:0.5:0.25:0.5:0.125\n"
                    "checkpoint kind=last epoch=1 iteration=6\n"
                    "finished status=completed epochs=2 best_fitness=0.15625 map50=0.375 "
                    "map50_95=0.125 best=runs/fake/weights/best.pt\n"
                    "exit 0\n"));
  EXPECT_EQ(session_.state(), EngineSession::State::Running);
  ASSERT_TRUE(waitForEnd());

  EXPECT_EQ(store_.state(), RunState::Completed) << store_.failureMessage().toStdString();
  EXPECT_TRUE(store_.failureMessage().isEmpty()) << store_.failureMessage().toStdString();
  ASSERT_TRUE(store_.hasRunInfo());
  const auto& info = store_.runInfo();
  EXPECT_EQ(info.run_dir, "runs/fake");
  EXPECT_EQ(info.start_time, 1764579600.25);
  EXPECT_EQ(info.world_size, kWorld);
  EXPECT_EQ(info.epochs, kEpochs);
  EXPECT_EQ(info.iterations_per_epoch, kPerEpoch);
  EXPECT_EQ(info.global_batch, 16);
  EXPECT_EQ(info.per_rank_batch, 8);
  // The run directory is the engine's, relative to the engine's working directory.
  EXPECT_EQ(store_.runDirectory(), workPath(QStringLiteral("runs/fake")));

  EXPECT_EQ(store_.stepsReceived(), kEpochs * kPerEpoch);
  expectSteps(store_, 0, 5, kPerEpoch);
  const RunProgress progress = store_.progress();
  EXPECT_EQ(progress.iteration, 5);
  EXPECT_EQ(progress.epoch, 1);
  EXPECT_EQ(progress.stepInEpoch, 3);
  ASSERT_EQ(store_.rankTimings().size(), std::size_t{kWorld});
  for (int r = 0; r < kWorld; ++r) {
    double data = 0, compute = 0, comm = 0;
    for (long long i = 0; i <= 5; ++i) {
      const ScriptedStep s = scriptedStep(i, kPerEpoch, kWorld);
      data += s.dataMs[static_cast<std::size_t>(r)] / 6;
      compute += s.computeMs[static_cast<std::size_t>(r)] / 6;
      comm += s.commMs[static_cast<std::size_t>(r)] / 6;
    }
    const RankTimingSummary& t = store_.rankTimings()[static_cast<std::size_t>(r)];
    EXPECT_EQ(t.rank, r);
    EXPECT_EQ(t.steps, 6);
    EXPECT_NEAR(t.meanMs[0], data, 1e-9);
    EXPECT_NEAR(t.meanMs[1], compute, 1e-9);
    EXPECT_NEAR(t.meanMs[2], comm, 1e-9);
    const ScriptedStep last = scriptedStep(5, kPerEpoch, kWorld);
    EXPECT_EQ(t.latestMs[1], last.computeMs[static_cast<std::size_t>(r)]);
  }

  ASSERT_EQ(store_.datasets().size(), 2u);
  EXPECT_EQ(store_.datasets()[0].split, "train");
  EXPECT_EQ(store_.datasets()[0].images, 16);
  EXPECT_EQ(store_.datasets()[1].split, "val");
  EXPECT_EQ(store_.datasets()[1].instances, 20);

  ASSERT_TRUE(store_.latestBnStats());
  EXPECT_EQ(store_.latestBnStats()->iteration, 2);
  ASSERT_EQ(store_.latestBnStats()->layers.size(), 2u);
  EXPECT_EQ(store_.latestBnStats()->layers[1].layer, "model.2.cv1.bn");
  EXPECT_EQ(store_.latestBnStats()->layers[1].divergence, 0.0625);
  EXPECT_EQ(store_.latestBnStats()->layers[1].rank_mean, (std::vector<double>{-0.5, -0.75}));
  EXPECT_EQ(store_.latestBnStats()->layers[0].rank_var, (std::vector<double>{1, 1.5}));

  ASSERT_EQ(store_.validation().size(), 2u);
  EXPECT_EQ(store_.validation()[0].epoch, 0);
  EXPECT_EQ(store_.validation()[0].time, 2.25);
  EXPECT_EQ(store_.validation()[0].map50, 0.375);
  EXPECT_EQ(store_.validation()[0].fitness, 0.15625);
  EXPECT_EQ(store_.validation()[1].epoch, 1);
  EXPECT_EQ(store_.validation()[1].precision, 0.25);
  EXPECT_EQ(store_.validation()[1].recall, 0.125);
  EXPECT_EQ(store_.validation()[1].map50_95, 0.0625);
  EXPECT_EQ(store_.bestValidationIndex(), 0);    // epoch 0 had the higher fitness
  ASSERT_EQ(store_.latestClasses().size(), 2u);  // epoch 1's
  EXPECT_EQ(store_.latestClasses()[1].name, "square");
  EXPECT_EQ(store_.latestClasses()[1].images, 6);
  EXPECT_EQ(store_.latestClasses()[1].instances, 9);
  EXPECT_EQ(store_.latestClasses()[1].map50, 0.5);

  ASSERT_EQ(store_.checkpoints().size(), 3u);
  EXPECT_EQ(store_.checkpoints()[0].kind, "last");
  EXPECT_EQ(store_.checkpoints()[1].kind, "best");
  EXPECT_EQ(store_.checkpoints()[2].kind, "last");
  EXPECT_EQ(store_.checkpoints()[2].epoch, 1);
  EXPECT_EQ(store_.checkpoints()[2].iteration, 6);
  EXPECT_EQ(store_.checkpoints()[2].path, "runs/fake/weights/last.pt");
  EXPECT_TRUE(QFileInfo(workPath(QStringLiteral("runs/fake/weights/last.pt"))).isFile());

  ASSERT_TRUE(store_.finished());
  EXPECT_EQ(store_.finished()->status, "completed");
  EXPECT_EQ(store_.finished()->epochs_completed, 2);
  EXPECT_EQ(store_.finished()->best_fitness, 0.15625);
  EXPECT_EQ(store_.finished()->best_checkpoint, "runs/fake/weights/best.pt");
  EXPECT_EQ(store_.badLines(), 0);

  // The console line, and no error anywhere in a clean run.
  const auto preparing = linesContaining(*store_.log(), QStringLiteral("preparing the run"), 0);
  EXPECT_EQ(preparing.size(), 1u) << dump(*store_.log());
  EXPECT_TRUE(
      logLines(*store_.log(), [](const LogLine& l) { return l.level == LogLevel::Error; }).empty())
      << dump(*store_.log());

  EXPECT_EQ(session_.state(), EngineSession::State::Idle);
  EXPECT_FALSE(session_.isConnected());
  EXPECT_EQ(runsEnded_, 1);
  ASSERT_EQ(connected.size(), 2);
  EXPECT_TRUE(connected[0][0].toBool());
  EXPECT_FALSE(connected[1][0].toBool());
  ASSERT_EQ(states.size(), 2);
  EXPECT_EQ(states[0][0].value<EngineSession::State>(), EngineSession::State::Running);
  EXPECT_EQ(states[1][0].value<EngineSession::State>(), EngineSession::State::Idle);
}

TEST_F(EngineSessionTest, StopSendsStopAndTheSavedRunEndsStopped) {
  ASSERT_TRUE(start(preamble(3, 4) + stepCommands(0, 1, 4, kWorld) +
                    "wait_command stop timeout=5000\n"
                    "checkpoint kind=last epoch=0 iteration=2\n"
                    "finished status=stopped epochs=0\n"
                    "exit 0\n"));
  ASSERT_TRUE(waitForSteps(2));
  ASSERT_EQ(store_.stepsReceived(), 2) << dump(*store_.log());
  ASSERT_TRUE(session_.isConnected());
  EXPECT_FALSE(QFileInfo::exists(workPath(QStringLiteral("runs/fake/weights/last.pt"))));

  session_.requestStop();
  EXPECT_EQ(session_.state(), EngineSession::State::Stopping);
  EXPECT_EQ(store_.state(), RunState::Stopping);
  ASSERT_TRUE(waitForEnd());

  EXPECT_EQ(store_.state(), RunState::Stopped)
      << store_.failureMessage().toStdString() << dump(*store_.log());
  // The fake went on only because it read a `stop` line from the socket.
  EXPECT_EQ(
      linesContaining(*store_.log(), QStringLiteral("[fake] main: received stop"), LogLine::kEngine)
          .size(),
      1u)
      << dump(*store_.log());
  EXPECT_TRUE(QFileInfo(workPath(QStringLiteral("runs/fake/weights/last.pt"))).isFile());
  ASSERT_EQ(store_.checkpoints().size(), 1u);
  EXPECT_EQ(store_.checkpoints()[0].kind, "last");
  EXPECT_EQ(store_.checkpoints()[0].iteration, 2);
  ASSERT_TRUE(store_.finished());
  EXPECT_EQ(store_.finished()->status, "stopped");
  expectSteps(store_, 0, 1, 4);
  EXPECT_FALSE(session_.canKill());  // it stopped within the grace period
  EXPECT_EQ(runsEnded_, 1);
}

TEST_F(EngineSessionTest, AStopBeforeTheEngineConnectedIsASigterm) {
  ASSERT_TRUE(start("sigterm ignore_first\ntouch ready\nwait_sigterm\n" + preamble(1, 4) +
                    "checkpoint kind=last epoch=0 iteration=0\nfinished status=stopped\n"));
  ASSERT_TRUE(QTest::qWaitFor(
      [this] { return QFileInfo::exists(workPath(QStringLiteral("ready"))); }, 5000));
  ASSERT_FALSE(session_.isConnected());
  session_.requestStop();
  EXPECT_EQ(store_.state(), RunState::Stopping);
  ASSERT_TRUE(waitForEnd());
  EXPECT_EQ(
      linesContaining(*store_.log(), QStringLiteral("[fake] got SIGTERM"), LogLine::kEngine).size(),
      1u)
      << dump(*store_.log());
  EXPECT_EQ(store_.state(), RunState::Stopped)
      << store_.failureMessage().toStdString() << dump(*store_.log());
}

TEST_F(EngineSessionTest, CheckpointNowReachesTheEngine) {
  ASSERT_TRUE(start(preamble(1, 4) + stepCommands(0, 0, 4, kWorld) +
                    "wait_command checkpoint_now timeout=5000\n"
                    "checkpoint kind=interval epoch=0 iteration=1 file=weights/iter_1.pt\n" +
                    stepCommands(1, 3, 4, kWorld) + "finished status=completed\n"));
  EXPECT_FALSE(session_.checkpointNow());  // not connected yet: nothing to send it to
  ASSERT_TRUE(waitForSteps(1));
  ASSERT_TRUE(session_.checkpointNow());
  ASSERT_TRUE(waitForEnd());
  EXPECT_EQ(store_.state(), RunState::Completed) << store_.failureMessage().toStdString();
  ASSERT_EQ(store_.checkpoints().size(), 1u);
  EXPECT_EQ(store_.checkpoints()[0].kind, "interval");
  EXPECT_EQ(store_.checkpoints()[0].path, "runs/fake/weights/iter_1.pt");
  EXPECT_EQ(store_.stepsReceived(), 4);
}

// How a fake that ignores `stop` treats SIGTERM, and the signal that must end it.
struct Unresponsive {
  const char* name;
  const char* sigterm;  // the fake's `sigterm` command
  int endingSignal;
};
void PrintTo(const Unresponsive& p, std::ostream* out) {
  *out << p.name;
}

class KillAfterGraceTest : public FakeEngineTest,
                           public ::testing::WithParamInterface<Unresponsive> {};

TEST_P(KillAfterGraceTest, EndsAnEngineThatIgnoresStop) {
  session_.setStopGraceMs(100);
  QSignalSpy killAvailable(&session_, &EngineSession::killAvailable);
  ASSERT_TRUE(start(std::string("sigterm ") + GetParam().sigterm + "\n" + preamble(1, 100) +
                    stepCommands(0, 1, 100, kWorld) + "sleep 20000\nexit 0\n"));
  ASSERT_TRUE(waitForSteps(2));
  const qint64 pid = session_.processId();
  ASSERT_GT(pid, 0);

  session_.requestStop();
  EXPECT_FALSE(session_.canKill());  // not before the grace period
  ASSERT_TRUE(killAvailable.wait(3000));
  EXPECT_TRUE(session_.canKill());
  EXPECT_EQ(session_.state(), EngineSession::State::Stopping);
  EXPECT_EQ(::kill(static_cast<pid_t>(pid), 0), 0) << "the fake must still be running";

  session_.kill();
  ASSERT_TRUE(waitForEnd(6000)) << dump(*store_.log());
  EXPECT_NE(::kill(static_cast<pid_t>(pid), 0), 0) << "the fake must be gone";
  EXPECT_EQ(store_.state(), RunState::Failed);
  EXPECT_TRUE(
      store_.failureMessage().contains(QStringLiteral("signal %1").arg(GetParam().endingSignal)))
      << store_.failureMessage().toStdString();
  expectSteps(store_, 0, 1, 100);
  EXPECT_EQ(runsEnded_, 1);
}

INSTANTIATE_TEST_SUITE_P(
    Engines, KillAfterGraceTest,
    ::testing::Values(  // the launcher's way: the first SIGTERM means stop, the second kill
        Unresponsive{"DiesOfTheSecondSigterm", "ignore_first", SIGTERM},
        // hung: only SIGKILL ends it (after the session's 3 s fallback)
        Unresponsive{"IgnoresSigterm", "ignore", SIGKILL}),
    [](const auto& info) { return std::string(info.param.name); });

TEST_F(EngineSessionTest, TheSocketIsOwnerOnlyWhileTheRunIsGoing) {
  ASSERT_TRUE(start(preamble(1, 4) + stepCommands(0, 0, 4, kWorld) +
                    "wait_command stop\nfinished status=stopped\n"));
  ASSERT_TRUE(waitForSteps(1));
  const QString socket = session_.socketPath();
  EXPECT_EQ(QFileInfo(socket).absolutePath(), QFileInfo(private_).absoluteFilePath());
  struct stat info {};
  ASSERT_EQ(::stat(QFile::encodeName(socket).constData(), &info), 0) << socket.toStdString();
  EXPECT_TRUE(S_ISSOCK(info.st_mode));
  EXPECT_EQ(info.st_mode & 07777, 0600u);
  ASSERT_EQ(::stat(QFile::encodeName(private_).constData(), &info), 0);
  EXPECT_EQ(info.st_mode & 07777, 0700u);

  QString error;
  EXPECT_FALSE(session_.start(document_, &store_, &error));  // one run at a time
  EXPECT_FALSE(error.isEmpty());

  session_.requestStop();
  ASSERT_TRUE(waitForEnd());
  EXPECT_EQ(store_.state(), RunState::Stopped) << store_.failureMessage().toStdString();
  EXPECT_FALSE(QFileInfo::exists(socket)) << "the socket must go with the run";
}

TEST_F(EngineSessionTest, TheTokenIsInTheEnvironmentNeverOnTheCommandLine) {
  auto config = document_.config();
  config.train.epochs = 7;
  document_.setConfig(config);
  ASSERT_TRUE(start("argv argv.txt\ntoken token.txt\ncopy_config config-copy.yaml\n" +
                    preamble(7, 4) + stepCommands(0, 0, 4, kWorld) +
                    "wait_command stop\nfinished status=stopped\n"));
  ASSERT_TRUE(waitForSteps(1));
  ASSERT_EQ(store_.stepsReceived(), 1)
      << "the hello with the environment's token was refused" << dump(*store_.log());
  QFile proc(QStringLiteral("/proc/%1/cmdline").arg(session_.processId()));
  ASSERT_TRUE(proc.open(QIODevice::ReadOnly));
  const QByteArray cmdline = proc.readAll();
  session_.requestStop();
  ASSERT_TRUE(waitForEnd());

  const QString token = readText(workPath(QStringLiteral("token.txt"))).trimmed();
  ASSERT_EQ(token.size(), 64) << token.toStdString();  // 256 bits in hex
  const QStringList argv =
      readText(workPath(QStringLiteral("argv.txt"))).split(QLatin1Char('\n'), Qt::SkipEmptyParts);
  EXPECT_FALSE(argv.join(QLatin1Char(' ')).contains(token));
  EXPECT_FALSE(cmdline.contains(token.toLatin1()));
  EXPECT_FALSE(session_.lastArguments().join(QLatin1Char(' ')).contains(token));
  EXPECT_FALSE(readText(workPath(QStringLiteral("config-copy.yaml"))).contains(token));

  // fake_engine train CONFIG --progress-socket PATH, the socket in the private directory.
  ASSERT_EQ(argv.size(), 5) << argv.join(QLatin1Char(' ')).toStdString();
  EXPECT_EQ(argv.mid(1), session_.lastArguments());
  EXPECT_EQ(argv[1], QStringLiteral("train"));
  EXPECT_EQ(argv[3], QStringLiteral("--progress-socket"));
  EXPECT_EQ(QFileInfo(argv[4]).absolutePath(), QFileInfo(private_).absoluteFilePath());
  // The configuration handed over is the document's, and it is gone after the run.
  EXPECT_TRUE(
      readText(workPath(QStringLiteral("config-copy.yaml"))).contains(QStringLiteral("epochs: 7")));
  EXPECT_FALSE(QFileInfo::exists(argv[2])) << argv[2].toStdString();
}

// A peer that must not be let in, and a word the refusal must give as the reason.
struct BadPeer {
  const char* name;
  const char* firstLine;  // instead of a right `hello`
  const char* reason;
};
void PrintTo(const BadPeer& p, std::ostream* out) {
  *out << p.name;
}

class RefusedPeerTest : public FakeEngineTest, public ::testing::WithParamInterface<BadPeer> {};

TEST_P(RefusedPeerTest, IsDroppedWithAReasonAndNothingItSendsReachesTheStore) {
  QSignalSpy connected(&session_, &EngineSession::connectedChanged);
  ASSERT_TRUE(start(std::string("connect bad\n") + GetParam().firstLine +
                    "\nsleep 50\nrun_started dir=runs/refused\ndataset split=train\n" +
                    stepCommands(0, 1, 4, kWorld) +
                    "finished status=completed\nexpect_closed timeout=3000\n"
                    // The right engine may still connect after it.
                    "connect good\nhello\nrun_started dir=runs/good\nfinished status=stopped\n"));
  ASSERT_TRUE(waitForEnd());

  EXPECT_EQ(linesContaining(*store_.log(), QStringLiteral("[fake] bad: closed by the studio"),
                            LogLine::kEngine)
                .size(),
            1u)
      << dump(*store_.log());
  const auto refusals = linesContaining(*store_.log(), QStringLiteral("Refused"));
  ASSERT_EQ(refusals.size(), 1u) << dump(*store_.log());
  EXPECT_EQ(refusals[0].level, LogLevel::Error);
  EXPECT_TRUE(refusals[0].text.contains(QString::fromLatin1(GetParam().reason)))
      << refusals[0].text.toStdString();
  // Only the right engine's messages arrived: no steps, no dataset, one run directory.
  EXPECT_EQ(store_.stepsReceived(), 0);
  EXPECT_TRUE(store_.datasets().empty());
  ASSERT_TRUE(store_.hasRunInfo());
  EXPECT_EQ(store_.runInfo().run_dir, "runs/good");
  EXPECT_TRUE(linesContaining(*store_.log(), QStringLiteral("another run directory")).empty())
      << dump(*store_.log());
  EXPECT_EQ(store_.state(), RunState::Stopped) << store_.failureMessage().toStdString();
  ASSERT_EQ(connected.size(), 2);  // the right engine's connection only
  EXPECT_TRUE(connected[0][0].toBool());
}

INSTANTIATE_TEST_SUITE_P(
    Peers, RefusedPeerTest,
    ::testing::Values(
        BadPeer{"WrongToken",
                "hello token=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                "token"},
        BadPeer{"EmptyToken", "hello token=", "token"},
        BadPeer{"NewerProtocolInHello", "hello protocol=4", "version 4"},
        BadPeer{"NewerProtocolEnvelope", "hello protocol=4 v=4", "version 4"},
        BadPeer{"NoHello", "run_started dir=runs/refused", "hello"},
        BadPeer{"NotJson", "raw \"GET / HTTP/1.1\"", "first line"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST_F(EngineSessionTest, ASecondConcurrentConnectionIsRefusedWhileTheFirstGoesOn) {
  // The second connects once the first is known to be in (its steps arrived).
  ASSERT_TRUE(start(preamble(1, 4) + stepCommands(0, 1, 4, kWorld) +
                    "wait_command checkpoint_now\n"
                    "connect second\nhello\n"
                    "step epoch=0 iteration=99 box=100 cls=100 dfl=100\n"
                    "expect_closed timeout=3000\n"
                    "use main\n" +
                    stepCommands(2, 3, 4, kWorld) + "finished status=completed\n"));
  ASSERT_TRUE(waitForSteps(2));
  ASSERT_TRUE(session_.checkpointNow());
  ASSERT_TRUE(waitForEnd());
  EXPECT_EQ(linesContaining(*store_.log(), QStringLiteral("[fake] second: closed by the studio"),
                            LogLine::kEngine)
                .size(),
            1u)
      << dump(*store_.log());
  const auto refusals = linesContaining(*store_.log(), QStringLiteral("Refused"));
  ASSERT_EQ(refusals.size(), 1u) << dump(*store_.log());
  EXPECT_TRUE(refusals[0].text.contains(QStringLiteral("already connected")))
      << refusals[0].text.toStdString();
  EXPECT_EQ(store_.state(), RunState::Completed) << store_.failureMessage().toStdString();
  EXPECT_EQ(store_.stepsReceived(), 4);
  expectSteps(store_, 0, 3, 4);  // and not iteration 99
}

TEST_F(EngineSessionTest, BadLinesAreCountedAndLoggedNeverFatal) {
  ASSERT_TRUE(start(preamble(1, 4) + stepCommands(0, 0, 4, kWorld) +
                    "raw \"this is not JSON\"\n"
                    "raw \"{\\\"v\\\":2,\\\"type\\\":\\\"step\\\",\\\"epoch\\\":\\\"zero\\\"}\"\n"
                    "oversized 1100000\n" +
                    stepCommands(1, 1, 4, kWorld) +
                    "raw \"{\\\"v\\\":2,\\\"type\\\":\\\"no_such_message\\\"}\"\n" +
                    stepCommands(2, 3, 4, kWorld) + "finished status=completed\n"));
  ASSERT_TRUE(waitForEnd());
  EXPECT_EQ(store_.badLines(), 4) << dump(*store_.log());
  const auto ignored = linesContaining(*store_.log(), QStringLiteral("Ignored a progress line"));
  ASSERT_EQ(ignored.size(), 4u) << dump(*store_.log());
  for (const LogLine& line : ignored)
    EXPECT_EQ(line.level, LogLevel::Warning);
  // The reasons name the field, the size limit and the type.
  EXPECT_TRUE(ignored[1].text.contains(QStringLiteral("step.epoch")))
      << ignored[1].text.toStdString();
  EXPECT_TRUE(ignored[2].text.contains(QStringLiteral("oversized")))
      << ignored[2].text.toStdString();
  EXPECT_TRUE(ignored[3].text.contains(QStringLiteral("no_such_message")))
      << ignored[3].text.toStdString();
  // Every good line around them arrived, the one after the 1 MiB line included.
  EXPECT_EQ(store_.state(), RunState::Completed) << store_.failureMessage().toStdString();
  expectSteps(store_, 0, 3, 4);
}

TEST_F(EngineSessionTest, ATruncatedLastLineIsCounted) {
  ASSERT_TRUE(start(preamble(1, 2) + stepCommands(0, 1, 2, kWorld) +
                    "finished status=completed\n"
                    "raw_partial \"{\\\"v\\\":2,\\\"type\\\":\\\"log\\\",\\\"lev\"\n"
                    "exit 0\n"));
  ASSERT_TRUE(waitForEnd());
  EXPECT_EQ(store_.badLines(), 1) << dump(*store_.log());
  EXPECT_EQ(linesContaining(*store_.log(), QStringLiteral("inside a line")).size(), 1u)
      << dump(*store_.log());
  EXPECT_EQ(store_.state(), RunState::Completed) << store_.failureMessage().toStdString();
  expectSteps(store_, 0, 1, 2);
}

TEST_F(EngineSessionTest, AConnectionCutInsideALineByACrashIsCountedToo) {
  ASSERT_TRUE(start(preamble(1, 4) + stepCommands(0, 1, 4, kWorld) +
                    "raw_partial \"{\\\"v\\\":2,\\\"type\\\":\\\"step\\\",\\\"epo\"\n"
                    "crash kill\n"));
  ASSERT_TRUE(waitForEnd());
  EXPECT_EQ(store_.badLines(), 1) << dump(*store_.log());
  EXPECT_EQ(store_.state(), RunState::Failed);
  expectSteps(store_, 0, 1, 4);
}

// How the engine dies mid-run, and what the failure message must then say.
struct Death {
  const char* name;
  const char* command;
  const char* says;
};
void PrintTo(const Death& p, std::ostream* out) {
  *out << p.name;
}

class CrashTest : public FakeEngineTest, public ::testing::WithParamInterface<Death> {};

TEST_P(CrashTest, FailsNamingTheCauseAndKeepsWhatArrived) {
  ASSERT_TRUE(start(preamble(2, 4) + stepCommands(0, 2, 4, kWorld) +
                    "val epoch=0 map50=0.375\ncheckpoint kind=last epoch=0 iteration=3\n" +
                    "sleep 50\n" + GetParam().command + "\n"));
  ASSERT_TRUE(waitForEnd());
  EXPECT_EQ(store_.state(), RunState::Failed);
  EXPECT_TRUE(store_.failureMessage().contains(QString::fromLatin1(GetParam().says)))
      << store_.failureMessage().toStdString();
  EXPECT_FALSE(store_.finished());
  ASSERT_TRUE(store_.hasRunInfo());
  EXPECT_EQ(store_.runInfo().epochs, 2);
  expectSteps(store_, 0, 2, 4);
  ASSERT_EQ(store_.validation().size(), 1u);
  EXPECT_EQ(store_.validation()[0].map50, 0.375);
  ASSERT_EQ(store_.checkpoints().size(), 1u);
  // The studio says it in the log too, as an error.
  EXPECT_FALSE(logLines(*store_.log(),
                        [&](const LogLine& l) {
                          return l.source == LogLine::kStudio && l.level == LogLevel::Error &&
                                 l.text.contains(QString::fromLatin1(GetParam().says));
                        })
                   .empty())
      << dump(*store_.log());
  EXPECT_EQ(runsEnded_, 1);
}

INSTANTIATE_TEST_SUITE_P(Deaths, CrashTest,
                         ::testing::Values(Death{"SigKill", "crash kill", "signal 9"},
                                           Death{"Abort", "crash abort", "signal 6"},
                                           Death{"ExitCode", "exit 7", "code 7"}),
                         [](const auto& info) { return std::string(info.param.name); });

TEST_F(EngineSessionTest, AnEngineThatExitsZeroWithoutFinishingHasFailed) {
  ASSERT_TRUE(start(preamble(1, 4) + stepCommands(0, 0, 4, kWorld) + "exit 0\n"));
  ASSERT_TRUE(waitForEnd());
  EXPECT_EQ(store_.state(), RunState::Failed);
  EXPECT_TRUE(store_.failureMessage().contains(QStringLiteral("code 0")))
      << store_.failureMessage().toStdString();
  expectSteps(store_, 0, 0, 4);
}

volatile sig_atomic_t sigtermsReceived = 0;

// SIGTERM to this process is counted instead of ending it; the process is its own group, so a
// signal to "my process group" (kill(0, ...)) reaches no one else, such as ctest or a shell.
class SigtermCatcher {
 public:
  SigtermCatcher() : group_(::getpgrp()) {
    sigtermsReceived = 0;
    struct sigaction count {};
    count.sa_handler = [](int) { sigtermsReceived = sigtermsReceived + 1; };
    ::sigaction(SIGTERM, &count, &previous_);
    ::setpgid(0, 0);
  }
  ~SigtermCatcher() {
    ::setpgid(0, group_);
    ::sigaction(SIGTERM, &previous_, nullptr);
  }

 private:
  pid_t group_;
  struct sigaction previous_ {};
};

TEST_F(EngineSessionTest, AStopWhileTheEndIsAwaitedSignalsNoOtherProcess) {
  // The engine is gone, but the session still waits for a `finished` that may be in the socket.
  ASSERT_TRUE(start(preamble(1, 4) + stepCommands(0, 0, 4, kWorld) + "exit 0\n"));
  ASSERT_TRUE(QTest::qWaitFor(
      [this] {
        return (session_.processId() == 0 && !session_.isConnected()) || !session_.isActive();
      },
      5000));
  ASSERT_TRUE(session_.isActive()) << "missed the wait for finished";
  {
    const SigtermCatcher catcher;
    session_.requestStop();
    QTest::qWait(50);
    EXPECT_EQ(sigtermsReceived, 0) << "requestStop signalled the studio's own process group";
  }
  ASSERT_TRUE(waitForEnd());
  EXPECT_EQ(store_.state(), RunState::Failed);
  EXPECT_EQ(runsEnded_, 1);
}

TEST_F(EngineSessionTest, DetachLeavesTheEngineRunningAndTheStoreAlone) {
  ASSERT_TRUE(start(preamble(1, 4) + stepCommands(0, 0, 4, kWorld) + "sleep 300\n" +
                    stepCommands(1, 3, 4, kWorld) + "finished\ntouch done\n"));
  ASSERT_TRUE(waitForSteps(1));
  const auto pid = static_cast<pid_t>(session_.processId());
  session_.detach();
  EXPECT_EQ(session_.state(), EngineSession::State::Idle);
  EXPECT_EQ(::kill(pid, 0), 0) << "the engine must still be running";
  ASSERT_TRUE(
      QTest::qWaitFor([&] { return QFileInfo::exists(workPath(QStringLiteral("done"))); }, 5000))
      << "the engine did not run to its end";
  EXPECT_EQ(store_.stepsReceived(), 1);
  EXPECT_FALSE(store_.finished());
  EXPECT_EQ(runsEnded_, 0);
}

TEST_F(EngineSessionTest, ARankExitThenFinishedFailedNamesTheRankAndTheCause) {
  // As the launcher does it: rank 0's connection ends, then the launcher reconnects once.
  ASSERT_TRUE(start(preamble(1, 4) + stepCommands(0, 1, 4, kWorld) +
                    "close main\n"
                    "err \"[launcher] error: rank 1 was killed by SIGKILL\"\n"
                    "sleep 50\n"
                    "connect launcher\nhello\n"
                    "rank_exit rank=1 exit_code=-9 signal=9 "
                    "reason=\"killed by SIGKILL (out of memory?)\"\n"
                    "finished status=failed epochs=0 error=\"a rank failed\"\n"
                    "exit 1\n"));
  ASSERT_TRUE(waitForEnd());
  EXPECT_EQ(store_.state(), RunState::Failed);
  const QString message = store_.failureMessage();
  EXPECT_TRUE(message.contains(QStringLiteral("rank 1"), Qt::CaseInsensitive))
      << message.toStdString();
  EXPECT_TRUE(message.contains(QStringLiteral("killed by SIGKILL (out of memory?)")))
      << message.toStdString();
  ASSERT_EQ(store_.rankExits().size(), 1u);
  EXPECT_EQ(store_.rankExits()[0].rank, 1);
  EXPECT_EQ(store_.rankExits()[0].exit_code, -9);
  EXPECT_EQ(store_.rankExits()[0].signal, 9);
  ASSERT_TRUE(store_.finished());
  EXPECT_EQ(store_.finished()->status, "failed");
  EXPECT_TRUE(linesContaining(*store_.log(), QStringLiteral("Refused")).empty())
      << "the launcher's reconnection must be accepted\n"
      << dump(*store_.log());
  expectSteps(store_, 0, 1, 4);
  const auto launcher =
      linesContaining(*store_.log(), QStringLiteral("rank 1 was killed"), LogLine::kLauncher);
  ASSERT_EQ(launcher.size(), 1u) << dump(*store_.log());
  EXPECT_EQ(launcher[0].level, LogLevel::Error);
}

TEST_F(EngineSessionTest, TheLaunchersReportIsAcceptedWhenTheStudioWasBusy) {
  // Rank 0's connection ends and the launcher reconnects while the studio's event loop is held
  // up (drawing, say): both reach the studio at once. The launcher connects only once.
  ASSERT_TRUE(start(preamble(1, 4) + stepCommands(0, 1, 4, kWorld) +
                    "wait_file go\n"
                    "close main\n"
                    "connect launcher\nhello\n"
                    "rank_exit rank=0 exit_code=1 reason=\"exited with code 1\"\n"
                    "finished status=failed error=\"rank 0 failed\"\n"
                    "touch reported\n"
                    "sleep 200\n"
                    "exit 1\n"));
  ASSERT_TRUE(waitForSteps(2));
  writeText(workPath(QStringLiteral("go")), QString());
  // Busy: no events are processed until the launcher has sent its report.
  const QString reported = workPath(QStringLiteral("reported"));
  for (int waited = 0; waited < 5000 && !QFileInfo::exists(reported); waited += 10)
    ::usleep(10000);
  ASSERT_TRUE(QFileInfo::exists(reported));
  ASSERT_TRUE(waitForEnd());
  EXPECT_TRUE(linesContaining(*store_.log(), QStringLiteral("Refused")).empty())
      << dump(*store_.log());
  EXPECT_EQ(store_.rankExits().size(), 1u);
  EXPECT_EQ(store_.state(), RunState::Failed);
  EXPECT_TRUE(store_.failureMessage().contains(QStringLiteral("exited with code 1")))
      << store_.failureMessage().toStdString();
}

TEST_F(EngineSessionTest, AProgramThatDoesNotExistFailsClearly) {
  const QString missing = workPath(QStringLiteral("no-such-engine"));
  session_.setEngineProgram(missing);
  QString error;
  const bool started = session_.start(document_, &store_, &error);
  if (!started) {
    EXPECT_TRUE(error.contains(missing)) << error.toStdString();
    return;
  }
  ASSERT_TRUE(waitForEnd());
  EXPECT_EQ(store_.state(), RunState::Failed);
  EXPECT_TRUE(store_.failureMessage().contains(missing)) << store_.failureMessage().toStdString();
  EXPECT_EQ(runsEnded_, 1);
  EXPECT_EQ(session_.state(), EngineSession::State::Idle);
  // The studio can start the next run.
  session_.setEngineProgram(QStringLiteral(SYNCBN_FAKE_ENGINE_PATH));
  ASSERT_TRUE(start(preamble(1, 1) + stepCommands(0, 0, 1, kWorld) + "finished\n"));
  ASSERT_TRUE(waitForEnd());
  EXPECT_EQ(store_.state(), RunState::Completed) << store_.failureMessage().toStdString();
}

TEST_F(EngineSessionTest, ConsoleLinesLandInTheLogWithTheirRankAndLevel) {
  ASSERT_TRUE(
      start("out \"[rank 1] warning: BatchNorm statistics differ across ranks\"\n"
            "err \"[rank 0] error: cannot read image 7\"\n"
            "out \"[launcher] starting ranks 0..1 of 2\"\n"
            "out \"a line without a prefix\"\n"
            "out \"[rank 0] Epoch 1/1  1/2\\r[rank 0] Epoch 1/1  2/2\"\n" +
            preamble(1, 1) + stepCommands(0, 0, 1, kWorld) + "finished\n" +
            "out_partial \"[rank 1] last words without a newline\"\n"));
  ASSERT_TRUE(waitForEnd());
  const LogModel& log = *store_.log();
  const auto warning =
      linesContaining(log, QStringLiteral("warning: BatchNorm statistics differ"), 1);
  ASSERT_EQ(warning.size(), 1u) << dump(log);
  EXPECT_EQ(warning[0].level, LogLevel::Warning);
  EXPECT_FALSE(warning[0].text.contains(QStringLiteral("[rank")));  // the prefix is the source
  const auto error = linesContaining(log, QStringLiteral("error: cannot read image 7"), 0);
  ASSERT_EQ(error.size(), 1u) << dump(log);
  EXPECT_EQ(error[0].level, LogLevel::Error);
  const auto launcher = linesContaining(log, QStringLiteral("starting ranks"), LogLine::kLauncher);
  ASSERT_EQ(launcher.size(), 1u) << dump(log);
  EXPECT_EQ(launcher[0].level, LogLevel::Info);
  const auto plain =
      linesContaining(log, QStringLiteral("a line without a prefix"), LogLine::kEngine);
  ASSERT_EQ(plain.size(), 1u) << dump(log);
  EXPECT_EQ(plain[0].level, LogLevel::Info);
  // A redrawn progress line keeps its last state only.
  EXPECT_EQ(linesContaining(log, QStringLiteral("Epoch 1/1  2/2"), 0).size(), 1u) << dump(log);
  EXPECT_TRUE(linesContaining(log, QStringLiteral("1/2"), 0).empty()) << dump(log);
  EXPECT_EQ(linesContaining(log, QStringLiteral("last words without a newline"), 1).size(), 1u)
      << dump(log);
}

TEST_F(EngineSessionTest, StartRefusesWhileTheConfigurationHasErrors) {
  auto config = document_.config();
  config.train.batch = 3;  // not divisible by 2 ranks
  config.distributed.device = "cpu";
  config.distributed.cpu_ranks = 2;
  document_.setConfig(config);
  ASSERT_GT(syncbn::countSeverity(document_.diagnostics(), syncbn::Severity::Error), 0u);
  writeText(scratch_.filePath(QStringLiteral("script.txt")), QStringLiteral("touch started\n"));
  qputenv("FAKE_ENGINE_SCRIPT", QFile::encodeName(scratch_.filePath(QStringLiteral("script.txt"))));

  QString error;
  EXPECT_FALSE(session_.start(document_, &store_, &error));
  EXPECT_TRUE(error.contains(QStringLiteral("error"))) << error.toStdString();
  EXPECT_EQ(session_.state(), EngineSession::State::Idle);
  EXPECT_EQ(session_.processId(), 0);
  EXPECT_EQ(store_.state(), RunState::Empty);
  QTest::qWait(100);
  EXPECT_FALSE(QFileInfo::exists(workPath(QStringLiteral("started"))));
  EXPECT_EQ(runsEnded_, 0);
}

TEST_F(EngineSessionTest, ResumeContinuesTheRunInTheSameStore) {
  QString error;
  EXPECT_FALSE(session_.resume(workPath(QStringLiteral("runs/none")), &store_, &error));
  EXPECT_TRUE(error.contains(QStringLiteral("none"))) << error.toStdString();

  ASSERT_TRUE(start(preamble(2, 3, "runs/resumable") + "touch runs/resumable/args.yaml\n" +
                    stepCommands(0, 3, 3, kWorld) +
                    "wait_command stop\ncheckpoint kind=last epoch=1 iteration=4\n"
                    "finished status=stopped epochs=1\n"));
  ASSERT_TRUE(waitForSteps(4));
  session_.requestStop();
  ASSERT_TRUE(waitForEnd());
  ASSERT_EQ(store_.state(), RunState::Stopped) << store_.failureMessage().toStdString();

  writeText(scratch_.filePath(QStringLiteral("script.txt")),
            QString::fromStdString("argv argv.txt\n" + preamble(2, 3, "runs/resumable") +
                                   stepCommands(4, 5, 3, kWorld) +
                                   "val epoch=1\nfinished status=completed epochs=2\n"));
  ASSERT_TRUE(session_.resume(workPath(QStringLiteral("runs/resumable")), &store_, &error))
      << error.toStdString();
  ASSERT_TRUE(waitForEnd());
  EXPECT_EQ(store_.state(), RunState::Completed) << store_.failureMessage().toStdString();
  expectSteps(store_, 0, 5, 3);
  EXPECT_EQ(store_.progress().iteration, 5);
  EXPECT_EQ(runsEnded_, 2);
  const QStringList argv =
      readText(workPath(QStringLiteral("argv.txt"))).split(QLatin1Char('\n'), Qt::SkipEmptyParts);
  ASSERT_GE(argv.size(), 6) << argv.join(QLatin1Char(' ')).toStdString();
  EXPECT_EQ(
      argv.mid(1, 5),
      (QStringList{QStringLiteral("train"), workPath(QStringLiteral("runs/resumable/args.yaml")),
                   QStringLiteral("resume=true"),
                   QStringLiteral("project=") + workPath(QStringLiteral("runs")),
                   QStringLiteral("name=resumable")}));
}

}  // namespace
}  // namespace studio::testing
