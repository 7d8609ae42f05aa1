#include "stores/engine_task.h"

#include <QDir>
#include <QJsonDocument>

namespace studio {

EngineTask::EngineTask(QObject* parent) : QObject(parent) {}

EngineTask::~EngineTask() {
  if (process_ && process_->state() != QProcess::NotRunning) {
    process_->disconnect(this);
    process_->kill();
    process_->waitForFinished(2000);
  }
}

bool EngineTask::isRunning() const {
  return process_ && process_->state() != QProcess::NotRunning;
}

bool EngineTask::start(const QString& program, const QStringList& arguments,
                       const QString& workingDirectory, QString* error) {
  if (isRunning()) {
    if (error) *error = tr("The engine is already busy with another task.");
    return false;
  }
  if (process_) process_->deleteLater();
  out_.clear();
  err_.clear();
  partialOut_.clear();
  partialErr_.clear();
  cancelled_ = false;
  arguments_ = arguments;
  process_ = new QProcess(this);
  process_->setProgram(program);
  process_->setArguments(arguments);
  process_->setWorkingDirectory(workingDirectory);
  connect(process_, &QProcess::readyReadStandardOutput, this,
          [this] { read(QProcess::StandardOutput); });
  connect(process_, &QProcess::readyReadStandardError, this,
          [this] { read(QProcess::StandardError); });
  connect(process_, &QProcess::errorOccurred, this, [this, program](QProcess::ProcessError e) {
    if (e == QProcess::FailedToStart)
      emit finished(-1, tr("Could not start %1: %2")
                            .arg(QDir::toNativeSeparators(program), process_->errorString()));
  });
  connect(process_, &QProcess::finished, this, [this](int code, QProcess::ExitStatus status) {
    read(QProcess::StandardOutput);
    read(QProcess::StandardError);
    for (QByteArray* partial : {&partialOut_, &partialErr_}) {
      if (!partial->trimmed().isEmpty()) emit outputLine(QString::fromUtf8(*partial));
      partial->clear();
    }
    if (cancelled_)
      emit finished(-1, tr("Cancelled."));
    else if (status == QProcess::CrashExit)
      emit finished(-1, tr("The engine was killed by signal %1.").arg(code));
    else
      emit finished(code, code == 0 ? QString() : engineError());
  });
  process_->start();
  return true;
}

QString EngineTask::engineError() const {
  // The engine reports a refusal as "error: <command>: <what>" (or "error: <what>"), last.
  const QStringList lines = standardError().split(QLatin1Char('\n'), Qt::SkipEmptyParts);
  for (auto line = lines.crbegin(); line != lines.crend(); ++line) {
    if (!line->startsWith(QLatin1String("error: "))) continue;
    QString what = line->mid(7).trimmed();
    const QString command = arguments_.value(0) + QLatin1String(": ");
    if (arguments_.size() > 0 && what.startsWith(command)) what = what.mid(command.size());
    return what;
  }
  return standardError().trimmed();
}

QJsonObject EngineTask::jsonReport() const {
  return QJsonDocument::fromJson(out_.mid(out_.indexOf('{'))).object();
}

void EngineTask::cancel() {
  if (!isRunning()) return;
  cancelled_ = true;
  process_->terminate();
}

void EngineTask::read(QProcess::ProcessChannel channel) {
  if (!process_) return;
  process_->setReadChannel(channel);
  const QByteArray bytes = process_->readAll();
  const bool out = channel == QProcess::StandardOutput;
  (out ? out_ : err_) += bytes;
  QByteArray& partial = out ? partialOut_ : partialErr_;
  partial += bytes;
  qsizetype newline;
  while ((newline = partial.indexOf('\n')) >= 0) {
    const QByteArray line = partial.left(newline);
    partial.remove(0, newline + 1);
    if (!line.trimmed().isEmpty()) emit outputLine(QString::fromUtf8(line));
  }
}

}  // namespace studio
