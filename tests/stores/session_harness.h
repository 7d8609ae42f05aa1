// What the engine-session tests share: a scratch directory, the scripted fake engine
// (fake_engine.cpp) and the expected values of the steps a script sends.
//
// The expectations come from the scripts the tests write, never from the code under test: a step
// is described by scriptedStep(i), turned into a script command by stepCommand(), and the test
// compares the store with scriptedStep(i) again.
#pragma once

#include <gtest/gtest.h>

#include <QDir>
#include <QString>
#include <QStringList>
#include <QTemporaryDir>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "stores/config_document.h"
#include "stores/engine_session.h"
#include "stores/log_model.h"
#include "stores/run_store.h"
#include "stores/series_buffer.h"

// Readable failure messages: GoogleTest would print a QString as its bytes.
inline void PrintTo(const QString& text, std::ostream* out) {
  *out << '"' << text.toStdString() << '"';
}
inline void PrintTo(const QStringList& list, std::ostream* out) {
  *out << '[' << list.join(QStringLiteral(", ")).toStdString() << ']';
}

namespace studio::testing {

// A fresh directory, removed with everything in it.
class ScratchDir {
 public:
  ScratchDir();
  QString path() const { return dir_.path(); }
  QString filePath(const QString& relative) const { return dir_.filePath(relative); }
  // Creates `relative` (and its parents) and returns its absolute path.
  QString makeDir(const QString& relative) const;

 private:
  QTemporaryDir dir_;
};

QString readText(const QString& path);
void writeText(const QString& path, const QString& text);

// One step as a script sends it; the same numbers are what the store must hold.
struct ScriptedStep {
  int epoch = 0;
  long long iteration = 0;
  double time = 0, lr = 0, imagesPerSecond = 0;
  double box = 0, cls = 0, dfl = 0;
  std::vector<double> rankBox, rankCls, rankDfl;  // per rank; their means are box, cls, dfl
  std::vector<double> dataMs, computeMs, commMs;  // per rank
};

// Distinct, exactly representable numbers for every field of step `iteration`.
ScriptedStep scriptedStep(long long iteration, int iterationsPerEpoch, int worldSize);
std::string stepCommand(const ScriptedStep& step);
// scriptedStep for every iteration in [first, last], one command a line.
std::string stepCommands(long long first, long long last, int iterationsPerEpoch, int worldSize);

// The (key, value) points of a series kept at full resolution.
std::vector<SeriesPoint> points(const SeriesBuffer& series);
std::vector<double> keys(const SeriesBuffer& series);

// The log's lines, and those matching `predicate`.
std::vector<LogLine> logLines(const LogModel& log);
std::vector<LogLine> logLines(const LogModel& log, const std::function<bool(const LogLine&)>& keep);
// Lines of `source` containing `text`.
std::vector<LogLine> linesContaining(const LogModel& log, const QString& text,
                                     int source = LogLine::kStudio);
// Every line, for failure messages.
std::string dump(const LogModel& log);

// An EngineSession set up to run fake_engine in a scratch directory: the engine's working
// directory is work/, the socket and handed-over configuration go to private/.
class FakeEngineTest : public ::testing::Test {
 protected:
  FakeEngineTest();
  ~FakeEngineTest() override;

  // Writes `script` for the fake engine (FAKE_ENGINE_SCRIPT) and starts the session on the
  // document's configuration; false (with the reason as a test failure) when it refuses.
  bool start(const std::string& script);
  // Processes events until the session is idle again; false after `timeoutMs`.
  bool waitForEnd(int timeoutMs = 5000);
  // Until the store has received `steps` steps (or the run ended).
  bool waitForSteps(long long steps, int timeoutMs = 5000);

  QString workPath(const QString& relative) const;  // under the engine's working directory
  QString privatePath() const;

  ScratchDir scratch_;
  QString work_, private_;
  ConfigDocument document_;
  RunStore store_;
  EngineSession session_;
  int runsEnded_ = 0;  // runEnded() emissions
};

}  // namespace studio::testing
