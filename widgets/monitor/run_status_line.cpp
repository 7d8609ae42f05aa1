#include "widgets/monitor/run_status_line.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QVBoxLayout>
#include <cmath>

#include "stores/run_store.h"
#include "widgets/common/severity_style.h"

namespace studio {
namespace {

QString badgeStyle(RunState state) {
  QString background = QStringLiteral("#9e9e9e");
  switch (state) {
    case RunState::Starting:
    case RunState::Running:
      background = QStringLiteral("#1565c0");
      break;
    case RunState::Stopping:
      background = QStringLiteral("#a85f00");
      break;
    case RunState::Completed:
      background = QStringLiteral("#2e7d32");
      break;
    case RunState::Stopped:
      background = QStringLiteral("#546e7a");
      break;
    case RunState::Failed:
      background = QStringLiteral("#c62828");
      break;
    default:
      break;
  }
  return QStringLiteral(
             "QLabel { color: white; background: %1; border-radius: 3px; padding: 1px 6px; }")
      .arg(background);
}

}  // namespace

RunStatusLine::RunStatusLine(QWidget* parent) : QWidget(parent) {
  setObjectName(QStringLiteral("runStatusLine"));
  auto* column = new QVBoxLayout(this);
  column->setContentsMargins(0, 0, 0, 0);
  auto* row = new QHBoxLayout;
  state_ = new QLabel(this);
  state_->setObjectName(QStringLiteral("runState"));
  details_ = new QLabel(this);
  details_->setObjectName(QStringLiteral("runDetails"));
  details_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  row->addWidget(state_);
  row->addWidget(details_, 1);
  column->addLayout(row);
  failure_ = new QLabel(this);
  failure_->setObjectName(QStringLiteral("runFailure"));
  failure_->setWordWrap(true);
  failure_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  failure_->setStyleSheet(
      QStringLiteral("QLabel { background: #fdecea; color: #8e1c1c; border: 1px solid #f5c2c0; "
                     "border-radius: 3px; padding: 4px; }"));
  failure_->hide();
  column->addWidget(failure_);
  throttle_.setSingleShot(true);
  throttle_.setInterval(250);
  connect(&throttle_, &QTimer::timeout, this, &RunStatusLine::update);
  update();
}

void RunStatusLine::setStore(RunStore* store) {
  if (store_) store_->disconnect(this);
  store_ = store;
  if (store_) {
    connect(store_, &RunStore::progressChanged, this, [this] {
      if (!throttle_.isActive()) throttle_.start();
    });
    // A change of state shows at once.
    connect(store_, &RunStore::stateChanged, this, &RunStatusLine::update);
  }
  update();
}

QString RunStatusLine::formatDuration(double seconds) {
  const auto total = static_cast<long long>(std::llround(std::max(0.0, seconds)));
  const long long h = total / 3600, m = total / 60 % 60, s = total % 60;
  if (h > 0)
    return QStringLiteral("%1:%2:%3")
        .arg(h)
        .arg(m, 2, 10, QLatin1Char('0'))
        .arg(s, 2, 10, QLatin1Char('0'));
  return QStringLiteral("%1:%2").arg(m).arg(s, 2, 10, QLatin1Char('0'));
}

QString RunStatusLine::text() const {
  return QStringLiteral("%1 %2").arg(state_->text(), details_->text()).trimmed();
}

QString RunStatusLine::failureText() const {
  return failure_->isHidden() ? QString() : failure_->text();
}

void RunStatusLine::update() {
  const RunState state = store_ ? store_->state() : RunState::Empty;
  state_->setText(runStateName(state));
  state_->setStyleSheet(badgeStyle(state));
  QStringList parts;
  if (store_) {
    const RunProgress p = store_->progress();
    if (store_->hasRunInfo()) {
      const auto& info = store_->runInfo();
      if (p.iteration >= 0) {
        parts << tr("epoch %1/%2").arg(p.epoch + 1).arg(info.epochs);
        parts << tr("iteration %1/%2")
                     .arg(p.iteration + 1)
                     .arg(static_cast<long long>(info.epochs) * info.iterations_per_epoch);
      } else {
        parts << tr("%n epoch(s)", nullptr, info.epochs);
      }
      parts << tr("%1 x %2 images, %3")
                   .arg(info.world_size)
                   .arg(info.per_rank_batch)
                   .arg(QString::fromStdString(info.norm));
    }
    if (p.etaSeconds) parts << tr("ETA %1").arg(formatDuration(*p.etaSeconds));
    if (p.imagesPerSecond > 0) parts << tr("%1 img/s").arg(p.imagesPerSecond, 0, 'f', 1);
    if (const auto best = store_->bestMap50_95())
      parts << tr("best mAP50-95 %1").arg(*best, 0, 'f', 3);
    if (store_->badLines() > 0)
      parts << tr("%n line(s) ignored", nullptr, static_cast<int>(store_->badLines()));
  }
  details_->setText(parts.join(QStringLiteral("  ·  ")));
  const QString failure =
      store_ && state == RunState::Failed ? store_->failureMessage() : QString();
  failure_->setText(failure);
  failure_->setVisible(!failure.isEmpty());
  emit textChanged(text());
}

}  // namespace studio
