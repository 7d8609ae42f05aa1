#include "stores/engine_session.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QProcessEnvironment>
#include <QStandardPaths>
#include <QTimer>

#include "common/atomic_file.h"
#include "common/config_yaml.h"
#include "stores/config_document.h"
#include "stores/log_model.h"
#include "stores/progress_server.h"
#include "stores/qt_text.h"
#include "stores/run_store.h"

namespace studio {
namespace protocol = syncbn::protocol;

namespace {

// The name of the variable the engine reads its token from (core/train/progress_channel.h; the
// GUI does not link the engine's libraries).
constexpr char kSessionTokenVariable[] = "SYNCBN_SESSION_TOKEN";
// After the process exits, its last events may still be in the socket: wait this long for
// `finished` before calling the run failed.
constexpr int kFinishedGraceMs = 500;
// kill(): the launcher's second SIGTERM makes it SIGKILL its ranks; the process itself is
// killed if it is still there this much later.
constexpr int kKillFallbackMs = 3000;

QString signalDescription(int signal) {
  const char* text = ::strsignal(signal);
  return text ? QStringLiteral("%1 (%2)").arg(signal).arg(QString::fromLocal8Bit(text))
              : QString::number(signal);
}

QString defaultPrivateDirectory() {
  QString runtime = QStandardPaths::writableLocation(QStandardPaths::RuntimeLocation);
  if (runtime.isEmpty()) runtime = QDir::tempPath();
  return QDir(runtime).filePath(QStringLiteral("syncbn-studio"));
}

}  // namespace

EngineSession::EngineSession(QObject* parent)
    : QObject(parent), workingDirectory_(QDir::currentPath()) {}

EngineSession::~EngineSession() {
  if (process_ && process_->state() != QProcess::NotRunning) {
    // Still attached (not detached, not stopped): end it as kill() does, so that the launcher
    // takes its ranks down with it instead of leaving them orphaned.
    process_->disconnect(this);
    if (const auto pid = static_cast<pid_t>(process_->processId()); pid > 0) {
      ::kill(pid, SIGTERM);
      process_->waitForFinished(200);
      if (process_->state() != QProcess::NotRunning) ::kill(pid, SIGTERM);
    }
    if (!process_->waitForFinished(kKillFallbackMs)) process_->kill();
    process_->waitForFinished(1000);
  }
  cleanUp();
}

bool EngineSession::isConnected() const {
  return server_ != nullptr && server_->isEngineConnected();
}

qint64 EngineSession::processId() const {
  return process_ ? process_->processId() : 0;
}

QString EngineSession::socketPath() const {
  return server_ ? server_->socketPath() : QString();
}

bool EngineSession::start(const ConfigDocument& document, RunStore* store, QString* error) {
  const auto errors = syncbn::countSeverity(document.diagnostics(), syncbn::Severity::Error);
  if (errors > 0) {
    if (error)
      *error = tr("The configuration has %n error(s); fix them first (see Problems).", nullptr,
                  static_cast<int>(errors));
    return false;
  }
  if (isActive()) {
    if (error) *error = tr("A run is already in progress.");
    return false;
  }
  const QString directory =
      privateDirectory_.isEmpty() ? defaultPrivateDirectory() : privateDirectory_;
  if (!QDir().mkpath(directory)) {
    if (error) *error = tr("Cannot create %1.").arg(directory);
    return false;
  }
  const QString file = QDir(directory).filePath(
      QStringLiteral("run-%1.yaml")
          .arg(QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-hhmmss-zzz"))));
  try {
    syncbn::writeFileAtomically(toFsPath(file), syncbn::toYaml(document.config()));
  } catch (const std::exception& e) {
    if (error)
      *error = tr("Cannot write the configuration for the engine: %1").arg(toQString(e.what()));
    return false;
  }
  if (!launch({QStringLiteral("train"), file}, store, error, file)) {
    QFile::remove(file);
    return false;
  }
  return true;
}

bool EngineSession::resume(const QString& runDirectory, RunStore* store, QString* error,
                           const QStringList& overrides) {
  if (isActive()) {
    if (error) *error = tr("A run is already in progress.");
    return false;
  }
  const QDir run(runDirectory);
  const QString args = run.filePath(QStringLiteral("args.yaml"));
  const QString last = run.filePath(QStringLiteral("weights/last.pt"));
  if (!QFileInfo(args).isFile() || !QFileInfo(last).isFile()) {
    if (error)
      *error = tr("%1 cannot be resumed: it needs args.yaml and weights/last.pt.")
                   .arg(QDir::toNativeSeparators(runDirectory));
    return false;
  }
  const QFileInfo runInfo(run.absolutePath());
  return launch(QStringList{QStringLiteral("train"), args, QStringLiteral("resume=true"),
                            QStringLiteral("project=%1").arg(runInfo.absolutePath()),
                            QStringLiteral("name=%1").arg(runInfo.fileName())} +
                    overrides,
                store, error);
}

bool EngineSession::launch(const QStringList& arguments, RunStore* store, QString* error,
                           const QString& configFile) {
  if (program_.isEmpty()) {
    if (error) *error = tr("No engine program is set.");
    return false;
  }
  cleanUp();
  configFile_ = configFile;
  store_ = store;
  server_ = new ProgressServer(this);
  const QString directory =
      privateDirectory_.isEmpty() ? defaultPrivateDirectory() : privateDirectory_;
  QString listenError;
  if (!server_->listen(directory, &listenError)) {
    if (error) *error = listenError;
    cleanUp();
    return false;
  }
  connect(server_, &ProgressServer::messagesReceived, this,
          [this](const std::vector<protocol::Message>& messages) {
            if (store_) store_->ingest(messages);
          });
  connect(server_, &ProgressServer::badLine, this, [this](const QString& reason) {
    if (store_) store_->reportBadLine(reason);
  });
  connect(server_, &ProgressServer::peerRefused, this, [this](const QString& reason) {
    logStudio(tr("Refused a connection to the progress socket: %1").arg(reason), true);
  });
  connect(server_, &ProgressServer::engineConnected, this, [this](const QString& version) {
    logStudio(tr("The engine (version %1) connected.").arg(version));
    emit connectedChanged(true);
  });
  connect(server_, &ProgressServer::engineDisconnected, this, [this](qint64 truncated) {
    if (truncated > 0 && store_)
      store_->reportBadLine(tr("the connection ended inside a line (%n byte(s) lost)", nullptr,
                               static_cast<int>(truncated)));
    emit connectedChanged(false);
  });

  arguments_ = arguments;
  arguments_ << QStringLiteral("--progress-socket") << server_->socketPath();
  process_ = new QProcess(this);
  process_->setProgram(program_);
  process_->setArguments(arguments_);
  process_->setWorkingDirectory(workingDirectory_);
  QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
  environment.insert(QString::fromLatin1(kSessionTokenVariable), server_->token());
  process_->setProcessEnvironment(environment);
  // Its own session: the terminal's Ctrl+C and hang-up stay with the studio.
  process_->setChildProcessModifier([] { ::setsid(); });
  connect(process_, &QProcess::readyReadStandardOutput, this,
          [this] { onStandardOutput(QProcess::StandardOutput); });
  connect(process_, &QProcess::readyReadStandardError, this,
          [this] { onStandardOutput(QProcess::StandardError); });
  connect(process_, &QProcess::finished, this, &EngineSession::onFinished);
  connect(process_, &QProcess::errorOccurred, this, &EngineSession::onErrorOccurred);

  if (store_) {
    store_->setConsoleAttached(true);
    store_->setWorkingDirectory(workingDirectory_);
    store_->setState(RunState::Starting);
  }
  logStudio(tr("Starting %1 %2 (in %3)")
                .arg(program_, arguments_.join(QLatin1Char(' ')),
                     QDir::toNativeSeparators(workingDirectory_)));
  stopRequested_ = false;
  killAvailable_ = false;
  setState(State::Running);
  process_->start();
  return true;
}

void EngineSession::onStandardOutput(QProcess::ProcessChannel channel) {
  if (!process_) return;
  process_->setReadChannel(channel);
  QByteArray& partial = channel == QProcess::StandardOutput ? partialOut_ : partialErr_;
  partial += process_->readAll();
  const qsizetype end = partial.lastIndexOf('\n');
  if (end < 0) return;
  const QList<QByteArray> rawLines = partial.left(end).split('\n');
  partial.remove(0, end + 1);
  const qint64 now = QDateTime::currentMSecsSinceEpoch();
  QList<LogLine> lines;
  for (QByteArray raw : rawLines) {
    // A terminal progress bar redraws with '\r'; only the last state of a line is kept.
    if (const qsizetype cr = raw.lastIndexOf('\r'); cr >= 0) raw = raw.mid(cr + 1);
    if (raw.trimmed().isEmpty()) continue;
    lines << parseConsoleLine(QString::fromUtf8(raw), now);
  }
  if (store_) store_->log()->append(lines);
}

void EngineSession::flushOutput() {
  for (QByteArray* partial : {&partialOut_, &partialErr_}) {
    if (!partial->trimmed().isEmpty() && store_)
      store_->log()->append(
          parseConsoleLine(QString::fromUtf8(*partial), QDateTime::currentMSecsSinceEpoch()));
    partial->clear();
  }
}

void EngineSession::requestStop() {
  // Once the process has exited (its last events may still be awaited) there is nothing left to
  // stop, and its processId() is 0: kill(0, SIGTERM) would signal the studio's own process group.
  if (state_ != State::Running || !process_ || process_->state() == QProcess::NotRunning) return;
  stopRequested_ = true;
  if (server_ && server_->send(protocol::Stop{})) {
    logStudio(tr("Asked the engine to stop after this iteration and save weights/last.pt."));
  } else if (const auto pid = static_cast<pid_t>(process_->processId()); pid > 0) {
    // Not connected yet (still verifying the dataset): the engine takes SIGTERM as the same
    // request.
    ::kill(pid, SIGTERM);
    logStudio(tr("Sent SIGTERM to the engine: stop and save."));
  }
  if (store_) store_->setState(RunState::Stopping);
  setState(State::Stopping);
  QTimer::singleShot(stopGraceMs_, this, [this, process = QPointer<QProcess>(process_)] {
    if (process && process == process_ && state_ == State::Stopping) {
      killAvailable_ = true;
      logStudio(tr("The engine is still saving after %1 s; it can be killed now.")
                    .arg(stopGraceMs_ / 1000));
      emit killAvailable();
    }
  });
}

bool EngineSession::checkpointNow() {
  if (!server_ || !server_->send(protocol::CheckpointNow{})) return false;
  logStudio(tr("Asked for a checkpoint at the end of this iteration."));
  return true;
}

void EngineSession::kill() {
  if (!process_ || process_->state() == QProcess::NotRunning) return;
  const auto pid = static_cast<pid_t>(process_->processId());
  logStudio(tr("Killing the engine (process %1) and its ranks.").arg(pid), true);
  // The launcher takes a second signal while stopping as "kill the ranks now".
  ::kill(pid, SIGTERM);
  QTimer::singleShot(200, this, [this, pid, process = QPointer<QProcess>(process_)] {
    if (!process || process != process_) return;
    ::kill(pid, SIGTERM);
    QTimer::singleShot(kKillFallbackMs, this, [this, process] {
      if (process && process == process_ && process->state() != QProcess::NotRunning)
        process->kill();
    });
  });
}

void EngineSession::detach() {
  if (!process_) return;
  logStudio(tr("Left the engine running in the background; follow it from Runs."));
  process_->disconnect(this);
  // Deliberately not deleted: QProcess's destructor kills the process, which is what the user
  // chose not to do. The studio is about to exit; the engine ignores its closed pipes.
  process_->setParent(nullptr);
  process_ = nullptr;
  configFile_.clear();  // the ranks may not have read it yet
  cleanUp();
  setState(State::Idle);
}

void EngineSession::onErrorOccurred(QProcess::ProcessError error) {
  if (error != QProcess::FailedToStart || !process_) return;
  const QString message =
      tr("Could not start %1: %2").arg(QDir::toNativeSeparators(program_), process_->errorString());
  logStudio(message, true);
  if (store_) store_->setState(RunState::Failed, message);
  process_->deleteLater();
  process_ = nullptr;
  cleanUp();
  setState(State::Idle);
  emit runEnded();
}

void EngineSession::onFinished(int exitCode, QProcess::ExitStatus status) {
  onStandardOutput(QProcess::StandardOutput);
  onStandardOutput(QProcess::StandardError);
  flushOutput();
  if (server_) server_->drain();
  // `finished` may still be on its way through the socket.
  if (store_ && !store_->finished())
    QTimer::singleShot(kFinishedGraceMs, this,
                       [this, exitCode, status] { concludeRun(exitCode, status); });
  else
    concludeRun(exitCode, status);
}

void EngineSession::concludeRun(int exitCode, QProcess::ExitStatus status) {
  if (server_) server_->drain();
  const QString how = status == QProcess::CrashExit
                          ? tr("was killed by signal %1").arg(signalDescription(exitCode))
                          : tr("exited with code %1").arg(exitCode);
  logStudio(tr("The engine %1.").arg(how), status == QProcess::CrashExit || exitCode != 0);
  if (store_ && !store_->finished()) {
    store_->setState(RunState::Failed,
                     tr("The engine %1 before the run finished. Everything received so far is "
                        "kept.")
                         .arg(how));
  } else if (store_ && !isFinal(store_->state())) {
    store_->setState(RunState::Failed, tr("The engine %1.").arg(how));
  }
  if (process_) process_->deleteLater();
  process_ = nullptr;
  cleanUp();
  setState(State::Idle);
  emit runEnded();
}

void EngineSession::cleanUp() {
  if (server_) {
    server_->close();
    server_->deleteLater();
    server_ = nullptr;
  }
  if (!configFile_.isEmpty()) QFile::remove(configFile_);
  configFile_.clear();
  partialOut_.clear();
  partialErr_.clear();
  killAvailable_ = false;
}

void EngineSession::logStudio(const QString& text, bool error) {
  if (!store_) return;
  store_->log()->append(LogLine{QDateTime::currentMSecsSinceEpoch(), LogLine::kStudio,
                                error ? LogLevel::Error : LogLevel::Info, text});
}

void EngineSession::setState(State state) {
  if (state == state_) return;
  state_ = state;
  emit stateChanged(state_);
}

}  // namespace studio
