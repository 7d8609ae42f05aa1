// Runs syncbn-engine for the studio: one training run at a time, started as
// `syncbn-engine train CONFIG --progress-socket PATH` with the session token in the environment
// (never on the command line, where `ps` shows it). Its progress events and console output go
// into a RunStore; stop, checkpoint_now and kill go back to it.
//
// The engine runs in its own session (setsid), so a Ctrl+C in the terminal the studio was
// started from does not reach it, and detach() can leave it running when the studio quits.
#pragma once

#include <QObject>
#include <QPointer>
#include <QProcess>
#include <QString>
#include <QStringList>

namespace studio {

class ConfigDocument;
class ProgressServer;
class RunStore;

class EngineSession : public QObject {
  Q_OBJECT

 public:
  enum class State {
    Idle,      // no engine
    Running,   // an engine process is running (starting up, training or saving)
    Stopping,  // asked to stop; it finishes the iteration, saves last.pt and exits
  };
  static constexpr int kDefaultStopGraceMs = 15000;

  explicit EngineSession(QObject* parent = nullptr);
  ~EngineSession() override;  // kills an engine still attached

  void setEngineProgram(const QString& program) { program_ = program; }
  QString engineProgram() const { return program_; }
  // Where the engine runs: relative paths in the configuration (data, output.project) are
  // resolved against it, as on the command line. Default: the current directory.
  void setWorkingDirectory(const QString& directory) {
    if (directory == workingDirectory_) return;
    workingDirectory_ = directory;
    emit workingDirectoryChanged(directory);
  }
  QString workingDirectory() const { return workingDirectory_; }
  // Where the socket and the configuration handed to the engine go (owner-only). Default: the
  // user's runtime directory.
  void setPrivateDirectory(const QString& directory) { privateDirectory_ = directory; }
  void setStopGraceMs(int milliseconds) { stopGraceMs_ = milliseconds; }

  // Starts training the document's configuration into `store`. Refuses (false, `error` says why)
  // while the document has errors, while a run is active, or when the engine cannot be started.
  bool start(const ConfigDocument& document, RunStore* store, QString* error);
  // Continues the run in `runDirectory` from its weights/last.pt into `store` (which may
  // already hold the run's record: it continues it). `overrides` (key=value) change the
  // configuration on the way, e.g. norm=syncbn.
  bool resume(const QString& runDirectory, RunStore* store, QString* error,
              const QStringList& overrides = {});

  void requestStop();    // asks the engine to stop after the current iteration and save
  bool checkpointNow();  // asks for weights/last.pt at the end of the current iteration
  void kill();           // stops it at once: the launcher kills its ranks, then the process dies
  // Lets the engine run on without the studio (which is about to quit): it keeps training and
  // writing events.jsonl; nothing more reaches this session.
  void detach();

  State state() const { return state_; }
  bool isActive() const { return state_ != State::Idle; }
  bool isConnected() const;  // the engine said hello on the socket
  bool canKill() const { return killAvailable_; }
  RunStore* store() const { return store_; }
  qint64 processId() const;
  QString socketPath() const;
  QStringList lastArguments() const { return arguments_; }

 signals:
  // Where training runs and relative paths resolve; the pages' engine questions follow it.
  void workingDirectoryChanged(const QString& directory);
  void stateChanged(studio::EngineSession::State state);
  void connectedChanged(bool connected);
  // The stop grace period passed and the engine is still there: kill() is now offered.
  void killAvailable();
  void runEnded();  // the engine process is gone (whatever the outcome; see the store's state)

 private:
  // `configFile`: a file written for this run, removed when it ends.
  bool launch(const QStringList& arguments, RunStore* store, QString* error,
              const QString& configFile = {});
  void onStandardOutput(QProcess::ProcessChannel channel);
  void onFinished(int exitCode, QProcess::ExitStatus status);
  void onErrorOccurred(QProcess::ProcessError error);
  void concludeRun(int exitCode, QProcess::ExitStatus status);
  void flushOutput();
  void logStudio(const QString& text, bool error = false);
  void setState(State state);
  void cleanUp();

  QString program_;
  QString workingDirectory_;
  QString privateDirectory_;
  int stopGraceMs_ = kDefaultStopGraceMs;
  State state_ = State::Idle;
  bool killAvailable_ = false;
  bool stopRequested_ = false;
  QProcess* process_ = nullptr;
  ProgressServer* server_ = nullptr;
  QPointer<RunStore> store_;
  QString configFile_;  // what the engine was given; removed when the run ends
  QStringList arguments_;
  QByteArray partialOut_, partialErr_;
};

}  // namespace studio
