// A one-shot engine command run for the studio (`recalibrate`, later `export`): started with
// QProcess, its output collected line by line as it comes, cancellable, with its exit reported.
// Nothing blocks the GUI thread.
#pragma once

#include <QJsonObject>
#include <QObject>
#include <QProcess>
#include <QString>
#include <QStringList>

namespace studio {

class EngineTask : public QObject {
  Q_OBJECT

 public:
  explicit EngineTask(QObject* parent = nullptr);
  ~EngineTask() override;  // kills a task still running

  // False (with `error`) when one is already running.
  bool start(const QString& program, const QStringList& arguments, const QString& workingDirectory,
             QString* error);
  void cancel();
  bool isRunning() const;

  QByteArray standardOutput() const { return out_; }
  QString standardError() const { return QString::fromUtf8(err_); }
  QStringList arguments() const { return arguments_; }
  // The object a `--json` command prints last on stdout; empty when there is none.
  QJsonObject jsonReport() const;

 signals:
  void outputLine(const QString& line);  // stdout and stderr, as they come
  // exitCode is -1 when the program could not start or was killed; `message` then says why.
  // After a non-zero exit, `message` is the engine's own last "error:" line without that prefix
  // and the command's name (its whole stderr when it printed none).
  void finished(int exitCode, const QString& message);

 private:
  void read(QProcess::ProcessChannel channel);
  QString engineError() const;

  QProcess* process_ = nullptr;
  QByteArray out_, err_;
  QByteArray partialOut_, partialErr_;  // unfinished lines
  QStringList arguments_;
  bool cancelled_ = false;
};

}  // namespace studio
