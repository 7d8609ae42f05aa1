#include "session_harness.h"

#include <QFile>
#include <QTest>
#include <cstdio>

namespace studio::testing {

ScratchDir::ScratchDir() : dir_(QDir::temp().filePath(QStringLiteral("syncbn-stores-XXXXXX"))) {
  if (!dir_.isValid()) ADD_FAILURE() << "cannot create a temporary directory";
}

QString ScratchDir::makeDir(const QString& relative) const {
  const QString path = dir_.filePath(relative);
  QDir().mkpath(path);
  return path;
}

QString readText(const QString& path) {
  QFile file(path);
  if (!file.open(QIODevice::ReadOnly)) return {};
  return QString::fromUtf8(file.readAll());
}

void writeText(const QString& path, const QString& text) {
  QFile file(path);
  if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate))
    ADD_FAILURE() << "cannot write " << path.toStdString();
  file.write(text.toUtf8());
}

ScriptedStep scriptedStep(long long iteration, int iterationsPerEpoch, int worldSize) {
  const auto i = static_cast<double>(iteration);
  ScriptedStep s;
  s.epoch = static_cast<int>(iteration / iterationsPerEpoch);
  s.iteration = iteration;
  s.time = 0.5 * (i + 1);
  s.lr = 0.01 - 0.000125 * i;
  s.imagesPerSecond = 40 + 0.25 * i;
  s.box = 2.0 - 0.0625 * i;
  s.cls = 3.0 - 0.125 * i;
  s.dfl = 1.5 - 0.03125 * i;
  for (int r = 0; r < worldSize; ++r) {
    // Spread symmetrically around the mean, so the mean stays exactly box, cls, dfl.
    const double spread = 0.125 * (2 * r - (worldSize - 1));
    s.rankBox.push_back(s.box + spread);
    s.rankCls.push_back(s.cls - spread);
    s.rankDfl.push_back(s.dfl + 0.5 * spread);
    s.dataMs.push_back(10 + r + i);
    s.computeMs.push_back(100 + 3 * r + 2 * i);
    s.commMs.push_back(5 + r + 0.5 * i);
  }
  return s;
}

namespace {

std::string number(double value) {
  char text[40];
  std::snprintf(text, sizeof text, "%.17g", value);
  return text;
}

std::string list(const std::vector<double>& values) {
  std::string out;
  for (const double value : values)
    out += (out.empty() ? "" : ",") + number(value);
  return out;
}

}  // namespace

std::string stepCommand(const ScriptedStep& s) {
  return "step epoch=" + std::to_string(s.epoch) + " iteration=" + std::to_string(s.iteration) +
         " time=" + number(s.time) + " lr=" + number(s.lr) + " ips=" + number(s.imagesPerSecond) +
         " box=" + number(s.box) + " cls=" + number(s.cls) + " dfl=" + number(s.dfl) +
         " rank_box=" + list(s.rankBox) + " rank_cls=" + list(s.rankCls) +
         " rank_dfl=" + list(s.rankDfl) + " data_ms=" + list(s.dataMs) +
         " compute_ms=" + list(s.computeMs) + " comm_ms=" + list(s.commMs) + "\n";
}

std::string stepCommands(long long first, long long last, int iterationsPerEpoch, int worldSize) {
  std::string out;
  for (long long i = first; i <= last; ++i)
    out += stepCommand(scriptedStep(i, iterationsPerEpoch, worldSize));
  return out;
}

std::vector<SeriesPoint> points(const SeriesBuffer& series) {
  EXPECT_TRUE(series.buckets().empty()) << "a short run must stay at full resolution";
  return {series.fullResolution().begin(), series.fullResolution().end()};
}

std::vector<double> keys(const SeriesBuffer& series) {
  std::vector<double> out;
  for (const SeriesPoint& p : points(series))
    out.push_back(p.key);
  return out;
}

std::vector<LogLine> logLines(const LogModel& log) {
  return logLines(log, [](const LogLine&) { return true; });
}

std::vector<LogLine> logLines(const LogModel& log,
                              const std::function<bool(const LogLine&)>& keep) {
  std::vector<LogLine> out;
  for (int row = 0; row < log.rowCount(); ++row)
    if (keep(log.line(row))) out.push_back(log.line(row));
  return out;
}

std::vector<LogLine> linesContaining(const LogModel& log, const QString& text, int source) {
  return logLines(
      log, [&](const LogLine& line) { return line.source == source && line.text.contains(text); });
}

std::string dump(const LogModel& log) {
  std::string out = "log:\n";
  for (int row = 0; row < log.rowCount(); ++row)
    out += "  " + LogModel::formatForCopy(log.line(row)).toStdString() + "\n";
  return out;
}

FakeEngineTest::FakeEngineTest()
    : work_(scratch_.makeDir(QStringLiteral("work"))),
      private_(scratch_.filePath(QStringLiteral("private"))) {
  session_.setEngineProgram(QStringLiteral(SYNCBN_FAKE_ENGINE_PATH));
  session_.setWorkingDirectory(work_);
  session_.setPrivateDirectory(private_);
  QObject::connect(&session_, &EngineSession::runEnded, [this] { ++runsEnded_; });
}

FakeEngineTest::~FakeEngineTest() {
  if (session_.isActive() && !waitForEnd(2000)) ADD_FAILURE() << "the fake engine is still running";
  qunsetenv("FAKE_ENGINE_SCRIPT");
}

bool FakeEngineTest::start(const std::string& script) {
  const QString file = scratch_.filePath(QStringLiteral("script.txt"));
  writeText(file, QString::fromStdString(script));
  qputenv("FAKE_ENGINE_SCRIPT", QFile::encodeName(file));
  QString error;
  const bool started = session_.start(document_, &store_, &error);
  if (!started) ADD_FAILURE() << "the session refused to start: " << error.toStdString();
  return started;
}

bool FakeEngineTest::waitForEnd(int timeoutMs) {
  return QTest::qWaitFor([this] { return !session_.isActive(); }, timeoutMs);
}

bool FakeEngineTest::waitForSteps(long long steps, int timeoutMs) {
  return QTest::qWaitFor([&] { return store_.stepsReceived() >= steps || !session_.isActive(); },
                         timeoutMs);
}

QString FakeEngineTest::workPath(const QString& relative) const {
  return QDir(work_).filePath(relative);
}

QString FakeEngineTest::privatePath() const {
  return private_;
}

}  // namespace studio::testing
