#include "stores/event_file_reader.h"

#include <QDateTime>
#include <QDir>
#include <QFileInfo>
#include <vector>

#include "common/protocol.h"
#include "stores/qt_text.h"
#include "stores/run_store.h"

namespace studio {
namespace protocol = syncbn::protocol;

EventFileReader::EventFileReader(const QString& path, RunStore* store, QObject* parent)
    : QObject(parent), file_(path), store_(store) {
  timer_.setSingleShot(false);
  connect(&timer_, &QTimer::timeout, this, &EventFileReader::readSlice);
}

bool EventFileReader::start(bool follow) {
  stop();
  follow_ = follow;
  offset_ = 0;
  lineNumber_ = 0;
  partial_.clear();
  dropping_ = false;
  caughtUp_ = false;
  if (!file_.open(QIODevice::ReadOnly)) {
    error_ = tr("Cannot open %1: %2")
                 .arg(QDir::toNativeSeparators(file_.fileName()), file_.errorString());
    return false;
  }
  if (!QFileInfo(file_.fileName()).isFile()) {
    error_ = tr("%1 is not a regular file.").arg(QDir::toNativeSeparators(file_.fileName()));
    file_.close();
    return false;
  }
  timer_.start(0);
  return true;
}

void EventFileReader::stop() {
  timer_.stop();
  if (file_.isOpen()) file_.close();
}

void EventFileReader::readToEndAndStop() {
  follow_ = false;
  while (file_.isOpen())
    readSlice();  // ends with finish(), which closes the file
}

void EventFileReader::readSlice() {
  const qint64 size = file_.size();
  if (size < offset_) {
    // Rewritten or truncated under us: what was read stays; nothing after it can be trusted.
    error_ = tr("%1 became shorter while being read; stopped following it.")
                 .arg(QDir::toNativeSeparators(file_.fileName()));
    emit failed(error_);
    stop();
    return;
  }
  const QByteArray bytes = file_.read(kSliceBytes);
  if (bytes.isEmpty() && file_.error() != QFileDevice::NoError) {
    error_ = tr("Cannot read %1: %2")
                 .arg(QDir::toNativeSeparators(file_.fileName()), file_.errorString());
    emit failed(error_);
    stop();
    return;
  }
  offset_ += bytes.size();

  std::vector<protocol::Message> messages;
  qsizetype start = 0;
  while (start < bytes.size()) {
    const qsizetype newline = bytes.indexOf('\n', start);
    const qsizetype end = newline < 0 ? bytes.size() : newline;
    const qsizetype room = static_cast<qsizetype>(protocol::kMaxLineBytes) - partial_.size();
    if (!dropping_) {
      if (end - start > room) {
        dropping_ = true;
        partial_.clear();
      } else {
        partial_.append(bytes.constData() + start, end - start);
      }
    }
    if (newline < 0) break;
    ++lineNumber_;
    if (dropping_) {
      store_->reportBadLine(tr("%1:%2: longer than %3 bytes; skipped")
                                .arg(QFileInfo(file_.fileName()).fileName())
                                .arg(lineNumber_)
                                .arg(protocol::kMaxLineBytes));
      dropping_ = false;
    } else if (!partial_.trimmed().isEmpty()) {
      protocol::DecodeResult decoded =
          protocol::decode(std::string_view(partial_.constData(), partial_.size()));
      if (decoded.ok())
        messages.push_back(std::move(decoded).value());
      else
        store_->reportBadLine(tr("%1:%2: %3")
                                  .arg(QFileInfo(file_.fileName()).fileName())
                                  .arg(lineNumber_)
                                  .arg(toQString(decoded.error().reason)));
    }
    partial_.clear();
    start = newline + 1;
  }
  if (!messages.empty()) {
    const bool wasIncomplete = store_->state() == RunState::Incomplete;
    store_->ingest(messages);
    if (wasIncomplete && !store_->finished()) store_->setState(RunState::Running);
  }
  emit progress(offset_, std::max(size, offset_));

  if (offset_ < file_.size()) {
    timer_.start(0);  // more to read: next slice on the next turn of the event loop
    return;
  }
  if (!caughtUp_) {
    caughtUp_ = true;
    // A record without `finished` that nothing has written to lately is an interrupted run
    // (killed, or its machine went down); if it grows again, it is running after all.
    if (!store_->finished() &&
        QFileInfo(file_.fileName()).lastModified().secsTo(QDateTime::currentDateTime()) >
            kStaleSeconds)
      store_->setState(RunState::Incomplete);
    emit caughtUp();
  }
  if (follow_ && !store_->finished()) {
    if (timer_.interval() != kPollMs) timer_.start(kPollMs);
    return;
  }
  finish();
}

void EventFileReader::finish() {
  stop();
  if (!partial_.trimmed().isEmpty() || dropping_)
    store_->reportBadLine(tr("%1:%2: the last line is incomplete (%n byte(s)); ignored", nullptr,
                             static_cast<int>(partial_.size()))
                              .arg(QFileInfo(file_.fileName()).fileName())
                              .arg(lineNumber_ + 1));
  partial_.clear();
  if (!store_->finished() && !isFinal(store_->state())) store_->setState(RunState::Incomplete);
}

}  // namespace studio
